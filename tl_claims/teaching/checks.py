"""Teaching checks: each common error of the lesson ("Errores comunes") as a check that fails with an explanation.

In the style of scikit-learn's estimator checks, each `check_<property>(pipeline)` asserts one property of a
student's pipeline on tiny probe data (`student.probe_config`: random 0-255 images fed through the student's own
dataset builders) and raises `CheckFailure` - what was seen, the rule, why it matters, the fix - when it does not
hold. Entry points: `run_checks` (a DataFrame, one row per check), `parametrize_with_checks` (a student's own pytest
file) and `pytest --student path.py` (tl_claims/teaching/plugin.py).

This module is the registry (`CHECKS`) and those runners. The checks live by what they inspect: the images the
pipeline feeds the model (`input_checks`) and what its compiled training state trains (`training_checks`), both on
a `Pipeline` (tl_claims/teaching/pipeline.py) whose training facts come from a rehearsal
(tl_claims/teaching/rehearsal.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from tl_claims.teaching import input_checks, messages, training_checks
from tl_claims.teaching.pipeline import CheckFailure, Pipeline
from tl_claims.teaching.student import Student, StudentConfig, load_student

REHEARSAL_CHECKS = frozenset(  # the checks that read `Pipeline.rehearsal()`
    {
        "stage1_trains_only_head",
        "recompiled_after_unfreezing",
        "batchnorm_frozen_in_finetuning",
        "finetune_lr_10x_lower",
    }
)
CHECKS: dict[str, Callable[[Pipeline], None]] = {
    check.__name__.removeprefix("check_"): check
    for check in (
        input_checks.check_preprocessing_matches_backbone,
        input_checks.check_augmentation_inactive_at_inference,
        input_checks.check_augmentation_absent_from_val,
        training_checks.check_stage1_trains_only_head,
        training_checks.check_recompiled_after_unfreezing,
        training_checks.check_batchnorm_frozen_in_finetuning,
        training_checks.check_finetune_lr_10x_lower,
    )
}


def run_checks(
    student: Pipeline | Student | object,
    config: StudentConfig | None = None,
    *,
    lang: str = "en",
    checks: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Run the checks on a student's pipeline: one row per check with its status (passed/failed/error) and message.

    `student` is a built `Pipeline`, or a module / file path / object implementing the contract, which is built on
    `config` (default: tiny probe data at 32 px).
    """
    messages.check_language(lang)
    pipeline = student if isinstance(student, Pipeline) else Pipeline.build(load_or_keep(student, lang), config)
    rows = []
    for name in checks or CHECKS:
        status, message = run_one(CHECKS[name], pipeline, lang)
        rows.append({"check": name, "status": status, "message": message})
    return pd.DataFrame(rows, columns=["check", "status", "message"])


def run_one(check: Callable[[Pipeline], None], pipeline: Pipeline, lang: str) -> tuple[str, str]:
    try:
        check(pipeline)
    except CheckFailure as failure:
        return "failed", failure.render(lang)
    except Exception as error:  # the student's code raised: report it, keep running the other checks
        return "error", pipeline.student.describe_error(error)
    return "passed", ""


def load_or_keep(student: Student | object, lang: str) -> Student:
    return student if isinstance(student, Student) else load_student(student, lang=lang)


class LazyPipeline:
    """Builds the pipeline on first use, so collecting a student's tests costs nothing."""

    def __init__(self, student: Student | object, config: StudentConfig | None, lang: str) -> None:
        self.student, self.config, self.lang = student, config, lang
        self.pipeline: Pipeline | None = None

    def get(self) -> Pipeline:
        if self.pipeline is None:
            self.pipeline = Pipeline.build(load_or_keep(self.student, self.lang), self.config)
        return self.pipeline


@dataclass(frozen=True)
class BoundCheck:
    """One check bound to a (lazily built) pipeline: call it in a test."""

    name: str
    check: Callable[[Pipeline], None]
    pipeline: LazyPipeline
    lang: str = "en"

    def __call__(self) -> None:
        __tracebackhide__ = True
        try:
            self.check(self.pipeline.get())
        except CheckFailure as failure:
            failure.lang = self.lang
            raise

    def __repr__(self) -> str:
        return self.name


def parametrize_with_checks(student: Student | object, config: StudentConfig | None = None, *, lang: str = "en"):
    """A pytest parametrize mark with one case per check, for a student's own test file:

    @parametrize_with_checks(my_pipeline)
    def test_my_pipeline(check):
        check()
    """
    import pytest

    messages.check_language(lang)
    lazy = LazyPipeline(student, config, lang)
    cases = [BoundCheck(name, check, lazy, lang) for name, check in CHECKS.items()]
    return pytest.mark.parametrize("check", cases, ids=[case.name for case in cases])
