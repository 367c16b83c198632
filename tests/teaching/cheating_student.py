"""A student who trains on every labelled image it can reach (issue 37): the tiny student (fixtures/tiny_student.py)
whose `build_datasets` adds to the training set whatever it finds beyond it. Its honest twin is this file with
`CHEAT = False`: the same code, the same calls, the tiny student's own pipeline.

The routes it tries: rebuilding the grader's split with `tl_claims.data.load_splits` (with the grader's cache and a
cache of its own), reading the photos folder and the tl-claims cache by hand, downloading tf_flowers, and keeping
every other validation set the grader hands it (the grader once passed the test images and labels there). It writes
the SHA-256 of every image its training calls receive or add to `LOG` (the grader's calls build the ImageNet model,
the scoring and the checks without weights), so that the test can check none of them is a test image.
tests/teaching/test_homework.py writes copies with the placeholders below filled in.
"""

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import tensorflow as tf

CHEAT = True
TINY_STUDENT = ""  # the tiny student's file: this student's model and compile functions are its own
DATA_FOLDER = ""  # the class folders of photos the grader reads (`--dataset folder:...`)
CACHE = ""  # the grader's --cache-dir
LOG = ""  # one SHA-256 a line: every image this student's training calls receive or add
EXTRA_COPIES = 8  # what it finds, repeated, so that it weighs in a short training

exec(compile(Path(TINY_STUDENT).read_text(encoding="utf-8"), TINY_STUDENT, "exec"))
honest_build_datasets = globals()["build_datasets"]
kept: list[tuple[np.ndarray, np.ndarray]] = []  # every other validation set handed in so far


def build_datasets(config):
    if not CHEAT:
        return honest_build_datasets(config)
    grader_data = config.weights is not None  # not the checks' random probe images (built without weights)
    if grader_data and not any(np.array_equal(images, config.x_val) for images, _ in kept):
        kept.append((config.x_val, config.y_val))
    others = [(images, labels) for images, labels in kept if not np.array_equal(images, config.x_val)]
    extra = [*reachable_splits(config), *others]
    if grader_data:  # a training call
        log_images([config.x_train, config.x_val, *(images for images, _ in extra)])
    if not extra:
        return honest_build_datasets(config)
    x_more = np.concatenate([images for images, _ in extra] * EXTRA_COPIES)
    y_more = np.concatenate([labels for _, labels in extra] * EXTRA_COPIES)
    _, val = honest_build_datasets(config)
    train = tf.data.Dataset.from_tensor_slices(
        (np.concatenate([config.x_train, x_more]), np.concatenate([config.y_train, y_more]).astype(np.int32))
    )
    cast = lambda images, labels: (tf.cast(images, tf.float32), labels)  # noqa: E731
    return train.shuffle(4096, seed=config.seed).batch(config.batch_size).map(cast), val


def reachable_splits(config) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every labelled image set this process can get beyond its training set, by every route it knows."""
    found = []
    for attempt in (rebuilt_split, photos_by_hand, downloaded):
        try:
            found += attempt(config)
        except Exception:
            continue
    return found


def rebuilt_split(config) -> list[tuple[np.ndarray, np.ndarray]]:
    from tl_claims.data import DataConfig, load_splits

    found = []
    for cache in (Path(CACHE) / "data", Path(tempfile.mkdtemp())):
        data = DataConfig(source=f"folder:{DATA_FOLDER}", image_size=config.image_size, n_train=4, n_val=2,
                          n_test=4, cache_dir=cache, pool_min=4, pool_max=4)  # fmt: skip
        try:
            splits = load_splits(data, config.seed)
        except Exception:
            continue
        found += [(splits.x_test, splits.y_test), (splits.x_val, splits.y_val)]
    return found


def photos_by_hand(config) -> list[tuple[np.ndarray, np.ndarray]]:
    images, labels = [], []
    for label, name in enumerate(config.class_names):
        for path in sorted((Path(DATA_FOLDER) / name).iterdir()):
            image = tf.image.decode_image(path.read_bytes(), channels=3, expand_animations=False)
            images.append(tf.image.resize(image, (config.image_size, config.image_size)).numpy().astype(np.uint8))
            labels.append(label)
    for _root, _folders, files in os.walk(CACHE):  # the cache, read through: only to show it can be
        for name in files:
            Path(_root, name).read_bytes()
    return [(np.stack(images), np.asarray(labels, np.int32))] if images else []


def downloaded(config) -> list[tuple[np.ndarray, np.ndarray]]:
    url = "http://download.tensorflow.org/example_images/flower_photos.tgz"
    urllib.request.urlopen(url, timeout=5).read(1)
    return []  # reaching it is the point: the grader's own split is not what it would download


def log_images(arrays: list[np.ndarray]) -> None:
    with open(LOG, "a", encoding="utf-8") as handle:
        for images in arrays:
            for image in images:
                handle.write(hashlib.sha256(np.ascontiguousarray(image, dtype=np.uint8).tobytes()).hexdigest() + "\n")
