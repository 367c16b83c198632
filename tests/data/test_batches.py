"""Training batches on any backend: `ArrayBatches` (the PyDataset JAX and PyTorch train from) reshuffles every epoch
from its seed, replays the same epochs as a new object, batches without dropping, maps in order, and states a
batch's shapes without using up a random draw; `batches` picks tf.data only under TensorFlow."""

import keras
import numpy as np
import pytest

from tl_claims.core.backend import on_tensorflow
from tl_claims.data import augment, batches
from tl_claims.data.batches import ArrayBatches


def arrays(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    images = np.arange(n * 2 * 2 * 3, dtype=np.uint8).reshape(n, 2, 2, 3)
    return images, np.arange(n, dtype=np.int32)


def epoch(data: ArrayBatches) -> list[np.ndarray]:
    """One epoch's labels, batch by batch, as Keras reads it (index order, then `on_epoch_end`)."""
    labels = [data[index][1] for index in range(len(data))]
    data.on_epoch_end()
    return labels


def test_every_epoch_is_a_new_seeded_order_and_a_new_object_replays_them():
    data = ArrayBatches(*arrays(), 4, shuffle_seed=3)
    first, second = epoch(data), epoch(data)
    assert [len(batch) for batch in first] == [4, 4, 2]  # the last batch is kept, shorter
    assert sorted(np.concatenate(first)) == list(range(10))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    again = ArrayBatches(*arrays(), 4, shuffle_seed=3)
    for mine, theirs in zip(first + second, epoch(again) + epoch(again)):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(np.concatenate(epoch(ArrayBatches(*arrays(), 4, shuffle_seed=4))), first)


def test_unshuffled_batches_are_float_images_in_order_and_an_index_past_the_end_is_refused():
    data = ArrayBatches(*arrays(), 4)
    images, labels = data[1]
    assert images.dtype == np.float32 and list(labels) == [4, 5, 6, 7]
    np.testing.assert_array_equal(images, arrays()[0][4:8])
    with pytest.raises(IndexError):
        data[3]
    assert len(batches.first_batches(data)) == 1


def test_a_map_runs_in_order_after_the_one_before_and_its_spec_uses_up_no_draw():
    data = ArrayBatches(*arrays(), 4).mapped(lambda images, labels: (images + 1, labels))
    mixed = augment.augment_training_batches(data, "mixup", seed=0, num_classes=10)
    images_spec, labels_spec = batches.batch_spec(mixed)
    assert tuple(images_spec.shape) == (None, 2, 2, 3) and tuple(labels_spec.shape) == (None, 10)
    assert labels_spec.dtype == "float32"
    after_spec = [np.asarray(part) for part in mixed[0]]
    fresh = augment.augment_training_batches(data, "mixup", seed=0, num_classes=10)
    for mine, theirs in zip(after_spec, fresh[0]):
        np.testing.assert_array_equal(mine, theirs)
    assert np.asarray(fresh[1][0]).min() >= 1.0  # the +1 ran before the MixUp


def test_a_model_trains_on_array_batches_the_same_twice():
    def trained() -> list[np.ndarray]:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(ArrayBatches(*arrays(), 4, shuffle_seed=1), epochs=3, shuffle=False, verbose=0)
        return model.get_weights()

    for mine, theirs in zip(trained(), trained(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_the_pipeline_is_tf_data_only_under_tensorflow():
    data = batches.batches(*arrays(), 4, shuffle_seed=0)
    assert isinstance(data, ArrayBatches) != on_tensorflow()
