"""`python -m harness report`: tables folded from the recorded rows, the README section rewritten between markers."""

import pytest
from test_results import make_row

from harness import cli, results
from harness.report import END, START

README = f"# title\n\nintro\n\n{START}\nold table\n{END}\n\nafter\n"


def test_report_rewrites_only_the_marked_section(tmp_path, capsys):
    results.append_row(tmp_path / "results", make_row(claim="preprocessing", scale_name="cpu"))
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert cli.main(["report", "--results-dir", str(tmp_path / "results"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\nintro\n\n") and text.endswith(f"{END}\n\nafter\n")
    assert "old table" not in text and "| preprocessing | v |" in text
    assert f"measured at commit(s) {results._git_commit()}" in text
    assert (tmp_path / "results" / "cpu" / "claims.csv").exists()


def test_report_without_rows_says_how_to_get_them(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert cli.main(["report", "--results-dir", str(tmp_path / "none"), "--readme", str(readme)]) == 0
    assert "run `make verify`" in readme.read_text()


def test_a_readme_without_markers_is_one_clear_error(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert cli.main(["report", "--results-dir", str(tmp_path), "--readme", str(readme)]) == 2
    assert "results:start" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _only_the_report_command(monkeypatch):
    """The parser imports every command module; the report needs none of the heavy ones."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["harness.report"])
