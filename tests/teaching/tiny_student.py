"""A tiny student pipeline for the harness's own tests: a conv + BatchNorm "base" that builds and traces in a blink.

It follows the student contract (harness/resources/student-contract.md). `BUGS` switches on the lesson's errors
(see `variant_source`), so each check can be shown failing on exactly one bug without paying for a real backbone.
The tiny base stands in for the registered BACKBONE: the checks read only the input range that backbone expects.
"""

import keras
import tensorflow as tf

BUGS: set[str] = set()
KNOWN_BUGS = ("raw_pixels", "double_scaling", "aug_on_val", "aug_at_inference", "base_not_frozen", "high_lr",
              "no_recompile", "bn_updating", "bn_training_false")
BACKBONE = "efficientnet_b0" if "double_scaling" in BUGS else "mobilenet_v2"  # expects 0-255 / [-1, 1]


def variant_source(*bugs: str) -> str:
    """This file's text with BUGS set, to be written as a student file."""
    unknown = set(bugs) - set(KNOWN_BUGS)
    assert not unknown, f"unknown bugs {unknown}"
    with open(__file__, encoding="utf-8") as handle:
        return handle.read().replace("BUGS: set[str] = set()", f"BUGS: set[str] = {set(bugs)!r}", 1)


def augmentation(seed: int) -> keras.layers.Layer:
    if "aug_at_inference" in BUGS:  # tf.image's random ops ignore `training`
        return keras.layers.Lambda(lambda images: tf.image.random_flip_left_right(images, seed=seed))
    return keras.Sequential([keras.layers.RandomFlip("horizontal", seed=seed)], name="augmentation")


def build_datasets(config):
    cast = lambda images, labels: (tf.cast(images, tf.float32), labels)  # noqa: E731
    train = tf.data.Dataset.from_tensor_slices((config.x_train, config.y_train)).batch(config.batch_size).map(cast)
    val = tf.data.Dataset.from_tensor_slices((config.x_val, config.y_val)).batch(config.batch_size).map(cast)
    if "aug_on_val" in BUGS:
        augment = augmentation(config.seed)
        val = val.map(lambda images, labels: (augment(images, training=True), labels))
    return train, val


def tiny_base(image_size: int) -> keras.Model:
    inputs = keras.Input((image_size, image_size, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    return keras.Model(inputs, keras.layers.ReLU()(x), name="tiny_base")


def build_model(config):
    base = tiny_base(config.image_size)
    base.trainable = "base_not_frozen" in BUGS
    inputs = keras.Input((config.image_size, config.image_size, 3))
    x = inputs
    if "aug_on_val" not in BUGS:
        x = augmentation(config.seed)(x)
    if "double_scaling" in BUGS:
        x = keras.layers.Rescaling(1 / 255)(x)
    elif "raw_pixels" not in BUGS:
        x = keras.layers.Rescaling(1 / 127.5, offset=-1)(x)
    x = base(x, training=False) if "bn_training_false" in BUGS else base(x)
    outputs = keras.layers.Dense(config.num_classes)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs), base


def compile_with(model, learning_rate: float) -> None:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def compile_stage1(model, base):
    compile_with(model, 1e-3)


def unfreeze_and_compile_stage2(model, base):
    base.trainable = True
    if not BUGS & {"bn_updating", "bn_training_false"}:
        for layer in base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    learning_rate = 1e-3 if "high_lr" in BUGS else 1e-5
    if "no_recompile" in BUGS:
        model.optimizer.learning_rate = learning_rate
    else:
        compile_with(model, learning_rate)
