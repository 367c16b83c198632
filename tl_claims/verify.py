"""`tl-claims verify`: the claims that decide the lesson's verdicts, at cpu scale, then the report -- `make verify`.

The report writes the tables and figures under results/ only: a run never changes a tracked file. Publishing them
into the README is its own command, `tl-claims report --readme` (`make readme`).

pytest runs in a child process from the checkout's root, so the checkout's pyproject.toml, conftest.py and results/
are the ones used whatever folder the command is typed in. The claim tests are not in the wheel: a pip install has
nothing to run, and the command says so. Arguments verify does not know go to pytest after its defaults, so `-n 4`
or `-m cpu` replace them (pytest keeps an option's last value), and a test file or node id replaces the test list.
"""

import argparse
import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tl_claims.core.command_help import add_command
from tl_claims.core.errors import HarnessError
from tl_claims.core.paths import REPO_ROOT

# Each claim's primary variant, the backbones' fidelity and the data's calibration: what decides the verdicts.
VERIFY_TESTS = (
    "tests/claims/test_claims.py",
    "tests/backbones/test_lite0.py",
    "tests/backbones/test_lite_reference.py",
    "tests/data",
)
MARKERS = "cpu and not exploratory"  # the exploratory variants are `make explore`
PARALLEL = ("-n", "2", "--dist", "worksteal")  # worksteal: the longest claims start first, none idles at the end


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "verify",
        "Run the claims that decide the lesson's verdicts at cpu scale, then fold the rows into results/cpu/.",
        [
            "tl-claims verify                       # what `make verify` runs: tables and figures in results/cpu/",
            "tl-claims verify -n 4                  # any other argument goes to pytest: here 4 workers",
            "tl-claims verify -k two_stage -x       # one claim's tests, stop at the first failure",
            "tl-claims verify tests/data            # only these tests (paths are relative to the checkout)",
            "tl-claims verify -- --help             # pytest's own options",
        ],
    )
    parser.usage = "%(prog)s [-h] [PYTEST_ARGUMENT ...]"
    parser.set_defaults(handler=run, pytest_args=[])  # cli.main hands verify the arguments it does not know


def run(args: argparse.Namespace) -> int:
    """pytest's exit status; the report runs whatever it is, as a refuted claim is a finding too. The report is not
    given --readme: the tracked README and docs/results.md change only when someone publishes (make readme)."""
    checkout = require_checkout(REPO_ROOT)
    status = run_to_end(pytest_command(args.pytest_args, checkout, parallel=has_xdist()), checkout)
    run_to_end([sys.executable, "-m", "tl_claims", "report", "--results-dir", "results"], checkout)
    return status


def pytest_command(pytest_args: Sequence[str], checkout: Path, parallel: bool) -> list[str]:
    forwarded = list(pytest_args)
    if "--" in forwarded:  # `verify -- --help`: what follows is pytest's, the separator is not
        forwarded.remove("--")
    names_tests = any((checkout / arg.split("::")[0]).exists() for arg in forwarded if arg and arg[0] != "-")
    tests = [] if names_tests else list(VERIFY_TESTS)
    return [sys.executable, "-m", "pytest", "-m", MARKERS, *(PARALLEL if parallel else ()), *tests, *forwarded]


def has_xdist() -> bool:
    """pytest-xdist comes with the dev extra (`make install`); a plain `pip install -e .` runs the tests one by one."""
    return importlib.util.find_spec("xdist") is not None


def require_checkout(checkout: Path) -> Path:
    missing = [name for name in VERIFY_TESTS if not (checkout / name).exists()]
    if missing:
        raise HarnessError(
            f"verify runs the claim tests of a tl-claims checkout, and there is none at {checkout} ({missing[0]} is "
            "missing): the wheel ships the package only. Clone the repository and run `make verify` there."
        )
    return checkout


def run_to_end(command: list[str], cwd: Path) -> int:
    with subprocess.Popen(command, cwd=cwd) as process:
        try:
            return process.wait()
        except KeyboardInterrupt:  # the child got the same Ctrl-C: pytest prints what it has and stops on its own
            return process.wait()
