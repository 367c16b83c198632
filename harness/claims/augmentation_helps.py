"""Lesson: augmentation as layers (RandomFlip, RandomRotation(0.1), RandomZoom(0.1)) helps on small data.

Arms: stage 1 (frozen base, head warm-up) without augmentation → with the lesson's three layers.
Metric: test accuracy. Same data, epochs, optimizer and seed; only the augmentation layers differ.
"""

from harness.claims.base import TEST_ACCURACY, Arm, Claim, Metric, Variant

CLAIM = Claim(
    id="augmentation_helps",
    statement="Data augmentation as layers improves a small-data transfer model.",
    lesson_section="Temas: augmentation como capa; Ejercicio 1",
    metric=Metric("test accuracy after stage 1", TEST_ACCURACY.measure),
    baseline=Arm("no augmentation", lambda trial: trial.lab.stage1(trial.seed, augment=False)),
    treatment=Arm("flip + rotate 0.1 + zoom 0.1", lambda trial: trial.lab.stage1(trial.seed, augment=True)),
    threshold=0.0,
    variants=(Variant("flip_rotate_zoom", expected={"cpu": "REFUTED"}),),
)
