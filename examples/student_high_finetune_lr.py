"""BUG (Errores comunes, row 3): fine-tuning at 1e-3, the head's warm-up rate: catastrophic forgetting.

Caught by check_finetune_lr_10x_lower.

Everything else is as in student_correct.py.
"""

import keras
import tensorflow as tf

from tl_claims import backbones

BACKBONE = "efficientnet_lite0"
STAGE1_LR = 1e-3  # head warm-up (the lesson)
STAGE2_LR = 1e-3  # BUG: as high as stage 1


def augmentation(seed: int) -> keras.Sequential:
    """The lesson's augmentation as layers: active in fit, identity in predict/evaluate."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.1, seed=seed),
            keras.layers.RandomZoom(0.1, seed=seed),
        ],
        name="augmentation",
    )


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
