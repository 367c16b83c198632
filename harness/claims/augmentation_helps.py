"""Lesson: augmentation as layers (RandomFlip, RandomRotation(0.1), RandomZoom(0.1)) helps on small data.

Arms: stage 1 (frozen base, head warm-up) without augmentation → with the lesson's three layers.
Metric: test accuracy. Same data, epochs, optimizer and seed; only the augmentation layers differ.
"""

from harness import training
from harness.claims.base import Arm, Claim, Trial


def stage1_accuracy(trial: Trial, augment: bool) -> float:
    splits = trial.lab.splits(trial.seed)
    model = trial.lab.stage1(trial.seed, augment=augment).model
    return training.accuracy(model, splits.x_test, splits.y_test)


CLAIM = Claim(
    id="augmentation_helps",
    statement="Data augmentation as layers improves a small-data transfer model.",
    lesson_section="Temas: augmentation como capa; Ejercicio 1",
    metric="test accuracy after stage 1",
    baseline=Arm("no augmentation", lambda t: stage1_accuracy(t, augment=False)),
    treatment=Arm("flip + rotate 0.1 + zoom 0.1", lambda t: stage1_accuracy(t, augment=True)),
    threshold=0.0,
    variants=("flip_rotate_zoom",),
)
