import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest

from harness.results import assembly
from harness.results.assembly import Row


def make_row(
    claim="c", variant="v", run_id="20260101T000000-1", verdict="CONFIRMED", delta=0.1, scale_name="smoke", **extra
):
    values = {
        "backbone": "b",
        "dataset": "d",
        "image_size": 32,
        "n_train": 4,
        "seeds": 3,
        "baseline": 0.5,
        "treatment": 0.5 + delta,
        "ci_low": delta - 0.05,
        "ci_high": delta + 0.05,
        "threshold": 0.0,
        "seconds": 1.0,
        "finished_at": "2026-01-01T00:00:00",
        "per_seed": {"a": [0.5]},
        **extra,
    }
    return Row(claim=claim, variant=variant, scale=scale_name, delta=delta, verdict=verdict, run_id=run_id, **values)


def test_rows_from_every_worker_are_assembled(tmp_path):
    assembly.append_row(tmp_path, make_row(claim="a"), worker="gw0")
    assembly.append_row(tmp_path, make_row(claim="b"), worker="gw1")
    table = assembly.assemble(tmp_path, "smoke")
    assert list(table["claim"]) == ["a", "b"]
    csv = pd.read_csv(tmp_path / "smoke" / "claims.csv")
    assert list(csv.columns[: len(assembly.COLUMNS)]) == assembly.COLUMNS
    document = json.loads((tmp_path / "smoke" / "claims.json").read_text())
    assert {"date", "machine", "versions", "git_commit"} <= set(document["environment"])
    assert "| a | v |" in (tmp_path / "smoke" / "claims.md").read_text()
    assert (tmp_path / "smoke" / "figures" / "deltas.png").stat().st_size > 0


def test_the_newest_run_wins_and_older_claims_stay(tmp_path):
    assembly.append_row(tmp_path, make_row(claim="a", delta=0.1, run_id="20260101T000000-1"))
    assembly.append_row(tmp_path, make_row(claim="b", delta=0.2, run_id="20260101T000000-1"))
    assembly.append_row(tmp_path, make_row(claim="a", delta=0.3, run_id="20260102T000000-1"))
    table = assembly.assemble(tmp_path, "smoke").set_index("claim")
    assert table.loc["a", "delta"] == pytest.approx(0.3)
    assert table.loc["b", "delta"] == pytest.approx(0.2)


def test_a_torn_last_line_from_a_killed_run_is_skipped(tmp_path):
    path = assembly.append_row(tmp_path, make_row(claim="a"))
    with open(path, "a") as handle:
        handle.write('{"claim": "half a ro')
    with pytest.warns(assembly.MalformedRowWarning, match="torn line"):
        assert list(assembly.assemble(tmp_path, "smoke")["claim"]) == ["a"]


def test_unbounded_intervals_are_written_as_null(tmp_path):
    row = make_row()
    row.ci_low, row.ci_high = float("-inf"), float("inf")
    path = assembly.append_row(tmp_path, row)
    stored = json.loads(path.read_text())
    assert stored["ci_low"] is None and stored["ci_high"] is None
    assert "n/a (1 seed)" in assembly.to_markdown(assembly.assemble(tmp_path, "smoke"))


def test_nothing_recorded_gives_no_table(tmp_path):
    assert assembly.assemble(tmp_path, "cpu") is None


MALFORMED = {
    "a number": b"42\n",
    "an empty object": b"{}\n",
    "a row without claim": json.dumps({"variant": "v"}).encode() + b"\n",
    "bytes that are not UTF-8": b'{"claim": "\xff\xfe"}\n',
    "a torn line": b'{"claim": "half a ro',
    "a delta that is text": json.dumps({**asdict(make_row()), "delta": "big"}).encode() + b"\n",
}


@pytest.mark.parametrize("line", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_line_is_skipped_with_a_warning_naming_file_and_line(tmp_path, line):
    path = assembly.append_row(tmp_path, make_row(claim="a"))
    with open(path, "ab") as handle:
        handle.write(line)
    assembly.append_row(tmp_path, make_row(claim="b"))
    with pytest.warns(assembly.MalformedRowWarning, match=rf"{path.name}:2: skipped"):
        table = assembly.assemble(tmp_path, "smoke")
    assert list(table["claim"]) == ["a", "b"]


def test_two_image_sizes_give_two_tables_each_named(tmp_path):
    assembly.append_row(tmp_path, make_row(claim="a"))
    assembly.append_row(tmp_path, make_row(claim="a", run_id="20260102T000000-1", image_size=48))
    table = assembly.assemble(tmp_path, "smoke")
    assert sorted(table["image_size"]) == [32, 48]  # both kept: another configuration is not a newer row
    markdown = (tmp_path / "smoke" / "claims.md").read_text()
    assert markdown.count("| claim | variant |") == 2
    assert "### smoke · b · d · 32 px · 4 per class · 3 seeds" in markdown
    assert "### smoke · b · d · 48 px · 4 per class · 3 seeds" in markdown


def test_markdown_carries_the_metric_and_the_claim_type():
    row = {**asdict(make_row(metric="share of weights changed", rule="exact Δ > +99.0 pp")), "role": "p"}
    lines = assembly.to_markdown([row]).splitlines()
    assert "| metric |" in lines[0] and "| rule |" in lines[0]
    assert "| share of weights changed |" in lines[2] and "| exact Δ > +99.0 pp |" in lines[2]


def test_skipped_tests_are_listed_until_a_later_run_measures_them(tmp_path):
    skip = {"claim": "a", "variant": "v", "scale": "smoke", "run_id": "20260102T000000-1", "reason": "no weights"}
    assembly.append_skip(tmp_path, skip)
    assembly.append_row(tmp_path, make_row(claim="b", run_id="20260102T000000-1"))
    table = assembly.assemble(tmp_path, "smoke")
    assert table.attrs["skipped"] == [skip]
    assert "- `a` [v]: no weights" in (tmp_path / "smoke" / "claims.md").read_text()
    assembly.append_row(tmp_path, make_row(claim="a", run_id="20260103T000000-1"))
    assert assembly.assemble(tmp_path, "smoke").attrs["skipped"] == []


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "claims.csv"
    assembly.write_atomic(target, "old, complete\n")

    def fail_midway(self, text, encoding=None):
        Path.write_bytes(self, text[:3].encode())
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        assembly.write_atomic(target, "new and longer\n")
    monkeypatch.undo()
    assert target.read_text() == "old, complete\n"
    assert [path.name for path in tmp_path.iterdir()] == ["claims.csv"]


def test_without_runs_the_rows_of_claims_json_are_assembled_again(tmp_path):
    assembly.append_row(tmp_path, make_row(claim="a"))
    assembly.assemble(tmp_path, "smoke")
    environment = json.loads((tmp_path / "smoke" / "claims.json").read_text())["environment"]
    shutil.rmtree(tmp_path / "smoke" / "runs")
    table = assembly.assemble(tmp_path, "smoke")
    assert list(table["claim"]) == ["a"] and table.attrs["environment"] == environment
