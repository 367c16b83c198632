"""The plugin's contract: markers, option checks, the fast-suite default, gpu skips, rows on disk."""

import json
from pathlib import Path

import pytest

CLAIM_TESTS = Path(__file__).parent / "claims" / "test_claims.py"

SCALED_TESTS = """
import pytest

@pytest.mark.cpu
def test_cpu_only(): pass

@pytest.mark.gpu
def test_gpu_only(): pass

@pytest.mark.smoke
def test_smoke(): pass

def test_unit(): pass
"""


@pytest.fixture
def plugin_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["harness.plugin"]')
    return pytester


def test_plain_pytest_runs_the_fast_suite_only(plugin_pytester):
    plugin_pytester.makepyfile(SCALED_TESTS)
    result = plugin_pytester.runpytest("-v")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(["*test_smoke PASSED*"])


def test_marker_expression_selects_a_scale(plugin_pytester):
    plugin_pytester.makepyfile(SCALED_TESTS)
    plugin_pytester.runpytest("-m", "cpu").assert_outcomes(passed=1, deselected=3)


def test_markers_are_registered_with_descriptions(plugin_pytester):
    result = plugin_pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.smoke: *", "@pytest.mark.cpu: *", "@pytest.mark.gpu: *"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--seeds", "0"], "*--seeds must be at least 1*"),
        (["--backbone", "resnet9000"], "*--backbone*resnet9000*efficientnet_lite0*"),
        (["--dataset", "folder:/no/such/folder"], "*no folder at*"),
        (["--dataset", "imagenet"], "*use synthetic, tfds:NAME*"),
        (["--image-size", "16"], "*at least 32 pixels*"),
    ],
)
def test_bad_options_stop_the_session_at_start(plugin_pytester, option, message):
    plugin_pytester.makepyfile("def test_never_runs(): raise AssertionError('should not run')")
    result = plugin_pytester.runpytest(*option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


# Runs that execute claims go through a subprocess: in-process pytester drops and re-imports harness modules, so
# classes would no longer match between the plugin and the claims.
def test_gpu_scale_skips_every_claim_without_a_gpu(pytester):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible here")
    result = pytester.runpytest_subprocess(str(CLAIM_TESTS), "-m", "gpu", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) >= 4 and "passed" not in outcomes and "failed" not in outcomes
    result.stdout.fnmatch_lines(["*no GPU visible*"])


def test_a_smoke_claim_writes_its_row_and_progress(pytester, tmp_path):
    results_dir = tmp_path / "results"
    result = pytester.runpytest_subprocess(
        str(CLAIM_TESTS), "-m", "smoke", "-k", "aug_train_only and flip", "--results-dir", str(results_dir)
    )
    result.assert_outcomes(passed=1)
    written = next((results_dir / "smoke" / "runs").glob("*/*.jsonl"))
    rows = [json.loads(line) for line in written.read_text().splitlines()]
    assert [row["claim"] for row in rows] == ["aug_train_only"]
    assert (results_dir / "smoke" / "claims.csv").exists()
    assert "seed 0" in (results_dir / "smoke" / "progress.log").read_text()
    result.stdout.fnmatch_lines(["*tl-claims results, smoke scale*"])


SMOKE_PAIR = ["-m", "smoke", "-k", "preprocessing and lite0 or aug_train_only and flip"]
VOLATILE = {"seconds", "run_id", "finished_at"}


def _rows(results_dir: Path) -> list[dict]:
    table = json.loads((results_dir / "smoke" / "claims.json").read_text())["rows"]
    return [{key: value for key, value in row.items() if key not in VOLATILE} for row in table]


def test_two_xdist_workers_give_the_same_table_as_a_serial_run(pytester, tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    pytester.runpytest_subprocess(str(CLAIM_TESTS), *SMOKE_PAIR, "--results-dir", str(serial)).assert_outcomes(passed=2)
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
    from harness import results

    assert [row["claim"] for row in results.read_rows(results_dir / "smoke")] == ["preprocessing"]
    assert list(results.assemble(results_dir, "smoke")["claim"]) == ["preprocessing"]


TOY_CLAIM_TESTS = """
import numpy as np
import pytest

from harness.claims.base import Arm, Claim, Measurement, Metric, Variant
from harness.plugin import KnownFinding


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
    result = pytester.runpytest_subprocess("-p", "harness.plugin", "--results-dir", str(tmp_path), "--seeds", "3")
    # a known finding that holds is an xfail; one that turned CONFIRMED (XPASS strict) or INCONCLUSIVE fails
    result.assert_outcomes(passed=2, failed=3, xfailed=1)
    result.stdout.fnmatch_lines(
        ["*toy[[]default] at cpu scale — REFUTED (superiority Δ > +0.0 pp): Δ -29.0 pp*the fix*"]
    )
    result.stdout.fnmatch_lines(["*_ test_known_finding_turned_confirmed _*", "[[]XPASS(strict)] known finding"])
    result.stdout.fnmatch_lines(["*verdict changed from the known REFUTED: toy[[]default]*INCONCLUSIVE*"])
