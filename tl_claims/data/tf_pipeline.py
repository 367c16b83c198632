"""The tf.data pipeline behind `batches.py` under `KERAS_BACKEND=tensorflow`: TensorFlow by nature, imported only
there. It is the pipeline every TensorFlow row was measured with; keeping it keeps those numbers bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf


def batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle_seed: int | None = None,
    augmentation: keras.Layer | None = None,
) -> tf.data.Dataset:
    """Batches of (float32 images, labels), prefetched; shuffled anew every epoch when `shuffle_seed` is given."""
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        data = data.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size).map(
        lambda images, labels: (tf.cast(images, tf.float32), labels), num_parallel_calls=tf.data.AUTOTUNE
    )
    if augmentation is not None:  # sequential map: seeded augmentation stays reproducible
        data = data.map(lambda images, labels: (augmentation(images, training=True), labels))
    return without_autotuning(data.prefetch(tf.data.AUTOTUNE))


def map_batches(data: tf.data.Dataset, transform: Callable) -> tf.data.Dataset:
    """A sequential map (seeded draws stay reproducible), prefetched."""
    return data.map(transform).prefetch(tf.data.AUTOTUNE)


def without_autotuning(data: tf.data.Dataset) -> tf.data.Dataset:
    """`data` with tf.data's autotuner off. The autotuner decides only how many threads and buffers feed the pipeline,
    never which elements come in which order (parallel maps keep their order, shuffles are seeded), so every batch is
    the same. Keras starts a new iterator every epoch, and an autotuned iterator leaves its core idle for moments while
    another process holds the other one: two training processes side by side ran at 71-89 % of a core each with it and
    97-99 % without (docs/measured-facts.md, "Two workers, one idle core")."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.with_options(options)
