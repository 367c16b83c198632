"""Which Keras 3 backend this process runs on, and the GPUs that backend sees.

Keras fixes its backend when it is first imported (`KERAS_BACKEND`, else ~/.keras/keras.json, else TensorFlow), so
one process measures on one backend; a row records which (`Row.backend`), and the replication table compares rows
of several. What is TensorFlow by nature (the tf.data pipeline, `tf.image` ops, TensorFlow Datasets) asks
`on_tensorflow()` first and is imported only there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BACKENDS = ("tensorflow", "jax", "torch")
TENSORFLOW_ONLY = "TensorFlow by nature: runs under KERAS_BACKEND=tensorflow"  # the one-line reason of every skip


def configured_backend() -> str:
    """The backend Keras will pick, read as Keras reads it but without importing Keras (seconds, and TensorFlow
    with it): `KERAS_BACKEND`, else keras.json under `KERAS_HOME` (default ~/.keras), else TensorFlow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "keras.json"
    try:
        return str(json.loads(config.read_text(encoding="utf-8")).get("backend") or "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def keras_backend() -> str:
    """The backend Keras runs on in this process ("tensorflow", "jax", "torch")."""
    import keras

    return keras.backend.backend()


def on_tensorflow() -> bool:
    return keras_backend() == "tensorflow"


def visible_gpus() -> list[str]:
    """The GPUs the running backend sees, by its own names for them (empty on a CPU)."""
    backend = keras_backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
    return []
