"""The lesson's recipe as code: augmentation → preprocessing → base → pooling → dropout → dense, trained in two stages.

Stage 1 freezes the base and warms up the head (Adam 1e-3). Stage 2 unfreezes the base (all of it, or the top
fraction of its layers), recompiles, and trains with a low learning rate. How BatchNorm behaves in stage 2 is an
explicit choice (`BN_POLICIES`), because the lesson's advice and Keras 3's behaviour differ
(docs/measured-facts.md). The recipes at the end (`stage1`, `stage2`, ...) are plain functions: a classifier and its
training data in, trained weights out; `harness.recipe.lab` decides what to train and keeps the results.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
from tensorflow.python.eager import context

from harness import backbones
from harness.backbones.spec import batchnorm_layers
from harness.data import augment
from harness.data.sources import without_autotuning
from harness.recipe.optimizers import GroupRatesAdam

INPUT_MODES = ("correct", "raw", "double")  # the backbone's preprocess / raw 0-255 / divided by 255 first
BN_POLICIES = ("train", "call_inference", "frozen")  # BN updates / base(x, training=False) / BN trainable=False


def seed_everything(seed: int, step: str) -> None:
    """Seed Python, NumPy and Keras for one named step, so a step's randomness never depends on what ran before."""
    digest = hashlib.sha256(f"{seed}:{step}".encode()).digest()
    keras.utils.set_random_seed(int.from_bytes(digest[:4], "little") % (2**31 - 1))


@keras.saving.register_keras_serializable(package="tl_claims")
class Preprocess(keras.layers.Layer):
    """Maps RGB 0–255 images to a backbone's input: its own preprocessing, or one of the classic mistakes."""

    def __init__(self, backbone: str, mode: str = "correct", **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in INPUT_MODES:
            raise ValueError(f"unknown input mode {mode!r}; choose one of {INPUT_MODES}")
        self.backbone, self.mode = backbone, mode

    def call(self, images):
        if self.mode == "raw":
            return images
        if self.mode == "double":
            images = images / 255.0
        return backbones.get(self.backbone).preprocess(images)

    def get_config(self) -> dict:
        return {**super().get_config(), "backbone": self.backbone, "mode": self.mode}


class Classifier:
    """The whole model and a handle on its base (which stage 2 unfreezes), with the cache key of its weights.

    `Classifier.deferred` builds the model on first use. The lab hands out stored models that way, so asking for a
    model whose measurements are already memoised (under its key) costs no model build, about a second each.
    """

    def __init__(
        self, model: keras.Model | None, base: keras.Model | None, backbone: str, key: str = "", architecture: str = ""
    ) -> None:
        self._model, self._base, self._build = model, base, None
        self.backbone, self.key = backbone, key
        self.architecture = architecture  # how it was built, seeds aside: models that can share a traced train step

    @classmethod
    def deferred(cls, build: Callable[[], "Classifier"], backbone: str, key: str) -> "Classifier":
        classifier = cls(None, None, backbone, key)
        classifier._build = build
        return classifier

    @property
    def model(self) -> keras.Model:
        self._materialise()
        return self._model

    @property
    def base(self) -> keras.Model:
        self._materialise()
        return self._base

    def _materialise(self) -> None:
        if self._build is not None:
            built, self._build = self._build(), None
            self._model, self._base = built.model, built.base


def build_classifier(
    backbone: str,
    *,
    image_size: int,
    num_classes: int,
    weights: str | None = "imagenet",
    augmentation: keras.Layer | None = None,
    dropout: float = 0.2,
    input_mode: str = "correct",
    bn_policy: str = "frozen",
    cache_dir: Path | None = None,
) -> Classifier:
    """The lesson's exercise 2: `[augmentation,] preprocess, base, GlobalAvgPool, Dropout, Dense(num_classes)`.

    The base starts frozen. `bn_policy="call_inference"` builds the graph as `base(x, training=False)`; the other
    policies only matter once the base is unfrozen (`unfreeze`).
    """
    if bn_policy not in BN_POLICIES:
        raise ValueError(f"unknown BatchNorm policy {bn_policy!r}; choose one of {BN_POLICIES}")
    base = backbones.load(backbone, image_size=image_size, include_top=False, weights=weights, cache_dir=cache_dir)
    base.trainable = False
    inputs = keras.Input((image_size, image_size, 3), name="images_0_255")
    x = augmentation(inputs) if augmentation is not None else inputs
    x = Preprocess(backbone, input_mode, name="preprocess")(x)
    x = base(x, training=False) if bn_policy == "call_inference" else base(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    return Classifier(keras.Model(inputs, outputs, name=f"{backbone}_classifier"), base, backbone)


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


def trace_train_step(model: keras.Model, train: tf.data.Dataset) -> None:
    """Run the compiled train step on one batch at learning rate 0: the step is traced, the weights do not move.

    This puts a freshly loaded model where a student's model is after stage 1's `fit`: Keras 3 then holds a traced
    train step over stage 1's trainable variables. (Adam's step is proportional to the rate, so exactly zero.)
    The dataset must have the structure of later `fit` calls, or Keras traces the step again.
    """
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    build_training_state(model, train)
    model.optimizer.learning_rate.assign(0.0)
    model.fit(train.take(1), epochs=1, shuffle=False, verbose=0)
    model.optimizer.learning_rate.assign(rate)


def fit(model: keras.Model, train: tf.data.Dataset, *, epochs: int, seed: int, step: str) -> keras.callbacks.History:
    seed_everything(seed, step)
    build_training_state(model, train)
    return model.fit(train, epochs=epochs, shuffle=False, verbose=0)  # the dataset shuffles itself


def build_training_state(model: keras.Model, data: tf.data.Dataset | tuple) -> None:
    """Create, before the first training step, every variable Keras 3 would otherwise create inside it: the
    optimizer's slots and the compiled loss's and metrics' trackers. TensorFlow traces a step that creates variables
    twice, so this saves one trace of the whole step (seconds for Lite0, per recipe). It is Keras' own build
    (`Trainer._symbolic_build`, what `fit` runs under a distribution strategy), given the shapes of `data` (a
    dataset's element spec, or one batch): no data is read, no weight or random state changes. A model whose
    layers are not built yet (a subclassed model never called) is left to Keras: its variables do not exist yet."""
    if model.optimizer is None or not model.built:
        return
    shapes = data.element_spec if isinstance(data, tf.data.Dataset) else tuple(data)
    model._symbolic_build(data_batch=shapes)


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
    train: tf.data.Dataset,
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


@dataclass(frozen=True, eq=False)
class Evaluation:
    """A model's predictions on a split, image by image: the per-image outcomes every interval is built from."""

    predictions: np.ndarray  # predicted class per image
    labels: np.ndarray  # true class per image
    features: np.ndarray | None = None  # pooled features of the classifier's base, one row per image

    @property
    def correct(self) -> np.ndarray:
        return (self.predictions == self.labels).astype("float64")

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.correct))


def evaluate(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, *, with_features: bool = False, batch_size: int = 64
) -> Evaluation:
    """Predictions in inference mode (augmentation and dropout off), and the pooled features if asked for, in one
    pass (`inference`)."""
    outputs = [model.get_layer("pool").output, model.output] if with_features else [model.output]
    parts = inference(keras.Model(model.input, outputs), images, batch_size)
    return Evaluation(np.argmax(parts[-1], axis=1), np.asarray(labels), parts[0] if with_features else None)


def pooled_features(base: keras.Model, images: np.ndarray, preprocess, batch_size: int = 64) -> np.ndarray:
    """Global-average-pooled features of a frozen base, in batches (`inference`); `preprocess` runs on each batch
    outside the traced function, as the lab's other paths run it."""
    (features,) = inference(
        lambda batch: keras.ops.mean(base(batch, training=False), axis=(1, 2)),
        images,
        batch_size,
        prepare=lambda batch: preprocess(batch.astype("float32")),
    )
    return features


def inference(
    forward: Callable, images: np.ndarray, batch_size: int = 64, prepare: Callable | None = None
) -> list[np.ndarray]:
    """Every output of `forward` (a model, called in inference mode, or a function of a batch) over `images`, batch
    by batch through one traced function: 2.1× faster than calling a Lite0 classifier eagerly (1,000 test images at
    96 px, benchmarks/test_bench_evaluation.py), with the eager call's outputs bit for bit (`eager_arithmetic`).
    The batch dimension is left open, so the last, shorter batch does not trace again."""
    prepare = prepare or (lambda batch: batch.astype("float32"))
    if isinstance(forward, keras.Model):
        model = forward
        forward = lambda batch: model(batch, training=False)  # noqa: E731
    signature = [tf.TensorSpec((None, *prepare(images[:1]).shape[1:]), tf.float32)]
    traced = tf.function(forward, input_signature=signature, autograph=False)
    with eager_arithmetic():
        batches = [traced(prepare(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    batches = [batch if isinstance(batch, list | tuple) else [batch] for batch in batches]
    return [np.concatenate([np.asarray(batch[i]) for batch in batches]) for i in range(len(batches[0]))]


@contextmanager
def eager_arithmetic() -> Iterator[None]:
    """Functions called inside run without Grappler's arithmetic optimizer, on this thread only.

    That optimizer rewrites BatchNorm's inference arithmetic, so a traced Lite0 differs from the eager call by about
    1e-5 in the pooled features, enough to flip a borderline test image and change a row's numbers. Without it the
    traced outputs equal the eager ones bit for bit (tests/test_training.py) and keep most of the speed. Training
    steps are never called inside, so they keep TensorFlow's default optimizations. TensorFlow has no public per-call
    switch: this sets the thread's function-call options (tensorflow.python.eager.context) and restores them."""
    eager = context.context()
    saved = eager.function_call_options
    config = config_pb2.ConfigProto.FromString(saved.config_proto_serialized)
    config.graph_options.rewrite_options.arithmetic_optimization = rewriter_config_pb2.RewriterConfig.OFF
    eager.function_call_options = context.FunctionCallOptions(saved.executor_type, config)
    try:
        yield
    finally:
        eager.function_call_options = saved


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
    data = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(len(labels), seed=seed).batch(batch_size)
    data = without_autotuning(data)  # harness.data.sources: the same batches, no idle core beside another worker
    head.fit(data, epochs=epochs, shuffle=False, verbose=0)
    return head


# --- the recipes: what each training stage does to a classifier -----------------------------------------------------
def stage1(
    classifier: Classifier,
    train: tf.data.Dataset,
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
    train: tf.data.Dataset,
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
    train: tf.data.Dataset,
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
    fit(classifier.model, train, epochs=epochs, seed=seed, step="stage2")


def scratch(
    classifier: Classifier,
    train: tf.data.Dataset,
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
