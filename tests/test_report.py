"""`python -m harness report`: tables folded from the recorded rows; a README's Results section rewritten between
markers only when asked, never with less, and the command says what it did."""

import pandas as pd
import pytest
from test_row import make_row

from harness import cli
from harness.core import provenance
from harness.core.paths import REPO_ROOT
from harness.results import assembly, report, rowfile
from harness.results.report import END, START

README = f"# title\n\nintro\n\n{START}\nold table\n{END}\n\nafter\n"


def run_report(results_dir, *options) -> int:
    return cli.main(["report", "--results-dir", str(results_dir), *map(str, options)])


def test_report_rewrites_only_the_marked_section(tmp_path, capsys):
    rowfile.append_row(tmp_path / "results", make_row(claim="preprocessing", scale_name="cpu"))
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert run_report(tmp_path / "results", "--readme", readme) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\nintro\n\n") and text.endswith(f"{END}\n\nafter\n")
    assert "old table" not in text and "| preprocessing | v |" in text
    assert f"Measured at commit(s) {provenance.head_commit(REPO_ROOT)}" in text
    assert "#### cpu · b · d · 32 px · 4 per class · 3 seeds" in text
    assert (tmp_path / "results" / "cpu" / "claims.csv").exists()
    out = capsys.readouterr().out
    assert "cpu: 1 rows in 1 table(s)" in out and "Results section regenerated (0 -> 1 rows)" in out


@pytest.mark.parametrize("folder", ["none", "reslts"], ids=["fresh clone", "mistyped dir"])
def test_without_rows_the_readme_stays_byte_identical(tmp_path, capsys, folder):
    readme = tmp_path / "README.md"
    readme.write_bytes(README.encode())
    assert run_report(tmp_path / folder, "--readme", readme) == 1
    assert readme.read_bytes() == README.encode()
    assert "no rows under" in capsys.readouterr().out


def test_the_checkout_readme_is_written_only_for_the_checkout_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(report, "REPO_ROOT", tmp_path)
    (tmp_path / "README.md").write_text(README)
    elsewhere = tmp_path / "elsewhere" / "results"
    rowfile.append_row(elsewhere, make_row(scale_name="cpu"))
    assert run_report(elsewhere) == 0
    assert (tmp_path / "README.md").read_text() == README
    assert "README not touched" in capsys.readouterr().out
    rowfile.append_row(tmp_path / "results", make_row(scale_name="cpu"))
    assert run_report(tmp_path / "results") == 0
    assert "| c | v |" in (tmp_path / "README.md").read_text()


def test_a_section_is_never_replaced_with_fewer_rows_unless_forced(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    rowfile.append_row(tmp_path / "two", make_row(claim="a", scale_name="cpu"))
    rowfile.append_row(tmp_path / "two", make_row(claim="b", scale_name="cpu"))
    rowfile.append_row(tmp_path / "one", make_row(claim="a", scale_name="cpu"))
    assert run_report(tmp_path / "two", "--readme", readme) == 0
    before = readme.read_bytes()
    assert run_report(tmp_path / "one", "--readme", readme) == 2
    assert readme.read_bytes() == before
    assert "holds 2 rows and these results 1: left unchanged" in capsys.readouterr().err
    assert run_report(tmp_path / "one", "--readme", readme, "--force") == 0
    assert report.table_row_count(readme.read_text()) == 1


def test_rows_with_provenance_say_when_where_and_with_what(tmp_path):
    stamped = make_row(
        scale_name="cpu",
        started_at="2026-12-02T10:00:00+00:00",
        finished_at="2026-12-02T10:05:00+00:00",
        versions={"keras": "3.15.1"},
        machine={"machine": "x86_64", "cpus": 2, "system": "Linux", "python": "3.11.7", "gpus": []},
        git_commit="abc1234",
        git_dirty=True,
    )
    rowfile.append_row(tmp_path, stamped)
    summary = report.results_section({"cpu": assembly.assemble(tmp_path, "cpu")})
    assert "Measured 2026-12-02T10:00:00+00:00 to 2026-12-02T10:05:00+00:00 on x86_64, 2 CPU(s), Linux" in summary
    assert "keras 3.15.1" in summary and "abc1234 (uncommitted changes)" in summary
    assert "predate per-row provenance" not in summary


def test_malformed_lines_are_reported_in_one_line_each_not_an_internal_error(tmp_path, capsys):
    path = rowfile.append_row(tmp_path, make_row(scale_name="cpu"))
    with open(path, "ab") as handle:
        handle.write(b"7\n")
    assert run_report(tmp_path, "--readme", tmp_path / "README.md") == 2  # no README there: one clear error
    err = capsys.readouterr().err
    assert f"warning: {path}:2: skipped, a JSON int, not a row object" in err
    assert "internal error" not in err and "no README at" in err


def test_a_readme_without_markers_is_one_clear_error(tmp_path, capsys):
    rowfile.append_row(tmp_path, make_row(scale_name="cpu"))
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert run_report(tmp_path, "--readme", readme) == 2
    assert "results:start" in capsys.readouterr().err


def test_html_is_written_next_to_the_tables(tmp_path, capsys):
    rowfile.append_row(tmp_path, make_row(scale_name="cpu"))
    assert run_report(tmp_path, "--html", "--readme", tmp_path / "README.md", "--scales", "gpu") == 1
    assert (tmp_path / "cpu" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "README not touched: no rows for the scales shown there (gpu)" in capsys.readouterr().out


@pytest.fixture(autouse=True)
def _only_the_report_command(monkeypatch):
    """The parser imports every command module; the report needs none of the heavy ones."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["harness.results.report"])


def test_rows_with_and_without_provenance_in_one_table_are_summarised():
    """A table mixing older rows (no provenance: pandas fills NaN) and stamped rows names both."""
    from harness.results.report import provenance_summary

    stamped = {
        "started_at": "2026-12-02T15:00:00+00:00",
        "finished_at": "2026-12-02T15:10:00+00:00",
        "machine": {"machine": "x86_64", "cpus": 2},
        "versions": {"keras": "3"},
        "git_commit": "abc",
    }
    older = {"started_at": float("nan"), "machine": float("nan"), "versions": float("nan"), "git_commit": "def"}
    text = provenance_summary([stamped, older], {"date": "today", "machine": "m", "versions": {}})
    assert "x86_64, 2 CPU(s)" in text and "keras 3" in text and "1 row(s) predate per-row provenance" in text


def test_the_replication_summary_is_an_escaped_table_then_its_legend():
    table = pd.DataFrame([{"claim": "c"}])
    table.attrs["replication"] = pd.DataFrame({"claim": ["a|b"], "variant": ["v"], "replicated": ["replicated"]})
    text = report.replication_summary(table)
    assert "| claim | variant | replicated |\n|---|---|---|\n| a\\|b | v | replicated |\n\n`replicated`:" in text
    assert report.replication_summary(pd.DataFrame([{"claim": "c"}])) == ""
