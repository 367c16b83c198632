import re
from dataclasses import fields
from pathlib import Path

import pytest

from tl_claims.recipe.scales import DRY_RUN_FIELDS, SCALES, ScaleError


def test_presets_follow_the_lesson_at_gpu_scale():
    gpu = SCALES["gpu"]
    assert (gpu.backbone, gpu.dataset, gpu.image_size) == ("efficientnet_b0", "tf_flowers", 224)
    assert (gpu.stage1_epochs, gpu.stage2_epochs, len(gpu.seeds)) == (5, 10, 5)
    assert (gpu.stage1_lr, gpu.stage2_lr) == (1e-3, 1e-5)


def test_the_gpu_scale_runs_b0_where_its_weights_file_is_on_disk_and_lite0_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path / "no_tmp"))  # Keras' /tmp fallback too
    assert SCALES["gpu"].with_weights_on_disk().backbone == "efficientnet_lite0"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "efficientnetb0_notop.h5").write_bytes(b"")  # only looked for, never read here
    resolved = SCALES["gpu"].with_weights_on_disk()
    assert (resolved.backbone, resolved.offline_backbone) == ("efficientnet_b0", "")
    assert SCALES["cpu"].with_weights_on_disk() == SCALES["cpu"]  # no offline backbone: unchanged


def test_a_typed_backbone_runs_as_typed_never_replaced_offline():
    assert SCALES["gpu"].override(backbone="mobilenet_v2").with_weights_on_disk().backbone == "mobilenet_v2"


def test_the_photos_smallest_class_holds_the_gpu_split():
    """The shipped photos (227 px, read at the gpu scale's 224) must give every class the full validation, training
    pool and test set; a short class would silently get a smaller test set (content_split.class_cuts)."""
    from tl_claims.data import photos
    from tl_claims.data.content_split import class_cuts

    gpu = SCALES["gpu"]
    resolution = photos.resolution_for(gpu.image_size)
    classes: dict[str, set[str]] = {}
    for name, digest in photos.expected_digests(photos.PHOTOS_ROOT / photos.CHECKSUMS, resolution).items():
        classes.setdefault(name.split("/")[0], set()).add(digest)
    everywhere = [digest for digests in classes.values() for digest in digests]
    distinct = {name: {d for d in digests if everywhere.count(d) == 1} for name, digests in classes.items()}
    sizes = gpu.data_config(Path("/tmp/cache")).split_sizes()
    smallest = min(len(digests) for digests in distinct.values())
    assert (resolution, smallest) == ("227px", 429)  # roses
    assert class_cuts(smallest, sizes) == (gpu.n_val, gpu.n_train, gpu.n_test)


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
