import json

import pandas as pd
import pytest

from harness import results
from harness.results import Row


def make_row(
    claim="c", variant="v", run_id="20260101T000000-1", verdict="CONFIRMED", delta=0.1, scale_name="smoke", **extra
):
    return Row(
        claim=claim,
        variant=variant,
        scale=scale_name,
        backbone="b",
        dataset="d",
        image_size=32,
        n_train=4,
        seeds=3,
        baseline=0.5,
        treatment=0.5 + delta,
        delta=delta,
        ci_low=delta - 0.05,
        ci_high=delta + 0.05,
        threshold=0.0,
        verdict=verdict,
        seconds=1.0,
        run_id=run_id,
        finished_at="2026-01-01T00:00:00",
        per_seed={"a": [0.5]},
        **extra,
    )


def test_rows_from_every_worker_are_assembled(tmp_path):
    results.append_row(tmp_path, make_row(claim="a"), worker="gw0")
    results.append_row(tmp_path, make_row(claim="b"), worker="gw1")
    table = results.assemble(tmp_path, "smoke")
    assert list(table["claim"]) == ["a", "b"]
    csv = pd.read_csv(tmp_path / "smoke" / "claims.csv")
    assert list(csv.columns[: len(results.COLUMNS)]) == results.COLUMNS
    document = json.loads((tmp_path / "smoke" / "claims.json").read_text())
    assert {"date", "machine", "versions", "git_commit"} <= set(document["environment"])
    assert "| a | v |" in (tmp_path / "smoke" / "claims.md").read_text()
    assert (tmp_path / "smoke" / "figures" / "deltas.png").stat().st_size > 0


def test_the_newest_run_wins_and_older_claims_stay(tmp_path):
    results.append_row(tmp_path, make_row(claim="a", delta=0.1, run_id="20260101T000000-1"))
    results.append_row(tmp_path, make_row(claim="b", delta=0.2, run_id="20260101T000000-1"))
    results.append_row(tmp_path, make_row(claim="a", delta=0.3, run_id="20260102T000000-1"))
    table = results.assemble(tmp_path, "smoke").set_index("claim")
    assert table.loc["a", "delta"] == pytest.approx(0.3)
    assert table.loc["b", "delta"] == pytest.approx(0.2)


def test_a_torn_last_line_from_a_killed_run_is_skipped(tmp_path):
    path = results.append_row(tmp_path, make_row(claim="a"))
    with open(path, "a") as handle:
        handle.write('{"claim": "half a ro')
    assert list(results.assemble(tmp_path, "smoke")["claim"]) == ["a"]


def test_unbounded_intervals_are_written_as_null(tmp_path):
    row = make_row()
    row.ci_low, row.ci_high = float("-inf"), float("inf")
    path = results.append_row(tmp_path, row)
    stored = json.loads(path.read_text())
    assert stored["ci_low"] is None and stored["ci_high"] is None
    assert "n/a (1 seed)" in results.to_markdown(results.assemble(tmp_path, "smoke"))


def test_nothing_recorded_gives_no_table(tmp_path):
    assert results.assemble(tmp_path, "cpu") is None
