"""The recipe: unfreezing a fraction, the BatchNorm policies under `fit`, the recompile fact, differential groups, the
recipes as plain functions, and the traced evaluation (tl_claims/recipe/training.py, architecture.py, evaluation.py).

A tiny two-block base with BatchNorm stands in for Lite0 (the `tiny_backbone` fixture of tests/conftest.py), so each
check trains in well under a second; what is checked is the recipe and Keras' behaviour, not the pretrained weights.
"""

import keras
import numpy as np
import pytest

from tl_claims import backbones
from tl_claims.core.backend import on_tensorflow
from tl_claims.data import augment, batches
from tl_claims.recipe import architecture, evaluation, measures, training

SIZE = 32


@pytest.fixture
def classifier(tiny_backbone):
    """A factory of seeded classifiers on the tiny backbone (3 classes, 32 px)."""

    def build(bn_policy: str = "frozen") -> architecture.Classifier:
        keras.utils.set_random_seed(0)
        return architecture.build_classifier(tiny_backbone, image_size=SIZE, num_classes=3, bn_policy=bn_policy)

    return build


def images_and_labels(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (n, SIZE, SIZE, 3)).astype("float32"), rng.integers(0, 3, n)


def trainable_layer_names(model: keras.Model) -> set[str]:
    return {layer.name for layer in training.weighted_layers(model) if layer.trainable_weights}


# --- unfreeze ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fraction", "bn_policy", "expected"),
    [
        (1.0, "train", {"conv0", "bn0", "conv1", "bn1"}),
        (1.0, "frozen", {"conv0", "conv1"}),
        (0.5, "train", {"conv1", "bn1"}),
        (0.5, "frozen", {"conv1"}),
        (0.0, "train", set()),
    ],
)
def test_unfreeze_trains_the_top_fraction_and_bn_per_policy(classifier, fraction, bn_policy, expected):
    model = classifier()
    training.unfreeze(model, fraction=fraction, bn_policy=bn_policy)
    assert trainable_layer_names(model.base) == expected


def test_unfreeze_rejects_a_fraction_outside_0_1(classifier):
    with pytest.raises(ValueError, match="fraction"):
        training.unfreeze(classifier(), fraction=1.5)


# --- BatchNorm policies under fit ----------------------------------------------------------------------------------
def moving_statistics_unchanged_by_fit(classifier, bn_policy: str) -> float:
    model = classifier(bn_policy)
    before = measures.moving_statistics(model.base)
    training.unfreeze(model, bn_policy=bn_policy)
    training.compile_model(model.model, 1e-3)
    model.model.fit(*images_and_labels(), batch_size=8, epochs=1, verbose=0)
    return measures.fraction_of_statistics_unchanged(before, measures.moving_statistics(model.base))


def test_bn_trainable_false_keeps_moving_statistics_fixed(classifier):
    assert moving_statistics_unchanged_by_fit(classifier, "frozen") == 1.0


def test_bn_training_mode_updates_moving_statistics(classifier):
    assert moving_statistics_unchanged_by_fit(classifier, "train") < 0.01


@pytest.mark.skipif(keras.__version__ != "3.15.1", reason="a fact about Keras 3.15.1 (keras-team/keras#20285)")
def test_calling_the_base_with_training_false_does_not_freeze_bn_under_fit(classifier):
    """The lesson's exercise 5 assumes it does; on Keras 3.15.1 fit's training=True overrides the call's."""
    assert moving_statistics_unchanged_by_fit(classifier, "call_inference") < 0.01


# --- recompile ----------------------------------------------------------------------------------------------------
def base_moves_in_stage2(classifier, recompile: bool, traced_by: str) -> float:
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


def dataset(x: np.ndarray, y: np.ndarray):
    return batches.batches(x, y, 8)


@pytest.mark.parametrize("traced_by", ["fit", "trace"])
def test_without_recompile_the_base_does_not_move(classifier, traced_by):
    """TensorFlow trains the head alone: the lesson's silent mistake. Elsewhere Keras refuses to fit at all (JAX:
    the optimizer's state no longer matches the trainable variables), which the recompile claim reports as a skip."""
    if on_tensorflow():
        assert base_moves_in_stage2(classifier, recompile=False, traced_by=traced_by) == 0.0
        return
    with pytest.raises(ValueError, match="optimizer"):
        base_moves_in_stage2(classifier, recompile=False, traced_by=traced_by)


@pytest.mark.parametrize("traced_by", ["fit", "trace"])
def test_with_recompile_every_base_tensor_moves(classifier, traced_by):
    assert base_moves_in_stage2(classifier, recompile=True, traced_by=traced_by) == 1.0


def test_trace_train_step_leaves_weights_and_rate_as_they_were(classifier):
    model = classifier()
    training.compile_model(model.model, 1e-3)
    before = model.model.get_weights()
    training.trace_train_step(model.model, dataset(*images_and_labels()))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.model.get_weights()))
    assert float(model.model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)


# --- differential rates -------------------------------------------------------------------------------------------
def test_differential_optimizer_gives_early_layers_the_early_rate(classifier):
    model = classifier()
    training.unfreeze(model, bn_policy="train")
    optimizer = training.differential_optimizer(model, early_rate=1e-5, late_rate=1e-4)
    rates = {v.path: optimizer.group_rate(v) for v in model.model.trainable_weights}
    assert {path for path, rate in rates.items() if rate == pytest.approx(1e-5)} == {
        "conv0/kernel",
        "bn0/gamma",
        "bn0/beta",
    }
    assert rates["logits/kernel"] == pytest.approx(1e-4) and rates["conv1/kernel"] == pytest.approx(1e-4)


@pytest.mark.tensorflow_only("XLA as TensorFlow's opt-in; JAX always compiles")
def test_keras_refuses_xla_for_a_classifier_with_the_lesson_augmentation(tiny_backbone):
    """Why the gpu scale does not turn XLA on (docs/gpu.md, "Mixed precision and XLA"): RandomRotation and
    RandomZoom do not support it, so `jit_compile=True` falls back to off for every model that carries the lesson's
    augmentation."""
    from tl_claims.data.augment import lesson_augmentation

    augmented = architecture.build_classifier(
        tiny_backbone, image_size=SIZE, num_classes=3, augmentation=lesson_augmentation(0)
    ).model
    with pytest.warns(UserWarning, match="doesn't support `jit_compile=True`"):
        augmented.compile(optimizer="adam", loss="mse", jit_compile=True)
    assert augmented.jit_compile is False
    plain = architecture.build_classifier(tiny_backbone, image_size=SIZE, num_classes=3).model
    plain.compile(optimizer="adam", loss="mse", jit_compile=True)
    assert plain.jit_compile is True


@pytest.mark.parametrize(
    ("images", "epochs", "min_steps", "expected"),
    [(250, 6, 0, (6, 48)), (50, 6, 48, (24, 48)), (250, 6, 48, (6, 48)), (33, 1, 5, (3, 6))],
)
def test_stage_budget_counts_steps_with_the_last_partial_batch(images, epochs, min_steps, expected):
    budget = training.stage_budget(
        "stage 2", per_class=10, images=images, batch_size=32, epochs=epochs, min_steps=min_steps
    )
    assert (budget.epochs, budget.steps) == expected


def eager_outputs(model: keras.Model, images: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """The model called eagerly batch by batch: what `evaluation.inference` must equal to the last bit."""
    batches = [model(images[i : i + batch_size], training=False) for i in range(0, len(images), batch_size)]
    return [np.concatenate([np.asarray(batch[k]) for batch in batches]) for k in range(len(batches[0]))]


@pytest.mark.parametrize("backbone", ["tiny", "efficientnet_lite0"])
def test_traced_inference_equals_the_eager_call_bit_for_bit(tiny_backbone, backbone):
    """The evaluation's traced batches give exactly the eager model's logits and pooled features (ImageNet Lite0 with
    the lesson's augmentation layers, which inference skips; a last batch shorter than the others). Bit for bit is
    TensorFlow's `eager_arithmetic`; another backend's compiled predict step agrees to float32 rounding."""
    same = np.testing.assert_array_equal if on_tensorflow() else close
    name = tiny_backbone if backbone == "tiny" else backbone
    keras.utils.set_random_seed(0)
    augmentation = augment.lesson_augmentation(seed=0)
    classifier = architecture.build_classifier(name, image_size=64, num_classes=3, augmentation=augmentation)
    images = np.random.default_rng(1).uniform(0, 255, (70, 64, 64, 3)).astype("float32")
    both = keras.Model(classifier.model.input, [classifier.model.get_layer("pool").output, classifier.model.output])
    evaluated = evaluation.evaluate(classifier.model, images, np.zeros(70), with_features=True, batch_size=32)
    features, logits = eager_outputs(both, images, 32)
    same(evaluated.features, features)
    same(evaluation.inference(both, images, 32)[1], logits)
    if on_tensorflow():  # elsewhere a near tie between two logits may break either way
        np.testing.assert_array_equal(evaluated.predictions, np.argmax(logits, axis=1))
    preprocess = backbones.get(name).preprocess
    pooled = evaluation.pooled_features(classifier.base, images, preprocess, batch_size=32)
    eager = [np.asarray(keras.ops.mean(classifier.base(preprocess(images[i : i + 32]), training=False), axis=(1, 2)))
             for i in range(0, 70, 32)]  # fmt: skip
    same(pooled, np.concatenate(eager))


def close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.tensorflow_only("the tf.function call options")
def test_eager_arithmetic_restores_the_threads_function_options():
    """Only calls inside the block lose the arithmetic optimizer: the training steps after it run as before."""
    from tl_claims.recipe import tf_tracing

    before = tf_tracing.context.context().function_call_options
    with tf_tracing.eager_arithmetic():
        inside = tf_tracing.context.context().function_call_options
    assert inside is not before and tf_tracing.context.context().function_call_options is before


def small_compiled_model(seed: int) -> keras.Model:
    """Conv + BatchNorm + dropout + dense, compiled the way students do: Adam, integer labels, an accuracy metric."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.5)(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, metrics=["accuracy"])
    return model


def twenty_images(mixed: bool = False):
    """20 images in batches of 8 (a partial last batch too); `mixed`: MixUp on every batch, labels one-hot."""
    rng = np.random.default_rng(0)
    data = batches.batches(rng.uniform(0, 1, (20, 16, 16, 3)).astype("float32"), rng.integers(0, 3, 20), 8)
    return augment.augment_training_batches(data, "mixup", 0, 3) if mixed else data


# Without a build first, Keras builds a model trained from a PyDataset by reading its first batch once more (there
# is no element spec to read), which draws one more MixUp: on JAX the build first is what keeps that draw unused.
PEEKED = pytest.mark.tensorflow_only("on JAX, fit alone reads the first batch an extra time to build")


@pytest.mark.parametrize("mixed", [False, pytest.param(True, marks=PEEKED)])
def test_building_the_training_state_first_changes_no_trained_bit(mixed):
    """Built from the batches' shapes alone (soft labels where MixUp makes them), with no batch read and no random
    draw used up: the trained weights are the bits `fit` alone gives."""

    def trained(build_first: bool) -> list[np.ndarray]:
        model = small_compiled_model(seed=3)
        if mixed:
            training.compile_model(model, 1e-2, soft_labels=True)
        data = twenty_images(mixed)
        if build_first:
            training.build_training_state(model, data)
        keras.utils.set_random_seed(4)
        model.fit(data, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    plain, built = trained(build_first=False), trained(build_first=True)
    assert all(np.array_equal(a, b) for a, b in zip(plain, built, strict=True))


@pytest.mark.tensorflow_only("counts what TensorFlow creates inside its traced step")
def test_building_the_training_state_first_traces_once_and_changes_nothing():
    """Keras 3 creates the metric's and optimizer's variables inside the first traced step, so TensorFlow traces it
    twice; built first, nothing is created during `fit` (one trace), and the trained weights are the same bits."""
    import tensorflow as tf

    data = twenty_images()

    def trained(build_first: bool) -> tuple[list[np.ndarray], list[str]]:
        model = small_compiled_model(seed=3)
        if build_first:
            training.build_training_state(model, data)
        created: list[str] = []

        def record(next_creator, **kwargs):
            created.append(kwargs.get("name"))
            return next_creator(**kwargs)

        keras.utils.set_random_seed(4)
        with tf.variable_creator_scope(record):
            model.fit(data, epochs=2, verbose=0)
        return model.get_weights(), created

    plain_weights, created_in_fit = trained(build_first=False)
    built_weights, created_after_build = trained(build_first=True)
    assert created_in_fit and not created_after_build
    assert all(np.array_equal(a, b) for a, b in zip(plain_weights, built_weights, strict=True))
