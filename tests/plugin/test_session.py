"""The claims session (tl_claims/plugin/session.py): verify_claim's verdicts, gpu skips and recorded rows, and each
xdist worker's share of the cores."""

import json
import os
from datetime import datetime

import pytest

# Runs that execute claims go through a subprocess: in-process pytester drops and re-imports tl_claims modules, so
# classes would no longer match between the plugin and the claims. (The real claims' gpu skips are checked in
# tests/plugin/test_selection.py, in the process that collects them.)
TOY_CLAIM_TESTS = """
import numpy as np
import pytest

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Variant
from tl_claims.plugin.session import KnownFinding


def arm(label, value, step):
    return Arm(label, lambda trial: Measurement.of(np.full(20, value + step * trial.seed)))


def claim(baseline, treatment, expected=None):
    return Claim(id="toy", statement="s", lesson_section="l", metric=Metric("m"), threshold=0.0,
                 baseline=arm("low", baseline, 0.01), treatment=arm("high", treatment, 0.02),
                 variants=(Variant("default", expected=expected or {}),), advice="the fix")


def test_true_claim(verify_claim):
    verify_claim(claim(0.5, 0.8), "default", "cpu")

def test_flipped_arms(verify_claim):
    verify_claim(claim(0.8, 0.5), "default", "cpu")

def test_smoke_asserts_no_verdict(verify_claim):
    verify_claim(claim(0.8, 0.5), "default", "smoke")

def test_gpu_without_a_gpu_is_a_recorded_skip(verify_claim):
    verify_claim(claim(0.5, 0.8), "default", "gpu")

KNOWN = pytest.mark.xfail(strict=True, raises=KnownFinding, reason="known finding")

@KNOWN
def test_known_finding_holds(verify_claim):
    verify_claim(claim(0.8, 0.5, {"cpu": "REFUTED"}), "default", "cpu")

@KNOWN
def test_known_finding_turned_confirmed(verify_claim):
    verify_claim(claim(0.5, 0.8, {"cpu": "REFUTED"}), "default", "cpu")

@KNOWN
def test_known_finding_turned_inconclusive(verify_claim):
    verify_claim(claim(0.5, 0.5, {"cpu": "REFUTED"}), "default", "cpu")
"""


def test_a_claim_test_passes_only_when_confirmed(pytester, tmp_path):
    pytester.makepyfile(TOY_CLAIM_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "tl_claims.plugin.hooks", "--results-dir", str(tmp_path), "--seeds", "3"
    )
    # a known finding that holds is an xfail; one that turned CONFIRMED (XPASS strict) or INCONCLUSIVE fails
    result.assert_outcomes(passed=2, failed=3, xfailed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*toy[[]default] at cpu scale — REFUTED (superiority Δ > +0.0 pp): Δ -29.0 pp*the fix*"]
    )
    result.stdout.fnmatch_lines(["*_ test_known_finding_turned_confirmed _*", "[[]XPASS(strict)] known finding"])
    result.stdout.fnmatch_lines(["*verdict changed from the known REFUTED: toy[[]default]*INCONCLUSIVE*"])
    rows = [json.loads(line) for path in tmp_path.glob("cpu/runs/*/*.jsonl") for line in path.read_text().splitlines()]
    first = next(row for row in rows if row["node_id"].endswith("::test_true_claim"))
    assert datetime.fromisoformat(first["started_at"]) <= datetime.fromisoformat(first["finished_at"])
    assert datetime.fromisoformat(first["finished_at"]).utcoffset() is not None
    assert first["tool_version"] and "keras" in first["versions"] and first["machine"]["cpus"] >= 1
    assert isinstance(first["git_dirty"], bool)
    (skip,) = [json.loads(line) for path in tmp_path.glob("gpu/runs/*/skipped/*.jsonl") for line in path.open()]
    assert skip["claim"] == "toy" and "no GPU visible" in skip["reason"]


THREADS_TEST = """
import os
import tensorflow as tf

def test_threads():
    cores = len(os.sched_getaffinity(0))
    expected = max(1, cores // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    assert tf.config.threading.get_intra_op_parallelism_threads() == expected
    assert tf.config.threading.get_inter_op_parallelism_threads() == expected
"""


@pytest.mark.cpu
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="core affinity is a Linux call")
def test_xdist_workers_share_the_cores_instead_of_each_taking_all(pytester):
    """`pytest -m cpu` only: the fast suite reads the same thread counts from each worker of test_summary.py's xdist
    run (three more processes importing TensorFlow for the same fact)."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks"]')
    pytester.makepyfile(test_threads=THREADS_TEST)
    pytester.runpytest_subprocess("-n", "2", "-p", "xdist").assert_outcomes(passed=1)


@pytest.mark.cpu  # the fast suite's dry runs: tests/claims/test_gpu_dry_run.py, tests/test_gpu_run.py
def test_dry_run_runs_every_scale_at_smoke_sizes_without_a_gpu_and_asserts_no_verdict(pytester, tmp_path):
    """`--dry-run` (benchmarks/gpu_run.sh's form on a CPU): the gpu claim runs instead of skipping, a refuted claim
    passes (no verdict at smoke sizes), and the rows land under <scale>_dry/ with the smoke sizes."""
    pytester.makepyfile(TOY_CLAIM_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "tl_claims.plugin.hooks", "--results-dir", str(tmp_path), "--dry-run", "-k", "gpu_without or flipped"
    )
    result.assert_outcomes(passed=2)
    rows = {path.parts[-4]: json.loads(path.read_text().splitlines()[0]) for path in tmp_path.glob("*/runs/*/*.jsonl")}
    assert sorted(rows) == ["cpu_dry", "gpu_dry"]
    gpu = rows["gpu_dry"]
    assert (gpu["image_size"], gpu["seeds"], gpu["dataset"]) == (32, 1, "tf_flowers")
