"""The procedural families (flowers, objects): determinism, labels, any size, class-folder trees, colour shared by the
classes, and a registry that only ever points one way (families -> family modules)."""

import ast
import io
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tl_claims.data import (
    families,
    flower_species,
    flowers,
    object_drawers,
    object_paints,
    object_rooms,
    objects,
)

CLASS_NAMES = {
    "flowers": ("daisy", "dandelion", "roses", "sunflowers", "tulips"),  # tf_flowers' names
    "objects": ("bicycle", "chair", "mug", "teapot", "umbrella"),  # five household objects
}
MODULES = {"flowers": flowers, "objects": objects}
IMAGES = {"flowers": flowers.flower_image, "objects": objects.object_image}  # decoded: (seed, index, size) -> array
DRAWERS = {"flowers": flower_species.SPECIES, "objects": object_drawers.DRAWERS}
FAMILY_MODULES = (flowers, flower_species, objects, object_drawers, object_paints, object_rooms)
each_family = pytest.mark.parametrize("name", sorted(families.FAMILIES))


def test_every_family_is_tested():
    assert set(families.FAMILIES) == set(CLASS_NAMES) == set(MODULES)


@each_family
def test_class_names(name):
    assert families.get_family(name).class_names == MODULES[name].CLASS_NAMES == CLASS_NAMES[name]


@each_family
def test_same_seed_index_and_size_give_identical_jpeg_bytes_and_image(name):
    first, label = families.get_family(name).jpeg(3, 17, 48)
    again, label_again = families.get_family(name).jpeg(3, 17, 48)
    assert first == again and label == label_again == 17 % 5
    image, image_label = IMAGES[name](3, 17, 48)
    assert np.array_equal(image, IMAGES[name](3, 17, 48)[0]) and image_label == label


@each_family
def test_different_index_or_seed_gives_a_different_image(name):
    image = IMAGES[name]
    base = image(0, 5, 48)[0]
    assert not np.array_equal(base, image(0, 10, 48)[0])
    assert not np.array_equal(base, image(1, 5, 48)[0])


def test_families_never_share_a_random_stream():
    """Same (seed, index, size), other family: another picture (objects' family salt keys its generator)."""
    for one, other in combinations(sorted(families.FAMILIES), 2):
        assert families.get_family(one).jpeg(1, 0, 32)[0] != families.get_family(other).jpeg(1, 0, 32)[0]


@each_family
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31), index=st.integers(0, 10**6), size=st.integers(16, 100))
def test_any_seed_index_and_size_give_an_rgb_image_labelled_index_mod_5(name, seed, index, size):
    image, label = IMAGES[name](seed, index, size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    assert label == index % 5
    assert image.std() > 5  # a picture, not a flat fill


@each_family
def test_jpeg_bytes_decode_to_the_image(name):
    data, label = families.get_family(name).jpeg(0, 3, 40)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(decoded, IMAGES[name](0, 3, 40)[0]) and label == 3


@each_family
def test_each_class_has_its_drawing(name):
    assert set(DRAWERS[name]) == set(MODULES[name].CLASS_NAMES)


def test_flower_classes_share_colours():
    """Every class can take most palette colours: colour must not identify the class."""
    for weights in flower_species.PETAL_COLOURS.values():
        assert len(weights) >= 8


def test_every_object_class_can_take_every_paint():
    """Colour must not identify the class: each class's weights cover the whole shared palette."""
    for weights in object_paints.PAINT_WEIGHTS.values():
        assert set(weights) == set(object_paints.PAINTS) and min(weights.values()) > 0


@each_family
@pytest.mark.parametrize("workers", [1, 2])
def test_written_folders_are_class_balanced_and_hold_the_generator_bytes(name, tmp_path, workers):
    family = families.get_family(name)
    families.write_folders(family, tmp_path, seed=0, size=24, indices=range(15), workers=workers)
    for c, class_name in enumerate(family.class_names):
        files = sorted(p.name for p in (tmp_path / class_name).glob("*.jpg"))  # each with its hash sidecar
        assert files == ["00000.jpg", "00001.jpg", "00002.jpg"]
        assert (tmp_path / class_name / "00001.jpg").read_bytes() == family.jpeg(0, 5 + c, 24)[0]
        assert families.image_index(family, tmp_path / class_name / "00002.jpg") == 10 + c


@pytest.mark.parametrize("module", FAMILY_MODULES, ids=lambda module: module.__name__.rsplit(".", 1)[1])
def test_family_modules_never_import_the_registry(module):
    """families imports the family modules, never the other way round: no import cycle, not even inside a
    function."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    assert "tl_claims.data.families" not in imported
