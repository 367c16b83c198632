"""Which tests a run selects (tl_claims/plugin/selection.py): markers, the fast-suite default, node ids, --lf, and
make verify's and make explore's claims, longest first; and `-m gpu` without a GPU, every claim skipped."""

import json
import os
import subprocess
import sys

import pytest

from tl_claims.core.paths import REPO_ROOT

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


def test_plain_pytest_runs_the_fast_suite_only(plugin_pytester):
    plugin_pytester.makepyfile(SCALED_TESTS)
    result = plugin_pytester.runpytest("-v")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(["*test_smoke PASSED*"])


def test_without_the_repository_addopts_cpu_and_gpu_still_need_m(pytester):
    """A student's folder loads the plugin through `--homework` with no addopts of ours: still the fast default."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks"]')
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


NODE = "tests/claims/test_claims.py::test_claim[{}]"
NODE_ID = NODE.format("recompile-unfreeze_all-cpu")  # the id `pytest` prints for a failed claim
RECORDED = {  # claim case -> the seconds of its recorded rows, oldest run first: the latest row counts
    "two_stage-lr_1e-5-cpu": [50.0, 900.0],
    "bn_gotcha-bn_frozen-cpu": [500.0],
    "tta-flip_crop-cpu": [9.0],
}
SELECTIONS = ("cpu and not exploratory", "cpu and exploratory")  # make verify's, make explore's


GPU_RUN = "-m gpu"  # the gpu scale's run, beside the collections


@pytest.fixture(scope="module")
def claim_runs(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """This checkout's claim tests run with its pyproject.toml and conftest.py, all in one process (TensorFlow's
    import is most of each run's time): collected for each of SELECTIONS with RECORDED's rows in the results folder,
    NODE_ID collected, and the gpu scale run with no GPU visible (GPU_RUN). The process and each run's output, by
    label (the selection, the node id, GPU_RUN)."""
    from dataclasses import replace

    from test_row import make_row

    from tl_claims.results import rowfile

    results = tmp_path_factory.mktemp("results")
    for case, seconds in RECORDED.items():
        for run, value in enumerate(seconds):
            row = make_row(case.split("-")[0], run_id=f"2026010{run}T000000-1", scale_name="cpu", seconds=value)
            rowfile.append_row(results, replace(row, node_id=NODE.format(case)))
    claims = "tests/claims/test_claims.py"
    collect = ["--results-dir", str(results), "--collect-only"]
    runs = {selection: [claims, "-m", selection, *collect] for selection in SELECTIONS}
    runs[NODE_ID] = [NODE_ID, "--collect-only"]
    runs[GPU_RUN] = [claims, "-m", "gpu", "-rs", "--results-dir", str(tmp_path_factory.mktemp("gpu_results"))]
    code = (
        "import json, sys, pytest\n"
        "for label, arguments in json.loads(sys.argv[1]).items():\n"
        "    print('run:', label, flush=True)\n"
        "    code = pytest.main([*arguments, '-q', '-p', 'no:cacheprovider'])\n"
        "    assert code == 0, code\n"
    )
    command = [sys.executable, "-c", code, json.dumps(runs)]
    hidden_gpus = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # with a GPU, `-m gpu` would train every claim
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=hidden_gpus, capture_output=True, text=True, timeout=300, check=False
    )
    outputs: dict[str, str] = {}
    for line in result.stdout.splitlines(keepends=True):
        if line.startswith("run: "):
            current = line.removeprefix("run: ").strip()
            outputs[current] = ""
        elif outputs:
            outputs[current] += line
    return result, outputs


def test_a_claim_node_id_is_collected_with_the_repository_configuration(claim_runs):
    """End to end with this checkout's pyproject.toml and conftest.py: the id `pytest` prints for a failed claim."""
    result, outputs = claim_runs
    assert result.returncode == 0, result.stdout + result.stderr
    assert NODE_ID in outputs[NODE_ID] and "deselected" not in outputs[NODE_ID]


def test_gpu_scale_skips_every_claim_without_a_gpu(claim_runs):
    result, outputs = claim_runs
    assert result.returncode == 0, result.stdout + result.stderr
    lines = outputs[GPU_RUN].splitlines()
    outcomes = pytest.RunResult.parse_summary_nouns(lines)
    assert outcomes.get("skipped", 0) >= 4 and "passed" not in outcomes and "failed" not in outcomes
    pytest.LineMatcher(lines).fnmatch_lines(["*no GPU visible*"])


def test_make_verify_selects_every_claims_primary_and_make_explore_the_rest(claim_runs):
    """`-m "cpu and not exploratory"` (make verify) collects one cpu case per claim, its primary; `-m "cpu and
    exploratory"` (make explore) every other cpu variant; together, the whole cpu table. The claims come never
    recorded first, in registry order, then longest first by their latest recorded row's seconds."""
    from tl_claims.claims.registry import CLAIMS

    result, outputs = claim_runs
    assert result.returncode == 0, result.stdout + result.stderr
    cases = {selection: [] for selection in SELECTIONS}
    for selection in SELECTIONS:
        for line in outputs[selection].splitlines():
            if "::test_claim[" in line:
                cases[selection].append(line.split("[", 1)[1].rstrip("]"))
    primaries = [f"{claim.id}-{claim.primary_variant}-cpu" for claim in CLAIMS.values() if claim.primary_variant]
    others = {f"{claim.id}-{v.name}-cpu" for claim in CLAIMS.values() for v in claim.variants} - set(primaries)
    never_recorded = [case for case in primaries if case not in RECORDED]
    assert cases["cpu and not exploratory"] == [*never_recorded, *RECORDED]
    assert set(cases["cpu and exploratory"]) == others


def test_marker_expression_selects_a_scale(plugin_pytester):
    plugin_pytester.makepyfile(SCALED_TESTS)
    plugin_pytester.runpytest("-m", "cpu").assert_outcomes(passed=1, deselected=3)


def test_markers_are_registered_with_descriptions(plugin_pytester):
    result = plugin_pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.smoke: *", "@pytest.mark.cpu: *", "@pytest.mark.gpu: *", "@pytest.mark.exploratory: *"]
    )
