"""The tests run by `pytest --student PATH` and `pytest --homework PATH` (harness/teaching/plugin.py collects them
under the student's file when one of those options names it).

One test per teaching check, sharing one built pipeline; one homework test per scale, marked like the claims
(plain pytest runs smoke, `-m cpu` the CPU verdict, `-m gpu` the full recipe).
"""

import pytest

from harness.teaching.checks import CHECKS, CheckFailure, Pipeline
from harness.teaching.plugin import CHECK_IMAGE_SIZE, STUDENTS
from harness.teaching.student import ContractError, probe_config


@pytest.fixture(scope="module")
def student_pipeline(request: pytest.FixtureRequest) -> Pipeline:
    student = request.config.stash[STUDENTS]["student"]
    image_size = request.config.getoption("--image-size") or CHECK_IMAGE_SIZE
    try:
        return Pipeline.build(student, probe_config(image_size))
    except ContractError as error:
        message = f"{student.name}: {error}"
    pytest.fail(message, pytrace=False)


@pytest.mark.parametrize("check_name", list(CHECKS))
def test_check(check_name: str, student_pipeline: Pipeline, request: pytest.FixtureRequest) -> None:
    failure = None
    try:
        CHECKS[check_name](student_pipeline)
    except CheckFailure as raised:
        failure = raised
    if failure is not None:  # outside the except block: the message alone, no "during handling" chain
        pytest.fail(failure.render(request.config.getoption("--lang", "en")), pytrace=False)


@pytest.mark.parametrize(
    "scale_name",
    [
        pytest.param("smoke", marks=pytest.mark.smoke, id="smoke"),
        pytest.param("cpu", marks=pytest.mark.cpu, id="cpu"),
        pytest.param("gpu", marks=pytest.mark.gpu, id="gpu"),
    ],
)
def test_homework(scale_name: str, grade_homework, request: pytest.FixtureRequest) -> None:
    grade_homework(request.config.stash[STUDENTS]["homework"], scale_name)
