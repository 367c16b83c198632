"""Rows to tables (tl_claims/plugin/summary.py): the xdist workers' rows give the serial run's table, a run killed
midway keeps its finished rows, and the terminal summary fits a terminal."""

import json
import os
from pathlib import Path

import pytest

from tl_claims.plugin.summary import WIDTH, summary_lines, where_lines

CLAIM_TESTS = Path(__file__).parents[1] / "claims" / "test_claims.py"

# Runs that execute claims go through a subprocess: in-process pytester drops and re-imports tl_claims modules, so
# classes would no longer match between the plugin and the claims.
SMOKE_PAIR = ["-m", "smoke", "-k", "preprocessing and scale_backbone or aug_train_only and flip"]
VOLATILE = {"seconds", "run_id", "started_at", "finished_at"}


def _rows(results_dir: Path) -> list[dict]:
    table = json.loads((results_dir / "smoke" / "claims.json").read_text())["rows"]
    return [{key: value for key, value in row.items() if key not in VOLATILE} for row in table]


# Each xdist worker writes the thread counts its TensorFlow was given (session.share_cores_between_workers) when its
# session starts, after the plugin's pytest_configure: the run that compares the tables checks the cores' share too.
# TensorFlow is imported in the workers only: the controller, which runs no claim, never imports it.
THREADS_PROBE = """
import os


def pytest_sessionstart(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        import tensorflow as tf

        threading = tf.config.threading
        counts = threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()
        with open(os.path.join({folder!r}, worker + ".threads"), "w") as handle:
            handle.write(" ".join(map(str, counts)))
"""


@pytest.mark.longest
def test_two_xdist_workers_give_the_same_table_as_a_serial_run(pytester, tmp_path):
    """The serial run's rows, table and progress; the same table from two workers, each of which gave its
    TensorFlow its share of the cores instead of one thread per core each."""
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    pytester.makepyfile(threads_probe=THREADS_PROBE.format(folder=str(tmp_path)))
    result = pytester.runpytest_subprocess(str(CLAIM_TESTS), *SMOKE_PAIR, "--results-dir", str(serial))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(  # the serial run: rows, table, progress
        [
            "*tl-claims results, smoke scale*",
            "  Each network expects its own input scaling*INCONCLUSIVE  Δ * pp n/a (1 seed)",
            f"full table: {serial}/smoke/claims.csv | claims.md | claims.json",
        ]
    )
    result.stdout.no_fnmatch_line("| claim | variant |*")  # the 13-column table stays in claims.md
    written = next((serial / "smoke" / "runs").glob("*/*.jsonl"))
    claims = [json.loads(line)["claim"] for line in written.read_text().splitlines()]
    assert claims == ["preprocessing", "aug_train_only"]
    assert (serial / "smoke" / "claims.csv").exists() and "seed 0" in (serial / "smoke" / "progress.log").read_text()
    pytester.runpytest_subprocess(
        str(CLAIM_TESTS), *SMOKE_PAIR, "-n", "2", "-p", "threads_probe", "--results-dir", str(parallel)
    ).assert_outcomes(passed=2)
    assert len(list((parallel / "smoke" / "runs").glob("*/gw*.jsonl"))) == 2  # both workers wrote rows
    assert _rows(serial) == _rows(parallel)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    share = max(1, cores // 2)
    threads = {path.stem: path.read_text() for path in tmp_path.glob("*.threads")}
    assert threads == {"gw0": f"{share} {share}", "gw1": f"{share} {share}"}


# Two claim tests at smoke scale whose arms measure constants: what a row is made of does not matter to the plugin
# that records it, and no model is trained.
TWO_TOY_CLAIMS = """
import numpy as np

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Variant


def claim(claim_id):
    arm = lambda label, value: Arm(label, lambda trial: Measurement.of(np.full(20, value)))
    return Claim(id=claim_id, statement="s", lesson_section="l", metric=Metric("m"), threshold=0.0,
                 baseline=arm("low", 0.5), treatment=arm("high", 0.8), variants=(Variant("default"),), advice="a")


def test_first(verify_claim):
    verify_claim(claim("first"), "default", "smoke")


def test_second(verify_claim):
    verify_claim(claim("second"), "default", "smoke")
"""


def test_a_run_killed_midway_keeps_its_finished_rows(pytester, tmp_path):
    """The process dies hard after the first claim test: no session end, yet its row is on disk for `report`."""
    pytester.makepyfile(
        test_two_claims=TWO_TOY_CLAIMS,
        die_after_first_test="import os\ndef pytest_runtest_logfinish(nodeid, location):\n    os._exit(9)\n",
    )
    results_dir = tmp_path / "results"
    result = pytester.runpytest_subprocess(
        "-p", "tl_claims.plugin.hooks", "-p", "die_after_first_test", "--results-dir", str(results_dir)
    )
    assert result.ret == 9
    assert not (results_dir / "smoke" / "claims.csv").exists()  # the session never finished
    from tl_claims.results import assembly, rowfile

    assert [row["claim"] for row in rowfile.read_rows(results_dir / "smoke")] == ["first"]
    assert list(assembly.assemble(results_dir, "smoke")["claim"]) == ["first"]


def _row(claim: str, verdict: str, delta: float, primary: bool = True, **fields) -> dict:
    """A row as the assembled table holds it, on one configuration (95 % interval of ±1.8 pp around Δ)."""
    setup = {"scale": "cpu", "backbone": "efficientnet_lite0", "dataset": "synthetic", "image_size": 96}
    return {
        **setup,
        "n_train": 50,
        "seeds": 5,
        "claim": claim,
        "variant": "v",
        "statement": f"What the lesson says about {claim}.",
        "primary": primary,
        "verdict": verdict,
        "adjusted": verdict,
        "delta": delta,
        "ci_low": delta - 0.018,
        "ci_high": delta + 0.018,
        "rule": "superiority Δ > +2.0 pp",
        **fields,
    }


def test_the_summary_is_a_line_per_claim_then_the_verdicts_counted():
    long_statement = "Fine-tuning the unfrozen base improves the head-only model " * 4
    rows = [
        _row("two_stage", "CONFIRMED", 0.041, statement=long_statement),
        _row("tta", "REFUTED", -0.01),
        _row("bn_gotcha", "CONFIRMED", 0.03),
        _row("recompile", "CONFIRMED", 0.025, adjusted="INCONCLUSIVE"),  # Holm's adjustment took it back
        _row("tta", "INCONCLUSIVE", 0.0, primary=False),
        _row("two_stage", "CONFIRMED", 0.05, primary=False),
    ]
    lines = summary_lines(rows, skipped=[{"claim": "tta", "variant": "gpu_only", "reason": "no GPU visible"}])
    assert lines[0] == "cpu · efficientnet_lite0 · synthetic · 96 px · 50 per class · 5 seeds"
    claims = lines[1:5]
    assert all(len(line) <= WIDTH for line in claims)
    assert claims[0].startswith("  Fine-tuning the unfrozen base improves") and "… " in claims[0]  # shortened
    assert claims[0].split("…")[1].split() == ["CONFIRMED", "Δ", "+4.1", "pp", "[+2.3,", "+5.9]"]
    assert claims[1].startswith("  What the lesson says about tta.  ") and claims[1].endswith("Δ -1.0 pp [-2.8, +0.8]")
    assert "  INCONCLUSIVE (raw CONFIRMED)  Δ +2.5 pp" in claims[3]
    assert len({line.index("Δ") for line in claims}) == 1  # the columns line up
    assert lines[5:] == [
        "2 confirmed · 1 refuted · 1 inconclusive",
        "2 more rows in the full table (exploratory variants)",
        "1 claim test skipped (the reasons are in claims.md)",
    ]


def test_a_run_of_exploratory_variants_only_counts_its_rows():
    rows = [_row("tta", "INCONCLUSIVE", 0.0, primary=False), _row("two_stage", "CONFIRMED", 0.05, primary=False)]
    assert summary_lines(rows, skipped=[]) == ["2 more rows in the full table (exploratory variants)"]


def test_where_lines_name_the_tables_and_figures():
    assert where_lines(Path("results/cpu"), replicated=True) == [
        "full table: results/cpu/claims.csv | claims.md | claims.json",
        "figures: results/cpu/figures/",
        "replication: results/cpu/replication.csv | replication.md",
    ]
