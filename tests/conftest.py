"""Helpers shared by the tests: a tiny backbone that trains in well under a second, labs' cache folders, and file
modes set for one test.

Keras is imported inside the helpers that use it: pytest loads this file in every process that is given a path under
tests/, pytest-xdist's controller included, and that process need not import TensorFlow."""

from __future__ import annotations

import importlib
import itertools
from typing import TYPE_CHECKING

import pytest

from tl_claims.core.paths import default_cache_dir

if TYPE_CHECKING:
    import keras

    from tl_claims.backbones.spec import BackboneSpec

TINY = "tiny_bn_test"

# numpy's extension modules load once per process, and pytester drops the modules a test imported: numpy's lazily
# loaded ones are loaded here, before any test (Keras' import did it when this file imported Keras).
for module in ("numpy.fft", "numpy.random"):
    importlib.import_module(module)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `longest` first (a stable sort: the rest keep their order). pytest-xdist hands modules out
    in the order of their first test (`make test`: --dist loadscope), so these modules start first and a long one
    collected last cannot keep one worker busy after the other is done."""
    items.sort(key=lambda item: item.get_closest_marker("longest") is None)


def tiny_base(image_size: int, include_top: bool, weights, cache_dir=None) -> keras.Model:
    """Two conv → BatchNorm → ReLU blocks: enough to check recipes and Keras' behaviour, not pretrained weights."""
    import keras

    inputs = keras.Input((image_size, image_size, 3))
    x = inputs
    for index, filters in enumerate((4, 8)):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{index}")(x)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
    return keras.Model(inputs, x, name="tiny_base")


def tiny_spec() -> BackboneSpec:
    """The tiny base as a backbone (random weights only)."""
    from tl_claims.backbones.spec import BackboneSpec, center_127_scale_128

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
    from tl_claims import backbones

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


def modes_restrict(folder) -> bool:
    """Whether file modes stop this process: not for root, nor for any process holding CAP_DAC_OVERRIDE (so a probe,
    not `os.geteuid()`: root with that capability dropped is restricted, a non-root process holding it is not)."""
    probe = folder / ".mode-probe"
    probe.mkdir()
    probe.chmod(0o500)
    try:
        (probe / "file").touch()
    except PermissionError:
        return True
    else:
        (probe / "file").unlink()
        return False
    finally:
        probe.chmod(0o700)
        probe.rmdir()


@pytest.fixture
def chmod(tmp_path):
    """`chmod(path, mode)` for one test, undone afterwards (so the temporary folders can be deleted); the test is
    skipped where modes do not restrict this process (run as root, they would prove nothing)."""
    if not modes_restrict(tmp_path):
        pytest.skip("file modes do not restrict this process (root or CAP_DAC_OVERRIDE)")
    changed = []

    def set_mode(path, mode: int) -> None:
        changed.append((path, path.stat().st_mode))
        path.chmod(mode)

    yield set_mode
    for path, mode in reversed(changed):
        path.chmod(mode)
