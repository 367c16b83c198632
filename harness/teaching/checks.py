"""Teaching checks: each common error of the lesson ("Errores comunes") as a check that fails with an explanation.

In the style of scikit-learn's estimator checks, each `check_<property>(pipeline)` asserts one property of a
student's pipeline on tiny probe data (`student.probe_config`: random 0-255 images fed through the student's own
dataset builders) and raises `CheckFailure` - what was seen, the rule, why it matters, the fix - when it does not
hold. Entry points: `run_checks` (a DataFrame, one row per check), `parametrize_with_checks` (a student's own pytest
file) and `pytest --student path.py` (harness/teaching/plugin.py).

The student's objects are never changed. Checks that look (preprocessing, augmentation) call the student's model in
inference mode and iterate its datasets. Checks that need training steps run them on a *twin*: the student's
`build_model` + `compile_stage1` again, with the student's weights copied in. A twin rather than
`keras.models.clone_model`, because what those checks test is the compiled state, which a clone does not carry: the
fine-tuning rehearsal is stage-1 compile → one step (this builds and caches the training function, as stage 1's fit
does) → the student's `unfreeze_and_compile_stage2` → one step. That rehearsal is run once per pipeline and shared by
the four checks that read it, because tracing a real backbone's training step costs seconds.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd

from harness import backbones
from harness.errors import HarnessError
from harness.teaching import messages
from harness.teaching.student import ContractError, Student, StudentConfig, load_student, probe_config

RANGE_TOLERANCE = 0.05  # fraction of the expected input span each end of the seen range may be off by
OUTPUT_TOLERANCE = 1e-5  # relative to the tensor's scale: two inference calls may differ by float noise only
MAX_VAL_BATCHES = 64  # bounds a pass over a (possibly repeated) validation dataset
MIN_LR_RATIO = 10.0  # the lesson: fine-tuning 10-100x below the stage-1 rate


class CheckFailure(HarnessError, AssertionError):
    """A check that did not hold; `render(lang)` gives the four-part message (seen, rule, why, fix)."""

    def __init__(
        self, check: str, case: str, values: dict, text_fields: dict[str, str] | None = None, lang: str = "en"
    ) -> None:
        super().__init__(check)
        self.check, self.case, self.values, self.text_fields, self.lang = check, case, values, text_fields, lang

    def render(self, lang: str | None = None) -> str:
        return messages.render(lang or self.lang, self.check, self.case, self.values, self.text_fields)

    def __str__(self) -> str:
        return self.render()


# ------------------------------------------------------------------------------------------------------ pipeline


@dataclass(frozen=True)
class Rehearsal:
    """What one stage-1 step and one stage-2 step did to a twin of the student's model."""

    stage1_lr: float
    base_total: int
    stage1_base_changed: list[str]
    head_total: int
    stage1_head_changed: list[str]
    stage2_lr: float
    stage2_base_trainable: int
    stage2_base_changed: list[str]
    bn_total: int
    bn_changed: list[str]
    calls_base_with_training_false: bool


@dataclass(eq=False)
class Pipeline:
    """A student's pipeline, built: the stage-1 model and its base (compiled), and the train / val datasets."""

    student: Student
    config: StudentConfig
    model: keras.Model
    base: keras.Model
    train: object  # tf.data.Dataset
    val: object
    _rehearsal: Rehearsal | None = field(default=None, repr=False)

    @classmethod
    def build(cls, student: Student | object, config: StudentConfig | None = None) -> Pipeline:
        """Run the student's builders on `config` (default: the tiny random probe data at 32 px)."""
        student = student if isinstance(student, Student) else load_student(student)
        config = config or probe_config()
        keras.utils.set_random_seed(config.seed)
        train, val = student.build_datasets(config)
        model, base = student.build_model(config)
        student.compile_stage1(model, base)
        return cls(student, config, model, base, train, val)

    def twin(self) -> tuple[keras.Model, keras.Model]:
        """A fresh model from the student's builder, compiled for stage 1, with the student's weights."""
        model, base = self.student.build_model(self.config)
        self.student.compile_stage1(model, base)
        model.set_weights(self.model.get_weights())
        return model, base

    def first_batch(self, split: str) -> tuple:
        images, labels = next(iter(getattr(self, split)))[:2]
        return images, labels

    def rehearsal(self) -> Rehearsal:
        if self._rehearsal is None:
            self._rehearsal = rehearse(self)
        return self._rehearsal


def rehearse(pipeline: Pipeline) -> Rehearsal:
    """Stage-1 step, then the student's stage-2 function, then a stage-2 step, all on a twin."""
    keras.utils.set_random_seed(pipeline.config.seed)
    model, base = pipeline.twin()
    batch = pipeline.first_batch("train")
    stage1 = stage1_step(model, base, batch)
    pipeline.student.unfreeze_and_compile_stage2(model, base)
    stage2 = stage2_step(model, base, batch)
    return Rehearsal(**stage1, **stage2, calls_base_with_training_false=calls_with_training_false(base))


def stage1_step(model: keras.Model, base: keras.Model, batch: tuple) -> dict:
    """One head warm-up step: which variables of the base (weights and BN statistics) and of the head moved."""
    base_ids = {id(variable) for variable in base.weights}
    head = [variable for variable in model.trainable_variables if id(variable) not in base_ids]
    base_before, head_before = snapshot(base.weights), snapshot(head)
    stage1_lr = learning_rate(model)
    model.train_on_batch(*batch)
    return dict(
        stage1_lr=stage1_lr,
        base_total=len(base.weights),
        stage1_base_changed=changed(base.weights, base_before),
        head_total=len(head),
        stage1_head_changed=changed(head, head_before),
    )


def stage2_step(model: keras.Model, base: keras.Model, batch: tuple) -> dict:
    """One fine-tuning step after the student's stage-2 setup: which base weights and BN statistics moved."""
    trainable, norms = base.trainable_variables, backbones.batchnorm_layers(base)
    trainable_before = snapshot(trainable)
    statistics_before = [snapshot([layer.moving_mean, layer.moving_variance]) for layer in norms]
    stage2_lr = learning_rate(model)
    model.train_on_batch(*batch)
    bn_changed = [
        layer.name
        for layer, before in zip(norms, statistics_before)
        if changed([layer.moving_mean, layer.moving_variance], before)
    ]
    return dict(
        stage2_lr=stage2_lr,
        stage2_base_trainable=len(trainable),
        stage2_base_changed=changed(trainable, trainable_before),
        bn_total=len(norms),
        bn_changed=bn_changed,
    )


def snapshot(variables: Iterable) -> list[np.ndarray]:
    return [np.array(variable.numpy(), copy=True) for variable in variables]


def changed(variables: list, before: list[np.ndarray]) -> list[str]:
    return [variable.path for variable, old in zip(variables, before) if not np.array_equal(variable.numpy(), old)]


def learning_rate(model: keras.Model) -> float:
    """The optimizer's current rate (a schedule is read at the current step); NaN when the model is not compiled."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return math.nan
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def calls_with_training_false(base: keras.Model) -> bool:
    """Does the student's graph call the base as base(x, training=False)? (Keras 3 does not honour it under fit.)"""
    return any(node.arguments.kwargs.get("training") is False for node in getattr(base, "_inbound_nodes", []))


def tensor_entering(model: keras.Model, base: keras.Model, lang: str = "en") -> keras.Model:
    """A sub-model from the model's input to the tensor the base receives: what really reaches its first layer."""
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    for node in getattr(base, "_inbound_nodes", []):
        try:
            return keras.Model(inputs, node.input_tensors[0])
        except ValueError:  # a call of the base outside this model's graph
            continue
    raise ContractError(messages.text(lang, "contract_base_not_called"))


# -------------------------------------------------------------------------------------------------------- checks


def check_preprocessing_matches_backbone(pipeline: Pipeline) -> None:
    """What reaches the base's first layer spans the range its weights expect (catches raw 0-255, double scaling)."""
    spec = backbones.get(pipeline.student.backbone)
    probe = tensor_entering(pipeline.model, pipeline.base, pipeline.student.lang)
    seen = [np.asarray(probe(images, training=False)) for images, _ in batches(pipeline.val)]
    seen_low, seen_high = min(float(s.min()) for s in seen), max(float(s.max()) for s in seen)
    expected = np.asarray(spec.preprocess(pipeline.config.x_val))
    low, high = float(expected.min()), float(expected.max())
    if close_range((seen_low, seen_high), (low, high)):
        return
    values = dict(
        base=pipeline.base.name,
        backbone=spec.name,
        seen_low=seen_low,
        seen_high=seen_high,
        low=low,
        high=high,
        formula=formula(spec.name),
    )
    text_fields = {
        "hint": range_hint((seen_low, seen_high), (low, high)),
        "expects": "expects_0_255" if high > 2 else "expects_scaled",
        "fix_hint": "fix_0_255" if high > 2 else "fix_scaled",
    }
    raise CheckFailure("preprocessing_matches_backbone", "range", values, text_fields)


def check_augmentation_inactive_at_inference(pipeline: Pipeline) -> None:
    """With training=False (what predict and evaluate pass) the model is deterministic: augmentation is identity.

    Both the tensor entering the base and the output are compared across two calls: the first sees augmentation
    even when a (random-init) network maps everything to nearly the same output, the second sees dropout and
    anything after the base. In Keras 3 a functional model's training=False reaches every layer, even one called
    with training=True inside; what breaks it is randomness that ignores the flag (tf.image.random_* in a Lambda).
    A plain `model(x)` is not checked: Keras' augmentation layers default to augmenting when given no flag at all.
    """
    images, _ = pipeline.first_batch("val")
    probes = (
        ("where_base_input", tensor_entering(pipeline.model, pipeline.base, pipeline.student.lang)),
        ("where_output", pipeline.model),
    )
    for where, probe in probes:
        first, second = np.asarray(probe(images, training=False)), np.asarray(probe(images, training=False))
        delta = float(np.max(np.abs(first - second)))
        if delta > OUTPUT_TOLERANCE * float(np.max(np.abs(first))):
            raise CheckFailure(
                "augmentation_inactive_at_inference",
                "nondeterministic",
                dict(call="model(images, training=False)", n=len(first), delta=delta),
                {"where": where},
            )


def check_augmentation_absent_from_val(pipeline: Pipeline) -> None:
    """Two passes over val give the same images (in any order: shuffling val is harmless, augmenting it is not)."""
    first, second = image_fingerprints(pipeline.val), image_fingerprints(pipeline.val)
    n_changed = len(first) - multiset_overlap(first, second)
    if n_changed:
        raise CheckFailure("augmentation_absent_from_val", "changes", dict(n_changed=n_changed, n=len(first)))


def check_stage1_trains_only_head(pipeline: Pipeline) -> None:
    """One stage-1 step moves the head and leaves every variable of the base (weights and BN statistics) alone."""
    rehearsal = pipeline.rehearsal()
    if rehearsal.stage1_base_changed:
        raise CheckFailure(
            "stage1_trains_only_head",
            "base_moves",
            dict(
                n_changed=len(rehearsal.stage1_base_changed),
                n_total=rehearsal.base_total,
                example=rehearsal.stage1_base_changed[0],
            ),
        )
    if not rehearsal.stage1_head_changed:
        raise CheckFailure("stage1_trains_only_head", "head_frozen", dict(n_head=rehearsal.head_total))


def check_recompiled_after_unfreezing(pipeline: Pipeline) -> None:
    """After stage 1 has trained, the student's stage-2 setup makes one training step really move base weights."""
    rehearsal = pipeline.rehearsal()
    if rehearsal.stage2_base_trainable == 0:
        raise CheckFailure("recompiled_after_unfreezing", "not_unfrozen", {})
    if not rehearsal.stage2_base_changed:
        raise CheckFailure(
            "recompiled_after_unfreezing", "not_recompiled", dict(n_trainable=rehearsal.stage2_base_trainable)
        )


def check_batchnorm_frozen_in_finetuning(pipeline: Pipeline) -> None:
    """One fine-tuning step leaves the base's BatchNorm moving statistics unchanged (inference mode on small data)."""
    rehearsal = pipeline.rehearsal()
    if rehearsal.bn_changed:
        values = dict(n_changed=len(rehearsal.bn_changed), n_total=rehearsal.bn_total, example=rehearsal.bn_changed[0])
        note = "call_note" if rehearsal.calls_base_with_training_false else ""
        raise CheckFailure("batchnorm_frozen_in_finetuning", "updates", values, {"call_note": note})


def check_finetune_lr_10x_lower(pipeline: Pipeline) -> None:
    """The optimizer's rate after the stage-2 setup is at least 10x below the stage-1 rate."""
    rehearsal = pipeline.rehearsal()
    lr1, lr2 = rehearsal.stage1_lr, rehearsal.stage2_lr
    if lr2 * MIN_LR_RATIO > lr1 * (1 + 1e-6):
        raise CheckFailure("finetune_lr_10x_lower", "too_high", dict(lr1=lr1, lr2=lr2, ratio=lr1 / lr2))


CHECKS: dict[str, Callable[[Pipeline], None]] = {
    check.__name__.removeprefix("check_"): check
    for check in (
        check_preprocessing_matches_backbone,
        check_augmentation_inactive_at_inference,
        check_augmentation_absent_from_val,
        check_stage1_trains_only_head,
        check_recompiled_after_unfreezing,
        check_batchnorm_frozen_in_finetuning,
        check_finetune_lr_10x_lower,
    )
}


# ------------------------------------------------------------------------------------------------------- helpers


def batches(dataset) -> Iterable[tuple]:
    for element in dataset.take(MAX_VAL_BATCHES):
        yield element[0], element[1]


def image_fingerprints(dataset) -> list[bytes]:
    """One digest per image (values rounded to 1e-3), sorted: compares passes regardless of order."""
    digests = []
    for images, _ in batches(dataset):
        for image in np.round(np.asarray(images, dtype=np.float64), 3):
            digests.append(hashlib.sha1(image.tobytes()).digest())
    return sorted(digests)


def multiset_overlap(first: list[bytes], second: list[bytes]) -> int:
    remaining: dict[bytes, int] = {}
    for digest in second:
        remaining[digest] = remaining.get(digest, 0) + 1
    overlap = 0
    for digest in first:
        if remaining.get(digest, 0):
            remaining[digest] -= 1
            overlap += 1
    return overlap


def close_range(seen: tuple[float, float], expected: tuple[float, float]) -> bool:
    span = expected[1] - expected[0]
    return all(abs(s - e) <= RANGE_TOLERANCE * span for s, e in zip(seen, expected))


def range_hint(seen: tuple[float, float], expected: tuple[float, float]) -> str:
    """The usual culprits, recognised from the seen range: raw pixels, /255 only, scaled twice."""
    if close_range(seen, (0.0, 255.0)):
        return "hint_raw"
    if close_range(seen, (0.0, 1.0)):
        return "hint_double" if expected[1] > 2 else "hint_divided"
    if close_range(seen, tuple(value / 255.0 for value in expected)):
        return "hint_double"
    return ""


def formula(backbone: str) -> str:
    """The backbone's preprocessing as code for the fix line, read off the registered function (it is affine)."""
    zero, full = (float(np.asarray(backbones.get(backbone).preprocess(np.full((1,), value)))[0]) for value in (0, 255))
    scale = (full - zero) / 255.0
    divisor, offset = 1.0 / scale, -zero / scale
    layer = f"keras.layers.Rescaling(1 / {divisor:g}, offset=-{offset:g} / {divisor:g})"
    return f"(x - {offset:g}) / {divisor:g}, i.e. {layer}"


# ----------------------------------------------------------------------------------------------------- runners


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
