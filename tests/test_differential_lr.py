"""Differential learning rates: each variable group moves at its own rate, inside `fit`, with nothing else changed."""

import keras
import numpy as np
import pytest

from tl_claims.recipe.optimizers import GroupRatesAdam, GroupRatesSGD

EARLY_RATE, LATE_RATE = 0.1, 0.01


def two_layer_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="early")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="late")(hidden))


def groups(model: keras.Model) -> list:
    return [
        (model.get_layer("early").trainable_weights, EARLY_RATE),
        (model.get_layer("late").trainable_weights, LATE_RATE),
    ]


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")


def gradients(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The loss's gradient at the start, on any backend: minus one step of plain SGD at rate 1 on the same model."""
    model = two_layer_model()
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    before = [w.numpy() for w in model.trainable_weights]
    model.train_on_batch(x, y)
    return [old - weight.numpy() for old, weight in zip(before, model.trainable_weights)]


def rate_of_each_weight(model: keras.Model) -> list[float]:
    return [EARLY_RATE if "early" in w.path else LATE_RATE for w in model.trainable_weights]


def test_sgd_step_is_each_groups_rate_times_the_gradient():
    """Plain SGD makes the check exact: Δw = −rate · g, with rate the variable's group rate."""
    model = two_layer_model()
    model.compile(optimizer=GroupRatesSGD(groups(model)), loss="mse")
    x, y = data()
    expected_gradients = gradients(x, y)
    before = [w.numpy() for w in model.trainable_weights]
    model.train_on_batch(x, y)
    for old, weight, gradient, rate in zip(
        before, model.trainable_weights, expected_gradients, rate_of_each_weight(model)
    ):
        np.testing.assert_allclose(weight.numpy() - old, -rate * gradient, rtol=1e-5, atol=1e-7)


def test_adam_first_step_moves_each_weight_by_its_group_rate():
    """Adam's first step is rate · sign(g) (up to epsilon): update sizes equal the group rates."""
    model = two_layer_model()
    model.compile(optimizer=GroupRatesAdam(groups(model), epsilon=1e-12), loss="mse")
    x, y = data()
    before = [w.numpy() for w in model.trainable_weights]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for old, weight, rate in zip(before, model.trainable_weights, rate_of_each_weight(model)):
        np.testing.assert_allclose(np.abs(weight.numpy() - old), rate, rtol=1e-4)


def test_group_rate_reports_each_variables_rate():
    model = two_layer_model()
    optimizer = GroupRatesSGD(groups(model))
    assert optimizer.group_rate(model.get_layer("early").kernel) == pytest.approx(EARLY_RATE)
    assert optimizer.group_rate(model.get_layer("late").bias) == pytest.approx(LATE_RATE)


def test_a_variable_in_no_group_is_an_error_not_a_silent_default():
    model = two_layer_model()
    model.compile(optimizer=GroupRatesSGD([(model.get_layer("early").trainable_weights, EARLY_RATE)]), loss="mse")
    with pytest.raises(ValueError, match="no learning-rate group"):
        model.train_on_batch(*data())


@pytest.mark.parametrize("case", ["empty", "overlapping", "zero rate"])
def test_rejects_empty_overlapping_or_non_positive_groups(case):
    early = two_layer_model().get_layer("early").trainable_weights
    bad_groups = {"empty": [], "overlapping": [(early, 0.1), (early, 0.2)], "zero rate": [(early, 0.0)]}[case]
    with pytest.raises(ValueError):
        GroupRatesSGD(bad_groups)
