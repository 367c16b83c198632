"""benchmarks/gpu_run.sh, the prepared GPU run, in the dry-run form it takes on a CPU: the same steps (wheels,
backend, `pytest -m gpu`, benchmark, report) with the claims at the smoke sizes, so the script has run end to end
before it meets a GPU machine. Offline: no B0 weights file in Keras' cache here, so the preset's offline backbone
runs, and the row says so."""

import json
import os
import re
import subprocess
import sys
import tomllib

import pytest

from tl_claims.core.paths import REPO_ROOT
from tl_claims.recipe.scales import SCALES

SCRIPT = REPO_ROOT / "benchmarks" / "gpu_run.sh"
REQUIREMENTS = REPO_ROOT / "benchmarks" / "gpu_requirements.txt"


def run_script(tmp_path, *pytest_args: str, **settings: str) -> tuple[subprocess.CompletedProcess, dict]:
    """The script's dry-run form into tmp_path/out, with this interpreter, an empty Keras cache and a fresh
    tl-claims cache; returns the process and what it wrote (file name → text for the logs)."""
    env = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "PYTHON": sys.executable,
        "KERAS_HOME": str(tmp_path / "keras"),  # no EfficientNetB0 file: the offline path
        "TL_CLAIMS_CACHE": str(tmp_path / "cache"),
        "GPU_WHEELS": str(tmp_path / "wheels"),
        "GPU_RUN_DRY": "1",
        **settings,
    }
    env.pop("KERAS_BACKEND", None)
    process = subprocess.run(
        ["bash", str(SCRIPT), *pytest_args], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    out = tmp_path / "out"
    return process, {path.name: path.read_text() for path in out.glob("*.log")} | {"out": str(out)}


def test_the_wheel_list_has_pyprojects_ranges():
    """The script installs what pyproject.toml asks for, in the same ranges: one list cannot drift from the other."""
    declared = {
        re.split(r"[<>=;\[ ]", spec, maxsplit=1)[0].lower(): spec.split(";")[0].strip()
        for spec in [
            *tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"],
            *tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"],
        ]
    }
    lines = [line for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    for line in lines:
        name = re.split(r"[<>=]", line, maxsplit=1)[0]
        assert declared.get(name) == line, f"{line}: pyproject.toml declares {declared.get(name)!r}"
    assert "tensorflow" not in {re.split(r"[<>=]", line, maxsplit=1)[0] for line in lines}


@pytest.mark.longest
def test_the_dry_run_form_runs_a_claim_offline_and_writes_one_folder(tmp_path):
    process, written = run_script(tmp_path, "-k", "preprocessing", GPU_RUN_WORKERS="0", GPU_BENCH_SECONDS="0")
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    log = written["gpu_run.log"]
    assert "no wheel folder" in log and "the dry-run form, backend tensorflow" in log
    scale_dir = tmp_path / "out" / "gpu_dry"
    assert (scale_dir / "claims.md").is_file() and (scale_dir / "figures" / "deltas.png").is_file()
    assert "preprocessing[scale_backbone-gpu_dry]" in (scale_dir / "progress.log").read_text()
    (row,) = json.loads((scale_dir / "claims.json").read_text())["rows"]
    offline = SCALES["gpu"].offline_backbone
    assert (row["backbone"], row["dataset"], row["image_size"]) == (offline, "tf_flowers", 32)
    assert "KERAS_BACKEND=tensorflow" in (tmp_path / "out" / "environment.txt").read_text()


@pytest.mark.cpu
def test_the_whole_dry_run_form_passes(tmp_path):
    """Every primary, on two workers as on the GPU, and the benchmark's code paths: about 5 minutes here. An empty
    wheel folder: pip finds everything installed and adds nothing."""
    (tmp_path / "wheels").mkdir()
    process, written = run_script(tmp_path)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    table = json.loads((tmp_path / "out" / "gpu_dry" / "claims.json").read_text())
    from tl_claims.claims.registry import CLAIMS

    assert {row["claim"] for row in table["rows"]} == set(CLAIMS)
    assert "installing what is missing" in written["gpu_run.log"]
    assert "augmentation benchmark: exit 0" in written["gpu_run.log"]
