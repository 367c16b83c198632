"""What a student's compiled training state trains: read around one training step, or around the student's own fit.

Checks that need training steps run them on a *twin*: the student's `build_model` + `compile_stage1` again, with the
student's weights copied in. A twin rather than `keras.models.clone_model`, because what those checks test is the
compiled state, which a clone does not carry: the fine-tuning rehearsal is stage-1 compile → one step (this builds
and caches the training function, as stage 1's fit does) → the student's `unfreeze_and_compile_stage2` → one step.
That rehearsal is run once per pipeline and shared by the four checks that read it (`checks.REHEARSAL_CHECKS`),
because tracing a real backbone's training step costs seconds. The homework grader reads the same facts the same way
(`watching_stage1`, `watching_stage2`) around the student's own first two phases, and its child hands them to those
checks instead of rehearsing (`Pipeline.use_rehearsal`). Apart from the checks because the homework reads it too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keras
import numpy as np

from tl_claims import backbones
from tl_claims.recipe import training

if TYPE_CHECKING:
    from tl_claims.teaching.pipeline import Pipeline


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
