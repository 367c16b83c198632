"""Data sources behind one interface, and the deterministic splits every claim shares.

A source turns into `Pools`: per-class images for training (and, where the source has them, ready-made val and test
images). `make_splits` then draws the splits with these rules, which the claims' paired statistics rely on:

- stratified: every split has the same count per class;
- the test set (and the val set) never depend on the seed: every seed and arm is scored on the same images;
- for one seed, training subsets are nested in `n_train` (10 ⊂ 25 ⊂ 50 ...), so learning curves are paired;
- different seeds draw different training subsets from the pool;
- val is disjoint from train and test; asking for more images than a source has is a DataError with the counts.

Sources (parsed in one place, `spec.py`): `synthetic[:FAMILY]` (a procedural family, `flowers` by default or
`objects`, written once as JPEG class folders in the cache and read back with
`keras.utils.image_dataset_from_directory`, the lesson's loader), `tfds:NAME` (`tfds.load(NAME, split="train")`,
resized, split here) and `folder:PATH` (a class-folder tree, with or without train/ val/ test/ sub-folders,
validated first; see `validate.py`).

Synthetic images come in generator streams (one generator seed each). The claims draw train / val / test from
streams 1 / 2 / 3; the calibration (`DataConfig(purpose="calibration")`) from streams 101 / 102 / 103, which no claim
ever reads: the data are tuned on images that never decide a claim. Real sources (tfds, folders) have no second
stream, so for them the calibration describes the same images the claims use.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from harness.core import store
from harness.core.paths import default_cache_dir
from harness.data import families, photos
from harness.data.content_split import SplitSizes, split_by_content
from harness.data.spec import parse_dataset_spec
from harness.data.validate import DataError, FolderReport, inspect_folder, to_rgb

SPLITS = ("train", "val", "test")
# Per class: the train pool grows in blocks of this many images, as many as n_train needs (at least one). Seeds
# draw different subsets below one block's size; a larger n_train adds whole blocks, and its choice keeps the
# smaller sizes' choice as a prefix (`training_choice`), so every number measured at n <= 300 stays the same.
SYNTHETIC_TRAIN_POOL = 300
PURPOSES = ("claims", "calibration")
# Generator seed per purpose and split: no two (purpose, split) pairs share a stream, hence never an image.
SYNTHETIC_STREAMS = {
    "claims": {"train": 1, "val": 2, "test": 3},
    "calibration": {"train": 101, "val": 102, "test": 103},
}
FIXED_SPLIT_SEED = 131  # carves val/test out of sources without them, identically for every seed
GENERATION_WORKERS = 2  # processes for generating synthetic images (the CPU suite targets a 2-core machine)
PARALLEL_THRESHOLD = 200  # below this many images a worker pool's start-up costs more than it saves
LOAD_BATCH = 256


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
    ) -> tf.data.Dataset:
        """Batches of (float32 images in 0..255, int32 labels), prefetched; augmentation only for "train"."""
        if augmentation is not None and split != "train":
            raise ValueError(
                f"augmentation never touches val/test: got augmentation for split={split!r}; "
                "evaluate on clean images and pass augmentation only for split='train'"
            )
        x, y = self.arrays(split)
        data = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle_seed is not None:
            data = data.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size).map(
            lambda images, labels: (tf.cast(images, tf.float32), labels), num_parallel_calls=tf.data.AUTOTUNE
        )
        if augmentation is not None:  # sequential map: seeded augmentation stays reproducible
            data = data.map(lambda images, labels: (augmentation(images, training=True), labels))
        return without_autotuning(data.prefetch(tf.data.AUTOTUNE))


def without_autotuning(data: tf.data.Dataset) -> tf.data.Dataset:
    """`data` with tf.data's autotuner off. The autotuner decides only how many threads and buffers feed the pipeline,
    never which elements come in which order (parallel maps keep their order, shuffles are seeded), so every batch is
    the same. Keras starts a new iterator every epoch, and an autotuned iterator leaves its core idle for moments while
    another process holds the other one: two training processes side by side ran at 71-89 % of a core each with it and
    97-99 % without (docs/measured-facts.md, "Two workers, one idle core")."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.with_options(options)


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


# ---------------------------------------------------------------------------------------------------- public


@functools.lru_cache(maxsize=256)
def load_splits(config: DataConfig, seed: int) -> Splits:
    """The splits for `config` and `seed`: deterministic, and the same object for the same arguments."""
    check_config(config)
    fixed = fixed_splits(config)
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
    pools = load_pools(pool_config(config))
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
    block = SYNTHETIC_TRAIN_POOL if parse_dataset_spec(config.source).kind == "synthetic" else None
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
        raise DataError(
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


def read_only(array: np.ndarray) -> np.ndarray:
    """Cached arrays are shared between callers: an in-place edit would silently change everyone's data."""
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


# ---------------------------------------------------------------------------------------------------- sources


def load_pools(config: DataConfig) -> Pools:
    spec = parse_dataset_spec(config.source)
    cache_dir = Path(config.cache_dir) if config.cache_dir is not None else default_cache_dir()
    if spec.kind == "synthetic":
        return synthetic_pools(
            spec.argument, config.image_size, config.n_val, config.n_test, cache_dir, config.purpose, config.n_train
        )
    if spec.kind == "tfds":
        return tfds_pools(spec.argument, config.image_size)
    if spec.kind == "tf_flowers":
        folder = photos.photo_folder(photos.resolution_for(config.image_size, spec.argument))
        return replace(folder_pools(folder, config.image_size, cache_dir), name=str(spec))
    return folder_pools(Path(spec.argument).expanduser().resolve(), config.image_size, cache_dir)


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
    the hash written with it (`harness.core.store`): a damaged one is reported in one line, deleted and generated again,
    never handed to TensorFlow (which would fail without naming it, on every run).
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


def read_class_folders(folder: Path, image_size: int, class_names: tuple[str, ...] | None = None):
    """Read a class-folder tree with `keras.utils.image_dataset_from_directory` into uint8 arrays.

    shuffle=False keeps the file order (class, then file name), so the result is deterministic.
    Returns (images, labels, file paths).
    """
    with contextlib.redirect_stdout(io.StringIO()):  # the loader prints "Found N files"; --json must stay JSON
        data = keras.utils.image_dataset_from_directory(
            folder,
            labels="inferred",
            label_mode="int",
            class_names=list(class_names) if class_names else None,
            color_mode="rgb",
            batch_size=LOAD_BATCH,
            image_size=(image_size, image_size),
            shuffle=False,
            verbose=False,
        )
    xs, ys = [np.zeros((0, image_size, image_size, 3), np.uint8)], [np.zeros((0,), np.int32)]
    for images, labels in data.as_numpy_iterator():
        xs.append(np.clip(np.round(images), 0, 255).astype(np.uint8))
        ys.append(labels.astype(np.int32))
    return np.concatenate(xs), np.concatenate(ys), list(data.file_paths)


@functools.lru_cache(maxsize=4)
def tfds_pools(name: str, image_size: int) -> Pools:
    """`tfds.load(name, split="train", as_supervised=True)`, resized like the folder loader; split here."""
    import tensorflow_datasets as tfds

    try:
        data, info = tfds.load(name, split="train", as_supervised=True, with_info=True)
    except Exception as error:  # offline, unknown name, failed download: all end the same way for the user
        raise DataError(
            f"tfds:{name} could not be loaded ({type(error).__name__}: {str(error).splitlines()[0][:200]}). "
            f"Run once on a connected machine so TensorFlow Datasets downloads it (or `tfds build {name}`), "
            "copy ~/tensorflow_datasets here, or use folder:PATH with one sub-folder per class"
        ) from error
    class_names = tuple(info.features["label"].names) if "label" in info.features else ()
    x, y, digests = materialise(data, image_size)
    if not class_names:
        class_names = tuple(str(i) for i in range(int(y.max()) + 1))
    return Pools(f"tfds:{name}", class_names, Pool.of_arrays(x, y, digests))


def materialise(data: tf.data.Dataset, image_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, label) pairs of any size -> resized uint8 arrays (bilinear, no crop: what the folder loader does), and
    a digest of each image's full-size pixels (a keyed 64-bit hash: the content split needs identity, not secrecy)."""

    def resize(image, label):
        digest = tf.strings.to_hash_bucket_strong(tf.io.serialize_tensor(image), 2**63 - 1, key=[131, 2026])
        image = tf.image.resize(
            image[..., :3] if image.shape[-1] != 1 else tf.image.grayscale_to_rgb(image), (image_size, image_size)
        )
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8), tf.cast(label, tf.int32), digest

    xs, ys = [np.zeros((0, image_size, image_size, 3), np.uint8)], [np.zeros((0,), np.int32)]
    digests = [np.zeros((0,), np.int64)]
    batches = data.map(resize, num_parallel_calls=tf.data.AUTOTUNE).batch(LOAD_BATCH).as_numpy_iterator()
    for images, labels, hashes in batches:
        xs.append(images)
        ys.append(labels)
        digests.append(hashes)
    return np.concatenate(xs), np.concatenate(ys), np.array([f"{h:016x}" for h in np.concatenate(digests)])


@functools.lru_cache(maxsize=4)
def folder_pools(root: Path, image_size: int, cache_dir: Path) -> Pools:
    """Validate the folder, normalise it into the cache if some files need converting, then read each split."""
    report = inspect_folder(root)
    readable = normalised_copy(report, cache_dir) if report.to_convert else report.root
    arrays = {}
    for split, split_dir in report.splits.items():
        x, y, paths = read_class_folders(readable / split_dir.relative_to(report.root), image_size, report.class_names)
        digests = np.array([store.sha256_of(Path(path)) for path in paths]) if split == "all" else None
        arrays[split] = Pool.of_arrays(x, y, digests)
    train = arrays.get("train", arrays.get("all"))
    return Pools(f"folder:{root}", report.class_names, train, arrays.get("val"), arrays.get("test"))


FOLDER_COPY_FORMAT = 2  # 2: copies (never hard links) with a manifest of hashes
MANIFEST = ".manifest.json"


def normalised_copy(report: FolderReport, cache_dir: Path) -> Path:
    """A copy of the tree the loader reads correctly: converted files as RGB PNG, the others copied (never hard
    links: editing the cache must not edit a user's photo). Keyed by every file's path, size and modification time;
    its manifest of hashes is checked on every use, and a damaged copy is reported, deleted and made again."""
    files = [path for classes in report.files.values() for paths in classes.values() for path in paths]
    fingerprint = hashlib.sha256(f"format {FOLDER_COPY_FORMAT}\n".encode())
    for path in files:
        stat = path.stat()
        fingerprint.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode(errors="surrogateescape"))
    target = Path(cache_dir) / "folders" / f"{report.root.name}-{fingerprint.hexdigest()[:16]}"
    if copy_intact(target):
        return target
    discard_folder(target)
    with store.temporary(target) as staging:
        write_copy(report, files, staging)
        with contextlib.suppress(OSError):  # an OSError: another process finished the same copy first
            staging.rename(target)
    return target


def write_copy(report: FolderReport, files: list[Path], staging: Path) -> None:
    convert = set(report.to_convert)
    manifest = {}
    for path in files:
        destination = staging / path.relative_to(report.root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path in convert:
            from PIL import Image

            destination = destination.with_name(destination.name + ".png")
            with Image.open(path) as image:
                to_rgb(image).save(destination)
        else:
            shutil.copyfile(path, destination)
        manifest[str(destination.relative_to(staging))] = store.sha256_of(destination)
    (staging / MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8", errors="surrogateescape")


def copy_intact(target: Path) -> bool:
    """Every file the manifest lists is there with its hash; a mismatch is reported in one line."""
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8", errors="surrogateescape"))
    except (OSError, ValueError):
        return False
    for relative, digest in manifest.items():
        path = target / relative
        if not path.is_file() or store.sha256_of(path) != digest:
            store.log.warning("cache entry %s is corrupt (%s changed); deleted, rebuilding it", target, relative)
            return False
    return True


def discard_folder(target: Path) -> None:
    """Move a damaged or outdated copy out of the way atomically, then delete it."""
    if target.exists():
        with store.temporary(target) as doomed, contextlib.suppress(OSError):
            target.rename(doomed)
