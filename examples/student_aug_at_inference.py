"""BUG: augmentation written with tf.image.random_* in a Lambda layer: those ops ignore `training`, so the model also
flips images in predict/evaluate. (Keras' RandomFlip & co. are identity when training=False.)

Caught by check_augmentation_inactive_at_inference.

Everything else is as in student_correct.py.
"""

import keras
import tensorflow as tf

from tl_claims import backbones

BACKBONE = "efficientnet_lite0"
STAGE1_LR = 1e-3  # head warm-up (the lesson)
# Fine-tuning: 10x below stage 1. The lesson says 1e-5; on a small budget (a few epochs) 1e-4 gains more and is still
# far from the forgetting regime of 1e-3 (docs/measured-facts.md, fine-tuning rates).
STAGE2_LR = 1e-4


def augmentation(seed: int) -> keras.layers.Layer:  # BUG
    """BUG: tf.image's random ops know nothing of `training`, so they flip images in predict/evaluate too."""  # BUG

    def random_flips(images):  # BUG
        images = tf.image.random_flip_left_right(images, seed=seed)  # BUG
        return tf.image.random_flip_up_down(images, seed=seed + 1)  # BUG

    return keras.layers.Lambda(random_flips, name="augmentation")  # BUG


def build_datasets(config):
    """Plain batches of 0-255 images: augmentation lives in the model, so val needs nothing but batching."""
    train = tf.data.Dataset.from_tensor_slices((config.x_train, config.y_train))
    train = train.shuffle(len(config.x_train), seed=config.seed).batch(config.batch_size)
    val = tf.data.Dataset.from_tensor_slices((config.x_val, config.y_val)).batch(config.batch_size)
    cast = lambda images, labels: (tf.cast(images, tf.float32), labels)  # noqa: E731
    return train.map(cast).prefetch(tf.data.AUTOTUNE), val.map(cast).prefetch(tf.data.AUTOTUNE)


def build_model(config):
    """augmentation -> Lite0's preprocessing, (x - 127) / 128 -> base (frozen) -> pool -> dropout -> dense."""
    base = backbones.load(BACKBONE, image_size=config.image_size, weights=config.weights)
    base.trainable = False
    inputs = keras.Input((config.image_size, config.image_size, 3))
    x = augmentation(config.seed)(inputs)
    x = keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="preprocess")(x)
    x = base(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(config.num_classes)(x)
    return keras.Model(inputs, outputs), base


def compile_with(model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def compile_stage1(model, base):
    compile_with(model, STAGE1_LR)


def unfreeze_and_compile_stage2(model, base):
    """Unfreeze the base but keep BatchNorm in inference mode (trainable=False), then compile again."""
    base.trainable = True
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    compile_with(model, STAGE2_LR)
