"""Lesson: "Augmentation debe ser solo en train" (common error: augmentation applied to val/test too).

Arms: one trained model evaluated on augmented test images → on clean test images. Metric: test accuracy.
The model is the lesson's whole recipe (stage 1 + stage 2, augmentation layers in the model) at 10, 25 or 50 images
per class in the small-data regime of tl_claims.claims.small_data (the same models augmentation_helps trains), or, in
the `*_stage1_only` variants kept as secondary rows, the stage-1 model at the scale's n. Two ways the bug happens
(the practical one at every size, the other at 25 per class):
- `flip_rotate_zoom`: the lesson's layers run over the test images with `training=True`;
- `tf_data_map`: the way it happens in practice — the test set is a `tf.data` pipeline with
  `.map(lambda x, y: (augment(x), y))`, the layer called standalone without `training`, and standalone Keras
  augmentation layers default to augmenting. The row reports the share of test images the map changed. Under JAX or
  PyTorch, where a test pipeline is a Python map over batches rather than tf.data, the same standalone call runs
  batch by batch (`standalone_map`): the bug is Keras' default, not tf.data's.
"""

import keras
import numpy as np

from tl_claims.claims import small_data
from tl_claims.claims.base import TEST_ACCURACY, Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.core.backend import on_tensorflow
from tl_claims.data.augment import lesson_augmentation
from tl_claims.recipe import evaluation
from tl_claims.recipe.architecture import Classifier

TEST_AUGMENTATION_SEED_OFFSET = 10_000  # test-time draws must not repeat the training draws of the same seed
MAP_BATCH = 64


def trained_model(trial: Trial) -> Classifier:
    lab, seed, n = trial.lab, trial.seed, trial.params.get("n_per_class")
    return lab.stage1(seed) if n is None else lab.stage2(seed, small_data.recipe_options(trial, n))


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
        augmented = keras.ops.convert_to_numpy(augment(images.astype("float32"), training=True))
    return Measurement.of(evaluation.evaluate(lab.readonly(trained_model(trial)).model, augmented, labels), details)


def standalone_map(augment: keras.Layer, images: np.ndarray) -> np.ndarray:
    """The bug as students write it: the test pipeline mapped through the augmentation, `training` left out (a
    tf.data map under TensorFlow, batch by batch elsewhere)."""
    if on_tensorflow():
        import tensorflow as tf  # the tf.data pipeline is TensorFlow by nature

        test = tf.data.Dataset.from_tensor_slices(images).batch(MAP_BATCH)
        test = test.map(lambda batch: augment(tf.cast(batch, tf.float32)))  # no training=False: the layer augments
        return np.concatenate([batch.numpy() for batch in test])
    batches = (images[start : start + MAP_BATCH].astype("float32") for start in range(0, len(images), MAP_BATCH))
    return np.concatenate([keras.ops.convert_to_numpy(augment(batch)) for batch in batches])  # no training=False


def variants() -> tuple[Variant, ...]:
    """The practical bug (tf_data_map) at every size; the explicit training=True call at the middle size."""
    ways = {"flip_rotate_zoom": False, "tf_data_map": True}
    known = {"cpu": "INCONCLUSIVE"}  # the cost is under 2 pp on the synthetic flowers at every size
    recipe = [
        Variant(f"tf_data_map_n{n}", {"standalone_map": True, "n_per_class": n}, expected=known)
        for n in small_data.SIZES
    ]
    recipe.append(Variant("flip_rotate_zoom_n25", {"standalone_map": False, "n_per_class": 25}, expected=known))
    stage1_only = [
        Variant(f"{way}_stage1_only", {"standalone_map": standalone}, expected={"cpu": "INCONCLUSIVE"})
        for way, standalone in ways.items()
    ]
    return (*recipe, *stage1_only)


CLAIM = Claim(
    id="aug_train_only",
    statement="Augmentation belongs in training only; applied to val/test it costs accuracy.",
    lesson_section="Definiciones: augmentation layer; Errores comunes: augmentation en val/test",
    metric=Metric("test accuracy of one trained model", TEST_ACCURACY.measure),
    baseline=Arm("augmented test", augmented_test),
    treatment=Arm("clean test", trained_model),
    threshold=0.0,
    version=2,
    variants=variants(),
    primary="tf_data_map_n25",
    smoke=("flip_rotate_zoom_stage1_only", "tf_data_map_n10"),
    advice="Evaluate on clean images: keep augmentation layers inside the model (they are the identity in "
    "`predict`/`evaluate`) or map them over the training split only; a standalone call needs training=False.",
)
