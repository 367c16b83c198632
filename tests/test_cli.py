"""`python -m harness`: --version without TensorFlow, the packaged docs, the message where TensorFlow is missing."""

import subprocess
import sys

import pytest

from harness import __version__, cli
from harness.core import install_check
from harness.resources import read_text, resource
from harness.teaching import messages


def test_version_answers_without_importing_tensorflow():
    code = "import sys; from harness.cli import main; main(['--version']); print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == f"tl-claims {__version__}\nFalse\n" and result.stderr == ""


def test_docs_contract_prints_the_packaged_student_contract(capsys):
    assert cli.main(["docs", "contract"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# The student contract") and "build_datasets(config)" in text
    assert cli.main(["docs", "contract", "--path"]) == 0
    assert capsys.readouterr().out.strip().endswith("student-contract.md")


def test_every_student_message_points_at_something_a_pip_user_has():
    texts = [text for table in messages.TEXTS.values() for text in table.values()]
    assert not [text for text in texts if "docs/" in text]
    assert all("python -m harness docs contract" in table["contract_no_file"] for table in messages.TEXTS.values())
    assert read_text("student-contract.md") == resource("student-contract.md").read_text(encoding="utf-8")


def test_without_tensorflow_a_command_prints_the_platform_message_and_docs_still_work(monkeypatch, capsys):
    monkeypatch.setattr(cli, "has_tensorflow", lambda: False)
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
