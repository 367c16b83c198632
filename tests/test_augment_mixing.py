"""MixUp / CutMix / RandAugment as used by the `modern_augs` claim: soft labels, training only, seeded."""

import numpy as np
import pytest

from tl_claims.data import augment, batches

CLASSES = 5


def batch(n: int = 16, size: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    return images, np.eye(CLASSES, dtype="float32")[np.arange(n) % CLASSES]


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_mixed_labels_are_probabilities_and_really_mix(name):
    images, labels = batch()
    _, mixed = augment.mix_batch(augment.batch_augmentation(name, seed=1), images, labels, training=True)
    mixed = np.asarray(mixed)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-5)
    assert (mixed >= -1e-6).all()
    assert not np.allclose(mixed, labels), "labels should be mixed in training"


@pytest.mark.parametrize("name", list(augment.BATCH_AUGMENTATIONS))
def test_nothing_changes_outside_training(name):
    images, labels = batch()
    out_images, out_labels = augment.mix_batch(augment.batch_augmentation(name, seed=1), images, labels, training=False)
    np.testing.assert_allclose(np.asarray(out_images), images)
    np.testing.assert_array_equal(np.asarray(out_labels), labels)


def test_randaugment_changes_images_but_never_labels():
    images, labels = batch()
    out_images, out_labels = augment.mix_batch(
        augment.batch_augmentation("randaugment", seed=1), images, labels, training=True
    )
    assert not np.allclose(np.asarray(out_images), images)
    np.testing.assert_array_equal(np.asarray(out_labels), labels)


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_same_seed_same_training_batches(name):
    def run(seed: int) -> list[np.ndarray]:
        images, _labels = batch(n=32)
        data = batches.batches(images, np.arange(32) % CLASSES, 8)
        return [np.asarray(x) for x, _ in augment.augment_training_batches(data, name, seed, CLASSES)]

    first, again, other = run(3), run(3), run(4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


def test_randaugment_is_deterministic_under_its_seed():
    images, labels = batch(n=8)

    def run(seed: int) -> np.ndarray:
        layer = augment.batch_augmentation("randaugment", seed=seed)
        return np.asarray(augment.mix_batch(layer, images, labels, training=True)[0])

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_training_batches_carry_one_hot_or_mixed_labels():
    images, _ = batch(n=16)
    data = batches.batches(images, np.arange(16) % CLASSES, 8)
    for _, labels in augment.augment_training_batches(data, "mixup", seed=0, num_classes=CLASSES):
        assert labels.shape == (8, CLASSES)
        np.testing.assert_allclose(np.asarray(labels).sum(axis=1), 1.0, atol=1e-5)


def test_unknown_batch_augmentation_names_the_choices():
    with pytest.raises(ValueError, match="mixup"):
        augment.batch_augmentation("augmix", seed=0)


@pytest.mark.parametrize("name", augment.BENCH_LAYERS)
def test_benchmark_layers_build_and_augment(name):
    images, _ = batch(n=4, size=32)
    out = np.asarray(augment.benchmark_layer(name, 32, seed=0)(images, training=True))
    assert out.shape[0] == 4 and out.shape[-1] == 3


def test_benchmark_stack_crops_last():
    images, _ = batch(n=4, size=32)
    assert augment.benchmark_stack(32, seed=0)(images, training=True).shape == (4, 28, 28, 3)
