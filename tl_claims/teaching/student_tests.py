"""The tests run by `pytest --student PATH` and `pytest --homework PATH` (tl_claims/teaching/plugin.py collects them
under the student's file when one of those options names it).

One test per teaching check, reporting what the child process that ran the checks said (tl_claims/teaching/sandbox.py;
one message per problem: a repeated error or a check that never ran refers to the first); one homework test per
scale, marked like the claims (plain pytest runs smoke, `-m cpu` the CPU verdict, `-m gpu` the full recipe).
"""

from pathlib import Path

import pytest

from tl_claims.teaching.messages import CHECK_NAMES
from tl_claims.teaching.plugin import CHECK_REPORT, STUDENTS, check_verdicts, lang_of


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest) -> dict[str, tuple[str, str]]:
    return check_verdicts(request.config.stash[CHECK_REPORT], lang_of(request.config))


@pytest.mark.parametrize("check_name", CHECK_NAMES)
def test_check(check_name: str, verdicts: dict[str, tuple[str, str]]) -> None:
    outcome, message = verdicts[check_name]
    if outcome == "not run":
        pytest.skip(message)
    if outcome != "passed":
        pytest.fail(message, pytrace=False)


@pytest.mark.parametrize(
    "scale_name",
    [
        pytest.param("smoke", marks=pytest.mark.smoke, id="smoke"),
        pytest.param("cpu", marks=pytest.mark.cpu, id="cpu"),
        pytest.param("gpu", marks=pytest.mark.gpu, id="gpu"),
    ],
)
def test_homework(scale_name: str, grade_homework, request: pytest.FixtureRequest) -> None:
    path = request.config.stash[STUDENTS]["homework"][Path(request.node.path).resolve()]
    grade_homework(path, scale_name)
