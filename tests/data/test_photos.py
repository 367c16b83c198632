"""The shipped tf_flowers photos (tl_claims/data/photos.py): checked against their sums, attributed, and split by
content with tf_flowers' own duplicates kept on one side."""

import shutil

import numpy as np
import pytest

from tl_claims.core.store import sha256_of
from tl_claims.data import photos
from tl_claims.data.sources import DataConfig, load_splits
from tl_claims.data.spec import parse_dataset_spec
from tl_claims.data.validate import DataError

FILED_TWICE = "15922772266_1167a06620.jpg"  # under roses and under tulips in tf_flowers itself


@pytest.mark.parametrize("resolution", ["128px", "227px"])
def test_the_shipped_photos_match_their_sums_and_carry_their_attribution(resolution):
    folder = photos.photo_folder(resolution)
    attribution = (folder / photos.ATTRIBUTION).read_text(encoding="utf-8")
    files = sorted(folder.rglob("*.jpg"))
    assert len(files) > 2800
    assert all(f"{path.parent.name}/{path.name} CC-BY by" in attribution for path in files[::97])


def photo_copy(tmp_path, count=3):
    """A two-class copy of a few shipped photos with its own sums file, as a stand-in root."""
    source = photos.PHOTOS_ROOT / "128px"
    folder = tmp_path / "128px"
    lines = []
    for name in ("daisy", "roses"):
        (folder / name).mkdir(parents=True)
        for path in sorted((source / name).glob("*.jpg"))[:count]:
            shutil.copy(path, folder / name / path.name)
            lines.append(f"{sha256_of(path)}  128px/{name}/{path.name}")
    shutil.copy(source / photos.ATTRIBUTION, folder / photos.ATTRIBUTION)
    (tmp_path / photos.CHECKSUMS).write_text("\n".join(lines) + "\n")
    return folder


def test_a_changed_a_missing_and_an_unlisted_photo_are_each_named(tmp_path):
    folder = photo_copy(tmp_path)
    changed, missing = sorted((folder / "daisy").glob("*.jpg"))[:2]
    changed.write_bytes(changed.read_bytes()[:-10])
    missing.unlink()
    shutil.copy(changed, folder / "roses" / "extra.jpg")
    with pytest.raises(DataError) as error:
        photos.photo_folder("128px", root=tmp_path)
    message = str(error.value)
    assert f"daisy/{changed.name}: changed" in message
    assert f"daisy/{missing.name}: missing" in message
    assert "roses/extra.jpg: not listed" in message
    assert "git checkout -- fixtures/tf_flowers" in message


def test_photos_without_their_attribution_are_refused(tmp_path):
    folder = photo_copy(tmp_path)
    (folder / photos.ATTRIBUTION).unlink()
    with pytest.raises(DataError, match=r"ATTRIBUTION\.txt is missing"):
        photos.photo_folder("128px", root=tmp_path)


def test_without_the_photos_the_error_says_where_to_get_them(tmp_path):
    with pytest.raises(DataError, match=r"ship with the tl-claims repository.*tfds:tf_flowers.*folder:PATH"):
        photos.photo_folder("128px", root=tmp_path)


def test_the_resolution_follows_the_image_size_unless_one_is_named():
    assert photos.resolution_for(96) == "128px"
    assert photos.resolution_for(128) == "128px"
    assert photos.resolution_for(224) == "227px"
    assert photos.resolution_for(224, "128px") == "128px"
    assert str(parse_dataset_spec("tf_flowers")) == "tf_flowers"
    assert parse_dataset_spec("tf_flowers:227px").argument == "227px"
    with pytest.raises(DataError, match="shipped: 128px, 227px"):
        parse_dataset_spec("tf_flowers:64px")


def test_tf_flowers_own_duplicates_never_reach_two_splits(tmp_path):
    config = DataConfig(
        "tf_flowers", image_size=16, n_train=50, n_val=10, n_test=1000, cache_dir=tmp_path, pool_max=200
    )
    splits = load_splits(config, seed=0)
    pool = load_splits(DataConfig(**{**config.__dict__, "n_train": 200}), seed=0)
    seen = [{bytes(image) for image in x} for x in (pool.x_train, splits.x_val, splits.x_test)]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert len(splits.y_test) == sum(len(seen_class) for seen_class in [seen[2]])  # no photo twice in test
    assert np.bincount(splits.y_train).tolist() == [50] * 5
    folder = photos.photo_folder("128px")
    assert (folder / "roses" / FILED_TWICE).is_file() and (folder / "tulips" / FILED_TWICE).is_file()
