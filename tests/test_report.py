"""`tl-claims report`: tables folded from the recorded rows under the results folder, nothing else written; with
`--readme`, the rows published into the checkout (tl_claims.results.published), never with fewer rows, and the
command says what it did."""

import json
import subprocess

import pytest
from test_row import make_row

from tl_claims import cli
from tl_claims.results import html, published, report, rowfile


def run_report(results_dir, *options) -> int:
    return cli.main(["report", "--results-dir", str(results_dir), *map(str, options)])


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A checkout with both generated files, their blocks empty, where `--readme` publishes."""
    root = tmp_path / "checkout"
    (root / "docs").mkdir(parents=True)
    readme = "# title\n\nintro\n\n<!-- primaries:start -->\nold\n<!-- primaries:end -->\nafter\n"
    (root / "README.md").write_text(readme)
    (root / "docs" / "results.md").write_text("# Results\n\n<!-- results:start -->\nold\n<!-- results:end -->\n")
    monkeypatch.setattr(report, "REPO_ROOT", root)
    return root


def tracked_bytes(root) -> dict:
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_a_report_writes_under_the_results_folder_only(tmp_path, checkout, capsys):
    before = tracked_bytes(checkout)
    rowfile.append_row(tmp_path / "results", make_row(claim="preprocessing", scale_name="cpu"))
    assert run_report(tmp_path / "results") == 0
    assert (tmp_path / "results" / "cpu" / "claims.csv").exists()
    assert tracked_bytes(checkout) == before
    out = capsys.readouterr().out
    assert "cpu: 1 rows in 1 table(s)" in out and "tracked files not touched" in out


def test_a_dry_runs_rows_are_folded_too(tmp_path, checkout, capsys):
    """`pytest --dry-run` records under <scale>_dry/ (benchmarks/gpu_run.sh reports them after a stop)."""
    rowfile.append_row(tmp_path / "results", make_row(claim="preprocessing", scale_name="gpu_dry"))
    assert run_report(tmp_path / "results") == 0
    assert (tmp_path / "results" / "gpu_dry" / "claims.csv").exists()
    assert "gpu_dry: 1 rows" in capsys.readouterr().out


@pytest.mark.parametrize("folder", ["none", "reslts"], ids=["fresh clone", "mistyped dir"])
def test_without_rows_it_says_so_and_fails(tmp_path, checkout, capsys, folder):
    before = tracked_bytes(checkout)
    assert run_report(tmp_path / folder) == 1
    assert tracked_bytes(checkout) == before
    assert "no rows under" in capsys.readouterr().out


def test_readme_publishes_the_rows_and_rebuilds_both_blocks(tmp_path, checkout, capsys):
    rowfile.append_row(tmp_path / "results", make_row(claim="preprocessing", scale_name="cpu", statement="Scale it."))
    assert run_report(tmp_path / "results", "--readme") == 0
    readme, results = (checkout / "README.md").read_text(), (checkout / "docs" / "results.md").read_text()
    assert readme.startswith("# title\n\nintro\n\n") and readme.endswith("<!-- primaries:end -->\nafter\n")
    assert "old" not in readme and "| `preprocessing` | Scale it. | CONFIRMED | +10.0 pp [+5.0, +15.0] |" in readme
    assert "| preprocessing | v | primary |" in results and "## cpu scale" in results
    assert json.loads((checkout / "docs" / "rows" / "cpu.json").read_text())["rows"][0]["claim"] == "preprocessing"
    assert (checkout / "docs" / "figures" / "deltas-cpu.png").read_bytes().startswith(b"\x89PNG")
    assert published.stale_blocks(checkout) == []
    out = capsys.readouterr().out
    assert "cpu: 0 -> 1 rows published" in out and "README.md: generated block rebuilt" in out


def test_readme_without_new_rows_rebuilds_the_blocks_from_the_published_rows(tmp_path, checkout, capsys):
    rowfile.append_row(tmp_path / "results", make_row(scale_name="cpu"))
    assert run_report(tmp_path / "results", "--readme") == 0
    before = tracked_bytes(checkout)
    assert run_report(tmp_path / "empty", "--readme") == 0
    assert tracked_bytes(checkout) == before
    out = capsys.readouterr().out
    assert "no rows under" in out and "generated block already up to date" in out


def test_published_rows_are_never_replaced_with_fewer_unless_forced(tmp_path, checkout, capsys):
    rowfile.append_row(tmp_path / "two", make_row(claim="a", scale_name="cpu"))
    rowfile.append_row(tmp_path / "two", make_row(claim="b", scale_name="cpu"))
    rowfile.append_row(tmp_path / "one", make_row(claim="a", scale_name="cpu"))
    assert run_report(tmp_path / "two", "--readme") == 0
    before = tracked_bytes(checkout)
    assert run_report(tmp_path / "one", "--readme") == 2
    assert tracked_bytes(checkout) == before
    assert "holds 2 rows and" in capsys.readouterr().err
    assert run_report(tmp_path / "one", "--readme", "--force") == 0
    assert len(published.read_published(checkout)[0].rows) == 1


def test_malformed_lines_are_reported_in_one_line_each_not_an_internal_error(tmp_path, checkout, capsys):
    path = rowfile.append_row(tmp_path, make_row(scale_name="cpu"))
    with open(path, "ab") as handle:
        handle.write(b"7\n")
    (checkout / "README.md").unlink()
    assert run_report(tmp_path, "--readme") == 2  # no README there: one clear error
    err = capsys.readouterr().err
    assert f"warning: {path}:2: skipped, a JSON int, not a row object" in err
    assert "internal error" not in err and "no README.md at" in err


def test_a_generated_file_without_markers_is_one_clear_error_and_nothing_is_published(tmp_path, checkout, capsys):
    rowfile.append_row(tmp_path, make_row(scale_name="cpu"))
    (checkout / "docs" / "results.md").write_text("# no markers\n")
    assert run_report(tmp_path, "--readme") == 2
    assert "results:start" in capsys.readouterr().err
    assert not (checkout / "docs" / "rows").exists()


def test_html_is_written_next_to_the_tables(tmp_path, capsys):
    rowfile.append_row(tmp_path, make_row(scale_name="cpu"))
    assert run_report(tmp_path, "--html") == 0
    assert (tmp_path / "cpu" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "HTML report ->" in capsys.readouterr().out


def test_html_without_a_browser_says_so_and_a_failing_browser_fails_nothing(tmp_path, capsys, monkeypatch):
    rowfile.append_row(tmp_path, make_row(scale_name="cpu"))
    monkeypatch.setattr(html.shutil, "which", lambda name: None)
    assert run_report(tmp_path, "--html") == 0
    assert "cpu: no screenshot: no Chromium on PATH (chromium, " in capsys.readouterr().out

    def crash(page):
        raise subprocess.CalledProcessError(1, ["chromium"])

    monkeypatch.setattr(html, "screenshot", crash)
    assert run_report(tmp_path, "--html") == 0
    assert "cpu: no screenshot: the browser failed (CalledProcessError" in capsys.readouterr().out
    assert (tmp_path / "cpu" / "report.html").exists() and not (tmp_path / "cpu" / "report.png").exists()


@pytest.fixture(autouse=True)
def _only_the_report_command(monkeypatch):
    """The parser imports every command module; the report needs none of the heavy ones."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["tl_claims.results.report"])


@pytest.mark.parametrize(
    ("where", "mode", "says"),
    [("", 0o000, "cannot read"), ("cpu", 0o000, "cannot read"), ("cpu", 0o555, "cannot write the tables into")],
    ids=["unreadable results folder", "unreadable scale folder", "read-only scale folder"],
)
def test_an_unreadable_or_unwritable_results_folder_is_one_sentence(tmp_path, chmod, capsys, where, mode, says):
    """Once a bare PermissionError ("internal error") naming a temporary file."""
    rowfile.append_row(tmp_path / "results", make_row(claim="preprocessing", scale_name="cpu"))
    folder = tmp_path / "results" / where if where else tmp_path / "results"
    chmod(folder, mode)
    assert run_report(tmp_path / "results") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {says} {folder} (") and err.count("\n") == 1, err
    assert "--results-dir" in err and "PermissionError" not in err
