"""What every backbone entry declares: its input contract (range, preprocessing, size), its weights, its builder.

The input contract is data, not folklore, because the lesson's first claim is that each network expects its own
scaling: a test can read `spec.input_range` and `spec.preprocess` instead of remembering them.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from tl_claims.core.errors import HarnessError

Weights = str | os.PathLike | None
MIN_IMAGE_SIZE = 32  # five stride-2 stages: smaller inputs leave no spatial extent


class WeightsUnavailableError(HarnessError, FileNotFoundError):
    """Pretrained weights were asked for but cannot be had here; the message lists the ways out."""


class InvalidImageSizeError(HarnessError, ValueError):
    """An image size the backbones cannot take."""


def check_image_size(name: str, image_size: object) -> None:
    """Raise InvalidImageSizeError unless `image_size` is an int >= MIN_IMAGE_SIZE (a bool is no size)."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < MIN_IMAGE_SIZE:
        raise InvalidImageSizeError(
            f"{name}: image_size must be an integer >= {MIN_IMAGE_SIZE} (pixels per side); got {image_size!r}"
        )


def _as_float32(images):
    """numpy in -> numpy out; TF / Keras tensors (eager, graph or symbolic) stay tensors."""
    if isinstance(images, keras.KerasTensor) or keras.ops.is_tensor(images):
        return keras.ops.cast(images, "float32")
    return np.asarray(images, dtype=np.float32)


def keep_0_255(images):
    """For Keras models that rescale inside (EfficientNetB0, MobileNetV3): only cast, never scale twice."""
    return _as_float32(images)


def center_127_scale_128(images):
    """EfficientNet-Lite's training-time scaling: (x - 127) / 128, i.e. about [-1, 1]."""
    return (_as_float32(images) - 127.0) / 128.0


def scale_to_minus_one_one(images):
    """MobileNetV2's `preprocess_input`: x / 127.5 - 1, exactly [-1, 1]."""
    return _as_float32(images) / 127.5 - 1.0


def batchnorm_layers(model: keras.layers.Layer) -> list[keras.layers.BatchNormalization]:
    """Every BatchNormalization layer inside `model`, depth first, nested models included, each once."""
    found: list[keras.layers.BatchNormalization] = []
    seen: set[int] = set()

    def visit(layer: keras.layers.Layer) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        for child in getattr(layer, "layers", []):
            visit(child)

    visit(model)
    return found


@dataclass(frozen=True)
class BackboneSpec:
    """One registry entry. `preprocess` maps RGB 0-255 to what the first layer expects, i.e. `input_range`."""

    name: str
    input_range: tuple[float, float]
    default_image_size: int
    weights_source: str
    preprocess: Callable
    builder: Callable[[int, bool, Weights, Path | None], keras.Model] = field(repr=False)
    description: str = ""


def require_weights_file(path: str | os.PathLike, backbone: str) -> Path:
    """`path` as a Path if it is an existing file, else the error that lists what `weights` may be."""
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailableError(
            f"{backbone}: weights file {path} does not exist; pass weights='imagenet', None (random init), "
            "or the path of an existing weights file"
        )
    return path


@contextlib.contextmanager
def strict_weights_loading(backbone: str, path: Path):
    """Turn a failed load into one clear error. Keras only *warns* when a file's layers do not match the model
    (and keeps the random weights), so its warnings count as failures too."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except Exception as error:
            raise _load_error(backbone, path, f"{type(error).__name__}: {error}") from None
    if caught:
        raise _load_error(backbone, path, f"{len(caught)} warning(s), first: {caught[0].message}")


def _load_error(backbone: str, path: Path, what: str) -> HarnessError:
    what = " ".join(what.split())  # Keras' messages span lines; the CLI prints one
    return HarnessError(
        f"{backbone}: could not load weights from {path} ({what:.300}). The file must come "
        "from the same backbone with the same include_top (e.g. saved with model.save_weights)"
    )


def load_keras_weights_file(model: keras.Model, path: str | os.PathLike, backbone: str) -> None:
    """`model.load_weights(path)` with errors a user can act on."""
    path = require_weights_file(path, backbone)
    with strict_weights_loading(backbone, path):
        model.load_weights(path)
