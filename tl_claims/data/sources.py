"""Data sources behind one interface, and the deterministic splits every claim shares.

A source turns into `Pools` (pools.py): per-class images for training and, where the source has them, ready-made val
and test images. The splits then follow these rules, which the claims' paired statistics rely on:

- the test set (and the val set) never depend on the seed or the training size: every seed, size and arm is scored
  on the same images;
- for one seed, training subsets are nested in `n_train` (10 ⊂ 25 ⊂ 50 ...), so learning curves are paired;
- different seeds draw different training subsets from the whole training pool;
- val is disjoint from train and test; asking for more images than a source has is a DataError with the counts.

Sources (parsed in one place, `spec.py`): `tf_flowers` (the shipped photos, photos.py), `folder:PATH` (a class-folder
tree, validated first, folders.py) and `tfds:NAME` (tfds_source.py) are real photos: without ready-made val/test
folders they are split by content (content_split.py: duplicates removed, each class cut in digest order), so a
photo is never on two sides. `synthetic[:FAMILY]` (streams.py) draws train / val / test from separate generator
streams, the same number per class: streams 1 / 2 / 3 for the claims, 101 / 102 / 103 for the calibration
(`DataConfig(purpose="calibration")`), which no claim ever reads. Real sources have no second stream, so for them the
calibration describes the same images the claims use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np

from tl_claims.core import store
from tl_claims.core.install_check import has_tensorflow
from tl_claims.core.paths import default_cache_dir
from tl_claims.data import batches, photos, streams
from tl_claims.data.content_split import SplitSizes, split_by_content
from tl_claims.data.folders import folder_pools
from tl_claims.data.pools import Pool, Pools
from tl_claims.data.spec import parse_dataset_spec
from tl_claims.data.validate import DataError, TooFewPhotos

if TYPE_CHECKING:
    from tl_claims.data.batches import Batches

SPLITS = ("train", "val", "test")
PURPOSES = ("claims", "calibration")
FIXED_SPLIT_SEED = 131  # carves val/test out of sources without them, identically for every seed


@dataclass(frozen=True)
class DataConfig:
    source: str = "synthetic"  # "synthetic[:FAMILY]" | "tfds:NAME" | "folder:PATH" (see spec.py)
    image_size: int = 96  # square side in pixels
    n_train: int = 50  # training images per class (subsampled from the train pool)
    n_val: int = 10  # per class
    n_test: int = 100  # per class (the same test set for every seed)
    cache_dir: Path | None = None  # None -> default_cache_dir()
    purpose: str = "claims"  # "claims" | "calibration": which synthetic streams the images come from
    # Real photos split by content (content_split.py): the training pool per class takes half of what val leaves,
    # at least pool_min and at most pool_max (0: n_train). The test set is what remains, at most n_test per class.
    pool_min: int = 0
    pool_max: int = 0

    def split_sizes(self) -> SplitSizes:
        pool_min = self.pool_min or self.n_train
        return SplitSizes(self.n_val, pool_min, max(pool_min, self.pool_max), self.n_test)


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare with ==, and identity is what the cache gives
class Splits:
    class_names: tuple[str, ...]
    x_train: np.ndarray  # uint8 (N, H, W, 3) RGB
    y_train: np.ndarray  # int32 (N,)
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return getattr(self, f"x_{split}"), getattr(self, f"y_{split}")

    def dataset(
        self, split: str, batch_size: int, *, shuffle_seed: int | None = None, augmentation: keras.Layer | None = None
    ) -> Batches:
        """Batches of (float32 images in 0..255, int32 labels) on the Keras backend in use (batches.py);
        augmentation only for "train"."""
        if augmentation is not None and split != "train":
            raise ValueError(
                f"augmentation never touches val/test: got augmentation for split={split!r}; "
                "evaluate on clean images and pass augmentation only for split='train'"
            )
        x, y = self.arrays(split)
        return batches.batches(x, y, batch_size, shuffle_seed=shuffle_seed, augmentation=augmentation)


# ---------------------------------------------------------------------------------------------------- public


@functools.lru_cache(maxsize=256)
def load_splits(config: DataConfig, seed: int) -> Splits:
    """The splits for `config` and `seed`: deterministic, and the same object for the same arguments."""
    check_config(config)
    fixed = fixed_splits(pool_config(config))  # real photos: one split whatever the training size
    labels = fixed.train_pool.labels[fixed.candidates]
    check_pool(fixed, labels, config.n_train)
    chosen = training_choice(labels, len(fixed.class_names), config.n_train, seed, fixed.block)
    x_train, y_train = fixed.train_pool.take(fixed.candidates[chosen])
    return Splits(fixed.class_names, x_train, y_train, *fixed.val, *fixed.test)


def check_config(config: DataConfig) -> None:
    if config.image_size < 8:
        raise DataError(f"image_size={config.image_size} is too small; use at least 8 pixels (96 is the CPU scale)")
    if config.n_train < 1 or config.n_val < 0 or config.n_test < 1:
        raise DataError(
            f"n_train={config.n_train}, n_val={config.n_val}, n_test={config.n_test}: need n_train >= 1, "
            "n_val >= 0 and n_test >= 1 images per class"
        )
    if config.purpose not in PURPOSES:
        raise DataError(f"purpose={config.purpose!r}: use one of {', '.join(PURPOSES)}")
    parse_dataset_spec(config.source)


# ---------------------------------------------------------------------------------------------------- splitting


@dataclass(frozen=True)
class FixedSplits:
    """Everything about the splits that does not depend on the seed: shared by every seed's Splits."""

    class_names: tuple[str, ...]
    train_pool: Pool
    candidates: np.ndarray  # positions in train_pool that training may draw from (not carved into val/test)
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    block: int | None = None  # a synthetic pool's block size (`training_choice`); None: one block per class


@functools.lru_cache(maxsize=8)
def fixed_splits(config: DataConfig) -> FixedSplits:
    """Val and test carved (or subsampled) with a fixed seed; what is left is the pool training draws from. Real
    photos with no split of their own are split by content instead (`content_split.py`)."""
    pools = load_pools(config)
    if pools.train.digests is not None and pools.val is None and pools.test is None:
        return split_photos(pools, config)
    n_classes = len(pools.class_names)
    remaining = fixed_orders(pools.train.labels, n_classes)
    check_counts(pools, remaining, config)
    test = (
        take_fixed(pools.test, config.n_test, n_classes)
        if pools.test
        else take_first(pools.train, remaining, config.n_test)
    )
    val = (
        take_fixed(pools.val, config.n_val, n_classes)
        if pools.val
        else take_first(pools.train, remaining, config.n_val)
    )
    block = streams.SYNTHETIC_TRAIN_POOL if parse_dataset_spec(config.source).kind == "synthetic" else None
    return FixedSplits(pools.class_names, pools.train, np.sort(np.concatenate(remaining)), val, test, block)


def pool_config(config: DataConfig) -> DataConfig:
    """The config that decides a source's pools: the per-call n_train only matters to a synthetic source (its pool
    grows by blocks), so real sources share one pool, hence one test set, across every training size."""
    if parse_dataset_spec(config.source).kind == "synthetic":
        return config
    return replace(config, n_train=config.pool_min or config.n_train)


def split_photos(pools: Pools, config: DataConfig) -> FixedSplits:
    split = split_by_content(pools.train.digests, pools.train.labels, pools.class_names, config.split_sizes())
    if split.duplicates or split.conflicts:
        store.log.info(
            "%s: %d duplicate photo(s) reduced to one, %d photo(s) filed under two classes left out",
            pools.name,
            split.duplicates,
            split.conflicts,
        )
    val, test = pools.train.take(split.val), pools.train.take(split.test)
    return FixedSplits(pools.class_names, pools.train, split.pool, val, test)


def check_pool(fixed: FixedSplits, labels: np.ndarray, n_train: int) -> None:
    """A training size larger than a class's pool is an error that names the class, never a silent smaller set."""
    short = [
        f"{name!r} has {int(np.sum(labels == c))}"
        for c, name in enumerate(fixed.class_names)
        if np.sum(labels == c) < n_train
    ]
    if short:
        raise TooFewPhotos(
            f"n_train={n_train} per class is more than the training pool holds: class {', '.join(short)} "
            "training photos (the rest are kept for validation and test). Ask for fewer per class or add photos"
        )


def fixed_orders(labels: np.ndarray, n_classes: int) -> list[np.ndarray]:
    """Per class, its positions in a fixed shuffled order (the same for every seed)."""
    return [
        np.random.default_rng([FIXED_SPLIT_SEED, c]).permutation(np.flatnonzero(labels == c)) for c in range(n_classes)
    ]


def take_first(pool: Pool, remaining: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n per class of the fixed orders, removed from `remaining` (so later takes are disjoint)."""
    chosen = []
    for c, positions in enumerate(remaining):
        chosen.append(positions[:n])
        remaining[c] = positions[n:]
    return pool.take(np.concatenate(chosen))


def take_fixed(pool: Pool, n: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """n per class from a ready-made val/test pool, in a fixed order (all of it when it holds exactly n)."""
    return take_first(pool, fixed_orders(pool.labels, n_classes), n)


def training_choice(
    labels: np.ndarray, n_classes: int, n_train: int, seed: int, block: int | None = None
) -> np.ndarray:
    """n_train per class: a prefix of a per-seed order of each class, hence nested in n_train.

    The order permutes each class's positions within consecutive blocks of `block` (None: one block, the whole
    class), block after block: a synthetic pool that grew by a block for a larger n_train keeps the first block's
    order, so smaller sizes draw exactly the images they drew from the smaller pool. Real sources use one block:
    their positions follow the files' order, which a block would carry into the choice."""
    chosen = []
    for c in range(n_classes):
        positions = np.flatnonzero(labels == c)
        size = block or max(len(positions), 1)
        blocks = [positions[start : start + size] for start in range(0, len(positions), size)]
        order = [np.random.default_rng([seed, c, 7, *([k] if k else [])]).permutation(b) for k, b in enumerate(blocks)]
        chosen.append(np.concatenate(order)[:n_train] if order else positions)
    return np.random.default_rng([seed, 11]).permutation(np.concatenate(chosen))  # classes mixed, even unshuffled


def check_counts(pools: Pools, remaining: list[np.ndarray], config: DataConfig) -> None:
    """Every class must hold what the config asks for; one DataError names every short class and split."""
    carved = [split for split in ("test", "val") if getattr(pools, split) is None]
    need = config.n_train + sum(getattr(config, f"n_{split}") for split in carved)
    asked = " + ".join(f"n_{split}={getattr(config, 'n_' + split)}" for split in ["train", *carved])
    shortages = []
    for c, name in enumerate(pools.class_names):
        if len(remaining[c]) < need:
            shortages.append(f"class {name!r} has {len(remaining[c])} training-pool images, {asked} needs {need}")
        for split in ("val", "test"):
            pool, wanted = getattr(pools, split), getattr(config, f"n_{split}")
            if pool is not None and np.sum(pool.labels == c) < wanted:
                shortages.append(
                    f"class {name!r} has {int(np.sum(pool.labels == c))} {split} images, "
                    f"n_{split}={wanted} asks for more"
                )
    if shortages:
        raise DataError(
            f"source {pools.name!r} is too small for the requested split: "
            + "; ".join(shortages)
            + ". Lower n_train/n_val/n_test or add images."
        )


# ---------------------------------------------------------------------------------------------------- sources


def load_pools(config: DataConfig) -> Pools:
    spec = parse_dataset_spec(config.source)
    cache_dir = Path(config.cache_dir) if config.cache_dir is not None else default_cache_dir()
    if spec.kind == "synthetic":
        return streams.synthetic_pools(
            spec.argument, config.image_size, config.n_val, config.n_test, cache_dir, config.purpose, config.n_train
        )
    if spec.kind == "tfds":
        if not has_tensorflow():
            raise DataError(
                f"tfds:{spec.argument} needs TensorFlow Datasets, which needs TensorFlow, and it is not installed "
                "(any KERAS_BACKEND can read it once it is): pip install tensorflow tensorflow-datasets, or use "
                "folder:PATH with one sub-folder per class"
            )
        from tl_claims.data.tfds_source import tfds_pools  # TensorFlow Datasets: imported only for this source

        return tfds_pools(spec.argument, config.image_size)
    if spec.kind == "tf_flowers":
        folder = photos.photo_folder(photos.resolution_for(config.image_size, spec.argument))
        return replace(folder_pools(folder, config.image_size, cache_dir), name=str(spec))
    return folder_pools(Path(spec.argument).expanduser().resolve(), config.image_size, cache_dir)
