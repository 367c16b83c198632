"""Augmentation stacks, as Keras layers (the lesson's "augmentation como capa").

Keras augmentation layers are the identity with `training=False` and augment with `training=True`; called
standalone they default to augmenting. Pass them only to the training split (`Splits.dataset` refuses otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np

from tl_claims.data import batches

if TYPE_CHECKING:
    from tl_claims.data.batches import Batches


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


# --- test-time augmentation -------------------------------------------------------------------------------------
TTA_VIEWS = ("identity", "flip", "centre_crop", "flip_centre_crop")
CENTRE_CROP_FRACTION = 0.9  # a 10 % zoom-in: inside the range RandomZoom(0.1) showed the model in training


def tta_view(images: np.ndarray, view: str) -> np.ndarray:
    """One deterministic view of a batch of float images (N, H, W, C): the same size out as in."""
    if view not in TTA_VIEWS:
        raise ValueError(f"unknown TTA view {view!r}; choose from {TTA_VIEWS}")
    if "centre_crop" in view:
        images = centre_crop(images, CENTRE_CROP_FRACTION)
    if "flip" in view:
        images = images[:, :, ::-1, :]
    return images


def centre_crop(images: np.ndarray, fraction: float) -> np.ndarray:
    """The central `fraction` of each side, resized back to the full size (bilinear)."""
    height, width = images.shape[1:3]
    crop_h, crop_w = round(height * fraction), round(width * fraction)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    cropped = images[:, top : top + crop_h, left : left + crop_w, :]
    return np.asarray(keras.ops.image.resize(cropped, (height, width), interpolation="bilinear"))


def view_probabilities(
    model: keras.Model, images: np.ndarray, views: tuple[str, ...] = TTA_VIEWS, batch_size: int = 64
) -> np.ndarray:
    """Softmax probabilities of every view, shape (views, N, classes); the model runs in inference mode."""
    images = images.astype("float32")
    outputs = []
    for view in views:
        logits = model.predict(tta_view(images, view), batch_size=batch_size, verbose=0)
        outputs.append(np.asarray(keras.ops.softmax(logits, axis=-1)))
    return np.stack(outputs)


def tta_correct(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image: is the views' mean probability right (averaging probabilities, not logits: one vote per view)?"""
    return np.argmax(probabilities.mean(axis=0), axis=-1) == labels


def tta_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(tta_correct(probabilities, labels)))


# --- modern augmentations (training only) --------------------------------------------------------------------------
# Each works on a whole batch and returns soft labels: they go into the training batches (batches.py), before the
# model's own lesson layers, and never into evaluation. The settings are the Keras defaults (MixUp's alpha 0.2 is the
# ImageNet recommendation; CutMix samples its mixing weight from Beta(1, 1); RandAugment: 2 ops at strength 0.5).
BATCH_AUGMENTATIONS: dict[str, dict] = {
    "mixup": {"alpha": 0.2},
    "cutmix": {"factor": 1.0},
    "randaugment": {"num_ops": 2, "factor": 0.5, "value_range": (0, 255)},
}
BATCH_AUGMENTATION_SEED_OFFSET = 7_919  # draws independent of the lesson layers' seeds (seed * 3 + 0..2)


def batch_augmentation(name: str, seed: int | None = None) -> keras.Layer:
    """MixUp, CutMix or RandAugment with the settings above, seeded from `seed`.

    Keras' RandAugment draws its two operations once per batch (every image of a batch gets the same ones) and
    computes all eleven candidate operations to select among them, so it is far slower than the lesson's layers.
    """
    layers = {"mixup": keras.layers.MixUp, "cutmix": keras.layers.CutMix, "randaugment": keras.layers.RandAugment}
    if name not in layers:
        raise ValueError(f"unknown batch augmentation {name!r}; choose from {sorted(layers)}")
    layer_seed = None if seed is None else seed + BATCH_AUGMENTATION_SEED_OFFSET
    return layers[name](**BATCH_AUGMENTATIONS[name], seed=layer_seed)


def mix_batch(layer: keras.Layer, images, one_hot_labels, *, training: bool) -> tuple:
    """Apply a batch augmentation to images and one-hot labels; with training=False both come back unchanged."""
    mixed = layer({"images": images, "labels": one_hot_labels}, training=training)
    return mixed["images"], mixed["labels"]


def augment_training_batches(dataset: Batches, name: str, seed: int, num_classes: int) -> Batches:
    """Map (float images, int labels) training batches to (augmented images, soft labels), on any backend
    (batches.py). A sequential map, so the seeded draws are reproducible; labels are mixed here and only here.
    """
    layer = batch_augmentation(name, seed)

    def apply(images, labels):
        return mix_batch(layer, images, keras.ops.one_hot(labels, num_classes), training=True)

    return batches.map_batches(dataset, apply)


def soft_label_loss() -> keras.losses.Loss:
    """Cross-entropy against probability vectors (mixed labels); the classifier outputs logits."""
    return keras.losses.CategoricalCrossentropy(from_logits=True)


# --- single layers, for the throughput benchmarks --------------------------------------------------------------------
BENCH_LAYERS = ("flip", "rotation", "zoom", "crop", "contrast")
CROP_FRACTION = 0.875  # RandomCrop keeps 7/8 of each side (224 → 196, 96 → 84)
CONTRAST_FACTOR = 0.2  # the lesson names RandomContrast without a factor; 0.2 is a common choice


def benchmark_layer(name: str, image_size: int, seed: int | None = None) -> keras.Layer:
    """One of the lesson's augmentation layers, at the lesson's strength where it gives one."""
    if name == "flip":
        return keras.layers.RandomFlip("horizontal", seed=seed)
    if name == "rotation":
        return keras.layers.RandomRotation(0.1, seed=seed)
    if name == "zoom":
        return keras.layers.RandomZoom(0.1, seed=seed)
    if name == "crop":
        side = round(image_size * CROP_FRACTION)
        return keras.layers.RandomCrop(side, side, seed=seed)
    if name == "contrast":
        return keras.layers.RandomContrast(CONTRAST_FACTOR, seed=seed)
    raise ValueError(f"unknown benchmark layer {name!r}; choose from {BENCH_LAYERS}")


def benchmark_stack(image_size: int, seed: int | None = None) -> keras.Sequential:
    """All five layers in one stack; the crop goes last, so the other layers work on full-size images."""
    order = ("flip", "rotation", "zoom", "contrast", "crop")
    return keras.Sequential(
        [benchmark_layer(name, image_size, None if seed is None else seed + i) for i, name in enumerate(order)],
        name="benchmark_stack",
    )
