"""Training batches on any Keras 3 backend: a `tf.data` pipeline under TensorFlow, `ArrayBatches` elsewhere.

The recipes only ever ask four things of their training data: batches of it (`batches`), a map over them
(`map_batches`), its first batch alone (`first_batches`) and the shapes of a batch (`batch_spec`). Under
`KERAS_BACKEND=tensorflow` these are the `tf.data` pipeline the suite has always used (tf_pipeline.py), so the
TensorFlow numbers stay what they were; under JAX or PyTorch they are a `keras.utils.PyDataset` over the arrays,
and TensorFlow is never imported. Both shuffle every epoch from the seed and batch without dropping; the two orders
differ (tf.data's shuffle cannot be reproduced in NumPy), so a backend's numbers are its own, and reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from tl_claims.core.backend import on_tensorflow

if TYPE_CHECKING:
    import tensorflow as tf

    Batches = tf.data.Dataset | "ArrayBatches"

BatchMap = Callable[[Any, Any], tuple[Any, Any]]  # (images, labels) batch -> (images, labels) batch


class ArrayBatches(keras.utils.PyDataset):
    """(float32 images, labels) batches of in-memory arrays, in a fresh seeded order every epoch.

    The order of epoch e is `default_rng([seed, e])`'s permutation, so a new object replays the same epochs, as a
    new tf.data iterator does. `transform` runs on each batch as it is read; Keras reads a PyDataset with one worker
    in index order, so a seeded random transform (MixUp, an augmentation layer) draws in the same order every run.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        *,
        shuffle_seed: int | None = None,
        transform: BatchMap | None = None,
        limit: int | None = None,
    ) -> None:
        super().__init__()
        if len(x) != len(y) or batch_size < 1:
            raise ValueError(
                f"need as many images as labels and a positive batch size; got {len(x)}, {len(y)}, {batch_size}"
            )
        self.x, self.y, self.batch_size = x, y, batch_size
        self.shuffle_seed, self.transform, self.limit = shuffle_seed, transform, limit
        self.epoch = 0

    def __len__(self) -> int:
        batches = -(-len(self.x) // self.batch_size)
        return batches if self.limit is None else min(batches, self.limit)

    def order(self) -> np.ndarray:
        """The positions this epoch reads, in order."""
        if self.shuffle_seed is None:
            return np.arange(len(self.x))
        return np.random.default_rng([self.shuffle_seed, self.epoch]).permutation(len(self.x))

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        chosen = self.order()[index * self.batch_size : (index + 1) * self.batch_size]
        images, labels = self.x[chosen].astype("float32"), self.y[chosen]
        if self.transform is None:
            return images, labels
        images, labels = self.transform(images, labels)
        return keras.ops.convert_to_numpy(images), keras.ops.convert_to_numpy(labels)

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def mapped(self, transform: BatchMap) -> ArrayBatches:
        """The same batches with `transform` applied after this one's own."""
        inner = self.transform
        both = transform if inner is None else (lambda images, labels: transform(*inner(images, labels)))
        return ArrayBatches(
            self.x, self.y, self.batch_size, shuffle_seed=self.shuffle_seed, transform=both, limit=self.limit
        )

    def spec(self) -> tuple[keras.KerasTensor, keras.KerasTensor]:
        """A batch's shapes and dtypes, batch dimension open. A transform is run on one blank image inside a
        `keras.StatelessScope`, which discards every state it changes: its random draws are not used up."""
        images, labels = self.x[:1].astype("float32") * 0, self.y[:1]
        if self.transform is not None:
            with keras.StatelessScope():
                images, labels = self.transform(images, labels)
        return tuple(
            keras.KerasTensor((None, *part.shape[1:]), keras.backend.standardize_dtype(part.dtype))
            for part in (images, labels)
        )


def batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle_seed: int | None = None,
    augmentation: keras.Layer | None = None,
) -> Batches:
    """Batches of (float32 images, labels), reshuffled every epoch when `shuffle_seed` is given; `augmentation` (a
    Keras layer) runs on each batch with training=True."""
    if on_tensorflow():
        from tl_claims.data import tf_pipeline

        return tf_pipeline.batches(x, y, batch_size, shuffle_seed=shuffle_seed, augmentation=augmentation)
    data = ArrayBatches(x, y, batch_size, shuffle_seed=shuffle_seed)
    if augmentation is not None:
        data = data.mapped(lambda images, labels: (augmentation(images, training=True), labels))
    return data


def map_batches(data: Batches, transform: BatchMap) -> Batches:
    """`transform` over every (images, labels) batch, in order (a seeded random transform stays reproducible)."""
    if isinstance(data, ArrayBatches):
        return data.mapped(transform)
    from tl_claims.data import tf_pipeline

    return tf_pipeline.map_batches(data, transform)


def first_batches(data: Batches, count: int = 1) -> Batches:
    """The first `count` batches of the first epoch."""
    if isinstance(data, ArrayBatches):
        return ArrayBatches(
            data.x, data.y, data.batch_size, shuffle_seed=data.shuffle_seed, transform=data.transform, limit=count
        )
    return data.take(count)


def batch_spec(data: Batches | tuple) -> tuple:
    """What Keras needs to build a model's training state without reading data: a batch's shapes and dtypes (a
    tf.data element spec, `ArrayBatches.spec`, or a batch itself)."""
    if isinstance(data, ArrayBatches):
        return data.spec()
    if isinstance(data, tuple | list):
        return tuple(data)
    return data.element_spec
