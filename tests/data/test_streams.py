"""The calibration's images come from their own generator streams: disjoint from every image a claim reads.

Disjoint by construction (generator seeds, folders) and by content (hashes of every file and decoded image), for
both synthetic families, on a small size and a small pool so that every image of every split is compared.
"""

import hashlib

import numpy as np
import pytest

from tl_claims.data import DataConfig, families, load_splits, sources, streams
from tl_claims.data.calibrate import CalibrationSettings

POOL = 12  # the whole train pool per class is compared, not only a drawn subset
SIZE = 16


def test_no_two_purposes_or_splits_share_a_generator_seed():
    seeds = [seed for by_split in streams.SYNTHETIC_STREAMS.values() for seed in by_split.values()]
    assert len(seeds) == len(set(seeds))
    assert set(streams.SYNTHETIC_STREAMS) == set(sources.PURPOSES) == {"claims", "calibration"}


def test_the_calibration_reads_the_calibration_streams_and_claims_the_claims_streams():
    assert CalibrationSettings(source="synthetic:objects").data_config().purpose == "calibration"
    assert DataConfig().purpose == "claims"


def test_an_unknown_purpose_is_a_data_error(tmp_path):
    with pytest.raises(sources.DataError, match="purpose='tuning'"):
        load_splits(DataConfig(cache_dir=tmp_path, purpose="tuning"), seed=0)


def digests(images: np.ndarray) -> set[str]:
    return {hashlib.sha256(image.tobytes()).hexdigest() for image in images}


@pytest.fixture
def small_pool(monkeypatch):
    monkeypatch.setattr(streams, "SYNTHETIC_TRAIN_POOL", POOL)


@pytest.mark.parametrize("family", ["flowers", "objects"])
def test_calibration_and_claims_images_are_disjoint_by_index_seed_and_content(family, tmp_path, small_pool):
    source = f"synthetic:{family}"
    claims_config = DataConfig(source, SIZE, n_train=POOL, n_val=3, n_test=4, cache_dir=tmp_path)
    claims = [load_splits(claims_config, seed) for seed in (0, 1, 2)]
    calibration_folders = [
        streams.synthetic_folder(tmp_path, seed, SIZE, family)
        for seed in streams.SYNTHETIC_STREAMS["calibration"].values()
    ]
    assert not any(folder.exists() for folder in calibration_folders), "a claims load touched a calibration stream"
    calibration = load_splits(
        CalibrationSettings(source, SIZE, n_train=POOL, n_val=3, n_test=4, cache_dir=tmp_path).data_config(), 0
    )

    for splits in (*claims, calibration):  # stratified: every split holds the same count per class
        assert splits.class_names == families.get_family(family).class_names
        for split, per_class in (("train", POOL), ("val", 3), ("test", 4)):
            assert np.bincount(splits.arrays(split)[1], minlength=5).tolist() == [per_class] * 5

    claim_images = set().union(*(digests(s.arrays(split)[0]) for s in claims for split in sources.SPLITS))
    calibration_images = set().union(*(digests(calibration.arrays(split)[0]) for split in sources.SPLITS))
    assert len(calibration_images) == 5 * (POOL + 3 + 4)  # no duplicates inside the calibration either
    assert not claim_images & calibration_images

    # Each calibration file is the generator's output for a calibration seed, and its bytes appear in no claim file.
    spec = families.get_family(family)
    files = {
        purpose: {
            split: sorted(streams.synthetic_folder(tmp_path, seed, SIZE, family).rglob("*.jpg"))
            for split, seed in by_split.items()
        }
        for purpose, by_split in streams.SYNTHETIC_STREAMS.items()
    }
    for split, seed in streams.SYNTHETIC_STREAMS["calibration"].items():
        for path in files["calibration"][split][:5]:
            assert path.read_bytes() == spec.jpeg(seed, families.image_index(spec, path), SIZE)[0]
    file_hashes = {
        purpose: {hashlib.sha256(path.read_bytes()).hexdigest() for paths in by_split.values() for path in paths}
        for purpose, by_split in files.items()
    }
    assert len(file_hashes["calibration"]) == 5 * (POOL + 3 + 4)
    assert not file_hashes["claims"] & file_hashes["calibration"]
