"""EfficientNet-Lite0: architecture, weight conversion, the on-disk cache, and fidelity on real photos."""

import logging
import time

import keras
import numpy as np
import pytest
import skimage.data
from PIL import Image

from tl_claims import backbones
from tl_claims.backbones import lite0
from tl_claims.backbones.torch_legacy import read_state_dict
from tl_claims.core import store
from tl_claims.core.errors import HarnessError

CAT, ESPRESSO, LOUDSPEAKER = 285, 967, 632


def photo(loader, size: int = 224) -> np.ndarray:
    return np.asarray(Image.fromarray(loader()).resize((size, size), Image.BILINEAR))


# ------------------------------------------------------------------------------------------------- architecture


def test_architecture_is_lite0_b0_layout_no_squeeze_excite_relu6():
    model = lite0.build(64, include_top=True)
    names = [layer.name for layer in model.layers]
    assert model.name == "efficientnet_lite0"
    assert len([n for n in names if n.endswith("_dwconv")]) == 16
    assert [sum(n.startswith(f"block{s}") and n.endswith("dwconv") for n in names) for s in range(1, 8)] == [
        1,
        2,
        2,
        3,
        3,
        4,
        1,
    ]
    assert not any("se_" in n or "squeeze" in n for n in names)
    assert {type(layer).__name__ for layer in model.layers if "activation" in layer.name} == {"ReLU"}
    assert all(layer.max_value == 6.0 for layer in model.layers if isinstance(layer, keras.layers.ReLU))
    assert all(bn.epsilon == 1e-3 for bn in backbones.batchnorm_layers(model))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.padding == "same" for layer in convs)
    assert model.get_layer("stem_conv").filters == 32 and model.get_layer("top_conv").filters == 1280
    assert model.count_params() == 4_694_024  # every float tensor of the .pth, no more, no less


def test_layer_names_are_deterministic_and_size_independent():
    first, second = lite0.build(32, include_top=False), lite0.build(96, include_top=False)
    assert [layer.name for layer in first.layers] == [layer.name for layer in second.layers]
    assert first.output_shape == (None, 1, 1, 1280) and second.output_shape == (None, 3, 3, 1280)


def test_random_init_is_seeded_by_keras_set_random_seed():
    def random_stem():
        keras.utils.set_random_seed(3)
        return backbones.load("efficientnet_lite0", image_size=32, weights=None).get_layer("stem_conv").get_weights()

    np.testing.assert_array_equal(random_stem()[0], random_stem()[0])


# --------------------------------------------------------------------------------------------------- conversion


def test_conversion_maps_every_tensor_with_keras_layouts():
    state = read_state_dict(lite0.installed_weights_path())
    converted = lite0.convert_state_dict(state)
    assert sum(len(w) for w in converted.values()) == 296 - 49  # num_batches_tracked (one per BN) is dropped
    np.testing.assert_array_equal(converted["stem_conv"][0], state["_conv_stem.weight"].transpose(2, 3, 1, 0))
    assert converted["block2a_dwconv"][0].shape == (3, 3, 96, 1)
    assert converted["block2a_expand_conv"][0].shape == (1, 1, 16, 96)
    np.testing.assert_array_equal(converted["predictions"][0], state["_fc.weight"].T)
    np.testing.assert_array_equal(converted["top_bn"][3], state["_bn1.running_var"])


def test_headless_imagenet_load_skips_the_head_and_matches_the_converted_weights(cache_dir):
    model = backbones.load("efficientnet_lite0", image_size=64, include_top=False)
    assert model.output_shape == (None, 2, 2, 1280)
    converted = lite0.keras_weights_from_pth(lite0.installed_weights_path())
    for name in ["stem_conv", "block6d_project_bn", "top_bn"]:
        for actual, expected in zip(model.get_layer(name).get_weights(), converted[name]):
            np.testing.assert_array_equal(actual, expected)


# -------------------------------------------------------------------------------------------------------- cache


def test_cache_is_written_once_keyed_by_source_hash(cache_dir):
    lite0.keras_weights_from_pth(lite0.installed_weights_path())
    arrays = sorted((cache_dir / "backbones").glob("*.npz"))
    source_sha256 = store.sha256_of(lite0.installed_weights_path())
    assert len(arrays) == 1 and arrays[0].name.startswith(
        f"efficientnet_lite0-{source_sha256[:16]}-v{lite0.CONVERTER_VERSION}"
    )
    assert store.sidecar_of(arrays[0]).read_text().strip() == store.sha256_of(arrays[0])
    with np.load(arrays[0]) as archive:
        assert len(archive.files) == 247


@pytest.mark.parametrize("damage", ["flip_bytes", "truncate", "wrong_hash", "garbled_sidecar"])
def test_a_corrupt_cache_is_reported_in_one_line_and_rebuilt(cache_dir, caplog, damage):
    source = lite0.installed_weights_path()
    reference = lite0.keras_weights_from_pth(source)
    (arrays,) = (cache_dir / "backbones").glob("*.npz")
    sidecar = store.sidecar_of(arrays)
    if damage == "flip_bytes":
        data = bytearray(arrays.read_bytes())
        data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
        arrays.write_bytes(bytes(data))
    elif damage == "truncate":
        arrays.write_bytes(arrays.read_bytes()[:1000])
    elif damage == "wrong_hash":
        sidecar.write_text("0" * 64)
    else:
        sidecar.write_bytes(b"\xff\xfe{not a hash")
    lite0.forget_in_memory_weights()
    with caplog.at_level(logging.WARNING):
        rebuilt = lite0.keras_weights_from_pth(source)
    (line,) = [record.getMessage() for record in caplog.records if "corrupt" in record.getMessage()]
    assert arrays.name in line and "rebuilding" in line and "\n" not in line
    for name in reference:
        for a, b in zip(rebuilt[name], reference[name]):
            np.testing.assert_array_equal(a, b)
    caplog.clear()
    lite0.forget_in_memory_weights()
    lite0.keras_weights_from_pth(source)  # the rebuilt cache now checks out: silent
    assert "rebuilding" not in caplog.text


def test_an_unwritable_cache_costs_speed_not_correctness(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("TL_CLAIMS_CACHE", str(blocker))  # cache "directory" is a file: every write fails
    lite0.forget_in_memory_weights()
    with caplog.at_level(logging.WARNING):
        converted = lite0.keras_weights_from_pth(lite0.installed_weights_path())
    lite0.forget_in_memory_weights()
    assert "could not write the cache entry" in caplog.text and len(converted) == 99


def test_a_state_dict_of_another_network_is_a_clear_error():
    with pytest.raises(HarnessError, match="not an EfficientNet-Lite0 state dict"):
        lite0.convert_state_dict({"conv1.weight": np.zeros((64, 3, 7, 7), np.float32)})


def test_missing_weights_files_raise_weights_unavailable(cache_dir, tmp_path):
    with pytest.raises(backbones.WeightsUnavailableError, match="does not exist"):
        backbones.load("efficientnet_lite0", image_size=32, weights=tmp_path / "absent.pth")


def test_a_keras_weights_file_round_trips(cache_dir, tmp_path):
    saved = backbones.load("efficientnet_lite0", image_size=32, weights=None)
    saved.save_weights(tmp_path / "lite0.weights.h5")
    loaded = backbones.load("efficientnet_lite0", image_size=48, weights=tmp_path / "lite0.weights.h5")
    for a, b in zip(saved.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------------------------- fidelity


def test_chelsea_is_an_egyptian_cat(cache_dir):
    """The cheap fidelity check for the fast suite: one photo, 224 px, head on."""
    spec = backbones.get("efficientnet_lite0")
    model = backbones.load(spec.name, image_size=224, include_top=True)
    probabilities = model.predict(spec.preprocess(photo(skimage.data.chelsea)[None]), verbose=0)[0]
    assert probabilities.argmax() == CAT and probabilities[CAT] > 0.5


@pytest.mark.cpu
def test_real_photos_classify_right_only_with_the_right_preprocessing(cache_dir):
    """docs/measured-facts.md: chelsea -> 285 (p ~0.79), coffee -> 967 (p ~0.91); raw 0-255 pixels change both."""
    spec = backbones.get("efficientnet_lite0")
    model = backbones.load(spec.name, image_size=224, include_top=True)
    images = np.stack([photo(skimage.data.chelsea), photo(skimage.data.coffee)])
    right = model.predict(spec.preprocess(images), verbose=0)
    raw = model.predict(images.astype(np.float32), verbose=0)
    assert list(right.argmax(axis=1)) == [CAT, ESPRESSO]
    assert right[0, CAT] > 0.6 and right[1, ESPRESSO] > 0.7
    assert raw[0].argmax() != CAT and raw[1].argmax() != ESPRESSO
    print(
        f"\npreprocessed: top-1 {right.argmax(1).tolist()}, p {[f'{p:.3f}' for p in right.max(1)]}; "
        f"raw 0-255: top-1 {raw.argmax(1).tolist()}, p {[f'{p:.3f}' for p in raw.max(1)]}"
    )


@pytest.mark.cpu
def test_measure_cold_vs_warm_lite0_load(cache_dir):
    """A measurement, printed, not asserted: wall time of load() with an empty cache, then with a warm one."""

    def timed_load() -> float:
        start = time.perf_counter()
        backbones.load("efficientnet_lite0", image_size=224, include_top=True)
        return time.perf_counter() - start

    def timed_weights() -> float:
        start = time.perf_counter()
        lite0.keras_weights_from_pth(lite0.installed_weights_path())
        return time.perf_counter() - start

    first = timed_load()  # converts and writes the disk cache
    second = timed_load()  # same process: weights from memory
    lite0.forget_in_memory_weights()
    from_disk = timed_load()  # as a new process would: weights from the disk cache
    lite0.forget_in_memory_weights()
    for path in (cache_dir / "backbones").iterdir():
        path.unlink()
    weights_cold, weights_disk, weights_memory = timed_weights(), 0.0, 0.0
    lite0.forget_in_memory_weights()
    weights_disk = timed_weights()
    weights_memory = timed_weights()
    print(
        f"\nLite0 load() at 224 px with head: first {first:.3f} s, second {second:.3f} s "
        f"(x{first / second:.1f}), warm disk cache in a fresh memory {from_disk:.3f} s (x{first / from_disk:.1f})"
        f"\nweights stage only: convert {weights_cold * 1e3:.0f} ms, disk cache {weights_disk * 1e3:.0f} ms "
        f"(x{weights_cold / weights_disk:.1f}), memory {weights_memory * 1e3:.2f} ms"
    )
    assert any((cache_dir / "backbones").glob("*.npz"))
