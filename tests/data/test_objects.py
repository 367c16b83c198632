"""The procedural household objects: determinism, labels, any size, balanced folders, colour shared by classes."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from harness.data import families, objects


def test_class_names_are_five_household_objects():
    assert objects.CLASS_NAMES == ("bicycle", "chair", "mug", "teapot", "umbrella")
    assert families.get_family("objects").class_names == objects.CLASS_NAMES


def test_same_seed_index_and_size_give_identical_jpeg_bytes():
    first, label = objects.object_jpeg(3, 17, 48)
    again, label_again = objects.object_jpeg(3, 17, 48)
    assert first == again and label == label_again == 17 % 5


def test_different_index_or_seed_gives_a_different_image():
    base = objects.object_image(0, 5, 48)[0]
    assert not np.array_equal(base, objects.object_image(0, 10, 48)[0])
    assert not np.array_equal(base, objects.object_image(1, 5, 48)[0])


def test_objects_and_flowers_never_share_a_random_stream():
    """Same (seed, index, size), other family: another picture (the family salt keys the generator)."""
    assert families.get_family("objects").jpeg(1, 0, 32)[0] != families.get_family("flowers").jpeg(1, 0, 32)[0]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), index=st.integers(0, 10**6), size=st.integers(16, 100))
def test_any_seed_index_and_size_give_an_rgb_image_labelled_index_mod_5(seed, index, size):
    image, label = objects.object_image(seed, index, size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    assert label == index % 5
    assert image.std() > 5  # a picture, not a flat fill


def test_jpeg_bytes_decode_to_the_image():
    data, label = objects.object_jpeg(0, 3, 40)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(decoded, objects.object_image(0, 3, 40)[0]) and label == 3


def test_every_class_can_take_every_paint():
    """Colour must not identify the class: each class's weights cover the whole shared palette."""
    for weights in objects.PAINT_WEIGHTS.values():
        assert set(weights) == set(objects.PAINTS) and min(weights.values()) > 0


def test_each_class_has_its_drawing():
    assert set(objects.DRAWERS) == set(objects.CLASS_NAMES)


@pytest.mark.parametrize("workers", [1, 2])
def test_written_folders_are_class_balanced_and_hold_the_generator_bytes(tmp_path, workers):
    family = families.get_family("objects")
    families.write_folders(family, tmp_path, seed=0, size=24, indices=range(15), workers=workers)
    for c, name in enumerate(objects.CLASS_NAMES):
        files = sorted(p.name for p in (tmp_path / name).glob("*.jpg"))  # each with its hash sidecar
        assert files == ["00000.jpg", "00001.jpg", "00002.jpg"]
        assert (tmp_path / name / "00001.jpg").read_bytes() == objects.object_jpeg(0, 5 + c, 24)[0]
        assert families.image_index(family, tmp_path / name / "00002.jpg") == 10 + c
