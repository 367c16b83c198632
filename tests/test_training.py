"""The recipe: unfreezing a fraction, the BatchNorm policies under `fit`, the recompile fact, differential groups, and
the lab's promise that arms sharing a stage-1 model start from identical weights.

A tiny two-block base with BatchNorm stands in for Lite0 (registered as a backbone for the test), so each check
trains in well under a second; what is checked is the recipe and Keras' behaviour, not the pretrained weights.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import backbones, measures, training
from harness.backbones.spec import BackboneSpec, center_127_scale_128
from harness.lab import Lab
from harness.paths import default_cache_dir
from harness.scales import SCALES

TINY = "tiny_bn_test"
SIZE = 32


def tiny_base(image_size: int, include_top: bool, weights) -> keras.Model:
    inputs = keras.Input((image_size, image_size, 3))
    x = inputs
    for index, filters in enumerate((4, 8)):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{index}")(x)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
    return keras.Model(inputs, x, name="tiny_base")


@pytest.fixture(autouse=True)
def tiny_backbone(monkeypatch):
    spec = BackboneSpec(name=TINY, input_range=(-1.0, 1.0), default_image_size=SIZE, weights_source="random",
                        preprocess=center_127_scale_128, builder=tiny_base)
    monkeypatch.setitem(backbones.REGISTRY, TINY, spec)


def classifier(bn_policy: str = "frozen") -> training.Classifier:
    keras.utils.set_random_seed(0)
    return training.build_classifier(TINY, image_size=SIZE, num_classes=3, bn_policy=bn_policy)


def images_and_labels(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (n, SIZE, SIZE, 3)).astype("float32"), rng.integers(0, 3, n)


def trainable_layer_names(model: keras.Model) -> set[str]:
    return {layer.name for layer in training.weighted_layers(model) if layer.trainable_weights}


# --- unfreeze ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fraction", "bn_policy", "expected"), [
    (1.0, "train", {"conv0", "bn0", "conv1", "bn1"}),
    (1.0, "frozen", {"conv0", "conv1"}),
    (0.5, "train", {"conv1", "bn1"}),
    (0.5, "frozen", {"conv1"}),
    (0.0, "train", set()),
])
def test_unfreeze_trains_the_top_fraction_and_bn_per_policy(fraction, bn_policy, expected):
    model = classifier()
    training.unfreeze(model, fraction=fraction, bn_policy=bn_policy)
    assert trainable_layer_names(model.base) == expected


def test_unfreeze_rejects_a_fraction_outside_0_1():
    with pytest.raises(ValueError, match="fraction"):
        training.unfreeze(classifier(), fraction=1.5)


# --- BatchNorm policies under fit ----------------------------------------------------------------------------------
def moving_statistics_unchanged_by_fit(bn_policy: str) -> float:
    model = classifier(bn_policy)
    before = measures.moving_statistics(model.base, TINY)
    training.unfreeze(model, bn_policy=bn_policy)
    training.compile_model(model.model, 1e-3)
    model.model.fit(*images_and_labels(), batch_size=8, epochs=1, verbose=0)
    return measures.fraction_of_statistics_unchanged(before, measures.moving_statistics(model.base, TINY))


def test_bn_trainable_false_keeps_moving_statistics_fixed():
    assert moving_statistics_unchanged_by_fit("frozen") == 1.0


def test_bn_training_mode_updates_moving_statistics():
    assert moving_statistics_unchanged_by_fit("train") < 0.01


@pytest.mark.skipif(keras.__version__ != "3.15.1", reason="a fact about Keras 3.15.1 (keras-team/keras#20285)")
def test_calling_the_base_with_training_false_does_not_freeze_bn_under_fit():
    """The lesson's exercise 5 assumes it does; on Keras 3.15.1 fit's training=True overrides the call's."""
    assert moving_statistics_unchanged_by_fit("call_inference") < 0.01


# --- recompile ----------------------------------------------------------------------------------------------------
def base_moves_in_stage2(recompile: bool, traced_by: str) -> float:
    """Stage 1 (a real `fit`, or the zero-rate trace the lab uses in its place), unfreeze, [compile], fit: the share
    of base tensors that moved in that last fit."""
    model = classifier()
    train = dataset(*images_and_labels())
    training.compile_model(model.model, 1e-3)
    if traced_by == "fit":
        model.model.fit(train, epochs=1, verbose=0)
    else:
        training.trace_train_step(model.model, train)
    training.unfreeze(model, bn_policy="frozen")
    if recompile:
        training.compile_model(model.model, 1e-3)
    before = [w.numpy() for w in model.base.trainable_weights]
    model.model.fit(train, epochs=1, verbose=0)
    return measures.fraction_of_tensors_changed(before, [w.numpy() for w in model.base.trainable_weights])


def dataset(x: np.ndarray, y: np.ndarray) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(8)


@pytest.mark.parametrize("traced_by", ["fit", "trace"])
def test_without_recompile_the_base_does_not_move(traced_by):
    assert base_moves_in_stage2(recompile=False, traced_by=traced_by) == 0.0


@pytest.mark.parametrize("traced_by", ["fit", "trace"])
def test_with_recompile_every_base_tensor_moves(traced_by):
    assert base_moves_in_stage2(recompile=True, traced_by=traced_by) == 1.0


def test_trace_train_step_leaves_weights_and_rate_as_they_were():
    model = classifier()
    training.compile_model(model.model, 1e-3)
    before = model.model.get_weights()
    training.trace_train_step(model.model, dataset(*images_and_labels()))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.model.get_weights()))
    assert float(model.model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)


# --- differential rates -------------------------------------------------------------------------------------------
def test_differential_optimizer_gives_early_layers_the_early_rate():
    model = classifier()
    training.unfreeze(model, bn_policy="train")
    optimizer = training.differential_optimizer(model, early_rate=1e-5, late_rate=1e-4)
    rates = {v.path: optimizer.group_rate(v) for v in model.model.trainable_weights}
    assert {path for path, rate in rates.items() if rate == pytest.approx(1e-5)} == \
        {"conv0/kernel", "bn0/gamma", "bn0/beta"}
    assert rates["logits/kernel"] == pytest.approx(1e-4) and rates["conv1/kernel"] == pytest.approx(1e-4)


# --- the lab's shared stage-1 model ---------------------------------------------------------------------------------
@pytest.fixture
def lab(tmp_path) -> Lab:
    """A smoke-scale lab on the tiny backbone: models cached in a temporary folder, the synthetic data shared."""
    shared_data = default_cache_dir() / "data"
    shared_data.mkdir(parents=True, exist_ok=True)
    (tmp_path / "data").symlink_to(shared_data, target_is_directory=True)
    return Lab(SCALES["smoke"].override(backbone=TINY), tmp_path)


def test_stage1_copies_have_identical_weights_and_are_independent(lab):
    first, second = lab.stage1(0), lab.stage1(0)
    assert first.model is not second.model
    assert all(np.array_equal(a, b) for a, b in zip(first.model.get_weights(), second.model.get_weights()))
    first.model.get_layer("logits").kernel.assign_add(np.ones_like(first.model.get_layer("logits").kernel))
    assert np.array_equal(second.model.get_layer("logits").kernel.numpy(), lab.stage1(0).model.get_layer(
        "logits").kernel.numpy())


def test_stage1_from_disk_is_identical_to_the_trained_one(lab):
    trained = lab.stage1(0).model.get_weights()
    reloaded = Lab(lab.scale, lab.cache_dir).stage1(0).model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(trained, reloaded))


def test_stage2_arms_start_from_the_identical_stage1_model(lab):
    """Two arms at different rates, half the base unfrozen: what they did not train is stage 1's, bit for bit."""
    stage1 = lab.stage1(0)
    for rate in (1e-3, 1e-5):
        stage2 = lab.stage2(0, learning_rate=rate, fraction=0.5)
        for name in ("conv0", "bn0", "bn1"):  # frozen: the bottom half, and every BatchNorm (policy "frozen")
            for a, b in zip(stage1.base.get_layer(name).get_weights(), stage2.base.get_layer(name).get_weights()):
                assert np.array_equal(a, b), f"{name} differs from stage 1 after stage 2 at {rate}"
        assert not np.array_equal(stage1.base.get_layer("conv1").kernel.numpy(),
                                  stage2.base.get_layer("conv1").kernel.numpy())


def test_the_same_seed_trains_the_same_model_from_scratch(lab, tmp_path_factory):
    """Determinism: a second lab with an empty model cache retrains stage 2 (and its stage 1) bit for bit."""
    other_dir = tmp_path_factory.mktemp("other-cache")
    (other_dir / "data").symlink_to(lab.cache_dir / "data", target_is_directory=True)
    first = lab.stage2(1, learning_rate=1e-3).model.get_weights()
    second = Lab(lab.scale, other_dir).stage2(1, learning_rate=1e-3).model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    different_seed = lab.stage2(2, learning_rate=1e-3).model.get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(first, different_seed))
