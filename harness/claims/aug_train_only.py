"""Lesson: "Augmentation debe ser solo en train" (common error: augmentation applied to val/test too).

Arms: the same stage-1 model evaluated on augmented test images → on clean test images.
Metric: test accuracy. The augmented arm runs the lesson's augmentation layers in training mode over the test
images, which is what happens when a student maps the augmentation over the test pipeline.
"""

from harness import training
from harness.augment import lesson_augmentation
from harness.claims.base import Arm, Claim, Trial

TEST_AUGMENTATION_SEED_OFFSET = 10_000  # test-time draws must not repeat the training draws of the same seed


def clean_test_accuracy(trial: Trial) -> float:
    splits = trial.lab.splits(trial.seed)
    return training.accuracy(trial.lab.stage1(trial.seed).model, splits.x_test, splits.y_test)


def augmented_test_accuracy(trial: Trial) -> float:
    splits = trial.lab.splits(trial.seed)
    augment = lesson_augmentation(trial.seed + TEST_AUGMENTATION_SEED_OFFSET)
    augmented = augment(splits.x_test.astype("float32"), training=True)
    return training.accuracy(trial.lab.stage1(trial.seed).model, augmented.numpy(), splits.y_test)


CLAIM = Claim(
    id="aug_train_only",
    statement="Augmentation belongs in training only; applied to val/test it costs accuracy.",
    lesson_section="Definiciones: augmentation layer; Errores comunes: augmentation en val/test",
    metric="test accuracy of one stage-1 model",
    baseline=Arm("augmented test", augmented_test_accuracy),
    treatment=Arm("clean test", clean_test_accuracy),
    threshold=0.0,
    variants=("flip_rotate_zoom",),
)
