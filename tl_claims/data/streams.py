"""The generated families as image streams: one generator seed per purpose and split, each a JPEG class-folder tree
in the cache, written once and read back with the lesson's loader."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from tl_claims.core import store
from tl_claims.data import families
from tl_claims.data.folders import read_class_folders
from tl_claims.data.pools import Pool, Pools

# Per class: the train pool grows in blocks of this many images, as many as n_train needs (at least one). Seeds
# draw different subsets below one block's size; a larger n_train adds whole blocks, and its choice keeps the
# smaller sizes' choice as a prefix (`training_choice`), so every number measured at n <= 300 stays the same.
SYNTHETIC_TRAIN_POOL = 300


# Generator seed per purpose and split: no two (purpose, split) pairs share a stream, hence never an image.
SYNTHETIC_STREAMS = {
    "claims": {"train": 1, "val": 2, "test": 3},
    "calibration": {"train": 101, "val": 102, "test": 103},
}


GENERATION_WORKERS = 2  # processes for generating synthetic images (the CPU suite targets a 2-core machine)


PARALLEL_THRESHOLD = 200  # below this many images a worker pool's start-up costs more than it saves


def synthetic_pools(
    family_name: str,
    image_size: int,
    n_val: int,
    n_test: int,
    cache_dir: Path,
    purpose: str = "claims",
    n_train: int = 1,
) -> Pools:
    """Three generator streams: a train pool of as many `SYNTHETIC_TRAIN_POOL` blocks per class as `n_train` needs,
    and the first n_val / n_test images per class of the others."""
    family = families.get_family(family_name)
    n_classes = len(family.class_names)
    train_pool = SYNTHETIC_TRAIN_POOL * max(1, -(-n_train // SYNTHETIC_TRAIN_POOL))
    sizes = {"train": train_pool, "val": n_val, "test": n_test}
    streams = SYNTHETIC_STREAMS[purpose]
    pools = {
        split: Pool(
            np.arange(per_class * n_classes, dtype=np.int32) % n_classes,
            image_stream(Path(cache_dir), family.name, streams[split], image_size).fetch,
        )
        for split, per_class in sizes.items()
    }
    name = "synthetic" if family.name == families.DEFAULT_FAMILY else f"synthetic:{family.name}"
    return Pools(name, family.class_names, pools["train"], pools["val"], pools["test"])


def synthetic_folder(cache_dir: Path, stream: int, image_size: int, family: str = families.DEFAULT_FAMILY) -> Path:
    """Cache key = family + generator version + every parameter that changes the pictures."""
    version = families.get_family(family).version
    return Path(cache_dir) / "synthetic" / f"{family}-v{version}-seed{stream}-{image_size}px"


@functools.lru_cache(maxsize=32)
def image_stream(cache_dir: Path, family: str, stream: int, image_size: int) -> ImageStream:
    return ImageStream(
        synthetic_folder(cache_dir, stream, image_size, family), families.get_family(family), stream, image_size
    )


class ImageStream:
    """One generator stream of a family as a JPEG class-folder tree in the cache, read back with the lesson's loader.

    An image is generated the first time any split asks for it and written once; the folder is then read with
    `image_dataset_from_directory` and kept in memory. Files appear atomically, so concurrent processes (xdist
    workers) may fill the same folder: they write identical bytes. Before each read every file is checked against
    the hash written with it (`tl_claims.core.store`): a damaged one is reported in one line, deleted and generated
    again, never handed to TensorFlow (which would fail without naming it, on every run).
    """

    def __init__(self, folder: Path, family: families.Family, stream: int, image_size: int):
        self.folder, self.family, self.stream, self.image_size = folder, family, stream, image_size
        self.images: dict[int, np.ndarray] = {}

    def fetch(self, index: np.ndarray) -> np.ndarray:
        wanted = [int(i) for i in index]
        if any(i not in self.images for i in wanted):
            self.discard_damaged()
            self.write_missing(wanted)
            self.read_folder()
        if not wanted:
            return np.zeros((0, self.image_size, self.image_size, 3), np.uint8)
        return np.stack([self.images[i] for i in wanted])

    def discard_damaged(self) -> None:
        """Every image file must match its hash; one written without a hash (by an earlier version) is decoded once
        and adopted, or reported and deleted."""
        for path in sorted(self.folder.rglob("*.jpg")) if self.folder.is_dir() else []:
            if store.verified(path) or not path.exists():
                continue
            if decodes(path):
                store.adopt(path)
            else:
                store.report_corrupt(path, "not a decodable image")

    def write_missing(self, wanted: list[int]) -> None:
        missing = [i for i in wanted if not families.image_path(self.family, self.folder, i).exists()]
        if missing:
            workers = GENERATION_WORKERS if len(missing) >= PARALLEL_THRESHOLD else 1
            families.write_folders(self.family, self.folder, self.stream, self.image_size, missing, workers)

    def read_folder(self) -> None:
        x, _, paths = read_class_folders(self.folder, self.image_size, self.family.class_names)
        self.images = {families.image_index(self.family, path): image for path, image in zip(paths, x)}


def decodes(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True
