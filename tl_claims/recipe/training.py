"""The lesson's recipe as code: a classifier (`tl_claims.recipe.architecture`) trained in two stages.

Stage 1 freezes the base and warms up the head (Adam 1e-3). Stage 2 unfreezes the base (all of it, or the top
fraction of its layers), recompiles, and trains with a low learning rate. How BatchNorm behaves in stage 2 is an
explicit choice (`BN_POLICIES`), because the lesson's advice and Keras 3's behaviour differ
(docs/measured-facts.md). The recipes at the end (`stage1`, `stage2`, ...) are plain functions: a classifier and its
training data in, trained weights out; `tl_claims.recipe.lab` decides what to train and keeps the results, and
`tl_claims.recipe.evaluation` scores them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keras
import numpy as np

from tl_claims.backbones.spec import batchnorm_layers
from tl_claims.core.errors import NotOnThisBackend
from tl_claims.data import augment, batches
from tl_claims.recipe.architecture import BN_POLICIES, Classifier
from tl_claims.recipe.optimizers import GroupRatesAdam

if TYPE_CHECKING:
    from tl_claims.data.batches import Batches


def seed_everything(seed: int, step: str) -> None:
    """Seed Python, NumPy and Keras for one named step, so a step's randomness never depends on what ran before."""
    digest = hashlib.sha256(f"{seed}:{step}".encode()).digest()
    keras.utils.set_random_seed(int.from_bytes(digest[:4], "little") % (2**31 - 1))


def compile_model(model: keras.Model, learning_rate: float, *, soft_labels: bool = False) -> None:
    compile_with(model, keras.optimizers.Adam(learning_rate), soft_labels=soft_labels)


def compile_with(model: keras.Model, optimizer: keras.optimizers.Optimizer, *, soft_labels: bool = False) -> None:
    """Loss only: nothing reads training-time metrics, and a metric's variables, created inside the first traced
    train step, make TensorFlow trace that step twice (see `build_training_state`). `soft_labels`: the batches carry
    mixed label vectors (MixUp, CutMix), so cross-entropy on probabilities."""
    loss = augment.soft_label_loss() if soft_labels else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=optimizer, loss=loss)


@dataclass(frozen=True)
class StageBudget:
    """How much one training stage trained: what every row states about its regime."""

    stage: str  # "stage 1", "stage 2", "scratch", "linear head"
    per_class: int  # training images per class
    epochs: int
    steps: int  # optimizer steps in all

    def __str__(self) -> str:
        return f"{self.stage}: {self.epochs} ep × {self.steps // self.epochs} = {self.steps} steps (n={self.per_class})"


def stage_budget(
    stage: str, *, per_class: int, images: int, batch_size: int, epochs: int, min_steps: int = 0
) -> StageBudget:
    """The epochs a stage runs (at least `epochs`, more until it has taken `min_steps` optimizer steps) and its
    steps. Fixing steps rather than epochs across training-set sizes lets a small set be seen more often, which is
    where over-fitting shows (batches are never dropped, so an epoch is ceil(images / batch) steps)."""
    steps_per_epoch = -(-images // batch_size)
    epochs = max(epochs, -(-min_steps // steps_per_epoch))
    return StageBudget(stage, per_class, epochs, epochs * steps_per_epoch)


def trace_train_step(model: keras.Model, train: Batches) -> None:
    """Run the compiled train step on one batch at learning rate 0: the step is traced, the weights do not move.

    This puts a freshly loaded model where a student's model is after stage 1's `fit`: Keras 3 then holds a traced
    train step over stage 1's trainable variables. (Adam's step is proportional to the rate, so exactly zero.)
    The dataset must have the structure of later `fit` calls, or Keras traces the step again.
    """
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    build_training_state(model, train)
    model.optimizer.learning_rate.assign(0.0)
    model.fit(batches.first_batches(train), epochs=1, shuffle=False, verbose=0)
    model.optimizer.learning_rate.assign(rate)


def fit(model: keras.Model, train: Batches, *, epochs: int, seed: int, step: str) -> keras.callbacks.History:
    seed_everything(seed, step)
    build_training_state(model, train)
    return model.fit(train, epochs=epochs, shuffle=False, verbose=0)  # the dataset shuffles itself


def build_training_state(model: keras.Model, data: Batches | tuple) -> None:
    """Create, before the first training step, every variable Keras 3 would otherwise create inside it: the
    optimizer's slots and the compiled loss's and metrics' trackers. TensorFlow traces a step that creates variables
    twice, so this saves one trace of the whole step (seconds for Lite0, per recipe). It is Keras' own build
    (`Trainer._symbolic_build`, what `fit` runs under a distribution strategy), given the shapes of `data` (a
    batch's shapes, `batches.batch_spec`): no data is read, no weight or random state changes. A model whose
    layers are not built yet (a subclassed model never called) is left to Keras: its variables do not exist yet."""
    if model.optimizer is None or not model.built:
        return
    model._symbolic_build(data_batch=batches.batch_spec(data))


class Trainers:
    """Compiled models kept for reuse, so a train step traced once serves every seed of the same recipe.

    Tracing a Lite0 train step costs seconds; the step itself depends only on the architecture, which variables are
    trainable, the optimizer and the loss, never on the weights. So instead of compiling a fresh model per seed, the
    fresh model's state (weights, BatchNorm statistics, the random-number states of dropout and augmentation) is copied
    into a kept model with the same signature, its optimizer is reset to the state it had before its first step,
    and the kept model trains; the result is copied back. Same initial state, same graph, same data: the same numbers,
    bit for bit (tests/test_lab.py). Least recently used first out, so memory stays bounded.
    """

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[tuple, tuple[keras.Model, list[np.ndarray]]] = OrderedDict()

    def kept(self, signature: tuple) -> keras.Model | None:
        """The kept model of this signature, its optimizer back at its state before its first step; None if none."""
        if signature not in self._kept:
            return None
        self._kept.move_to_end(signature)
        model, optimizer_start = self._kept[signature]
        for variable, value in zip(model.optimizer.variables, optimizer_start, strict=True):
            variable.assign(value)
        return model

    def keep(self, signature: tuple, model: keras.Model) -> None:
        """Keep a compiled model whose optimizer is built and has not stepped yet."""
        self._kept[signature] = (model, [variable.numpy() for variable in model.optimizer.variables])
        while len(self._kept) > self.capacity:
            self._kept.popitem(last=False)


def copy_state(source: keras.Model, target: keras.Model) -> None:
    """Every variable of `source` into `target` (same architecture): weights, BN statistics, random-number states."""
    for variable, value in zip(target.variables, source.variables, strict=True):
        if tuple(variable.shape) != tuple(value.shape):
            raise ValueError(f"cannot copy {value.path} {tuple(value.shape)} into {variable.path} {variable.shape}")
        variable.assign(value)


def train_compiled(
    classifier: Classifier,
    train: Batches,
    *,
    compile_once: Callable[[], None],
    recipe: str,
    epochs: int,
    seed: int,
    step: str,
    trainers: Trainers | None,
) -> None:
    """Compile and fit `classifier` in place; with `trainers`, on a kept model of the same recipe when there is one
    (its traced step reused), and otherwise keeping this one for the next seed."""
    model = classifier.model
    trainers = trainers if classifier.architecture else None  # a model built outside the lab has no signature
    signature = (classifier.architecture, recipe, tuple(variable.trainable for variable in model.variables))
    kept = trainers.kept(signature) if trainers is not None else None
    if kept is None:
        compile_once()
        if trainers is not None:
            build_training_state(model, train)  # before keeping: kept, the optimizer is as before its first step
            trainers.keep(signature, model)
        fit(model, train, epochs=epochs, seed=seed, step=step)
        return
    copy_state(model, kept)
    fit(kept, train, epochs=epochs, seed=seed, step=step)
    copy_state(kept, model)


def unfreeze(classifier: Classifier, *, fraction: float = 1.0, bn_policy: str = "frozen") -> None:
    """Stage 2's first move: make the top `fraction` of the base's layers trainable, BatchNorm per `bn_policy`.

    The caller must compile again afterwards: Keras 3 fixes the trainable variables at compile time.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction of layers to unfreeze must be in [0, 1]; got {fraction}")
    if bn_policy not in BN_POLICIES:
        raise ValueError(f"unknown BatchNorm policy {bn_policy!r}; choose one of {BN_POLICIES}")
    base = classifier.base
    base.trainable = True
    layers = weighted_layers(base)
    n_frozen = len(layers) - round(fraction * len(layers))
    for layer in layers[:n_frozen]:
        layer.trainable = False
    if bn_policy == "frozen":
        for layer in batchnorm_layers(base):
            layer.trainable = False


def weighted_layers(base: keras.Model) -> list[keras.Layer]:
    """The base's layers that hold weights, input to output: what "the first N layers" counts."""
    return [layer for layer in base.layers if layer.weights]


def differential_optimizer(
    classifier: Classifier, *, early_rate: float, late_rate: float, early_fraction: float = 0.5
) -> GroupRatesAdam:
    """Adam with the lesson's differential rates: the first `early_fraction` of the base's weighted layers train at
    `early_rate`, the rest of the base and the head at `late_rate`. Call after `unfreeze`, then `compile_with`."""
    layers = weighted_layers(classifier.base)
    early_layers = layers[: round(early_fraction * len(layers))]
    early = {id(variable) for layer in early_layers for variable in layer.trainable_weights}
    trained = classifier.model.trainable_weights
    groups = [
        ([v for v in trained if id(v) in early], early_rate),
        ([v for v in trained if id(v) not in early], late_rate),
    ]
    return GroupRatesAdam([(variables, rate) for variables, rate in groups if variables])


# A random network's BatchNorm statistics must be learned from scratch. With a few hundred steps, Keras' default
# momentum 0.99 leaves the moving averages near their initial values, and the trained network then predicts one
# class in inference mode however much it learned; 0.9 lets them follow the data, so scratch is judged fairly.
SCRATCH_BN_MOMENTUM = 0.9


def unfreeze_for_scratch(base: keras.Model) -> None:
    """Make a randomly initialised base fully trainable, with BatchNorm statistics that can keep up."""
    base.trainable = True
    for layer in batchnorm_layers(base):
        layer.momentum = SCRATCH_BN_MOMENTUM


def train_linear_head(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    num_classes: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    dropout: float,
    seed: int,
) -> keras.Model:
    """Feature extraction: the classifier's head (Dropout → Dense) trained on pooled features of a frozen base.

    Without augmentation this is the same computation as `fit` on the whole model with the base frozen, at a
    fraction of the cost: the base's forward pass happens once, not once per epoch.
    """
    seed_everything(seed, "linear_head")
    inputs = keras.Input((features.shape[1],))
    outputs = keras.layers.Dense(num_classes)(keras.layers.Dropout(dropout)(inputs))
    head = keras.Model(inputs, outputs)
    compile_model(head, learning_rate)
    head.fit(batches.batches(features, labels, batch_size, shuffle_seed=seed), epochs=epochs, shuffle=False, verbose=0)
    return head


# --- the recipes: what each training stage does to a classifier -----------------------------------------------------
def stage1(
    classifier: Classifier,
    train: Batches,
    *,
    learning_rate: float,
    epochs: int,
    seed: int,
    soft_labels: bool = False,
    trainers: Trainers | None = None,
) -> None:
    """The lesson's stage 1: base frozen (as built), head warmed up with Adam. `soft_labels`: `train` yields mixed
    label vectors (MixUp / CutMix / RandAugment batches), so cross-entropy on probabilities."""
    train_compiled(
        classifier,
        train,
        compile_once=lambda: compile_model(classifier.model, learning_rate, soft_labels=soft_labels),
        recipe=f"stage 1: adam {learning_rate} soft={soft_labels}",
        epochs=epochs,
        seed=seed,
        step="stage1",
        trainers=trainers,
    )


def stage2(
    classifier: Classifier,
    stage1_weights: list[np.ndarray],
    train: Batches,
    *,
    learning_rate: float,
    epochs: int,
    seed: int,
    bn_policy: str = "frozen",
    fraction: float = 1.0,
    early_learning_rate: float | None = None,
    soft_labels: bool = False,
    trainers: Trainers | None = None,
) -> None:
    """The lesson's stage 2 from a stage-1 model: unfreeze, compile again, fine-tune at a low rate.

    `early_learning_rate` turns on differential rates: the first half of the base's weighted layers train at it,
    the rest of the base and the head at `learning_rate`. Stage 1 trains a frozen base, so its weights fit every
    BatchNorm policy's graph. `soft_labels`: `train` yields mixed label vectors (MixUp, CutMix batches).
    """
    classifier.model.set_weights(stage1_weights)
    unfreeze(classifier, fraction=fraction, bn_policy=bn_policy)

    def compile_once() -> None:
        if early_learning_rate is None:
            compile_model(classifier.model, learning_rate, soft_labels=soft_labels)
        else:
            rates = differential_optimizer(classifier, early_rate=early_learning_rate, late_rate=learning_rate)
            compile_with(classifier.model, rates, soft_labels=soft_labels)

    train_compiled(
        classifier,
        train,
        compile_once=compile_once,
        recipe=f"stage 2: adam {learning_rate} early {early_learning_rate} soft={soft_labels}",
        epochs=epochs,
        seed=seed,
        step="stage2",
        trainers=trainers,
    )


def stage2_without_recompile(
    classifier: Classifier,
    stage1_weights: list[np.ndarray],
    train: Batches,
    *,
    stage1_learning_rate: float,
    epochs: int,
    seed: int,
) -> None:
    """Common error: `base.trainable = True`, then `fit` again without `compile()`.

    The model is put where a student's is after stage 1's `fit` (stage-1 weights, compiled with stage 1's optimizer,
    its train step traced), then unfrozen like `stage2` and trained for as many epochs.
    """
    classifier.model.set_weights(stage1_weights)
    compile_model(classifier.model, stage1_learning_rate)
    trace_train_step(classifier.model, train)
    unfreeze(classifier, bn_policy="frozen")
    try:
        fit(classifier.model, train, epochs=epochs, seed=seed, step="stage2")
    except ValueError as error:  # JAX: the optimizer's state no longer matches the trainable variables
        if "optimizer" not in str(error):
            raise
        raise NotOnThisBackend(
            f"on {keras.backend.backend()}, Keras refuses to fit a model whose `trainable` changed since compile() "
            f"({str(error).splitlines()[0][:160]}): the mistake stops the student's script instead of silently "
            "training the head alone, so there is no silent no-op to measure"
        ) from error


def scratch(
    classifier: Classifier,
    train: Batches,
    *,
    learning_rate: float,
    epochs: int,
    seed: int,
    trainers: Trainers | None = None,
) -> None:
    """The same architecture from random weights, every layer trained (BatchNorm statistics that can keep up)."""
    unfreeze_for_scratch(classifier.base)
    train_compiled(
        classifier,
        train,
        compile_once=lambda: compile_model(classifier.model, learning_rate),
        recipe=f"scratch: adam {learning_rate} bn momentum {SCRATCH_BN_MOMENTUM}",
        epochs=epochs,
        seed=seed,
        step="scratch",
        trainers=trainers,
    )
