"""A model's predictions on a split, image by image, through one traced function per evaluation.

Apart from training (`tl_claims.recipe.training`) because evaluation has its own concern: tracing inference without
changing a single bit of its outputs (`eager_arithmetic`), so that every row's numbers equal the eager model's.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
from tensorflow.python.eager import context


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
    eagerly (1,000 test images at 96 px, benchmarks/test_bench_evaluation.py), with the eager call's outputs bit for
    bit (`eager_arithmetic`). The batch dimension is left open, so the last, shorter batch does not trace again, and
    the trace is kept: a later call on images of the same size reuses it, with the weights the model has then."""

    def __init__(self, forward: Callable, prepare: Callable | None = None) -> None:
        if isinstance(forward, keras.Model):
            model = forward
            forward = lambda batch: model(batch, training=False)  # noqa: E731
        self.forward, self.prepare = forward, prepare or (lambda batch: batch.astype("float32"))
        self._traced: Callable | None = None

    def __call__(self, images: np.ndarray, batch_size: int = 64) -> list[np.ndarray]:
        prepare = self.prepare
        if self._traced is None:
            signature = [tf.TensorSpec((None, *prepare(images[:1]).shape[1:]), tf.float32)]
            self._traced = tf.function(self.forward, input_signature=signature, autograph=False)
        with eager_arithmetic():
            batches = [self._traced(prepare(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
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
