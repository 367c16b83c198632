"""Pretrained backbones behind one registry: `names()`, `get(name)` (the input contract), `load(name, ...)`.

from tl_claims import backbones
spec = backbones.get("efficientnet_lite0")
model = backbones.load(spec.name, image_size=96)          # 4-D features, ImageNet weights, offline
features = model(spec.preprocess(images_0_255))
"""

from tl_claims.backbones.registry import (
    MIN_IMAGE_SIZE,
    REGISTRY,
    InvalidImageSizeError,
    UnknownBackboneError,
    get,
    load,
    names,
    weights_on_disk,
)
from tl_claims.backbones.spec import BackboneSpec, WeightsUnavailableError, batchnorm_layers
from tl_claims.backbones.torch_legacy import UnsafePickleError

__all__ = [
    "MIN_IMAGE_SIZE",
    "REGISTRY",
    "BackboneSpec",
    "InvalidImageSizeError",
    "UnknownBackboneError",
    "UnsafePickleError",
    "WeightsUnavailableError",
    "batchnorm_layers",
    "get",
    "load",
    "names",
    "weights_on_disk",
]
