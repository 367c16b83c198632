"""Homework: "la etapa 2 mejora la 1 en ≥ 2 pp" (exercises 3–4: stage 1 Adam 1e-3, stage 2 `base.trainable = True`,
recompile with Adam(1e-5)).

Arms: the stage-1 model (base frozen, head warmed up) → stage 2 from that same model (whole base unfrozen,
BatchNorm layers kept frozen, recompiled, fine-tuned for the scale's stage-2 epochs).
Metric: test accuracy. Rule: stage 2 − stage 1 > 2 pp.
Variants: `lr_1e-5`, the lesson's rate; `lr_1e-4`, ten times higher, because at a small budget 1e-5 barely moves
the base (docs/measured-facts.md, fine-tuning rates) — the table shows both rather than one arm; `lesson_literal`,
the lesson's code as written (exercises 4 + 5: recompile at 1e-5 with `x = base(inputs, training=False)`, BatchNorm
layers left trainable), which on Keras 3 does not keep BatchNorm frozen (see the bn_gotcha claim);
`lr_1e-5_long`, the lesson's rate for 240 stage-2 steps instead of the scale's 48 (the lesson's own stage 2 is about
900 steps on tf_flowers), to see whether 1e-5 needs only time; `lesson_budget`, the lesson's code as written at the
lesson's own budget: 5 + 10 epochs at Keras' default batch of 32, on the whole training pool (the scale's largest
learning-curve size per class) rather than the scale's few images. The stage-2 arm reports how far it moved the base's
kernels (relative L2 from stage 1), so a row shows whether stage 2 changed the base at all.
"""

import math

from tl_claims.claims.base import TEST_ACCURACY, Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.recipe.options import Stage1Options, Stage2Options

LONG_STAGE2_STEPS = 240
LESSON_STAGE2_EPOCHS = 10  # exercise 4: "entrenar 10 épocas" (stage 1's 5 are the cpu and gpu scales' own)


def stage1_options(trial: Trial) -> Stage1Options:
    """The scale's stage 1, on the whole training pool for the lesson-budget row."""
    if not trial.params.get("whole_pool"):
        return Stage1Options()
    return Stage1Options(n_train=max(trial.lab.scale.n_train, *trial.lab.scale.learning_curve_sizes))


def stage2_options(trial: Trial) -> Stage2Options:
    """A variant's parameters are stage-2 options, except the lesson-budget row's: its pool, and the steps of the
    lesson's 10 epochs over it."""
    lab, first = trial.lab, stage1_options(trial)
    params = {name: value for name, value in trial.params.items() if name != "whole_pool"}
    if trial.params.get("whole_pool"):
        images = len(lab.splits(trial.seed, first.n_train).arrays("train")[1])
        params["min_steps"] = LESSON_STAGE2_EPOCHS * math.ceil(images / lab.scale.batch_size)
    return Stage2Options(**params, stage1=first)


def fine_tuned(trial: Trial) -> Measurement:
    """Stage 2's test accuracy, and how far it moved the base from the stage-1 model it started from."""
    lab, seed = trial.lab, trial.seed
    options = stage2_options(trial)
    model = lab.stage2(seed, options)
    shift = lab.base_shift(model, lab.stage1(seed, options.stage1))
    return Measurement.of(lab.evaluate(model, seed), {"base kernels moved (relative L2)": shift})


CLAIM = Claim(
    id="two_stage",
    statement="Fine-tuning the unfrozen base (stage 2) improves the head-only model of stage 1 by at least 2 pp.",
    lesson_section="Homework: criterio de aceptación; Ejercicios 3–4",
    metric=Metric("test accuracy", TEST_ACCURACY.measure),
    baseline=Arm("stage 1 (frozen base)", lambda trial: trial.lab.stage1(trial.seed, stage1_options(trial))),
    treatment=Arm("stage 2 (base unfrozen)", fine_tuned),
    threshold=0.02,
    version=2,
    variants=(
        # On the photos at cpu scale the gain clears zero but not the lesson's 2 pp with five seeds (2026-12-08:
        # +3.4 pp [+1.7, +5.2]): six stage-2 epochs of the lesson's ten at 1e-5 barely move the base (lr_1e-5_long).
        Variant("lr_1e-5", {"learning_rate": 1e-5}, expected={"cpu": "INCONCLUSIVE"}),
        Variant("lr_1e-4", {"learning_rate": 1e-4}),
        Variant("lesson_literal", {"learning_rate": 1e-5, "bn_policy": "call_inference"}, expected={"cpu": "REFUTED"}),
        Variant("lr_1e-5_long", {"learning_rate": 1e-5, "min_steps": LONG_STAGE2_STEPS}),
        # On the photos (2026-12-08): −12.0 pp [−15.6, −8.4], stage 1 at 0.672 and the lesson's stage 2 at 0.552.
        Variant(
            "lesson_budget",
            {"learning_rate": 1e-5, "bn_policy": "call_inference", "whole_pool": True},
            expected={"cpu": "REFUTED"},
        ),
    ),
    smoke=("lr_1e-5",),
    reading="the homework's criterion as stated: stage 2 − stage 1 ≥ 2 pp, on held-out test images",
    advice="stage 2 was not shown to add 2 pp at this budget; the lesson's 1e-5 for a few epochs hardly moves the "
    "base — compare the lr_1e-4 row and the learning curves before concluding that fine-tuning does not pay",
)
