"""A model's predictions on a split, image by image, through one traced function per evaluation.

Apart from training (`tl_claims.recipe.training`) because evaluation has its own concern: compiling inference
without changing a single bit of its outputs under TensorFlow (`tf_tracing.eager_arithmetic`), so that every row's
numbers equal the eager model's. Under JAX or PyTorch it is Keras' own compiled predict step.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import keras
import numpy as np

from tl_claims.core.backend import on_tensorflow


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
    return evaluator(model, with_features=with_features, batch_size=batch_size)(images, labels)


def evaluator(
    model: keras.Model, *, with_features: bool = False, batch_size: int = 64
) -> Callable[[np.ndarray, np.ndarray], Evaluation]:
    """`evaluate` for one model, traced at its first call and reused after: it reads the model's weights as they are
    at each call, so a model whose weights are replaced in place is evaluated again without tracing again."""
    outputs = [model.get_layer("pool").output, model.output] if with_features else [model.output]
    run = Inference(keras.Model(model.input, outputs))

    def evaluate_images(images: np.ndarray, labels: np.ndarray) -> Evaluation:
        parts = run(images, batch_size)
        return Evaluation(np.argmax(parts[-1], axis=1), np.asarray(labels), parts[0] if with_features else None)

    return evaluate_images


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
    by batch through one traced function (`Inference`)."""
    return Inference(forward, prepare)(images, batch_size)


class Inference:
    """`forward` over images batch by batch through one traced function: 2.1× faster than calling a Lite0 classifier
    eagerly under TensorFlow (1,000 test images at 96 px, benchmarks/test_bench_evaluation.py), with the eager call's
    outputs bit for bit (`tf_tracing.eager_arithmetic`). The batch dimension is left open, so the last, shorter batch
    does not trace again, and the trace is kept: a later call on images of the same size reuses it, with the weights
    the model has then."""

    def __init__(self, forward: Callable, prepare: Callable | None = None) -> None:
        if isinstance(forward, keras.Model):
            model = forward
            forward = lambda batch: model(batch, training=False)  # noqa: E731
        self.forward, self.prepare = forward, prepare or (lambda batch: batch.astype("float32"))
        self._traced: Callable | None = None

    def __call__(self, images: np.ndarray, batch_size: int = 64) -> list[np.ndarray]:
        prepare = self.prepare
        if self._traced is None:
            self._traced = compiled(self.forward, prepare(images[:1]).shape[1:])
        batches = self._traced(prepare(images[i : i + batch_size]) for i in range(0, len(images), batch_size))
        batches = [batch if isinstance(batch, list | tuple) else [batch] for batch in batches]
        return [np.concatenate([np.asarray(batch[i]) for batch in batches]) for i in range(len(batches[0]))]


def compiled(forward: Callable, shape: tuple[int, ...]) -> Callable[[Iterable[np.ndarray]], list]:
    """`forward` compiled once for float32 batches of `shape`, as a function of an iterable of batches: under
    TensorFlow a `tf.function` that equals the eager call (tf_tracing.py); elsewhere `forward` as a functional
    Keras model, run by its `predict_on_batch` (JAX: one jit-compiled step per batch shape, the weights read at
    every call)."""
    if on_tensorflow():
        from tl_claims.recipe import tf_tracing

        return tf_tracing.traced(forward, tuple(shape))
    inputs = keras.Input(tuple(shape), dtype="float32")
    model = keras.Model(inputs, forward(inputs))
    return lambda batches: [model.predict_on_batch(batch) for batch in batches]
