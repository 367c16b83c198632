"""Class-folder trees read with the lesson's loader (`keras.utils.image_dataset_from_directory`): a user's folder,
the shipped photos and the generated families' cached folders all come in this way. A folder whose files the
loader would misread is first normalised into a checked copy in the cache, those files converted by the shared
decoder (`decode.py`, which `predict` uses too)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import shutil
from pathlib import Path

import keras
import numpy as np

from tl_claims.core import store
from tl_claims.data.decode import read_rgb
from tl_claims.data.pools import Pool, Pools
from tl_claims.data.validate import FolderReport, inspect_folder

LOAD_BATCH = 256


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


FOLDER_COPY_FORMAT = 3  # 2: copies (never hard links) with a manifest of hashes; 3: every BMP converted


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
            destination = destination.with_name(destination.name + ".png")
            read_rgb(path).save(destination)
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
