"""The teaching checks on pipelines written in many styles (tests/teaching/student_styles.py): every combination is
diagnosed exactly - the checks its bug breaks fail, every other check passes, nothing errors.

The fast suite runs a pairwise covering subset (every pair of axis values, the bug being an axis: 30 pipelines on a
tiny base) and the three pipelines that were misjudged; `-m cpu` runs the full product (about 1,300 pipelines).
"""

from pathlib import Path

import numpy as np
import pytest
import student_styles
from student_styles import EXPECTED, Style

from tl_claims.teaching import input_checks
from tl_claims.teaching.checks import run_checks
from tl_claims.teaching.student import load_student

COVERING = student_styles.covering()


def diagnosis(style: Style, folder: Path) -> tuple[set[str], list[dict]]:
    path = folder / f"style_{abs(hash(style.name))}.py"
    path.write_text(student_styles.source(style), encoding="utf-8")
    table = run_checks(load_student(path))
    not_passed = table[table["status"] != "passed"]
    return set(not_passed["check"]), not_passed.to_dict("records")


def assert_exact(style: Style, folder: Path) -> None:
    failed, records = diagnosis(style, folder)
    assert failed == EXPECTED[style.bug], records
    assert all(record["status"] == "failed" for record in records), records


def test_the_covering_subset_holds_every_pair_and_every_value():
    covered = set().union(*(student_styles.pairs(style) for style in COVERING))
    wanted = set().union(*(student_styles.pairs(style) for style in student_styles.full_product()))
    assert covered == wanted
    for axis, values in student_styles.AXES.items():
        assert {getattr(style, axis) for style in COVERING} == set(values)
    assert len(COVERING) <= 40  # the fast suite's budget: about a second each


@pytest.mark.parametrize("style", COVERING, ids=[style.name for style in COVERING])
def test_every_style_is_diagnosed_exactly(style, tmp_path):
    assert_exact(style, tmp_path)


def rest_of_the_product():
    chosen = set(COVERING)
    return [
        pytest.param(style, id=style.name, marks=pytest.mark.cpu)
        for style in student_styles.full_product()
        if style not in chosen
    ]


@pytest.mark.parametrize("style", rest_of_the_product())
def test_every_style_in_the_full_product_is_diagnosed_exactly(style, tmp_path):
    assert_exact(style, tmp_path)


# --------------------------------------------------------------------------- the pipelines that were misjudged


def test_a_partial_finetune_of_lite0_with_preprocessing_in_the_map_is_not_told_to_recompile(tmp_path):
    """Lite0, preprocessing in tf.data, top 30 layers unfrozen with BatchNorm frozen, recompiled at 1e-5."""
    style = Style(preprocessing="map", unfreeze="top_k", base="lite0", top_k=30)
    assert_exact(style, tmp_path)


def test_an_update_too_small_to_move_a_float32_weight_is_not_a_missing_recompile(tmp_path):
    """A vanishing update (SGD at 1e-15: each step changes a weight far below its float32 resolution) still trains
    the base: the check reads the compiled step's variables, not whether weights moved."""
    assert_exact(Style(optimizer="SGD", stage2_rate=1e-15), tmp_path)


def test_a_subclassed_model_is_checked(tmp_path):
    assert_exact(Style(model="subclassed"), tmp_path)
    assert_exact(Style(model="subclassed", bug="no_recompile"), tmp_path)


def test_a_random_flip_mapped_over_val_is_caught_under_the_global_seed(tmp_path):
    assert_exact(Style(preprocessing="map", bug="aug_on_val"), tmp_path)


# ------------------------------------------------------------------------- augmentation by what it does (pure)

RNG = np.random.default_rng(1)
INPUTS = RNG.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)


def preprocessed(images: np.ndarray) -> list[np.ndarray]:
    mean, std = np.array([123.7, 116.3, 103.5]), np.array([58.4, 57.1, 57.4])  # one mapping per channel
    return [(image.astype(np.float32) - mean) / std for image in images]


@pytest.mark.parametrize(
    ("transform", "changed"),
    [
        (lambda images: images, 0),
        (lambda images: images[::-1], 0),  # shuffled val is harmless
        (lambda images: np.concatenate([images[:1], images[1:, :, ::-1]]), 5),  # flip
        (lambda images: np.rot90(images, axes=(1, 2)), 6),  # rotation
        (lambda images: np.pad(images[:, 1:, 1:], ((0, 0), (0, 1), (0, 1), (0, 0)), mode="edge"), 6),  # crop
        (lambda images: np.clip(images * np.linspace(0.8, 1.2, 6)[:, None, None, None], 0, 255), 6),  # jitter
    ],
    ids=["identity", "shuffled", "flip", "rotation", "crop", "colour-jitter"],
)
def test_val_images_must_be_one_pointwise_mapping_of_an_input(transform, changed):
    yielded = preprocessed(np.asarray(transform(INPUTS.astype(np.float64))))
    assert input_checks.count_not_pointwise(INPUTS, yielded) == changed
