"""The registry's public contract, which other modules and outside checks code against."""

import warnings
from functools import cache

import keras
import numpy as np
import pytest
import tensorflow as tf

from tl_claims import backbones
from tl_claims.core.errors import HarnessError


@cache
def random_base(name: str) -> keras.Model:
    """One headless 32-px random-init build per entry, shared by the tests that only read it (builds are slow)."""
    return backbones.load(name, image_size=32, weights=None)


EXPECTED_NAMES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_b0", "mobilenet_v3_small", "mobilenet_v2"]
NATIVE_SIZE = {"efficientnet_lite1": 240}  # the others: 224


def test_names_lists_the_five_entries_default_first():
    assert backbones.names() == EXPECTED_NAMES
    assert all(backbones.get(name).name == name for name in EXPECTED_NAMES)


def test_weights_on_disk_looks_for_them_and_never_downloads(monkeypatch, tmp_path):
    from tl_claims.backbones import keras_apps

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path / "no_tmp"))
    monkeypatch.setattr(keras_apps, "_network_reachable", lambda url: pytest.fail("the network was probed"))
    assert backbones.weights_on_disk("efficientnet_lite0")  # its package is installed (make install)
    assert not backbones.weights_on_disk("efficientnet_b0")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / keras_apps.APPLICATIONS["efficientnet_b0"].notop_file).write_bytes(b"")
    assert backbones.weights_on_disk("efficientnet_b0")
    with pytest.raises(backbones.UnknownBackboneError):
        backbones.weights_on_disk("resnet")


def test_unknown_name_is_a_harness_value_error_listing_the_choices():
    with pytest.raises(backbones.UnknownBackboneError) as raised:
        backbones.get("resnet50")
    assert isinstance(raised.value, HarnessError) and isinstance(raised.value, ValueError)
    assert "'resnet50'" in str(raised.value) and all(name in str(raised.value) for name in EXPECTED_NAMES)
    with pytest.raises(backbones.UnknownBackboneError):
        backbones.load("resnet50", image_size=64)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_spec_declares_its_input_contract(name):
    spec = backbones.get(name)
    assert spec.default_image_size == NATIVE_SIZE.get(name, 224)
    assert isinstance(spec.weights_source, str) and spec.weights_source
    low, high = spec.input_range
    mapped = spec.preprocess(np.array([0, 255], dtype=np.uint8))
    assert mapped.dtype == np.float32
    np.testing.assert_allclose(mapped, [low, high], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "name, pixel, expected",
    [
        ("efficientnet_lite0", 127.0, 0.0),
        ("efficientnet_lite1", 127.0, 0.0),
        ("efficientnet_b0", 200.0, 200.0),
        ("mobilenet_v3_small", 200.0, 200.0),
        ("mobilenet_v2", 127.5, 0.0),
    ],
)
def test_preprocess_is_the_documented_formula(name, pixel, expected):
    assert backbones.get(name).preprocess(np.full((1, 2, 2, 3), pixel))[0, 0, 0, 0] == pytest.approx(expected)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_preprocess_keeps_tensors_tensors(name):
    """Used inside tf.data maps and Keras layers as well as on numpy arrays."""
    spec = backbones.get(name)
    images = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3)).astype(np.uint8)
    eager = spec.preprocess(tf.constant(images))
    assert tf.is_tensor(eager) and eager.dtype == tf.float32
    np.testing.assert_allclose(eager.numpy(), spec.preprocess(images), atol=1e-6)
    mapped = tf.data.Dataset.from_tensor_slices(images).map(spec.preprocess)
    np.testing.assert_allclose(np.stack(list(mapped.as_numpy_iterator())), spec.preprocess(images), atol=1e-6)
    symbolic = keras.Input((4, 4, 3))
    model = keras.Model(symbolic, spec.preprocess(symbolic))
    np.testing.assert_allclose(model.predict(images.astype(np.float32), verbose=0), spec.preprocess(images), atol=1e-5)


@pytest.mark.parametrize("image_size", [31, 0, -5, 64.0, "64", True, None])
def test_image_size_below_32_or_not_an_int_is_refused(image_size):
    with pytest.raises(backbones.InvalidImageSizeError, match="image_size must be an integer >= 32") as raised:
        backbones.load("efficientnet_lite0", image_size=image_size, weights=None)
    assert isinstance(raised.value, HarnessError) and isinstance(raised.value, ValueError)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
@pytest.mark.parametrize("include_top", [False, True])
def test_random_init_at_the_smallest_size_with_and_without_head(name, include_top):
    model = backbones.load(name, image_size=32, include_top=True, weights=None) if include_top else random_base(name)
    assert model.name == name and model.input_shape == (None, 32, 32, 3)
    if include_top:
        assert model.output_shape == (None, 1000)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a bare tensor is the input Keras expects: no structure warning
            probabilities = np.asarray(model(np.zeros((1, 32, 32, 3), np.float32), training=False))
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    else:
        assert len(model.output_shape) == 4 and model.output_shape[1:3] == (1, 1)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_batchnorm_layers_finds_all_of_them_also_when_nested(name):
    base = random_base(name)
    direct = backbones.batchnorm_layers(base)
    assert direct and all(isinstance(layer, keras.layers.BatchNormalization) for layer in direct)
    assert len(direct) == sum(isinstance(layer, keras.layers.BatchNormalization) for layer in base.layers)
    inputs = keras.Input((32, 32, 3))
    head = keras.layers.BatchNormalization(name="head_bn")(keras.layers.GlobalAveragePooling2D()(base(inputs)))
    wrapper = keras.Model(inputs, head)
    assert backbones.batchnorm_layers(wrapper) == [*direct, wrapper.get_layer("head_bn")]
