"""Rows to tables (harness/plugin/summary.py): the xdist workers' rows give the serial run's table, and a run killed
midway keeps its finished rows."""

import json
from pathlib import Path

import pytest

CLAIM_TESTS = Path(__file__).parents[1] / "claims" / "test_claims.py"

# Runs that execute claims go through a subprocess: in-process pytester drops and re-imports harness modules, so
# classes would no longer match between the plugin and the claims.
SMOKE_PAIR = ["-m", "smoke", "-k", "preprocessing and scale_backbone or aug_train_only and flip"]
VOLATILE = {"seconds", "run_id", "started_at", "finished_at"}


def _rows(results_dir: Path) -> list[dict]:
    table = json.loads((results_dir / "smoke" / "claims.json").read_text())["rows"]
    return [{key: value for key, value in row.items() if key not in VOLATILE} for row in table]


@pytest.mark.longest
def test_two_xdist_workers_give_the_same_table_as_a_serial_run(pytester, tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    result = pytester.runpytest_subprocess(str(CLAIM_TESTS), *SMOKE_PAIR, "--results-dir", str(serial))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*tl-claims results, smoke scale*"])  # the serial run: rows, table, progress
    written = next((serial / "smoke" / "runs").glob("*/*.jsonl"))
    claims = [json.loads(line)["claim"] for line in written.read_text().splitlines()]
    assert claims == ["preprocessing", "aug_train_only"]
    assert (serial / "smoke" / "claims.csv").exists() and "seed 0" in (serial / "smoke" / "progress.log").read_text()
    pytester.runpytest_subprocess(
        str(CLAIM_TESTS), *SMOKE_PAIR, "-n", "2", "--results-dir", str(parallel)
    ).assert_outcomes(passed=2)
    assert len(list((parallel / "smoke" / "runs").glob("*/gw*.jsonl"))) == 2  # both workers wrote rows
    assert _rows(serial) == _rows(parallel)


def test_a_run_killed_midway_keeps_its_finished_rows(pytester, tmp_path):
    """The process dies hard after the first claim test: no session end, yet its row is on disk for `report`."""
    pytester.makepyfile(
        die_after_first_test=("import os\ndef pytest_runtest_logfinish(nodeid, location):\n    os._exit(9)\n")
    )
    results_dir = tmp_path / "results"
    result = pytester.runpytest_subprocess(
        str(CLAIM_TESTS), *SMOKE_PAIR, "-p", "die_after_first_test", "--results-dir", str(results_dir)
    )
    assert result.ret == 9
    assert not (results_dir / "smoke" / "claims.csv").exists()  # the session never finished
    from harness.results import assembly, rowfile

    assert [row["claim"] for row in rowfile.read_rows(results_dir / "smoke")] == ["preprocessing"]
    assert list(assembly.assemble(results_dir, "smoke")["claim"]) == ["preprocessing"]
