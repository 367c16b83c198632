"""A pip user's first session: the wheel `pip wheel . --no-deps` builds, installed into a fresh virtual environment
(dependencies from the index), used from an empty folder outside the checkout."""

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tl_claims import __version__
from tl_claims.core.paths import REPO_ROOT

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fresh") / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        env=user_environment(folder, folder / "cache"),
    )
    print(f"fresh venv + pip install {wheel.name} (dependencies from the index): {time.monotonic() - started:.0f} s")
    return folder


def user_environment(venv: Path, cache: Path) -> dict[str, str]:
    """The user's shell: this checkout is nowhere on the path, no log level chosen, a cache of their own."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL", "VIRTUAL_ENV", "PYTEST_ADDOPTS"}
    }
    return environment | {"PATH": f"{venv / 'bin'}{os.pathsep}{environment['PATH']}", "TL_CLAIMS_CACHE": str(cache)}


@pytest.fixture
def run(venv, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()

    def run(*command: str) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run(
            command,
            cwd=folder,
            env=user_environment(venv, tmp_path / "cache"),
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"{' '.join(command)}: {time.monotonic() - started:.0f} s, exit {result.returncode}")
        return result

    run.folder = folder
    return run


def assert_quiet(result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    assert "absl::InitializeLog" not in output and "oneDNN" not in output and "cuInit" not in output, output
    assert "Traceback" not in output, output


def test_the_wheel_holds_the_package_data_the_license_and_the_entry_point(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {"tl_claims/resources/imagenet_classes.json", "tl_claims/resources/student-contract.md"} <= set(names)
    assert f"tl_claims-{__version__}.dist-info/licenses/LICENSE" in names
    entry_points = zipfile.ZipFile(wheel).read(f"tl_claims-{__version__}.dist-info/entry_points.txt").decode()
    assert "[pytest11]\ntl_claims.teaching.plugin = tl_claims.teaching.plugin" in entry_points
    assert "[console_scripts]\ntl-claims = tl_claims.cli:main" in entry_points


def test_student_checks_pass_on_the_correct_example(run):
    shutil.copy(REPO_ROOT / "examples" / "student_correct.py", run.folder)
    result = run("pytest", "--student", "student_correct.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout and "warning" not in result.stdout
    assert_quiet(result)


def test_predict_names_the_cat(run):
    run("python", "-c", "import skimage.data, PIL.Image; PIL.Image.fromarray(skimage.data.chelsea()).save('cat.png')")
    result = run("python", "-m", "tl_claims", "predict", "cat.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[0] == "285" and result.stdout.splitlines()[1].endswith("Egyptian cat")
    assert result.stderr == ""


def test_a_foreign_project_runs_unchanged_with_the_entry_point_installed(run):
    for source in (REPO_ROOT / "fixtures" / "foreign_project").iterdir():
        shutil.copy(source, run.folder)
    assert "--student=PATH" in run("pytest", "--help").stdout  # the entry point is loaded
    result = run("pytest", "--strict-markers", "--seeds", "3", "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout and "deselected" not in result.stdout.splitlines()[-1]


def test_version_and_the_packaged_contract(run):
    assert run("python", "-m", "tl_claims", "--version").stdout == f"tl-claims {__version__}\n"
    assert run("tl-claims", "--version").stdout == f"tl-claims {__version__}\n"
    contract = run("python", "-m", "tl_claims", "docs", "contract")
    assert contract.returncode == 0 and contract.stdout.startswith("# The student contract")
    assert "site-packages" in run("python", "-m", "tl_claims", "docs", "contract", "--path").stdout


def test_verify_from_a_pip_install_says_the_claim_tests_live_in_a_checkout(run):
    result = run("tl-claims", "verify")
    assert result.returncode == 2 and "Clone the repository and run `make verify`" in result.stderr, result.stderr
    assert_quiet(result)
