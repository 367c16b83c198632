"""keras.applications entries: offline errors, local weights files, Keras' cache, and the preprocessing facts."""

import time
from functools import cache

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from tl_claims import backbones
from tl_claims.backbones import keras_apps
from tl_claims.core.errors import HarnessError

KERAS_ENTRIES = ["efficientnet_b0", "mobilenet_v3_small", "mobilenet_v2"]


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    """An empty Keras download cache, and a network that never answers (nothing may be fetched in tests)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(keras_apps.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    monkeypatch.setattr(keras_apps, "_network_reachable", lambda url: False)
    return tmp_path / "keras_home" / "models"


@cache
def random_base(name: str) -> keras.Model:
    """One headless 32-px random-init build per entry, shared by the tests that only read it (builds are slow)."""
    return backbones.load(name, image_size=32, weights=None)


def assert_same_weights(first: keras.Model, second: keras.Model) -> None:
    assert len(first.weights) == len(second.weights)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def write_keras_cache_file(model: keras.Model, folder, file_name: str) -> None:
    """What a connected machine leaves in ~/.keras/models: a legacy-format .h5 of the weights."""
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / file_name, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, model)


# ------------------------------------------------------------------------------------------------------ offline


@pytest.mark.parametrize("name", KERAS_ENTRIES)
@pytest.mark.parametrize("include_top", [False, True])
def test_offline_without_the_file_fails_fast_naming_the_file_and_the_ways_out(empty_keras_home, name, include_top):
    start = time.perf_counter()
    with pytest.raises(backbones.WeightsUnavailableError) as raised:
        backbones.load(name, image_size=64, include_top=include_top)
    elapsed = time.perf_counter() - start
    message = str(raised.value)
    assert f"'{keras_apps.APPLICATIONS[name].weights_file(include_top)}'" in message
    assert "connected machine" in message and "~/.keras/models/" in message and "weights=PATH" in message
    assert isinstance(raised.value, HarnessError) and isinstance(raised.value, FileNotFoundError)
    assert elapsed < 5.0  # checked before any model is built or download attempted


def test_a_failed_download_is_reported_the_same_way(empty_keras_home, monkeypatch):
    monkeypatch.setattr(keras_apps, "_network_reachable", lambda url: True)

    def refuse(*args, **kwargs):
        raise OSError("connection reset")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    with pytest.raises(backbones.WeightsUnavailableError, match=r"download failed .*connection reset"):
        backbones.load("mobilenet_v2", image_size=32)


def test_the_network_probe_answers_false_quickly_for_an_unresolvable_host():
    start = time.perf_counter()
    assert keras_apps._network_reachable("https://no-such-host.invalid/weights.h5") is False
    assert time.perf_counter() - start < keras_apps.NETWORK_PROBE_TIMEOUT_S + 1.5


# ------------------------------------------------------------------------------------------- local weights files


@pytest.mark.parametrize("name", KERAS_ENTRIES)
def test_weights_path_loads_a_file_the_test_saved_itself(tmp_path, name):
    saved = random_base(name)
    saved.save_weights(tmp_path / f"{name}.weights.h5")
    keras.utils.set_random_seed(2)
    loaded = backbones.load(name, image_size=48, weights=tmp_path / f"{name}.weights.h5")
    assert loaded.input_shape == (None, 48, 48, 3)
    assert_same_weights(saved, loaded)


def test_missing_or_mismatched_weights_path_is_a_clear_error(tmp_path):
    with pytest.raises(backbones.WeightsUnavailableError, match="does not exist"):
        backbones.load("mobilenet_v2", image_size=32, weights=tmp_path / "absent.weights.h5")
    random_base("mobilenet_v3_small").save_weights(tmp_path / "v3.weights.h5")
    with pytest.raises(HarnessError, match=r"could not load weights .*same backbone"):
        backbones.load("mobilenet_v2", image_size=32, weights=tmp_path / "v3.weights.h5")


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "efficientnet_b0"])
def test_imagenet_uses_the_file_in_keras_cache_at_any_size_and_with_the_head(empty_keras_home, name):
    reference = backbones.load(name, image_size=32, include_top=True, weights=None)
    write_keras_cache_file(reference, empty_keras_home, keras_apps.APPLICATIONS[name].top_file)
    loaded = backbones.load(name, image_size=64, include_top=True)  # Keras alone would insist on 224 px here
    assert loaded.output_shape == (None, 1000)
    assert_same_weights(reference, loaded)


# -------------------------------------------------------------------------------------------- preprocessing facts


def _layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_efficientnet_preprocess_input_is_the_identity_and_b0_rescales_inside():
    images = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(keras.applications.efficientnet.preprocess_input(images), images)
    np.testing.assert_array_equal(backbones.get("efficientnet_b0").preprocess(images), images)
    model = random_base("efficientnet_b0")
    types = _layer_types(model)
    assert types.index("Rescaling") < types.index("Normalization") < types.index("Conv2D")
    assert model.layers[types.index("Rescaling")].scale == pytest.approx(1 / 255)
    assert backbones.get("efficientnet_b0").input_range == (0.0, 255.0)


def test_b0_with_pretrained_weights_gets_keras_imagenet_input_stem(tmp_path):
    """Keras adds Rescaling(1/sqrt(std)) after Normalization only for ImageNet weights; so do we for weights=PATH."""
    random_init = random_base("efficientnet_b0")
    assert _layer_types(random_init)[1:4] == ["Rescaling", "Normalization", "ZeroPadding2D"]
    random_init.save_weights(tmp_path / "b0.weights.h5")
    pretrained = backbones.load("efficientnet_b0", image_size=32, weights=tmp_path / "b0.weights.h5")
    assert _layer_types(pretrained)[1:4] == ["Rescaling", "Normalization", "Rescaling"]


def test_mobilenet_v3_small_rescales_inside_to_minus_one_one():
    model = random_base("mobilenet_v3_small")
    rescaling = model.layers[_layer_types(model).index("Rescaling")]
    assert rescaling.scale == pytest.approx(1 / 127.5) and rescaling.offset == pytest.approx(-1.0)
    assert backbones.get("mobilenet_v3_small").input_range == (0.0, 255.0)


def test_mobilenet_v2_expects_minus_one_one_and_has_no_rescaling_inside():
    pixels = np.array([0.0, 127.5, 255.0], dtype=np.float32)
    expected = np.array([-1.0, 0.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose(keras.applications.mobilenet_v2.preprocess_input(pixels.copy()), expected, atol=1e-6)
    np.testing.assert_allclose(backbones.get("mobilenet_v2").preprocess(pixels), expected, atol=1e-6)
    assert backbones.get("mobilenet_v2").input_range == (-1.0, 1.0)
    assert "Rescaling" not in _layer_types(random_base("mobilenet_v2"))
