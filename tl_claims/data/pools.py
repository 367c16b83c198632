"""What a source provides before any split: per-class images whose labels are known up front and whose pixels are
fetched by position on demand, with, for real photos, a digest of each image's content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pool:
    """The images of one split of a source: labels known up front, pixels fetched by position on demand.

    On demand because the synthetic train pool is 1500 images, while a smoke test needs twenty of them.
    """

    labels: np.ndarray  # int32, one per image
    fetch: Callable[[np.ndarray], np.ndarray]  # positions -> uint8 images
    digests: np.ndarray | None = None  # SHA-256 of each image's content, for real photos (content_split.py)

    @classmethod
    def of_arrays(cls, x: np.ndarray, y: np.ndarray, digests: np.ndarray | None = None) -> Pool:
        return cls(np.asarray(y, np.int32), lambda index: x[index], digests)

    def take(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return read_only(self.fetch(index)), read_only(self.labels[index])


@dataclass(frozen=True)
class Pools:
    """What a source provides before splitting: the train pool, and val/test pools where the source has them."""

    name: str
    class_names: tuple[str, ...]
    train: Pool
    val: Pool | None = None
    test: Pool | None = None


def read_only(array: np.ndarray) -> np.ndarray:
    """Cached arrays are shared between callers: an in-place edit would silently change everyone's data."""
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array
