"""The student plugin as an installed `pytest11` entry point: out of other projects' way, complete when asked for.

An installed entry point is registered before the command line is parsed, exactly like `-p MODULE`; these tests use
`-p tl_claims.teaching.plugin` in folders outside this repository (no conftest.py of ours), in a subprocess so that
what gets imported is measured from a clean interpreter. tests/install/ repeats the foreign-project and student runs
from a wheel installed in a fresh virtual environment, through the real entry point.
"""

import importlib
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from tl_claims.core.paths import REPO_ROOT

PLUGIN = "tl_claims.teaching.plugin"
FOREIGN_PROJECT = REPO_ROOT / "fixtures" / "foreign_project"


def test_pyproject_registers_the_student_plugin_and_only_it_under_its_module_name():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["pytest11"] == {PLUGIN: PLUGIN}


@pytest.fixture
def foreign(pytester: pytest.Pytester) -> pytest.Pytester:
    for source in FOREIGN_PROJECT.iterdir():
        shutil.copy(source, pytester.path / source.name)
    return pytester


def test_a_foreign_project_with_its_own_gpu_marker_and_seeds_option_runs_unchanged(foreign):
    result = foreign.runpytest_subprocess("-p", PLUGIN, "--strict-markers", "--seeds", "3", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_its_own_gpu_marker_is_not_deselected PASSED*"])
    assert "deselected" not in result.parseoutcomes()


def test_the_same_foreign_project_without_the_plugin_gives_the_same_outcome(foreign):
    foreign.runpytest_subprocess("--strict-markers", "--seeds", "3").assert_outcomes(passed=3)


def test_until_activated_only_student_and_homework_are_registered(pytester):
    result = pytester.runpytest_subprocess("-p", PLUGIN, "--help")
    help_text = result.stdout.str()
    assert "--student=PATH" in help_text and "--homework=PATH" in help_text
    registered = set(re.findall(r"^  (--[a-z-]+)", help_text, flags=re.MULTILINE))
    assert {"--student", "--homework"} <= registered
    assert not {"--lang", "--seeds", "--image-size", "--backbone", "--results-dir"} & registered
    assert "@pytest.mark.smoke" not in pytester.runpytest_subprocess("-p", PLUGIN, "--markers").stdout.str()


def test_student_activates_the_claims_options_and_quiet_tensorflow_in_a_foreign_folder(pytester, student_source):
    pytester.path.joinpath("tiny.py").write_text(student_source("high_lr"), encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", PLUGIN, "--student", "tiny.py", "--lang", "es", "--image-size", "32")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["*la tasa de aprendizaje del fine-tuning es demasiado alta", "*arreglo:*Adam(1e-5)*"])
    output = result.stdout.str() + result.stderr.str()
    assert "absl::InitializeLog" not in output and "oneDNN" not in output


def test_without_tensorflow_student_stops_with_the_platform_message(pytester, monkeypatch, student_source):
    # the module as sys.modules holds it now (an earlier in-process run may have dropped the one `tl_claims` points at)
    install_check = importlib.import_module("tl_claims.core.install_check")
    monkeypatch.setattr(install_check, "has_tensorflow", lambda: False)
    monkeypatch.setattr(install_check.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(install_check.platform, "machine", lambda: "x86_64")
    pytester.path.joinpath("tiny.py").write_text(student_source(), encoding="utf-8")
    result = pytester.runpytest("-p", PLUGIN, "--student", "tiny.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: TensorFlow publishes no wheel for this machine (Darwin x86_64)*Colab*"])


def test_the_plugin_module_imports_only_pytest_and_the_message_tables():
    code = (
        "import sys, tl_claims.teaching.plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'tl_claims', 'tensorflow', 'keras', 'numpy'}))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert (
        imported.strip()
        == "['tl_claims', 'tl_claims.teaching', 'tl_claims.teaching.messages', 'tl_claims.teaching.plugin', "
        "'tl_claims.teaching.texts']"
    )
