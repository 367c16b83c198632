"""`tl-claims verify`: the pytest command `make verify` ran, arguments passed on, the report after, no checkout."""

import argparse
import sys

import pytest

from tl_claims import verify
from tl_claims.core.errors import HarnessError
from tl_claims.core.paths import REPO_ROOT

PYTEST = [sys.executable, "-m", "pytest", "-m", "cpu and not exploratory"]


def test_by_default_the_primaries_fidelity_and_calibration_on_two_workers():
    command = verify.pytest_command([], REPO_ROOT, parallel=True)
    assert command == [*PYTEST, "-n", "2", "--dist", "worksteal", *verify.VERIFY_TESTS]
    assert verify.pytest_command([], REPO_ROOT, parallel=False) == [*PYTEST, *verify.VERIFY_TESTS]


def test_pytest_options_come_last_so_they_win_and_the_test_list_stays():
    command = verify.pytest_command(["-n", "4", "-k", "lite0", "-m", "cpu"], REPO_ROOT, parallel=True)
    assert command[-6:] == ["-n", "4", "-k", "lite0", "-m", "cpu"]
    assert command[-10:-6] == list(verify.VERIFY_TESTS)


def test_a_named_test_file_or_node_id_replaces_the_test_list_and_the_separator_is_dropped():
    node = "tests/claims/test_claims.py::test_claim[two_stage-lr_1e-5-cpu]"
    assert verify.pytest_command(["-x", "--", node], REPO_ROOT, parallel=False) == [*PYTEST, "-x", node]
    assert verify.pytest_command(["--", "--help"], REPO_ROOT, parallel=False) == [
        *PYTEST,
        *verify.VERIFY_TESTS,
        "--help",
    ]


def test_without_a_checkout_it_says_where_the_tests_are(tmp_path):
    assert verify.require_checkout(REPO_ROOT) == REPO_ROOT  # every test it runs is where it looks
    with pytest.raises(HarnessError, match=r"there is none at .*Clone the repository and run `make verify`"):
        verify.require_checkout(tmp_path)


def test_pytests_status_is_returned_after_the_report_ran(monkeypatch):
    calls = []
    monkeypatch.setattr(verify, "run_to_end", lambda command, cwd: calls.append((command, cwd)) or len(calls) % 2)
    assert verify.run(argparse.Namespace(pytest_args=["-x"])) == 1  # pytest's 1, not the report's 0
    assert calls[0][0][-1] == "-x" and calls[0][1] == REPO_ROOT
    assert calls[1] == ([sys.executable, "-m", "tl_claims", "report", "--results-dir", "results"], REPO_ROOT)


def test_run_to_end_gives_the_childs_status_and_runs_it_in_the_folder(tmp_path):
    code = "import os, sys; sys.exit(3 if os.getcwd() == sys.argv[1] else 1)"
    assert verify.run_to_end([sys.executable, "-c", code, str(tmp_path.resolve())], tmp_path) == 3
