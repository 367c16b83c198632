"""Lesson: "Augmentation debe ser solo en train" (common error: augmentation applied to val/test too).

Arms: the same stage-1 model evaluated on augmented test images → on clean test images. Metric: test accuracy.
Variants are two ways the bug happens:
- `flip_rotate_zoom`: the lesson's layers run over the test images with `training=True`;
- `tf_data_map`: the way it happens in practice — the test set is a `tf.data` pipeline with
  `.map(lambda x, y: (augment(x), y))`, the layer called standalone without `training`, and standalone Keras
  augmentation layers default to augmenting. The row reports the share of test images the map changed.
"""

import keras
import numpy as np
import tensorflow as tf

from harness import training
from harness.augment import lesson_augmentation
from harness.claims.base import Arm, Claim, Measurement, Trial

TEST_AUGMENTATION_SEED_OFFSET = 10_000  # test-time draws must not repeat the training draws of the same seed
MAP_BATCH = 64


def clean_test_accuracy(trial: Trial) -> float:
    return trial.lab.evaluate(trial.lab.stage1(trial.seed), trial.seed).accuracy


def augmented_test_accuracy(trial: Trial) -> float | Measurement:
    splits = trial.lab.splits(trial.seed)
    model = trial.lab.stage1(trial.seed).model
    augment = lesson_augmentation(trial.seed + TEST_AUGMENTATION_SEED_OFFSET)
    if trial.variant == "tf_data_map":
        augmented = standalone_map(augment, splits.x_test)
        changed = np.any(augmented != splits.x_test.astype("float32"), axis=(1, 2, 3))
        return Measurement(training.accuracy(model, augmented, splits.y_test),
                           {"share of test images changed by the map": float(np.mean(changed))})
    augmented = augment(splits.x_test.astype("float32"), training=True)
    return training.accuracy(model, augmented.numpy(), splits.y_test)


def standalone_map(augment: keras.Layer, images: np.ndarray) -> np.ndarray:
    """The bug as students write it: the test pipeline mapped through the augmentation, `training` left out."""
    test = tf.data.Dataset.from_tensor_slices(images).batch(MAP_BATCH)
    test = test.map(lambda batch: augment(tf.cast(batch, tf.float32)))  # no training=False: the layer augments
    return np.concatenate([batch.numpy() for batch in test])


CLAIM = Claim(
    id="aug_train_only",
    statement="Augmentation belongs in training only; applied to val/test it costs accuracy.",
    lesson_section="Definiciones: augmentation layer; Errores comunes: augmentation en val/test",
    metric="test accuracy of one stage-1 model",
    baseline=Arm("augmented test", augmented_test_accuracy),
    treatment=Arm("clean test", clean_test_accuracy),
    threshold=0.0,
    variants=("flip_rotate_zoom", "tf_data_map"),
    advice="Evaluate on clean images: keep augmentation layers inside the model (they are the identity in "
           "`predict`/`evaluate`) or map them over the training split only; a standalone call needs training=False.",
)
