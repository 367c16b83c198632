"""How fast is augmentation, and does it starve training? (lesson FAQ: "¿Augmentation en GPU o CPU?")

Images/s for each of the lesson's layers (RandomFlip, RandomRotation, RandomZoom, RandomCrop, RandomContrast), the
five as one stack, and RandAugment (the heavy kind the FAQ warns about), placed
- in tf.data: a batched, parallel map (AUTOTUNE) with prefetch, on the CPU — the way a pipeline feeds `fit`;
- inside the model: the layer called with training=True in a traced function on the device, input already there;
on the CPU and (marked `gpu`, skipped without one) the GPU, at 96 and 224 px, for uint8 and float32 input.

Reference points measured in the same run: the same tf.data pipeline with no augmentation, a memory copy of the same
bytes, and Lite0's training step (stage 1 frozen base; stage 2 whole base) at the same size and batch.

Protocol: fixed shapes (batch 32, drop_remainder), random images from a fixed seed (augmentation cost does not depend
on content); building, tracing and one warm-up round happen before timing; every output batch is produced inside
the timed region (tf.data yields computed tensors; device results are read back to wait for the device).
"""

from collections.abc import Callable

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import bench
from tl_claims.data import augment
from tl_claims.recipe import architecture, training

SIZES = (96, 224)
DTYPES = ("uint8", "float32")
BATCH = 32  # the lesson's (and every scale's) batch size
ROUND_BATCHES = {96: 8, 224: 4}  # batches per timed round: 256 / 128 images
HEAVY_ROUND_BATCHES = 1  # RandAugment runs ~50–100 img/s at 96 px on 2 cores: one batch per round is plenty
TRANSFORMS = (*augment.BENCH_LAYERS, bench.STACK, "randaugment")
BACKBONE = "efficientnet_lite0"
NUM_CLASSES = 5
SEED = 0
UNSUPPORTED_INPUT = (tf.errors.InvalidArgumentError, TypeError, ValueError)

PLACEMENTS = ((bench.TF_DATA, "cpu"), (bench.IN_MODEL, "cpu"), (bench.IN_MODEL, "gpu"))
DEVICES = ("cpu", "gpu")


def case(*values: object, device: str, image_size: int, smoke: bool = True):
    """A parameter set; `gpu` marks the GPU ones, `bench_full` the ones the fast suite's smoke run leaves out."""
    marks = [pytest.mark.gpu] if device == "gpu" else []
    if image_size > min(SIZES) or not smoke:
        marks.append(pytest.mark.bench_full)
    return pytest.param(*values, marks=marks, id="-".join(str(v).replace(".", "") for v in values))


def augmentation_cases() -> list:
    """Every transform × placement × size × dtype; RandAugment's trace is slow, so smoke keeps one of its cases."""
    return [
        case(
            transform,
            placement,
            device,
            size,
            dtype,
            device=device,
            image_size=size,
            smoke=transform != "randaugment" or (placement, dtype) == (bench.TF_DATA, "float32"),
        )
        for transform in TRANSFORMS
        for placement, device in PLACEMENTS
        for size in SIZES
        for dtype in DTYPES
    ]


def device_scope(device: str) -> tf.device:
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        pytest.skip(
            "no GPU visible to TensorFlow: install the gpu extra on a GPU machine and run "
            "`pytest benchmarks --benchmark-only -m 'gpu or not gpu'`"
        )
    return tf.device("/GPU:0" if device == "gpu" else "/CPU:0")


def random_images(count: int, image_size: int, dtype: str) -> np.ndarray:
    pixels = np.random.default_rng(SEED).integers(0, 256, (count, image_size, image_size, 3), dtype=np.uint8)
    return pixels.astype(dtype)


def make_layer(transform: str, image_size: int):
    if transform == bench.STACK:
        return augment.benchmark_stack(image_size, seed=SEED)
    if transform == "randaugment":
        return augment.batch_augmentation("randaugment", seed=SEED)
    return augment.benchmark_layer(transform, image_size, seed=SEED)


def round_batches(transform: str, image_size: int, smoke: bool) -> int:
    if smoke or transform == "randaugment":
        return HEAVY_ROUND_BATCHES
    return ROUND_BATCHES[image_size]


def tf_data_round(images: np.ndarray, layer) -> Callable[[], int]:
    """One round = one pass (an epoch, iterator start included) over every batch of `images`, mapped in parallel
    and prefetched."""
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(BATCH, drop_remainder=True)
    if layer is not None:
        dataset = dataset.map(lambda batch: layer(batch, training=True), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)

    def run() -> int:
        return sum(1 for _ in dataset)

    return run


def in_model_round(images: np.ndarray, layer, device: str, batches: int) -> Callable[[], None]:
    """One round = `batches` calls of the traced layer on a batch already on the device, each result waited for."""
    with device_scope(device):
        batch = tf.constant(images[:BATCH])
        spec = tf.TensorSpec(batch.shape, batch.dtype)
        apply = tf.function(lambda x: layer(x, training=True), input_signature=[spec])

    def run() -> None:
        with device_scope(device):
            for _ in range(batches):
                output = apply(batch)
                _ = output[0, 0, 0, 0].numpy()  # waits for the device to finish the batch

    return run


@pytest.mark.parametrize(("transform", "placement", "device", "image_size", "dtype"), augmentation_cases())
def test_augmentation_throughput(throughput, transform, placement, device, image_size, dtype):
    batches = round_batches(transform, image_size, throughput.smoke)
    fields = dict(
        kind=bench.AUGMENTATION,
        transform=transform,
        placement=placement,
        device=device,
        image_size=image_size,
        dtype=dtype,
        batch_size=BATCH,
        images_per_round=batches * BATCH,
    )
    images = random_images(batches * BATCH, image_size, dtype)
    layer = make_layer(transform, image_size)
    try:
        if placement == bench.TF_DATA:
            run = tf_data_round(images, layer)
        else:
            run = in_model_round(images, layer, device, batches)
        run()  # traces and checks the layer accepts this input before anything is timed
    except UNSUPPORTED_INPUT as error:
        throughput.unsupported(error, **fields)
    throughput.measure(run, **fields)


@pytest.mark.parametrize(
    ("image_size", "dtype"), [case(size, dtype, device="cpu", image_size=size) for size in SIZES for dtype in DTYPES]
)
def test_no_augmentation_pipeline(throughput, image_size, dtype):
    """The same tf.data pipeline with no map: the most any augmentation map could deliver."""
    batches = round_batches("none", image_size, throughput.smoke)
    run = tf_data_round(random_images(batches * BATCH, image_size, dtype), layer=None)
    run()
    throughput.measure(
        run,
        kind=bench.REFERENCE,
        transform=bench.NO_AUGMENTATION,
        placement=bench.TF_DATA,
        device="cpu",
        image_size=image_size,
        dtype=dtype,
        batch_size=BATCH,
        images_per_round=batches * BATCH,
    )


@pytest.mark.parametrize(
    ("device", "image_size", "dtype"),
    [
        case(device, size, dtype, device=device, image_size=size)
        for device in DEVICES
        for size in SIZES
        for dtype in DTYPES
    ],
)
def test_memcpy_bound(throughput, device, image_size, dtype):
    """Reading and writing every byte once: no flip or crop can beat it (numpy copy on the CPU, x + 0 on a GPU)."""
    batches = round_batches("memcpy", image_size, throughput.smoke)
    images = random_images(batches * BATCH, image_size, dtype)
    if device == "cpu":
        target = np.empty_like(images)

        def run() -> None:
            np.copyto(target, images)
    else:
        run = in_model_round(images, lambda x, training: x + tf.zeros((), x.dtype), device, batches)
    run()
    throughput.measure(
        run,
        kind=bench.REFERENCE,
        transform=bench.MEMCPY,
        placement="-",
        device=device,
        image_size=image_size,
        dtype=dtype,
        batch_size=BATCH,
        images_per_round=batches * BATCH,
    )


@pytest.mark.parametrize(
    ("device", "image_size", "step"),
    [
        case(device, size, step, device=device, image_size=size, smoke=False)  # tracing Lite0's step takes 5–15 s
        for device in DEVICES
        for size in SIZES
        for step in bench.TRAIN_STEPS
    ],
)
def test_training_step(throughput, step, device, image_size):
    """Lite0's training step at the same size and batch: what the augmentation has to keep up with."""
    with device_scope(device):
        training.seed_everything(SEED, "bench_train_step")
        classifier = architecture.build_classifier(
            BACKBONE, image_size=image_size, num_classes=NUM_CLASSES, weights=None
        )  # random weights: the same arithmetic as ImageNet's
        if step == "train_stage2":
            training.unfreeze(classifier)
        training.compile_model(classifier.model, 1e-3 if step == "train_stage1" else 1e-5)
        images = tf.constant(random_images(BATCH, image_size, "float32"))
        labels = tf.constant(np.arange(BATCH) % NUM_CLASSES)

    def run() -> None:
        with device_scope(device):
            classifier.model.train_on_batch(images, labels)  # returns the loss as a number: the step has finished

    run()
    throughput.measure(
        run,
        kind=bench.REFERENCE,
        transform=step,
        placement="-",
        device=device,
        image_size=image_size,
        dtype="float32",
        batch_size=BATCH,
        images_per_round=BATCH,
    )


# --- peer comparison: albumentations (optional extra `bench`) -------------------------------------------------------
PEER = "albumentations"


def albumentations_transform(name: str, image_size: int):
    """The same transforms at the same strengths as `augment.benchmark_layer` / `benchmark_stack`."""
    import albumentations as album
    import cv2

    side = round(image_size * augment.CROP_FRACTION)
    transforms = {
        "flip": album.HorizontalFlip(p=0.5),
        "rotation": album.Rotate(limit=36, border_mode=cv2.BORDER_REFLECT_101, p=1.0),  # Keras: ±0.1 turn, reflect
        "zoom": album.Affine(scale=(0.9, 1.1), border_mode=cv2.BORDER_REFLECT_101, p=1.0),
        "contrast": album.RandomBrightnessContrast(brightness_limit=0.0, contrast_limit=augment.CONTRAST_FACTOR, p=1.0),
        "crop": album.RandomCrop(side, side, p=1.0),
    }
    if name == bench.STACK:
        order = ("flip", "rotation", "zoom", "contrast", "crop")
        return album.Compose([transforms[step] for step in order], seed=SEED)
    return album.Compose([transforms[name]], seed=SEED)


@pytest.mark.parametrize(
    ("transform", "image_size", "dtype"),
    [
        case(transform, size, dtype, device="cpu", image_size=size, smoke=False)
        for transform in (*augment.BENCH_LAYERS, bench.STACK)
        for size in SIZES
        for dtype in DTYPES
    ],
)
def test_albumentations_peer(throughput, transform, image_size, dtype):
    """The fastest CPU library on the same images, one thread, one image at a time (how it is used in a loader)."""
    pytest.importorskip("albumentations", reason="peer comparison needs the `bench` extra: pip install -e '.[bench]'")
    import cv2

    cv2.setNumThreads(1)
    batches = ROUND_BATCHES[image_size] if not throughput.smoke else 1
    images = random_images(batches * BATCH, image_size, dtype)
    if dtype == "float32":
        images /= 255.0  # albumentations reads float images as 0..1
    pipeline = albumentations_transform(transform, image_size)

    def run() -> None:
        for image in images:
            pipeline(image=image)["image"]

    run()
    throughput.measure(
        run,
        kind=bench.AUGMENTATION,
        transform=transform,
        placement=f"{PEER} 1 thread",
        device="cpu",
        image_size=image_size,
        dtype=dtype,
        batch_size=BATCH,
        images_per_round=batches * BATCH,
    )
