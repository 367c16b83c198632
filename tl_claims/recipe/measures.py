"""What the fine-tuning claims measure besides accuracy: weights that moved, BatchNorm statistics that drifted,
features that drifted (linear CKA), and ImageNet knowledge kept (agreement with the original 1000-class model).
"""

import functools

import keras
import numpy as np

from tl_claims import backbones
from tl_claims.recipe import evaluation

# Real photographs shipped inside scikit-image (no download): a cat, an espresso, a person, a rocket, a motorbike.
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "stereo_motorcycle")
IMAGENET_BACKBONES = ("efficientnet_lite0",)  # the one backbone whose 1000-class head is available offline


# --- weights -------------------------------------------------------------------------------------------------------
def fraction_of_tensors_changed(before: list[np.ndarray], after: list[np.ndarray]) -> float:
    """Share of weight tensors with at least one value changed (0 = nothing trained, 1 = every tensor moved)."""
    if len(before) != len(after) or not before:
        raise ValueError(f"need two equally long, non-empty weight lists; got {len(before)} and {len(after)}")
    return float(np.mean([not np.array_equal(b, a) for b, a in zip(before, after)]))


# --- BatchNorm moving statistics -----------------------------------------------------------------------------------
def moving_statistics(base: keras.Model) -> list[tuple[np.ndarray, np.ndarray]]:
    """(moving mean, moving variance) of every BatchNormalization layer in the base, input to output."""
    return [(layer.moving_mean.numpy(), layer.moving_variance.numpy()) for layer in backbones.batchnorm_layers(base)]


def base_kernels(base: keras.Model) -> list[np.ndarray]:
    """The base's convolution and dense kernels: what fine-tuning moves (biases, BN scales and statistics aside)."""
    return [weight.numpy() for weight in base.weights if weight.path.endswith("kernel")]


def relative_shift(before: list[np.ndarray], after: list[np.ndarray]) -> float:
    """‖after − before‖ / ‖before‖ over all kernels at once: how far fine-tuning moved the base (0 = not at all)."""
    moved = sum(float(np.sum((b.astype("float64") - a) ** 2)) for a, b in zip(before, after, strict=True))
    size = sum(float(np.sum(a.astype("float64") ** 2)) for a in before)
    return float(np.sqrt(moved / size)) if size else 0.0


def fraction_of_statistics_unchanged(before: list, after: list) -> float:
    """Share of moving-mean and moving-variance values that are bit-identical after training."""
    same = total = 0
    for (mean_0, var_0), (mean_1, var_1) in zip(before, after, strict=True):
        same += int(np.sum(mean_0 == mean_1) + np.sum(var_0 == var_1))
        total += mean_0.size + var_0.size
    return same / total


def moving_mean_drift(before: list, after: list, epsilon: float = 1e-3) -> float:
    """How far the moving means moved, in units of the original standard deviation, averaged over channels."""
    shifts = [
        np.abs(mean_1 - mean_0) / np.sqrt(var_0 + epsilon)
        for (mean_0, var_0), (mean_1, _) in zip(before, after, strict=True)
    ]
    return float(np.mean(np.concatenate(shifts)))


# --- feature drift -------------------------------------------------------------------------------------------------
def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear centred kernel alignment of two representations of the same examples (rows): 1 = same up to rotation
    and scale, near 0 = unrelated. Kornblith et al. (2019), the feature-space form ||YᵀX||² / (||XᵀX|| ||YᵀY||)."""
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"both representations must cover the same examples; got {x.shape[0]} and {y.shape[0]} rows")
    x = np.asarray(x, np.float64) - np.mean(x, axis=0)
    y = np.asarray(y, np.float64) - np.mean(y, axis=0)
    cross = np.linalg.norm(y.T @ x) ** 2
    return float(cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


# --- ImageNet knowledge --------------------------------------------------------------------------------------------
def photo_crops(image_size: int, seed: int, per_photo: int = 24) -> np.ndarray:
    """Augmented crops of real photos: random crops covering 40–100 % of the shorter side, half of them mirrored,
    resized to `image_size`; RGB 0–255 float32. Seeded, so every arm of a seed sees the same crops."""
    rng = np.random.default_rng([seed, 2014])
    crops = []
    for photo in _photos():
        height, width = photo.shape[:2]
        for _ in range(per_photo):
            side = int(rng.uniform(0.4, 1.0) * min(height, width))
            top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
            crop = photo[top : top + side, left : left + side]
            crops.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    resized = [
        keras.ops.image.resize(crop.astype("float32"), (image_size, image_size), antialias=True) for crop in crops
    ]
    return np.clip(np.stack([np.asarray(image) for image in resized]), 0, 255).astype("float32")


@functools.cache
def _photos() -> tuple[np.ndarray, ...]:
    from skimage import data

    images = []
    for name in PHOTOS:
        image = getattr(data, name)()
        images.append(image[0] if isinstance(image, tuple) else image)  # stereo pairs: the left view
    return tuple(images)


def with_base_weights(model: keras.Model, base: keras.Model) -> keras.Model:
    """Copy a (fine-tuned) headless base into the same-named layers of a model with the 1000-class head."""
    for layer in base.layers:
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())
    return model


def top1(model: keras.Model, images: np.ndarray, backbone: str) -> np.ndarray:
    """Top-1 ImageNet class of each image (RGB 0–255), in traced batches (`evaluation.inference`)."""
    (logits,) = evaluation.inference(model, np.asarray(backbones.get(backbone).preprocess(images)), 64)
    return np.argmax(logits, axis=1)
