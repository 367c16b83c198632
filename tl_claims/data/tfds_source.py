"""`tfds:NAME`: a TensorFlow Datasets data set, loaded once (the network the first time), resized like the folder
loader, with a digest of each image's full-size pixels for the content split."""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from tl_claims.data.folders import LOAD_BATCH
from tl_claims.data.pools import Pool, Pools
from tl_claims.data.validate import DataError


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
