"""`tl-claims` (`python -m tl_claims`): --version without TensorFlow, the packaged docs, the message where TensorFlow is
missing, every command's --help, the arguments verify passes on to pytest, the console script's declaration."""

import argparse
import importlib
import re
import subprocess
import sys
import tomllib

import pytest

from tl_claims import __version__, cli, verify
from tl_claims.core import install_check
from tl_claims.core.command_help import EXAMPLES_HEADING
from tl_claims.core.paths import REPO_ROOT
from tl_claims.resources import DOCS, DOCS_LANGUAGES, read_text, resource
from tl_claims.teaching import messages


def test_version_answers_without_importing_tensorflow():
    code = "import sys; from tl_claims.cli import main; main(['--version']); print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == f"tl-claims {__version__}\nFalse\n" and result.stderr == ""


def test_docs_contract_prints_the_packaged_student_contract(capsys):
    assert cli.main(["docs", "contract"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# The student contract") and "build_datasets(config)" in text
    assert cli.main(["docs", "contract", "--path"]) == 0
    assert capsys.readouterr().out.strip().endswith("student-contract.md")


def test_docs_contract_lang_es_prints_the_spanish_contract(capsys):
    assert cli.main(["docs", "contract", "--lang", "es"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# El contrato del estudiante") and "build_datasets(config)" in text
    assert set(DOCS["contract"]) == set(DOCS_LANGUAGES) == set(messages.LANGUAGES)


def test_the_two_contracts_have_the_same_sections_and_code():
    """The Spanish contract is a translation: the same headings (one per section) and the same code blocks."""
    english, spanish = (read_text(name) for name in DOCS["contract"].values())
    assert [line.count("#") for line in english.splitlines() if line.startswith("#")] == [
        line.count("#") for line in spanish.splitlines() if line.startswith("#")
    ]
    assert english.count("```") == spanish.count("```")


def test_every_student_message_points_at_something_a_pip_user_has():
    texts = [text for table in messages.TEXTS.values() for text in table.values()]
    assert not [text for text in texts if "docs/" in text]
    assert all("python -m tl_claims docs contract" in table["contract_no_file"] for table in messages.TEXTS.values())
    assert "docs contract --lang es" in messages.TEXTS["es"]["contract_no_file"]
    assert read_text("student-contract.md") == resource("student-contract.md").read_text(encoding="utf-8")


def test_without_tensorflow_a_command_prints_the_platform_message_and_docs_still_work(monkeypatch, capsys):
    monkeypatch.setattr(cli, "has_tensorflow", lambda: False)
    monkeypatch.setenv(
        "KERAS_BACKEND", "tensorflow"
    )  # another backend needs no TensorFlow (tests/core/test_backend.py)
    monkeypatch.setattr(install_check.platform, "system", lambda: "Windows")
    monkeypatch.setattr(install_check.platform, "machine", lambda: "ARM64")
    assert cli.main(["predict", "cat.jpg"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: TensorFlow publishes no wheel for this machine (Windows ARM64)")
    assert "Traceback" not in error
    assert cli.main(["docs", "contract", "--path"]) == 0


@pytest.mark.parametrize(
    ("system", "machine"), [("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "arm64"), ("Windows", "AMD64")]
)
def test_on_a_platform_with_wheels_the_message_says_how_to_install_it(system, machine):
    message = install_check.missing_tensorflow_message(system, machine)
    assert "pip install 'tensorflow>=2.16,<3'" in message


COMMANDS = [
    (),
    ("verify",),
    ("report",),
    ("diff",),
    ("predict",),
    ("data",),
    ("data", "calibrate"),
    ("data", "show"),
    ("data", "show-augmentations"),
    ("stats",),
    ("stats", "simulate"),
    ("docs",),
]
ONE_SENTENCE = re.compile(r"[A-Z][^`\n]*[^.]\.")  # one line, capitalised, one full stop at its end only


def every_parser(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, parser) for the top level and every command under it, at any depth."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from every_parser(child, (*path, name))


def test_the_commands_listed_here_are_every_command_the_parser_has():
    assert [path for path, _ in every_parser(cli.build_parser())] == COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda path: " ".join(path) or "tl-claims")
def test_help_says_what_the_command_does_in_a_sentence_and_ends_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    text = capsys.readouterr().out
    assert exit_info.value.code == 0
    usage, description = text.split("\n\n")[:2]
    assert usage.startswith(f"usage: {' '.join(['tl-claims', *command])} ")
    assert ONE_SENTENCE.fullmatch(description) and ". " not in description, description
    examples = text.split(f"\n{EXAMPLES_HEADING}\n")[1].splitlines()
    assert examples and all(line.startswith(("  tl-claims ", "  python -m tl_claims ", "  make ")) for line in examples)


def test_every_option_and_command_has_help_text():
    missing = [
        (path, action.dest)
        for path, parser in every_parser(cli.build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    unlisted = [
        (path, choice.dest)
        for path, parser in every_parser(cli.build_parser())
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
        if not choice.help
    ]
    assert missing == [] and unlisted == []


def test_verify_passes_what_it_does_not_know_to_pytest_and_other_commands_refuse_it(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(verify, "run", lambda args: seen.append(args.pytest_args) or 0)
    assert cli.main(["verify", "-x", "-k", "two_stage and not lr", "--", "--help"]) == 0
    assert seen == [["-x", "-k", "two_stage and not lr", "--", "--help"]]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["report", "-x"])
    assert exit_info.value.code == 2 and "unrecognized arguments: -x" in capsys.readouterr().err


def test_tl_claims_is_the_console_script_and_python_m_harness_runs_the_same_main():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    module, function = pyproject["project"]["scripts"]["tl-claims"].split(":")
    assert getattr(importlib.import_module(module), function) is cli.main
    result = subprocess.run(
        [sys.executable, "-m", "tl_claims", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"tl-claims {__version__}\n"
