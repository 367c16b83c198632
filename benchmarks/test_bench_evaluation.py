"""Evaluation speed: a Lite0 classifier called eagerly batch by batch (the lab's way until 2026-12) against
`evaluation.evaluate`'s traced batches, on the cpu scale's test set (1,000 images at 96 px), side by side in one run.

Both give the same outputs to the last bit (tests/test_training.py); only the time differs. The ratio is the
"traced" row's images/s over the "eager" row's, from one `pytest benchmarks/test_bench_evaluation.py` run.
"""

import keras
import numpy as np
import pytest

from benchmarks import bench
from tl_claims.data import augment
from tl_claims.recipe import architecture, evaluation, training

IMAGE_SIZE = 96  # the cpu scale's
TEST_IMAGES = 1_000  # the cpu scale's test set: 200 per class, 5 classes
SMOKE_IMAGES = 70  # benchmarks disabled (the fast suite): one short pass, the last batch shorter
BATCH = 64


def eager(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Predicted classes, the model called eagerly on each batch (pooled features and logits together), as the lab
    used to."""
    both = keras.Model(model.input, [model.get_layer("pool").output, model.output])
    outputs = [both(images[i : i + BATCH].astype("float32"), training=False) for i in range(0, len(images), BATCH)]
    return np.argmax(np.concatenate([np.asarray(logits) for _, logits in outputs]), axis=1)


def traced(model: keras.Model, images: np.ndarray) -> np.ndarray:
    return evaluation.evaluate(model, images, np.zeros(len(images)), with_features=True, batch_size=BATCH).predictions


@pytest.fixture(scope="module")
def classifier() -> architecture.Classifier:
    training.seed_everything(0, "bench_evaluation")
    return architecture.build_classifier(
        "efficientnet_lite0", image_size=IMAGE_SIZE, num_classes=5, augmentation=augment.lesson_augmentation(seed=0)
    )


@pytest.mark.parametrize("way", ["eager", "traced"])
def test_evaluation_images_per_second(benchmark, classifier, way):
    count = TEST_IMAGES if benchmark.enabled else SMOKE_IMAGES
    images = np.random.default_rng(0).integers(0, 256, (count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    evaluate = {"eager": eager, "traced": traced}[way]
    benchmark.group = f"evaluation, {count} images at {IMAGE_SIZE} px"
    predictions = benchmark.pedantic(lambda: evaluate(classifier.model, images), rounds=3, warmup_rounds=1)
    assert len(predictions) == count
    if benchmark.stats is not None:  # None when benchmarks are disabled
        benchmark.extra_info.update(bench.rate_spread(count, benchmark.stats.stats))
