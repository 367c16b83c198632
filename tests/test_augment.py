"""The lesson's augmentation stack: the right layers, identity at inference, random in training, seeded."""

import keras
import numpy as np

from tl_claims.data.augment import lesson_augmentation


def images() -> np.ndarray:
    x = np.zeros((2, 32, 32, 3), np.float32)
    x[:, 4:12, 2:10] = 255.0  # an off-centre square: flips, rotations and zooms all move it
    return x


def test_layers_are_flip_rotation_zoom_as_in_the_lesson():
    layers = lesson_augmentation(0).layers
    assert [type(layer) for layer in layers] == [
        keras.layers.RandomFlip,
        keras.layers.RandomRotation,
        keras.layers.RandomZoom,
    ]
    assert layers[0].mode == "horizontal"
    assert layers[1].factor == (-0.1, 0.1) or layers[1].factor == 0.1
    assert layers[2].height_factor == (-0.1, 0.1) or layers[2].height_factor == 0.1


def test_identity_at_inference():
    x = images()
    assert np.array_equal(np.asarray(lesson_augmentation(0)(x, training=False)), x)


def test_changes_images_in_training():
    x = images()
    outputs = [np.asarray(lesson_augmentation(seed)(x, training=True)) for seed in range(4)]
    assert any(not np.allclose(out, x) for out in outputs)


def test_same_seed_same_augmentation():
    x = images()
    first = np.asarray(lesson_augmentation(7)(x, training=True))
    again = np.asarray(lesson_augmentation(7)(x, training=True))
    assert np.allclose(first, again)
