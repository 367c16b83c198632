"""Every command's help: its sentence right after the usage, the examples last, their lines as written."""

import argparse

from tl_claims.core.command_help import add_command


def test_the_sentence_comes_first_and_the_examples_keep_their_lines():
    parser = argparse.ArgumentParser(prog="tool")
    command = add_command(
        parser.add_subparsers(), "go", "Go somewhere.", ["tool go home      # aligned", "tool go --far"]
    )
    command.add_argument("--far", action="store_true", help="further")
    paragraphs = command.format_help().split("\n\n")
    assert paragraphs[0].startswith("usage: tool go") and paragraphs[1] == "Go somewhere."
    assert paragraphs[-1] == "examples:\n  tool go home      # aligned\n  tool go --far\n"
    assert "    go        Go somewhere\n" in parser.format_help()  # the command list: no full stop
