"""Inference traced with `tf.function` under `KERAS_BACKEND=tensorflow`, bit for bit the eager call: TensorFlow by
nature, imported only there (`evaluation.Inference` runs the other backends through Keras' own compiled predict).
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
from tensorflow.python.eager import context


def traced(forward: Callable, shape: tuple[int, ...]) -> Callable[[Iterable[np.ndarray]], list]:
    """`forward` traced once for float32 batches of `shape` (batch dimension open, so the last, shorter batch does
    not trace again), run over batches inside `eager_arithmetic`."""
    signature = [tf.TensorSpec((None, *shape), tf.float32)]
    function = tf.function(forward, input_signature=signature, autograph=False)

    def run(batches: Iterable[np.ndarray]) -> list:
        with eager_arithmetic():
            return [function(batch) for batch in batches]

    return run


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
