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
import os
import shutil
from pathlib import Path

import keras
import numpy as np

from tl_claims.core import store
from tl_claims.core.install_check import has_tensorflow
from tl_claims.data.decode import read_rgb
from tl_claims.data.pools import Pool, Pools
from tl_claims.data.validate import IMAGE_EXTENSIONS, FolderReport, inspect_folder

LOAD_BATCH = 256


def read_class_folders(folder: Path, image_size: int, class_names: tuple[str, ...] | None = None):
    """Read a class-folder tree with `keras.utils.image_dataset_from_directory` into uint8 arrays.

    shuffle=False keeps the file order (class, then file name), so the result is deterministic.
    Returns (images, labels, file paths). The loader is tf.data underneath, whatever the Keras backend; where
    TensorFlow is not installed at all, Pillow reads the same files in the same order (`read_with_pillow`).
    """
    if not has_tensorflow():
        return read_with_pillow(folder, image_size, class_names)
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


def read_with_pillow(folder: Path, image_size: int, class_names: tuple[str, ...] | None = None):
    """`read_class_folders` without TensorFlow: the files `image_dataset_from_directory` would list (the class
    folders in order, each walked sorted, its image extensions), decoded to RGB by the one decoder (`decode.read_rgb`)
    and resized bilinearly by `keras.ops.image.resize` where their size differs. PNG files come out as TensorFlow
    decodes them; JPEG pixels differ by a few levels (TensorFlow decodes with libjpeg's fast integer DCT, Pillow with
    its accurate one), so a run without TensorFlow measures on very slightly different images
    (tests/data/test_folders.py)."""
    classes = list(class_names) if class_names else sorted(p.name for p in folder.iterdir() if is_class_dir(p))
    paths, labels = [], []
    for label, name in enumerate(classes):
        for root, _, files in sorted(os.walk(folder / name), key=lambda entry: entry[0]):
            found = [os.path.join(root, file) for file in sorted(files) if file.lower().endswith(IMAGE_EXTENSIONS)]
            paths += found
            labels += [label] * len(found)
    images = np.zeros((len(paths), image_size, image_size, 3), np.uint8)
    for index, path in enumerate(paths):
        image = np.asarray(read_rgb(path))  # the one decoder's rules (tl_claims.data.decode)
        if image.shape[:2] != (image_size, image_size):
            image = keras.ops.convert_to_numpy(
                keras.ops.image.resize(image.astype("float32"), (image_size, image_size), interpolation="bilinear")
            )
        images[index] = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return images, np.asarray(labels, np.int32), paths


def is_class_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".")


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
