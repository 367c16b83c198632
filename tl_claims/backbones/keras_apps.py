"""Backbones from `keras.applications`: EfficientNetB0, MobileNetV3Small, MobileNetV2.

Their ImageNet weights live in Keras' download cache (`$KERAS_HOME/models`, default `~/.keras/models`). We look for
the expected file first, so that offline the answer is an immediate, specific error instead of a stalled download.
The network is tried only when the storage host answers.

Every model is built at the requested size and then given weights: the weights do not depend on the input size,
which lets us offer any size >= 32 with or without the head, where Keras itself insists on 224 px for the head.
"""

from __future__ import annotations

import importlib
import os
import socket
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import keras

from tl_claims.backbones.spec import (
    Weights,
    WeightsUnavailableError,
    load_keras_weights_file,
    require_weights_file,
    strict_weights_loading,
)
from tl_claims.core.errors import HarnessError

NUM_CLASSES = 1000
NETWORK_PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class KerasApplication:
    """A keras.applications constructor and the names of its ImageNet files in Keras' cache."""

    constructor: str  # attribute of keras.applications
    top_file: str
    notop_file: str
    origin_folder: str
    extra_kwargs: tuple[tuple[str, object], ...] = ()

    def weights_file(self, include_top: bool) -> str:
        return self.top_file if include_top else self.notop_file


APPLICATIONS = {
    "efficientnet_b0": KerasApplication(
        "EfficientNetB0",
        "efficientnetb0.h5",
        "efficientnetb0_notop.h5",
        "https://storage.googleapis.com/keras-applications/",
    ),
    "mobilenet_v3_small": KerasApplication(
        "MobileNetV3Small",
        "weights_mobilenet_v3_small_224_1.0_float.h5",
        "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/",
        (("include_preprocessing", True),),
    ),
    "mobilenet_v2": KerasApplication(
        "MobileNetV2",
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/",
    ),
}


# ------------------------------------------------------------------------------------------------ finding weights


def keras_models_dirs() -> list[Path]:
    """Where Keras caches downloads: `$KERAS_HOME/models` (else `~/.keras/models`), then its /tmp fallback."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return [Path(home) / "models", Path(tempfile.gettempdir()) / ".keras" / "models"]


def find_cached(file_name: str) -> Path | None:
    return next((folder / file_name for folder in keras_models_dirs() if (folder / file_name).is_file()), None)


def _network_reachable(url: str) -> bool:
    """Can we open a TCP connection to the host of `url`? Bounded in time even if DNS hangs."""
    host = urllib.parse.urlsplit(url).hostname
    answered: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, 443), timeout=NETWORK_PROBE_TIMEOUT_S).close()
            answered.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(NETWORK_PROBE_TIMEOUT_S + 1.0)
    return bool(answered)


def _unavailable(name: str, file_name: str, reason: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f"{name}: ImageNet weights file '{file_name}' is not in {keras_models_dirs()[0]} and {reason}. Two ways out: "
        "run once on a connected machine (Keras caches the file in ~/.keras/models/, copy it here), "
        "or pass weights=PATH to a local weights file (e.g. saved with model.save_weights)"
    )


def imagenet_weights_path(name: str, include_top: bool) -> Path:
    """The cached ImageNet file for this entry, downloaded through Keras if missing and the network answers."""
    app = APPLICATIONS[name]
    file_name = app.weights_file(include_top)
    cached = find_cached(file_name)
    if cached is not None:
        return cached
    origin = app.origin_folder + file_name
    if not _network_reachable(origin):
        raise _unavailable(name, file_name, "the network is unreachable")
    try:
        return Path(keras.utils.get_file(file_name, origin, cache_subdir="models"))
    except Exception as error:
        raise _unavailable(name, file_name, f"the download failed ({type(error).__name__}: {error})") from None


# ---------------------------------------------------------------------------------------------------------- build


def _constructor_kwargs(name: str, include_top: bool) -> dict:
    app = APPLICATIONS[name]
    kwargs = dict(include_top=include_top, classes=NUM_CLASSES, classifier_activation="softmax", name=name)
    kwargs.update(app.extra_kwargs)
    return kwargs


def _named_input(image_size: int) -> keras.KerasTensor:
    """Passing the input as a tensor names it deterministically and lets Keras accept any size with the head."""
    return keras.Input((image_size, image_size, 3), name="images")


def _single_input(model: keras.Model) -> keras.Model:
    """Given `input_tensor`, Keras makes the inputs a one-element list, and then warns on every `model(x)`; the
    same graph re-wrapped with a bare input tensor takes `x` silently."""
    return keras.Model(model.inputs[0], model.outputs[0], name=model.name)


def _build_random(name: str, image_size: int, include_top: bool) -> keras.Model:
    constructor = getattr(keras.applications, APPLICATIONS[name].constructor)
    kwargs = _constructor_kwargs(name, include_top)
    return _single_input(constructor(weights=None, input_tensor=_named_input(image_size), **kwargs))


def _build_efficientnet_b0_imagenet(image_size: int, include_top: bool, weights_path: Path) -> keras.Model:
    """B0 with Keras' ImageNet input stem, loaded from `weights_path`.

    Why the detour: Keras adds a weightless `Rescaling(1/sqrt(std))` after its Normalization layer only when
    `weights == "imagenet"`, so a weights=None build plus `load_weights` would be subtly wrong. We let Keras build
    its ImageNet variant, handing it our resolved file instead of its download, and pass the size through
    `input_tensor` (Keras refuses non-224 `input_shape` with the head; the weights do not care).
    """
    weights_path = require_weights_file(weights_path, "efficientnet_b0")
    calls: list[str] = []

    def resolved_file(*_args, **_kwargs) -> str:
        calls.append("get_file")
        return str(weights_path)

    file_utils = importlib.import_module("keras.src.utils.file_utils")
    inputs = _named_input(image_size)
    fetch_resolved_file = mock.patch.object(file_utils, "get_file", resolved_file)
    with strict_weights_loading("efficientnet_b0", weights_path), fetch_resolved_file:
        model = keras.applications.EfficientNetB0(
            weights="imagenet", input_tensor=inputs, **_constructor_kwargs("efficientnet_b0", include_top)
        )
    if not calls:
        raise HarnessError("efficientnet_b0: this Keras version no longer fetches weights as expected; weights not set")
    return _single_input(model)


def _load_weights_into(model: keras.Model, weights_path: Path, name: str) -> keras.Model:
    load_keras_weights_file(model, weights_path, name)
    return model


def builder(name: str):
    """The `(image_size, include_top, weights, cache_dir) -> keras.Model` function for one keras.applications entry
    (Keras keeps its own weights cache under ~/.keras/models, so `cache_dir` is not used)."""

    def build(image_size: int, include_top: bool, weights: Weights, cache_dir: Path | None = None) -> keras.Model:
        if weights is None:
            return _build_random(name, image_size, include_top)
        path = imagenet_weights_path(name, include_top) if weights == "imagenet" else Path(weights)
        if name == "efficientnet_b0":
            return _build_efficientnet_b0_imagenet(image_size, include_top, path)
        return _load_weights_into(_build_random(name, image_size, include_top), path, name)

    return build
