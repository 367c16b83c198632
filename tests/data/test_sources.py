"""Sources and splits: the rules the claims' paired statistics rely on, on tiny synthetic, tfds-mock and folder data."""

import logging
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from tl_claims.data import (
    CLASS_NAMES,
    DataConfig,
    DataError,
    Splits,
    folders,
    load_splits,
    sources,
    streams,
    tfds_source,
)
from tl_claims.data.validate import TooFewPhotos

POOL = 12  # a tiny synthetic train pool per class keeps generation well under a second


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A DataConfig factory on a private cache with a 12-image train pool per class, 16 px images."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(streams, "SYNTHETIC_TRAIN_POOL", POOL)

        def make(**overrides) -> DataConfig:
            values = dict(source="synthetic", image_size=16, n_train=4, n_val=2, n_test=3, cache_dir=cache)
            values.update(overrides)
            return DataConfig(**values)

        yield make


def rows(x: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in x}


def test_splits_have_the_documented_types_and_stratified_counts(tiny):
    splits = load_splits(tiny(), seed=0)
    assert splits.class_names == CLASS_NAMES
    for split, per_class in (("train", 4), ("val", 2), ("test", 3)):
        x, y = splits.arrays(split)
        assert x.dtype == np.uint8 and x.shape == (5 * per_class, 16, 16, 3)
        assert y.dtype == np.int32 and np.bincount(y, minlength=5).tolist() == [per_class] * 5


def test_same_config_and_seed_give_the_same_object_and_it_is_read_only(tiny):
    splits = load_splits(tiny(), seed=0)
    assert load_splits(tiny(), seed=0) is splits
    with pytest.raises(ValueError):
        splits.x_train[0, 0, 0, 0] = 1


def test_training_subsets_are_nested_in_n_train(tiny):
    subsets = [rows(load_splits(tiny(n_train=n), seed=1).x_train) for n in (2, 4, 8)]
    assert subsets[0] < subsets[1] < subsets[2]


def test_seeds_draw_different_training_subsets_but_share_val_and_test(tiny):
    a, b = load_splits(tiny(), seed=0), load_splits(tiny(), seed=1)
    assert rows(a.x_train) != rows(b.x_train)
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.x_val, b.x_val)


def test_val_is_disjoint_from_train_and_test(tiny):
    splits = load_splits(tiny(n_train=POOL), seed=2)
    assert not rows(splits.x_val) & rows(splits.x_train)
    assert not rows(splits.x_val) & rows(splits.x_test)
    assert not rows(splits.x_train) & rows(splits.x_test)


def test_a_larger_n_train_grows_the_synthetic_pool_by_blocks_keeping_smaller_choices(tiny):
    """Past one block (POOL per class) the pool grows by whole blocks; the smaller sizes' images stay a prefix, so
    nothing measured below one block changes, and every size is still nested in the next."""
    small, full, grown = (load_splits(tiny(n_train=n), seed=3) for n in (5, POOL, POOL + 5))
    assert rows(small.x_train) < rows(full.x_train) < rows(grown.x_train)
    assert np.bincount(grown.y_train).tolist() == [POOL + 5] * 5
    other_seed = load_splits(tiny(n_train=POOL + 5), seed=4)
    assert rows(other_seed.x_train) != rows(grown.x_train)  # seeds differ in the second block's draw


def test_one_block_draws_exactly_the_per_class_permutation_prefix():
    """The block-wise order is the plain per-seed permutation when a class fits in one block (the choice every
    number measured at n <= SYNTHETIC_TRAIN_POOL was drawn with)."""
    labels = np.arange(60) % 5
    for block in (None, 12, 100):
        chosen = sources.training_choice(labels, 5, 7, seed=9, block=block)
        expected = [np.random.default_rng([9, c, 7]).permutation(np.flatnonzero(labels == c))[:7] for c in range(5)]
        assert np.array_equal(chosen, np.random.default_rng([9, 11]).permutation(np.concatenate(expected)))


def test_asking_a_folder_for_more_than_it_holds_names_the_counts(tmp_path):
    write_tree(tmp_path / "photos", {"cat": 9, "dog": 6}, value=100)
    with pytest.raises(
        DataError, match=r"'dog' has 6 distinct photos; n_val=0 \+ n_train=5 \+ at least 2 test photos need 7"
    ):
        load_splits(DataConfig(f"folder:{tmp_path / 'photos'}", 20, 5, 0, 2, tmp_path / "cache"), seed=0)


def test_synthetic_images_are_written_once_to_the_cache(tiny, monkeypatch):
    config = tiny(n_test=4)
    first = load_splits(config, seed=0)
    folder = streams.synthetic_folder(config.cache_dir, streams.SYNTHETIC_STREAMS["claims"]["test"], 16)
    assert sorted(p.name for p in (folder / "daisy").glob("*.jpg")) == [f"{k:05d}.jpg" for k in range(4)]
    streams.image_stream.cache_clear()  # a new process: nothing in memory, everything on disk
    monkeypatch.setattr(streams.families, "write_folders", pytest.fail)  # must not regenerate
    again = load_splits(tiny(n_test=4, n_train=3), seed=0)
    assert np.array_equal(again.x_test, first.x_test)


def test_only_the_requested_synthetic_images_are_generated(tiny):
    config = tiny(n_train=2, image_size=20)
    load_splits(config, seed=0)
    folder = streams.synthetic_folder(config.cache_dir, streams.SYNTHETIC_STREAMS["claims"]["train"], 20)
    assert len(list(folder.rglob("*.jpg"))) == 2 * 5  # not the whole 12-per-class pool


def test_dataset_batches_float_images_and_int_labels(tiny):
    splits = load_splits(tiny(), seed=0)
    images, labels = (np.asarray(part) for part in next(iter(splits.dataset("train", 8, shuffle_seed=0))))
    assert images.dtype == np.float32 and labels.dtype == np.int32 and images.shape == (8, 16, 16, 3)
    assert images.min() >= 0.0 and images.max() <= 255.0
    assert sum(int(b[1].shape[0]) for b in splits.dataset("test", 4)) == 15


def test_augmentation_never_touches_val_or_test(tiny):
    from tl_claims.data.augment import lesson_augmentation

    splits = load_splits(tiny(), seed=0)
    for split in ("val", "test"):
        with pytest.raises(ValueError, match="augmentation never touches val/test"):
            splits.dataset(split, 4, augmentation=lesson_augmentation(0))
    augmented = splits.dataset("train", 20, augmentation=lesson_augmentation(0))
    epochs = [np.asarray(next(iter(augmented))[0]) for _ in range(2)]
    assert epochs[0].shape == (20, 16, 16, 3)
    assert not np.allclose(epochs[0], splits.x_train) and not np.allclose(epochs[0], epochs[1])
    again = np.asarray(next(iter(splits.dataset("train", 20, augmentation=lesson_augmentation(0))))[0])
    assert np.allclose(again, epochs[0])  # seeded: reproducible


@pytest.mark.tensorflow_only("tf.data's autotuner")
def test_the_training_pipeline_runs_without_the_autotuner_and_gives_the_same_batches(tiny, monkeypatch):
    """The autotuner off (an idle core beside another worker otherwise) changes no batch and no order, epoch after
    epoch, each epoch on a new iterator as Keras makes them, shuffled and augmented."""
    from tl_claims.data import tf_pipeline
    from tl_claims.data.augment import lesson_augmentation

    splits = load_splits(tiny(), seed=0)

    def three_epochs() -> tuple[object, list[np.ndarray]]:
        data = splits.dataset("train", 6, shuffle_seed=3, augmentation=lesson_augmentation(0))
        return data, [np.concatenate([batch[0].numpy() for batch in data]) for _ in range(3)]

    untuned, epochs = three_epochs()
    assert untuned.options().autotune.enabled is False
    monkeypatch.setattr(tf_pipeline, "without_autotuning", lambda data: data)
    tuned, tuned_epochs = three_epochs()
    assert tuned.options().autotune.enabled is not False
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled and augmented anew each epoch
    for mine, theirs in zip(epochs, tuned_epochs):
        np.testing.assert_array_equal(mine, theirs)


def test_unknown_source_and_bad_sizes_are_data_errors(tiny):
    with pytest.raises(DataError, match="tfds:NAME"):
        load_splits(tiny(source="s3://bucket"), seed=0)
    with pytest.raises(DataError, match="n_train"):
        load_splits(tiny(n_train=0), seed=0)


def test_splits_is_the_public_class():
    assert sources.Splits is Splits


# ---------------------------------------------------------------------------------------------------- tfds


@pytest.mark.parametrize(
    "name, class_names",
    [
        ("tf_flowers", ("dandelion", "daisy", "tulips", "sunflowers", "roses")),
        ("cats_vs_dogs", ("cat", "dog")),
    ],
)
def test_tfds_source_offline_with_mock_data(name, class_names, tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=120):
        splits = load_splits(
            DataConfig(f"tfds:{name}", image_size=24, n_train=4, n_val=2, n_test=3, cache_dir=tmp_path), seed=0
        )
    assert splits.class_names == class_names
    assert splits.x_train.shape == (4 * len(class_names), 24, 24, 3) and splits.x_train.dtype == np.uint8
    assert np.bincount(splits.y_test).tolist() == [3] * len(class_names)
    assert not rows(splits.x_test) & rows(splits.x_train)


def test_tfds_without_tensorflow_is_a_data_error_that_names_the_way_out(monkeypatch, tmp_path):
    monkeypatch.setattr(sources, "has_tensorflow", lambda: False)
    with pytest.raises(DataError, match=r"needs TensorFlow Datasets.*folder:PATH"):
        sources.load_pools(DataConfig("tfds:tf_flowers", image_size=24, cache_dir=tmp_path))


def test_tfds_without_data_says_how_to_get_it(monkeypatch):
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve storage.googleapis.com")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(DataError, match=r"tfds build tf_flowers.*folder:PATH"):
        tfds_source.tfds_pools.__wrapped__("tf_flowers", 32)


# ---------------------------------------------------------------------------------------------------- folders


def write_tree(root, layout: dict[str, int], value: int, size: int = 20) -> None:
    """`layout` maps "split/class" (or "class") to an image count; every pixel of a split has one grey value."""
    for i, (folder, count) in enumerate(layout.items()):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            pixels = np.full((size, size, 3), value, np.uint8)
            pixels[0, 0], pixels[0, 1] = k, i  # distinct images
            Image.fromarray(pixels).save(root / folder / f"{k:03d}.png")


def test_plain_class_folder_tree_is_split_here(tmp_path):
    write_tree(tmp_path / "photos", {"cat": 9, "dog": 9}, value=100)
    splits = load_splits(DataConfig(f"folder:{tmp_path / 'photos'}", 20, 4, 2, 3, tmp_path / "cache"), seed=0)
    assert splits.class_names == ("cat", "dog")
    assert (len(splits.y_train), len(splits.y_val), len(splits.y_test)) == (8, 4, 6)
    assert not rows(splits.x_test) & rows(splits.x_train) and not rows(splits.x_val) & rows(splits.x_train)


@pytest.mark.parametrize("val_name", ["val", "validation"])
def test_ready_made_train_val_test_folders_are_kept(tmp_path, val_name):
    root = tmp_path / "split"
    write_tree(root, {"train/cat": 6, "train/dog": 6}, value=10)
    write_tree(root, {f"{val_name}/cat": 2, f"{val_name}/dog": 2}, value=120)
    write_tree(root, {"test/cat": 3, "test/dog": 3}, value=240)
    splits = load_splits(DataConfig(f"folder:{root}", 20, 5, 2, 3, tmp_path / "cache"), seed=0)
    assert np.all(splits.x_train[:, 5, 5] == 10)
    assert np.all(splits.x_val[:, 5, 5] == 120)
    assert np.all(splits.x_test[:, 5, 5] == 240)
    assert np.bincount(splits.y_test).tolist() == [3, 3]


def test_ready_made_test_folder_too_small_names_the_counts(tmp_path):
    root = tmp_path / "split"
    write_tree(root, {"train/cat": 6, "train/dog": 6, "test/cat": 1, "test/dog": 3}, value=10)
    with pytest.raises(DataError, match=r"'cat' has 1 test images, n_test=3"):
        load_splits(DataConfig(f"folder:{root}", 20, 2, 0, 3, tmp_path / "cache"), seed=0)


# ------------------------------------------------------------------------------------------ cache integrity


def forget_in_memory() -> None:
    """As a new process would start: nothing in memory, everything from the disk cache."""
    for cached in (load_splits, sources.fixed_splits, streams.image_stream, folders.folder_pools):
        cached.cache_clear()


def synthetic_test_images(cache) -> list:
    return sorted(streams.synthetic_folder(cache, streams.SYNTHETIC_STREAMS["claims"]["test"], 16).rglob("*.jpg"))


@pytest.mark.parametrize("damage", ["flip_a_byte", "truncate_without_hash"])
def test_a_damaged_synthetic_image_is_reported_and_generated_again(tmp_path, caplog, damage):
    config = DataConfig(source="synthetic", image_size=16, n_train=2, n_val=0, n_test=2, cache_dir=tmp_path)
    first = load_splits(config, seed=0)
    victim = synthetic_test_images(tmp_path)[1]
    data = bytearray(victim.read_bytes())
    if damage == "flip_a_byte":
        data[len(data) // 2] ^= 0x40
        victim.write_bytes(bytes(data))
    else:  # an image an earlier version wrote (no hash) and a killed run cut short
        victim.write_bytes(bytes(data[:40]))
        victim.with_name(victim.name + ".sha256").unlink()
    forget_in_memory()
    with caplog.at_level(logging.WARNING, logger="tl_claims.core.store"):
        again = load_splits(config, seed=0)
    (line,) = [record.getMessage() for record in caplog.records]
    assert str(victim) in line and "corrupt" in line
    assert np.array_equal(again.x_test, first.x_test)


def test_an_intact_image_written_without_a_hash_is_adopted_silently(tmp_path, caplog):
    config = DataConfig(source="synthetic", image_size=16, n_train=2, n_val=0, n_test=2, cache_dir=tmp_path)
    load_splits(config, seed=0)
    sidecar = synthetic_test_images(tmp_path)[0].with_name(synthetic_test_images(tmp_path)[0].name + ".sha256")
    recorded = sidecar.read_text()
    sidecar.unlink()
    forget_in_memory()
    with caplog.at_level(logging.WARNING, logger="tl_claims.core.store"):
        load_splits(config, seed=0)
    assert caplog.records == [] and sidecar.read_text() == recorded


def rgba_tree(root) -> None:
    write_tree(root, {"cat": 4, "dog": 5}, value=90)
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(root / "cat" / "clear.png")  # needs converting: a copy is made


def test_a_normalised_copy_holds_copies_never_links_to_the_users_photos(tmp_path):
    rgba_tree(tmp_path / "photos")
    load_splits(DataConfig(f"folder:{tmp_path / 'photos'}", 20, 2, 0, 2, tmp_path / "cache"), seed=0)
    (copy,) = (tmp_path / "cache" / "folders").iterdir()
    original, copied = tmp_path / "photos" / "dog" / "000.png", copy / "dog" / "000.png"
    assert copied.stat().st_ino != original.stat().st_ino and original.stat().st_nlink == 1
    before = original.read_bytes()
    copied.write_bytes(b"edited in the cache")
    assert original.read_bytes() == before


def test_a_damaged_normalised_copy_is_reported_and_made_again(tmp_path, caplog):
    rgba_tree(tmp_path / "photos")
    config = DataConfig(f"folder:{tmp_path / 'photos'}", 20, 2, 0, 2, tmp_path / "cache")
    first = load_splits(config, seed=0)
    (copy,) = (tmp_path / "cache" / "folders").iterdir()
    (copy / "cat" / "clear.png.png").write_bytes(b"garbage")
    forget_in_memory()
    with caplog.at_level(logging.WARNING, logger="tl_claims.core.store"):
        again = load_splits(config, seed=0)
    (line,) = [record.getMessage() for record in caplog.records]
    assert "corrupt" in line and "clear.png.png" in line
    assert np.array_equal(again.x_train, first.x_train) and np.array_equal(again.x_test, first.x_test)


def test_a_training_size_beyond_the_pool_is_its_own_error_naming_each_class(tmp_path):
    """The folder is fine for the scale (5 + 2 val + 3 test per class) but a learning curve asks for 8 per class:
    TooFewPhotos, which the plugin turns into a skip of that one experiment, never a silently smaller set."""
    write_tree(tmp_path / "photos", {"cat": 12, "dog": 12}, value=100)
    config = DataConfig(f"folder:{tmp_path / 'photos'}", 20, 8, 2, 3, tmp_path / "cache", pool_min=5, pool_max=5)
    with pytest.raises(TooFewPhotos, match=r"n_train=8 per class.*'cat' has 5, 'dog' has 5 training photos"):
        load_splits(config, seed=0)
    assert np.bincount(load_splits(replace(config, n_train=5), seed=0).y_train).tolist() == [5, 5]
