"""The procedural flowers: determinism, labels, any size, and the class-folder writer."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from harness.data import families, flowers


def test_class_names_follow_tf_flowers():
    assert flowers.CLASS_NAMES == ("daisy", "dandelion", "roses", "sunflowers", "tulips")


def test_same_seed_and_index_give_the_same_image():
    first, label = flowers.flower_image(3, 17, 48)
    again, label_again = flowers.flower_image(3, 17, 48)
    assert np.array_equal(first, again) and label == label_again


def test_different_index_or_seed_gives_a_different_image():
    base = flowers.flower_image(0, 5, 48)[0]
    assert not np.array_equal(base, flowers.flower_image(0, 10, 48)[0])
    assert not np.array_equal(base, flowers.flower_image(1, 5, 48)[0])


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31), index=st.integers(0, 10**6), size=st.integers(16, 80))
def test_any_seed_index_and_size_give_an_rgb_image_labelled_index_mod_5(seed, index, size):
    image, label = flowers.flower_image(seed, index, size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    assert label == index % 5
    assert image.std() > 5  # a picture, not a flat fill


def test_jpeg_bytes_decode_to_the_image():
    data, label = flowers.flower_jpeg(0, 3, 40)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(decoded, flowers.flower_image(0, 3, 40)[0]) and label == 3


def test_classes_share_colours():
    """Every class can take most palette colours: colour must not identify the class."""
    for weights in flowers.PETAL_COLOURS.values():
        assert len(weights) >= 8


@pytest.mark.parametrize("workers", [1, 2])
def test_write_folders_writes_one_class_folder_tree_of_flowers(tmp_path, workers):
    family = families.get_family("flowers")
    families.write_folders(family, tmp_path, seed=0, size=24, indices=range(10), workers=workers)
    for c, name in enumerate(flowers.CLASS_NAMES):
        files = sorted(p.name for p in (tmp_path / name).glob("*.jpg"))  # each with its hash sidecar
        assert files == ["00000.jpg", "00001.jpg"]
        data = (tmp_path / name / "00001.jpg").read_bytes()
        assert data == flowers.flower_jpeg(0, 5 + c, 24)[0]
