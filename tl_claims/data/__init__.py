"""Data for the claims: synthetic families (flowers, objects), tfds and folder sources, deterministic splits,
validation, calibration, pictures.

    from tl_claims.data import DataConfig, Splits, load_splits, CLASS_NAMES, parse_dataset_spec
    splits = load_splits(DataConfig(image_size=96, n_train=50), seed=0)
    objects = load_splits(DataConfig("synthetic:objects", image_size=96, n_train=50), seed=0)
    train = splits.dataset("train", 32, shuffle_seed=0, augmentation=lesson_augmentation(0))

The TensorFlow-backed names are imported lazily (PEP 562): the processes that generate synthetic images import
`tl_claims.data.families` and must not pay for importing TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tl_claims.data.flowers import CLASS_NAMES
from tl_claims.data.spec import DatasetSpec, parse_dataset_spec

if TYPE_CHECKING:
    from tl_claims.data.sources import DataConfig, Splits, load_splits
    from tl_claims.data.validate import DataError

__all__ = ["CLASS_NAMES", "DataConfig", "DataError", "DatasetSpec", "Splits", "load_splits", "parse_dataset_spec"]
_LAZY = {"DataConfig": "sources", "Splits": "sources", "load_splits": "sources", "DataError": "validate"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"tl_claims.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'tl_claims.data' has no attribute {name!r}")
