"""The gpu scale's dry run: the code paths `pytest -m gpu` takes, run on this CPU, offline, in the fast suite.

No GPU and no network exist where the suite is developed, so without this the first real GPU run would be the
first run of EfficientNetB0 with "imagenet" weights and of 0–255 input through the whole recipe. Here the gpu preset
runs at tiny sizes (`Scale.dry_run`: the smoke sizes, nothing else changed) on the shipped tf_flowers photos, with a
randomly initialised EfficientNetB0's weights saved where Keras keeps the ImageNet file: the online path, which the
preset takes whenever that file is on disk. Its offline path (Lite0, where the file is not) is the cpu scale's
backbone; `benchmarks/gpu_run.sh`'s dry run takes it (tests/test_gpu_run.py). The rows are checked for sanity, not
for a verdict.
"""

import math

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from tl_claims import backbones, engine
from tl_claims.backbones import keras_apps
from tl_claims.claims.registry import CLAIMS
from tl_claims.recipe.lab import Lab
from tl_claims.recipe.scales import SCALES

# The fast suite's gpu-scale dry run: two_stage's primary takes the EfficientNetB0 builder with "imagenet" weights
# read from Keras' cache file, 0-255 input (keep_0_255) in every model, the photos, stage 1 and stage 2 on the gpu
# preset. Every other primary (scratch, TTA, probes, BatchNorm policies, rates, partial unfreezing, MixUp, no
# recompile) repeats that builder and recipe with other settings, about 25 s each on this 2-core machine, and runs
# with `pytest -m cpu`; the gpu preset's offline path (Lite0) runs in tests/test_gpu_run.py's dry run.
FAST = ("two_stage",)
WITH_PRIMARY = [key for key, claim in CLAIMS.items() if claim.primary_variant]  # what the gpu preset runs
TF_FLOWERS_CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")  # the photos' class folders


def write_keras_cache_file(model: keras.Model, folder, file_name: str) -> None:
    """What a connected machine leaves in ~/.keras/models: a legacy-format .h5 of the weights."""
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / file_name, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, model)


@pytest.fixture(scope="module")
def gpu_dry(tmp_path_factory):
    """A lab on the gpu preset's dry run, with the ImageNet file stood in for; yields the lab and the random base
    whose weights play ImageNet's."""
    dry = SCALES["gpu"].dry_run()
    keras_home = tmp_path_factory.mktemp("keras_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(keras_home))
        patch.setattr(keras_apps, "_network_reachable", lambda url: False)  # nothing may be downloaded
        keras.utils.set_random_seed(7)
        stand_in = backbones.load(dry.backbone, image_size=dry.image_size, weights=None)
        write_keras_cache_file(stand_in, keras_home / "models", keras_apps.APPLICATIONS[dry.backbone].notop_file)
        yield Lab(dry.with_weights_on_disk(), tmp_path_factory.mktemp("cache")), stand_in


def test_the_stand_ins_are_what_the_gpu_preset_loads(gpu_dry):
    lab, stand_in = gpu_dry
    assert lab.scale.backbone == "efficientnet_b0"  # its weights file is on disk: the online path
    assert lab.splits(0).class_names == TF_FLOWERS_CLASSES
    assert lab.splits(0).x_train.shape == (4 * 5, 32, 32, 3)
    base = lab.frozen_base("efficientnet_b0")  # weights="imagenet": read from the file in Keras' cache
    assert len(base.weights) == len(stand_in.weights)
    for loaded, saved in zip(base.get_weights(), stand_in.get_weights()):
        np.testing.assert_array_equal(loaded, saved)


@pytest.mark.longest
def test_the_gpu_presets_recipe_runs_on_its_online_backbone(gpu_dry):
    problems = [problem for claim_id in FAST if (problem := run_primary(gpu_dry[0], claim_id))]
    assert not problems, "\n".join(problems)


@pytest.mark.cpu
@pytest.mark.parametrize("claim_id", [key for key in WITH_PRIMARY if key not in FAST])
def test_the_other_primaries_run_on_the_gpu_preset(gpu_dry, claim_id):
    problem = run_primary(gpu_dry[0], claim_id)
    assert not problem, problem


def run_primary(lab: Lab, claim_id: str) -> str:
    """A claim's primary row on the dry lab; what is wrong with it, or "" when it ran and is sane."""
    claim = CLAIMS[claim_id]
    row, outcomes = engine.run_claim(claim, claim.primary_variant, lab, run_id="gpu-dry", progress=lambda line: None)
    values = [value for arm in row.per_seed.values() for value in arm]
    if not values or not all(math.isfinite(value) for value in values):
        return f"{claim_id}: non-finite measurement {row.per_seed}"
    if outcomes.baseline.shape != outcomes.treatment.shape or outcomes.baseline.shape[0] != 1:
        return f"{claim_id}: outcomes of shapes {outcomes.baseline.shape} and {outcomes.treatment.shape}"
    if (row.scale, row.dataset, row.image_size) != ("gpu_dry", "tf_flowers", 32):
        return f"{claim_id}: ran on {row.scale} / {row.dataset} / {row.image_size} px, not the gpu preset's dry run"
    return ""
