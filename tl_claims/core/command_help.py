"""One shape for every command's --help: what it does in one sentence first, examples last.

A reader scanning `tl-claims report --help` wants the purpose before the options and a line to copy after them;
the raw formatter keeps the examples' line breaks and alignment as written.
"""

import argparse
from collections.abc import Sequence

EXAMPLES_HEADING = "examples:"


def examples_epilog(examples: Sequence[str]) -> str:
    """The epilog: the heading, then one example per line, indented like argparse's own sections."""
    return "\n".join([EXAMPLES_HEADING, *(f"  {example}" for example in examples)])


def add_command(
    subparsers: argparse._SubParsersAction, name: str, summary: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    """A subcommand whose help opens with `summary` (one sentence) and ends with `examples`."""
    return subparsers.add_parser(
        name,
        help=summary.rstrip("."),
        description=summary,
        epilog=examples_epilog(examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
