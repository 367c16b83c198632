import re
from dataclasses import fields
from pathlib import Path

import pytest

from tl_claims.recipe.scales import DRY_RUN_FIELDS, SCALES, ScaleError


def test_presets_follow_the_lesson_at_gpu_scale():
    gpu = SCALES["gpu"]
    assert (gpu.backbone, gpu.dataset, gpu.image_size) == ("efficientnet_b0", "tfds:tf_flowers", 224)
    assert (gpu.stage1_epochs, gpu.stage2_epochs, len(gpu.seeds)) == (5, 10, 5)
    assert (gpu.stage1_lr, gpu.stage2_lr) == (1e-3, 1e-5)


def test_cpu_scale_has_enough_seeds_for_an_interval():
    assert len(SCALES["cpu"].seeds) >= 3 and SCALES["cpu"].backbone == "efficientnet_lite0"


def test_override_replaces_given_fields_only():
    scale = SCALES["cpu"].override(seeds=5, image_size=None, n_train=20)
    assert scale.seeds == (0, 1, 2, 3, 4) and scale.n_train == 20
    assert scale.image_size == SCALES["cpu"].image_size


def test_override_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown scale field"):
        SCALES["cpu"].override(epochs=3)


def test_a_dry_run_changes_only_sizes():
    """The gpu preset's dry run (tests/claims/test_gpu_dry_run.py) must take the gpu preset's paths, not others."""
    gpu, dry = SCALES["gpu"], SCALES["gpu"].dry_run()
    assert dry.name == "gpu_dry"
    assert (dry.image_size, dry.n_train, dry.n_test, dry.stage1_epochs, dry.stage2_epochs) == (32, 4, 4, 1, 1)
    assert dry.seeds == (0,) and max(dry.learning_curve_sizes) <= dry.n_train
    sizes = set(DRY_RUN_FIELDS) | {"name", "seed_looks"}
    for name in {f.name for f in fields(gpu)} - sizes:
        assert getattr(dry, name) == getattr(gpu, name), name


def test_each_scale_runs_its_set_of_variants():
    from tl_claims.claims.registry import CLAIMS

    two_stage = CLAIMS["two_stage"]
    names = [variant.name for variant in two_stage.variants]
    assert [name for name in names if SCALES["cpu"].runs(two_stage, name)] == names
    assert [name for name in names if SCALES["smoke"].runs(two_stage, name)] == list(two_stage.smoke_variants)
    assert [name for name in names if SCALES["gpu"].runs(two_stage, name)] == [two_stage.primary_variant]
    with pytest.raises(ValueError, match="variants must be one of"):
        SCALES["cpu"].override(variants="some")


def test_a_comma_separated_dataset_or_backbone_is_a_replication_matrix():
    scale = SCALES["cpu"].override(dataset="synthetic,synthetic:objects", backbone="efficientnet_lite0")
    assert scale.dataset == "synthetic" and scale.datasets == ("synthetic", "synthetic:objects")
    configurations = scale.configurations()
    assert [(each.dataset, each.backbone) for each in configurations] == [
        ("synthetic", "efficientnet_lite0"),
        ("synthetic:objects", "efficientnet_lite0"),
    ]
    assert all(not each.datasets and not each.backbones for each in configurations)
    assert SCALES["cpu"].configurations() == [SCALES["cpu"]]


def test_the_replicate_scale_is_the_cpu_primaries_on_the_photos_two_families_and_two_backbones():
    replicate = SCALES["replicate"]
    matrix = [(each.dataset, each.backbone) for each in replicate.configurations()]
    assert {dataset for dataset, _ in matrix} == {"tf_flowers", "synthetic", "synthetic:objects"}
    assert len(matrix) == 6 and replicate.variants == "primary"
    assert replicate.configurations()[0].image_size == SCALES["cpu"].image_size


@pytest.mark.parametrize("value", ["synthetic,,synthetic:objects", "synthetic,synthetic", "synthetic,nope:x"])
def test_a_bad_list_is_refused_with_the_option_named(value):
    with pytest.raises(ScaleError, match="--dataset"):
        SCALES["cpu"].override(dataset=value)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"image_size": 100_000}, "at least 32 pixels and at most 1024 (got 100000)"),
        ({"image_size": 16}, "at least 32 pixels and at most 1024 (got 16)"),
        ({"seeds": 10**9}, "--seeds must be at least 1 and at most 1000"),
        ({"seeds": (-1, 0)}, "seeds must lie in 0..2147483647"),
        ({"seeds": (2**31,)}, "seeds must lie in 0..2147483647"),
    ],
)
def test_option_values_out_of_range_are_refused_with_the_range(changes, message):
    """Checked when a scale is made, so `pytest --image-size 100000` stops at session start instead of running out
    of memory (the plugin builds every preset's override before collecting)."""
    from tl_claims.recipe.scales import ScaleError

    with pytest.raises(ScaleError, match=re.escape(message)):
        SCALES["cpu"].override(**changes)


def test_a_scale_asks_real_photos_for_one_pool_covering_its_learning_curve():
    config = SCALES["cpu"].data_config(Path("/tmp/cache"), n_train=10)
    assert (config.n_train, config.pool_min, config.pool_max) == (10, 50, 200)
