"""Helpers shared by the tests: a tiny backbone that trains in well under a second, and labs' cache folders."""

import itertools

import keras
import pytest

from tl_claims import backbones
from tl_claims.backbones.spec import BackboneSpec, center_127_scale_128
from tl_claims.core.paths import default_cache_dir

TINY = "tiny_bn_test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `longest` first (a stable sort: the rest keep their order). pytest-xdist hands tests out in
    collection order, so a four-minute test collected last would keep one worker busy after the other is done."""
    items.sort(key=lambda item: item.get_closest_marker("longest") is None)


def tiny_base(image_size: int, include_top: bool, weights, cache_dir=None) -> keras.Model:
    """Two conv → BatchNorm → ReLU blocks: enough to check recipes and Keras' behaviour, not pretrained weights."""
    inputs = keras.Input((image_size, image_size, 3))
    x = inputs
    for index, filters in enumerate((4, 8)):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{index}")(x)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
    return keras.Model(inputs, x, name="tiny_base")


def tiny_spec() -> BackboneSpec:
    """The tiny base as a backbone (random weights only)."""
    return BackboneSpec(
        name=TINY,
        input_range=(-1.0, 1.0),
        default_image_size=32,
        weights_source="random",
        preprocess=center_127_scale_128,
        builder=tiny_base,
    )


@pytest.fixture
def tiny_backbone(monkeypatch) -> str:
    """Registers the tiny base as a backbone for one test; returns its name."""
    monkeypatch.setitem(backbones.REGISTRY, TINY, tiny_spec())
    return TINY


@pytest.fixture
def shared_data_cache(tmp_path):
    """A factory of empty cache folders that share the machine's generated synthetic data (generating it again
    would cost seconds per test and prove nothing)."""
    shared = default_cache_dir() / "data"
    shared.mkdir(parents=True, exist_ok=True)
    counter = itertools.count()

    def make():
        folder = tmp_path / f"cache-{next(counter)}"
        folder.mkdir()
        (folder / "data").symlink_to(shared, target_is_directory=True)
        return folder

    return make
