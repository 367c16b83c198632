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
from harness.claims.base import TEST_ACCURACY, Arm, Claim, Measurement, Metric, Trial, Variant

TEST_AUGMENTATION_SEED_OFFSET = 10_000  # test-time draws must not repeat the training draws of the same seed
MAP_BATCH = 64


def augmented_test(trial: Trial) -> Measurement:
    lab, seed = trial.lab, trial.seed
    images, labels = lab.splits(seed).arrays("test")
    augment = lesson_augmentation(seed + TEST_AUGMENTATION_SEED_OFFSET)
    details = {}
    if trial.params["standalone_map"]:
        augmented = standalone_map(augment, images)
        changed = np.any(augmented != images.astype("float32"), axis=(1, 2, 3))
        details["share of test images changed by the map"] = float(np.mean(changed))
    else:
        augmented = augment(images.astype("float32"), training=True).numpy()
    return Measurement.of(training.evaluate(lab.stage1(seed).model, augmented, labels), details)


def standalone_map(augment: keras.Layer, images: np.ndarray) -> np.ndarray:
    """The bug as students write it: the test pipeline mapped through the augmentation, `training` left out."""
    test = tf.data.Dataset.from_tensor_slices(images).batch(MAP_BATCH)
    test = test.map(lambda batch: augment(tf.cast(batch, tf.float32)))  # no training=False: the layer augments
    return np.concatenate([batch.numpy() for batch in test])


CLAIM = Claim(
    id="aug_train_only",
    statement="Augmentation belongs in training only; applied to val/test it costs accuracy.",
    lesson_section="Definiciones: augmentation layer; Errores comunes: augmentation en val/test",
    metric=Metric("test accuracy of one stage-1 model", TEST_ACCURACY.measure),
    baseline=Arm("augmented test", augmented_test),
    treatment=Arm("clean test", lambda trial: trial.lab.stage1(trial.seed)),
    threshold=0.0,
    variants=(
        Variant("flip_rotate_zoom", {"standalone_map": False}, expected={"cpu": "INCONCLUSIVE"}),
        Variant("tf_data_map", {"standalone_map": True}, expected={"cpu": "INCONCLUSIVE"}),
    ),
    advice="Evaluate on clean images: keep augmentation layers inside the model (they are the identity in "
    "`predict`/`evaluate`) or map them over the training split only; a standalone call needs training=False.",
)
