"""Augmentation stacks, as Keras layers (the lesson's "augmentation como capa").

Keras augmentation layers are the identity with `training=False` and augment with `training=True`; called
standalone they default to augmenting. Pass them only to the training split (`Splits.dataset` refuses otherwise).
"""

from __future__ import annotations

import keras


def lesson_augmentation(seed: int | None = None) -> keras.Sequential:
    """The lesson's exercise-1 stack: RandomFlip("horizontal"), RandomRotation(0.1), RandomZoom(0.1).

    Each layer gets its own seed derived from `seed` (equal seeds would correlate the flip with the rotation);
    None leaves them unseeded.
    """

    def layer_seed(offset: int) -> int | None:
        return None if seed is None else seed * 3 + offset

    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=layer_seed(0)),
            keras.layers.RandomRotation(0.1, seed=layer_seed(1)),
            keras.layers.RandomZoom(0.1, seed=layer_seed(2)),
        ],
        name="lesson_augmentation",
    )
