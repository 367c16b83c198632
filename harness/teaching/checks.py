"""Teaching checks: each common error of the lesson ("Errores comunes") as a check that fails with an explanation.

In the style of scikit-learn's estimator checks, each `check_<property>(pipeline)` asserts one property of a
student's pipeline on tiny probe data (`student.probe_config`: random 0-255 images fed through the student's own
dataset builders) and raises `CheckFailure` - what was seen, the rule, why it matters, the fix - when it does not
hold. Entry points: `run_checks` (a DataFrame, one row per check), `parametrize_with_checks` (a student's own pytest
file) and `pytest --student path.py` (harness/teaching/plugin.py).

The student's objects are never changed. Checks that look (preprocessing, augmentation) call the student's model in
inference mode and iterate its datasets; the tensor entering the base is recorded at the base's own call, so
functional, Sequential and subclassed models are seen alike (every model is called once on a probe batch when built,
so a subclassed one has its variables). Augmentation is judged by what it does to an image (a fixed per-pixel
mapping of one input image, whatever the batching), never by comparing two passes that a seeded RNG can repeat.
Checks about training read the compiled state: the variables the optimizer of the traced training step updates and
its rate, so a vanishing gradient never reads as a missing recompile.

Checks that need training steps run them on a *twin*: the student's `build_model` + `compile_stage1` again, with the
student's weights copied in. A twin rather than
`keras.models.clone_model`, because what those checks test is the compiled state, which a clone does not carry: the
fine-tuning rehearsal is stage-1 compile → one step (this builds and caches the training function, as stage 1's fit
does) → the student's `unfreeze_and_compile_stage2` → one step. That rehearsal is run once per pipeline and shared by
the four checks that read it (`REHEARSAL_CHECKS`), because tracing a real backbone's training step costs seconds.
The homework grader reads the same facts the same way (`watching_stage1`, `watching_stage2`) around the student's
own first two phases, and its child hands them to those checks instead of rehearsing (`Pipeline.use_rehearsal`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd

from harness import backbones
from harness.core.errors import HarnessError
from harness.recipe import training
from harness.teaching import messages
from harness.teaching.student import ContractError, Student, StudentConfig, load_student, probe_config

RANGE_TOLERANCE = 0.05  # fraction of the expected input span each end of the seen range may be off by
OUTPUT_TOLERANCE = 1e-4  # relative to the tensor's scale: batchings of one image may differ by float noise only
POINTWISE_TOLERANCE = 1e-3  # relative to the images' scale: how far a value may stray from its channel's mapping
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
    """What the compiled training state trains in stage 1 and after the student's stage-2 setup (on a twin).

    `*_trained` are the paths of the variables the optimizer of the step updates: read from the optimizer the training
    function really applies (`optimizer._trainable_variables`, fixed when Keras traces the step), never from whether
    a weight happened to move, so a vanishing gradient (a random-weight base, a 1e-5 rate) cannot pass for a missing
    recompile. BatchNorm statistics are not trained by the optimizer: they are read as moved or not.
    """

    stage1_lr: float
    base_total: int
    stage1_base_trained: list[str]
    stage1_base_stats_moved: list[str]
    head_total: int
    stage1_head_trained: list[str]
    stage2_lr: float
    stage2_base_trainable: int
    stage2_base_trained: list[str]
    bn_total: int
    bn_changed: list[str]
    calls_base_with_training_false: bool


@dataclass(eq=False)
class Pipeline:
    """A student's pipeline, built: the stage-1 model and its base (compiled), and the train / val datasets.

    The model is called once on a probe batch before anything inspects it, so a subclassed model has its variables.
    """

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
        images = first_images(val)
        model, base = build_called(student, config, images)
        student.compile_stage1(model, base)
        return cls(student, config, model, base, train, val)

    def twin(self) -> tuple[keras.Model, keras.Model]:
        """A fresh model from the student's builder, compiled for stage 1, with the student's weights."""
        model, base = build_called(self.student, self.config, self.first_batch("val")[0])
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

    def use_rehearsal(self, rehearsal: Rehearsal) -> None:
        """Take the training facts from the student's real training (the homework's first two phases, read the
        same way) instead of rehearsing: the homework child then traces the training steps twice less."""
        self._rehearsal = rehearsal


def first_images(dataset) -> object:
    return next(iter(dataset))[0]


def build_called(student: Student, config: StudentConfig, images) -> tuple[keras.Model, keras.Model]:
    """The student's model and base, called once in inference mode so that every layer is built (subclassed too)."""
    model, base = student.build_model(config)
    with capturing_calls(base) as calls:
        model(images, training=False)
    if not calls:
        raise ContractError(messages.text(student.lang, "contract_base_not_called"))
    return model, base


def rehearse(pipeline: Pipeline) -> Rehearsal:
    """Stage-1 step, then the student's stage-2 function, then a stage-2 step, all on a twin."""
    keras.utils.set_random_seed(pipeline.config.seed)
    model, base = pipeline.twin()
    batch = pipeline.first_batch("train")
    with watching_stage1(model, base) as stage1:
        one_step(model, batch)
    pipeline.student.unfreeze_and_compile_stage2(model, base)
    with watching_stage2(model, base) as stage2:
        one_step(model, batch)
    return rehearsal_from(stage1, stage2, base)


def rehearsal_from(stage1: dict, stage2: dict, base: keras.Model) -> Rehearsal:
    return Rehearsal(**stage1, **stage2, calls_base_with_training_false=calls_with_training_false(base))


def one_step(model: keras.Model, batch: tuple) -> None:
    training.build_training_state(model, batch)  # what the first step would build, before it: one trace, not two
    model.train_on_batch(*batch)  # after a missing recompile the build is a no-op: stage 1's state is built


@contextmanager
def watching_stage1(model: keras.Model, base: keras.Model) -> Iterator[dict]:
    """Stage 1's facts, read around the block that trains it (one rehearsal step, or the homework's phase-1 fit):
    its rate, which base and head variables its optimizer trains, which frozen base weights or statistics moved."""
    frozen = [variable for variable in base.weights if not variable.trainable]
    frozen_before = snapshot(frozen)
    facts = dict(stage1_lr=learning_rate(model), base_total=len(base.weights))
    yield facts
    base_ids = {id(variable) for variable in base.weights}
    trained = optimizer_variables(model)
    facts.update(
        stage1_base_trained=[variable.path for variable in trained if id(variable) in base_ids],
        stage1_base_stats_moved=changed(frozen, frozen_before),
        head_total=sum(id(variable) not in base_ids for variable in model.trainable_variables),
        stage1_head_trained=[variable.path for variable in trained if id(variable) not in base_ids],
    )


@contextmanager
def watching_stage2(model: keras.Model, base: keras.Model) -> Iterator[dict]:
    """Stage 2's facts, read around the block that fine-tunes after the student's stage-2 setup: its rate, which
    base variables its optimizer trains, which BatchNorm layers' moving statistics moved."""
    norms = backbones.batchnorm_layers(base)
    statistics_before = [snapshot([layer.moving_mean, layer.moving_variance]) for layer in norms]
    facts = dict(
        stage2_lr=learning_rate(model), stage2_base_trainable=len(base.trainable_variables), bn_total=len(norms)
    )
    yield facts
    base_ids = {id(variable) for variable in base.weights}
    facts.update(
        stage2_base_trained=[variable.path for variable in optimizer_variables(model) if id(variable) in base_ids],
        bn_changed=[
            layer.name
            for layer, before in zip(norms, statistics_before)
            if changed([layer.moving_mean, layer.moving_variance], before)
        ],
    )


def optimizer_variables(model: keras.Model) -> list:
    """The variables the model's optimizer applies gradients to: those the traced training step hands it.

    Keras 3 builds an optimizer on its first `apply` with the trainable variables of the step being traced, and a
    compiled model keeps that traced step until `compile` is called again: this list is what training updates.
    """
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer wraps the real one
    return list(getattr(optimizer, "_trainable_variables", None) or [])


def snapshot(variables: Iterable) -> list[np.ndarray]:
    return [np.array(variable.numpy(), copy=True) for variable in variables]


def changed(variables: list, before: list[np.ndarray]) -> list[str]:
    return [variable.path for variable, old in zip(variables, before) if not np.array_equal(variable.numpy(), old)]


def learning_rate(model: keras.Model) -> float:
    """The optimizer's rate at its first step (a schedule is read at step 0, whatever step the optimizer has reached:
    after a missing recompile, stage 1's optimizer has trained); NaN when the model is not compiled."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return math.nan
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer wraps the real one
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return float(keras.ops.convert_to_numpy(schedule(0)))
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def calls_with_training_false(base: keras.Model) -> bool:
    """Does the student's graph call the base as base(x, training=False)? (Keras 3 does not honour it under fit.)"""
    return any(node.arguments.kwargs.get("training") is False for node in getattr(base, "_inbound_nodes", []))


@contextmanager
def capturing_calls(layer: keras.layers.Layer) -> Iterator[list]:
    """Records the first argument of every call of `layer` while inside the block, whatever kind of model calls it.

    The layer's class is swapped for a subclass whose `__call__` records its input, and swapped back afterwards: no
    functional graph is needed, so a subclassed model that calls the base in `call()` is seen the same way.
    """
    seen: list = []
    original = type(layer)

    class Capturing(original):  # type: ignore[misc, valid-type]
        def __call__(self, *args, **kwargs):
            seen.append(args[0] if args else kwargs.get("inputs"))
            return super().__call__(*args, **kwargs)

    object.__setattr__(layer, "__class__", Capturing)
    try:
        yield seen
    finally:
        object.__setattr__(layer, "__class__", original)


def base_input(pipeline: Pipeline, images) -> np.ndarray:
    """The tensor that reaches the base when the model predicts `images` (inference mode)."""
    return inference(pipeline, images)[0]


def inference(pipeline: Pipeline, images) -> tuple[np.ndarray, np.ndarray]:
    """One inference-mode call of the model on `images`: the tensor that reached the base, and the output."""
    with capturing_calls(pipeline.base) as calls:
        output = pipeline.model(images, training=False)
    if not calls:
        raise ContractError(messages.text(pipeline.student.lang, "contract_base_not_called"))
    return np.asarray(calls[0]), np.asarray(output)


# -------------------------------------------------------------------------------------------------------- checks


def check_preprocessing_matches_backbone(pipeline: Pipeline) -> None:
    """What reaches the base's first layer spans the range its weights expect (catches raw 0-255, double scaling)."""
    spec = backbones.get(pipeline.student.backbone)
    seen = [base_input(pipeline, images) for images, _ in batches(pipeline.val)]
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
    """With training=False (what predict and evaluate pass) each image's result depends on that image alone.

    The tensor entering the base and the output of every image are compared between the batch as given, the batch
    reversed and each image on its own. A random op that ignores the flag (tf.image.random_* in a Lambda) gives an
    image a different draw in another position or call, however its RNG is seeded; dropout left on does the same to
    the output. Deterministic layers (Keras' augmentation layers at inference, a fixed crop) pass. A plain `model(x)`
    is not checked: Keras' augmentation layers default to augmenting when given no flag at all.
    """
    images = np.asarray(pipeline.first_batch("val")[0])
    batchings = three_batchings(lambda batch: inference(pipeline, batch), images)  # one set of calls for both
    for where, index in (("where_base_input", 0), ("where_output", 1)):
        first, *others = (results[index] for results in batchings)
        delta = max(float(np.max(np.abs(first - other))) for other in others)
        if delta > OUTPUT_TOLERANCE * max(float(np.max(np.abs(first))), 1e-12):
            raise CheckFailure(
                "augmentation_inactive_at_inference",
                "nondeterministic",
                dict(call="model(images, training=False)", n=len(images), delta=delta),
                {"where": where},
            )


def three_batchings(
    probe: Callable[[np.ndarray], tuple[np.ndarray, ...]], images: np.ndarray
) -> list[tuple[np.ndarray, ...]]:
    """The probe's per-image results for the batch as given, the batch reversed and each image on its own, each put
    back in the given order: an image whose result depends on anything but itself differs between them."""
    given = probe(images)
    reversed_ = tuple(result[::-1] for result in probe(images[::-1]))
    alone = [probe(images[index : index + 1]) for index in range(len(images))]
    return [given, reversed_, tuple(np.concatenate(results) for results in zip(*alone, strict=True))]


def check_augmentation_absent_from_val(pipeline: Pipeline) -> None:
    """Every image val yields is the same fixed per-pixel function of one of the harness's images (any order).

    The harness owns `x_val`: each yielded image must have an input image of the same geometry from which it follows
    value by value (one mapping per channel, the same for every image: preprocessing). A flip, crop, rotation or
    colour jitter breaks that whatever RNG it uses and however it is seeded; shuffling val does not.
    """
    inputs = np.asarray(pipeline.config.x_val)
    yielded = [np.asarray(image) for images, _ in batches(pipeline.val) for image in np.asarray(images)]
    n_changed = count_not_pointwise(inputs, yielded)
    if n_changed:
        raise CheckFailure("augmentation_absent_from_val", "changes", dict(n_changed=n_changed, n=len(yielded)))


def check_stage1_trains_only_head(pipeline: Pipeline) -> None:
    """Stage 1's compiled training step trains head variables only and leaves the base's BN statistics alone.

    Read from the compiled state (the variables the optimizer of the traced step updates), not from moved weights.
    """
    rehearsal = pipeline.rehearsal()
    base_moves = rehearsal.stage1_base_trained + rehearsal.stage1_base_stats_moved
    if base_moves:
        raise CheckFailure(
            "stage1_trains_only_head",
            "base_moves",
            dict(n_changed=len(base_moves), n_total=rehearsal.base_total, example=base_moves[0]),
        )
    if not rehearsal.stage1_head_trained:
        raise CheckFailure("stage1_trains_only_head", "head_frozen", dict(n_head=rehearsal.head_total))


def check_recompiled_after_unfreezing(pipeline: Pipeline) -> None:
    """After the student's stage-2 setup the compiled training step trains variables of the base.

    Read from the compiled state: the optimizer of the step after `unfreeze_and_compile_stage2` must hold base
    variables. Whether a weight moved is not used: a correct fine-tune of a random-weight base at 1e-5 moves nothing.
    """
    rehearsal = pipeline.rehearsal()
    if rehearsal.stage2_base_trainable == 0:
        raise CheckFailure("recompiled_after_unfreezing", "not_unfrozen", {})
    if not rehearsal.stage2_base_trained:
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
    """The optimizer's rate after the stage-2 setup is at least 10x below the stage-1 rate (schedules at step 0)."""
    rehearsal = pipeline.rehearsal()
    lr1, lr2 = rehearsal.stage1_lr, rehearsal.stage2_lr
    if lr2 * MIN_LR_RATIO > lr1 * (1 + 1e-6):
        raise CheckFailure("finetune_lr_10x_lower", "too_high", dict(lr1=lr1, lr2=lr2, ratio=lr1 / lr2))


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


def value_spread(inputs: np.ndarray, outputs: np.ndarray) -> float:
    """How far `outputs` is from being one function of `inputs` per channel: the largest range of outputs among
    equal input values of a channel (0 for a pointwise mapping); infinite when the shapes differ."""
    if inputs.shape != outputs.shape:
        return math.inf
    x = inputs.reshape(-1, inputs.shape[-1])
    y = outputs.reshape(-1, outputs.shape[-1]).astype(np.float64)
    spread = 0.0
    for channel in range(x.shape[1]):
        values, groups = np.unique(x[:, channel], return_inverse=True)
        low, high = np.full(len(values), np.inf), np.full(len(values), -np.inf)
        np.minimum.at(low, groups, y[:, channel])
        np.maximum.at(high, groups, y[:, channel])
        spread = max(spread, float(np.max(high - low)))
    return spread


def count_not_pointwise(inputs: np.ndarray, yielded: list[np.ndarray]) -> int:
    """How many yielded images are not the shared per-pixel mapping of some input image.

    Each yielded image is matched to the first input it is a per-channel function of; then the matched pairs must
    share one mapping (pooled over all of them); images that break the pooled mapping are counted.
    """
    if not yielded:
        return 0
    scale = max([float(np.max(np.abs(image))) for image in yielded] + [1e-12])
    tolerance = POINTWISE_TOLERANCE * scale
    pairs = [(source, image) for image in yielded if (source := pointwise_source(inputs, image, tolerance)) is not None]
    unmatched = len(yielded) - len(pairs)
    if not pairs or value_spread(np.stack([x for x, _ in pairs]), np.stack([y for _, y in pairs])) <= tolerance:
        return unmatched
    mapping = shared_mapping(pairs)
    return unmatched + sum(not follows(mapping, x, y, tolerance) for x, y in pairs)


def pointwise_source(inputs: np.ndarray, image: np.ndarray, tolerance: float) -> np.ndarray | None:
    return next((source for source in inputs if value_spread(source, image) <= tolerance), None)


def shared_mapping(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[tuple[int, float], float]:
    """The median output per (channel, input value) over every matched pair: the mapping most images follow."""
    collected: dict[tuple[int, float], list[float]] = {}
    for x, y in pairs:
        for channel in range(x.shape[-1]):
            for value, out in zip(x[..., channel].ravel(), y[..., channel].ravel()):
                collected.setdefault((channel, float(value)), []).append(float(out))
    return {key: float(np.median(outs)) for key, outs in collected.items()}


def follows(mapping: dict[tuple[int, float], float], x: np.ndarray, y: np.ndarray, tolerance: float) -> bool:
    for channel in range(x.shape[-1]):
        for value, out in zip(x[..., channel].ravel(), y[..., channel].ravel()):
            if abs(mapping[(channel, float(value))] - float(out)) > tolerance:
                return False
    return True


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
