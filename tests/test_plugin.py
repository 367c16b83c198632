"""The plugin's contract: markers, option checks, the fast-suite default, gpu skips, rows on disk."""

import json
import os
import shlex
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from harness.core.paths import REPO_ROOT

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


REPOSITORY_INI = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]


@pytest.fixture
def plugin_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the plugin and this repository's marker default (its addopts)."""
    pytester.makeconftest('pytest_plugins = ["harness.plugin.hooks"]')
    markers = "".join(f"\n    {line}" for line in REPOSITORY_INI["markers"])
    pytester.makeini(f"[pytest]\naddopts = {shlex.join(REPOSITORY_INI['addopts'])}\nmarkers ={markers}\n")
    return pytester


def test_plain_pytest_runs_the_fast_suite_only(plugin_pytester):
    plugin_pytester.makepyfile(SCALED_TESTS)
    result = plugin_pytester.runpytest("-v")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(["*test_smoke PASSED*"])


def test_without_the_repository_addopts_cpu_and_gpu_still_need_m(pytester):
    """A student's folder loads the plugin through `--homework` with no addopts of ours: still the fast default."""
    pytester.makeconftest('pytest_plugins = ["harness.plugin.hooks"]')
    pytester.makepyfile(test_scaled=SCALED_TESTS)
    pytester.runpytest().assert_outcomes(passed=2, deselected=2)
    pytester.runpytest("test_scaled.py::test_gpu_only").assert_outcomes(passed=1)


def test_a_pasted_node_id_runs_that_test_whatever_its_marker(plugin_pytester):
    plugin_pytester.makepyfile(test_scaled=SCALED_TESTS)
    plugin_pytester.runpytest("test_scaled.py::test_cpu_only", "-v").assert_outcomes(passed=1)
    in_folder = plugin_pytester.mkdir("sub")
    (in_folder / "test_nested.py").write_text(SCALED_TESTS)
    result = plugin_pytester.runpytest("sub/test_nested.py::test_gpu_only", "test_scaled.py", "-v")
    result.assert_outcomes(passed=3, deselected=2)  # the named gpu test and test_scaled's fast tests
    typed = plugin_pytester.runpytest("test_scaled.py::test_cpu_only", "-m", "not cpu")  # a typed -m is obeyed
    typed.assert_outcomes(deselected=1)


LAST_FAILED = """
import os
import pytest

@pytest.mark.cpu
def test_cpu_fails():
    assert os.environ.get("FIXED")

@pytest.mark.cpu
def test_cpu_passes(): pass

def test_unit(): pass
"""


def test_lf_after_a_cpu_run_reruns_the_failed_cpu_test(plugin_pytester, monkeypatch):
    plugin_pytester.makepyfile(LAST_FAILED)
    plugin_pytester.runpytest("-m", "cpu").assert_outcomes(passed=1, failed=1, deselected=1)
    monkeypatch.setenv("FIXED", "1")
    result = plugin_pytester.runpytest("--lf", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_cpu_fails PASSED*"])  # without the plugin: test_unit, the fast suite
    plugin_pytester.runpytest("--lf").assert_outcomes(passed=1, deselected=2)  # nothing failed: the fast suite


def test_a_claim_node_id_is_collected_with_the_repository_configuration():
    """End to end with this checkout's pyproject.toml and conftest.py: the id `pytest` prints for a failed claim."""
    node_id = "tests/claims/test_claims.py::test_claim[recompile-unfreeze_all-cpu]"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", node_id, "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert node_id in result.stdout and "deselected" not in result.stdout


def test_make_verify_selects_every_claims_primary_and_make_explore_the_rest(tmp_path):
    """`-m "cpu and not exploratory"` (make verify) collects one cpu case per claim, its primary; `-m "cpu and
    exploratory"` (make explore) every other cpu variant; together, the whole cpu table. The claims come never
    recorded first, in registry order, then longest first by their latest recorded row's seconds."""
    from dataclasses import replace

    from test_row import make_row

    from harness.claims.registry import CLAIMS
    from harness.results import rowfile

    node = "tests/claims/test_claims.py::test_claim[{}]"
    recorded = {
        "two_stage-lr_1e-5-cpu": [50.0, 900.0],
        "bn_gotcha-call_inference-cpu": [500.0],
        "tta-flip_crop-cpu": [9.0],
    }
    for case, seconds in recorded.items():  # oldest run first: the latest row counts
        for run, value in enumerate(seconds):
            row = make_row(case.split("-")[0], run_id=f"2026010{run}T000000-1", scale_name="cpu", seconds=value)
            rowfile.append_row(tmp_path, replace(row, node_id=node.format(case)))
    selections = ("cpu and not exploratory", "cpu and exploratory")
    code = (  # both collections in one process: TensorFlow's import is most of a collection's time
        "import sys, pytest\n"
        "for expression in sys.argv[2:]:\n"
        "    print('selection:', expression, flush=True)\n"
        "    code = pytest.main(['tests/claims/test_claims.py', '-m', expression, '--collect-only', '-q',\n"
        "                        '-p', 'no:cacheprovider', '--results-dir', sys.argv[1]])\n"
        "    assert code == 0, code\n"
    )
    command = [sys.executable, "-c", code, str(tmp_path), *selections]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    collected: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("selection: "):
            current = collected.setdefault(line.removeprefix("selection: "), [])
        elif "::test_claim[" in line:
            current.append(line.split("[", 1)[1].rstrip("]"))

    primaries = [f"{claim.id}-{claim.primary_variant}-cpu" for claim in CLAIMS.values()]
    others = {f"{claim.id}-{v.name}-cpu" for claim in CLAIMS.values() for v in claim.variants} - set(primaries)
    never_recorded = [case for case in primaries if case not in recorded]
    assert collected["cpu and not exploratory"] == [*never_recorded, *recorded]
    assert set(collected["cpu and exploratory"]) == others


def test_marker_expression_selects_a_scale(plugin_pytester):
    plugin_pytester.makepyfile(SCALED_TESTS)
    plugin_pytester.runpytest("-m", "cpu").assert_outcomes(passed=1, deselected=3)


def test_markers_are_registered_with_descriptions(plugin_pytester):
    result = plugin_pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.smoke: *", "@pytest.mark.cpu: *", "@pytest.mark.gpu: *", "@pytest.mark.exploratory: *"]
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--seeds", "0"], "*--seeds must be at least 1*"),
        (["--backbone", "resnet9000"], "*--backbone*resnet9000*efficientnet_lite0*"),
        (["--dataset", "folder:/no/such/folder"], "*no folder at*"),
        (["--dataset", "imagenet"], "*use synthetic, tfds:NAME*"),
        (["--image-size", "16"], "*at least 32 pixels*"),
        (["--results-dir", "a_file/results"], "*--results-dir a_file/results: *a_file is a file, not a folder*"),
        (["--cache-dir", "a_file"], "*--cache-dir a_file: *a_file is a file, not a folder; give a folder*"),
        (["--dataset", "folder:empty"], "*--dataset folder:empty: 1 problem(s) in *empty*has no class sub-folders*"),
        (["--dataset", "tfds:no_such_data_set_here"], "*TensorFlow Datasets has no data set 'no_such_data_set_here'*"),
    ],
)
def test_bad_options_stop_the_session_at_start(plugin_pytester, option, message):
    plugin_pytester.makepyfile("def test_never_runs(): raise AssertionError('should not run')")
    (plugin_pytester.path / "a_file").write_text("not a folder")
    (plugin_pytester.path / "empty").mkdir()
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


TOY_CLAIM_TESTS = """
import numpy as np
import pytest

from harness.claims.base import Arm, Claim, Measurement, Metric, Variant
from harness.plugin.hooks import KnownFinding


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
    result = pytester.runpytest_subprocess("-p", "harness.plugin.hooks", "--results-dir", str(tmp_path), "--seeds", "3")
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


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="core affinity is a Linux call")
def test_xdist_workers_share_the_cores_instead_of_each_taking_all(pytester):
    pytester.makeconftest('pytest_plugins = ["harness.plugin.hooks"]')
    pytester.makepyfile(test_threads=THREADS_TEST)
    pytester.runpytest_subprocess("-n", "2", "-p", "xdist").assert_outcomes(passed=1)
