"""Test-time augmentation: the views and the averaging behind the `tta` claim."""

import keras
import numpy as np
import pytest

from tl_claims.claims import tta
from tl_claims.data import augment


def images(n: int = 4, size: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, size, size, 3)).astype("float32")


def mirror_invariant_model(size: int = 20, classes: int = 3) -> keras.Model:
    """Logits from the mean of each channel: a model that cannot tell an image from its mirror image."""
    inputs = keras.Input((size, size, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    return keras.Model(inputs, keras.layers.Dense(classes, kernel_initializer="glorot_uniform")(pooled))


@pytest.mark.parametrize("view", augment.TTA_VIEWS)
def test_every_view_keeps_the_shape(view):
    batch = images()
    assert augment.tta_view(batch, view).shape == batch.shape


def test_identity_is_the_input_and_flip_mirrors_columns():
    batch = images()
    np.testing.assert_array_equal(augment.tta_view(batch, "identity"), batch)
    np.testing.assert_array_equal(augment.tta_view(batch, "flip")[:, :, 0], batch[:, :, -1])


def test_centre_crop_of_a_constant_image_is_that_constant():
    constant = np.full((2, 30, 30, 3), 77.0, dtype="float32")
    np.testing.assert_allclose(augment.centre_crop(constant, 0.9), constant, atol=1e-4)


def test_unknown_view_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="identity"):
        augment.tta_view(images(), "rotate_90")


def test_tta_of_a_mirror_invariant_model_equals_the_single_view():
    keras.utils.set_random_seed(0)
    model, batch = mirror_invariant_model(), images(n=16)
    labels = np.random.default_rng(1).integers(0, 3, 16)
    probabilities = augment.view_probabilities(model, batch, views=("identity", "flip"))
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-5)
    assert augment.tta_accuracy(probabilities, labels) == augment.tta_accuracy(probabilities[:1], labels)


def test_tta_averages_probabilities_not_votes():
    # view 1 is confident in class 0, views 2 and 3 lean weakly to class 1: the mean probability picks class 0
    probabilities = np.array([[[0.95, 0.05]], [[0.45, 0.55]], [[0.45, 0.55]]])
    assert augment.tta_accuracy(probabilities, np.array([0])) == 1.0


@pytest.mark.parametrize(
    ("gain", "position"), [(0.001, "below"), (0.005, "inside"), (0.02, "inside"), (0.03, "above"), (-0.01, "below")]
)
def test_band_position_reads_the_lessons_band(gain, position):
    assert tta.band_position(gain) == position
