"""Common error: "Fine-tuning con LR=1e-3 → catastrophic forgetting. Fix: LR 10-100× más bajo."

Arms: stage 2 at 1e-3 (the head's warm-up rate, reused by mistake) → stage 2 at 1e-4 or 1e-5, all from the same
stage-1 model (base unfrozen, BatchNorm layers frozen, same epochs); and, for "forgetting", stage 2 at 1e-3 → the
stage-1 model it started from.
Metric: test accuracy. Rules: the lower rate beats 1e-3 (variants `1e-4_vs_1e-3`, `1e-5_vs_1e-3`); stage 1 beats
stage 2 at 1e-3, i.e. the high rate ends below where it started (`1e-3_below_stage1`).
Side measurements in every row: feature drift, as linear CKA between the ImageNet base's pooled test features and
the fine-tuned base's (1 = unchanged); and ImageNet knowledge kept, as the top-1 agreement with the original
1000-class model when its base is swapped for the fine-tuned one, on augmented crops of real photos (Lite0 only:
the one backbone with its ImageNet head offline).
"""

from harness import measures
from harness.claims.base import Arm, Claim, Measurement, Trial

HIGH_RATE = 1e-3
VARIANTS = {  # variant -> (baseline arm, treatment arm); an arm is a stage-2 rate, or None for stage 1
    "1e-4_vs_1e-3": (HIGH_RATE, 1e-4),
    "1e-5_vs_1e-3": (HIGH_RATE, 1e-5),
    "1e-3_below_stage1": (HIGH_RATE, None),
}


def measure(trial: Trial, learning_rate: float | None) -> Measurement:
    lab, seed = trial.lab, trial.seed
    start = lab.stage1(seed)
    model = start if learning_rate is None else lab.stage2(seed, learning_rate=learning_rate)
    evaluation = lab.evaluate(model, seed)
    details: dict[str, object] = {
        "feature CKA to ImageNet base": measures.linear_cka(lab.evaluate(start, seed).features, evaluation.features),
    }
    if lab.scale.backbone in measures.IMAGENET_BACKBONES:
        details["ImageNet top-1 agreement"] = lab.imagenet_agreement(model, seed)
    else:
        details["ImageNet top-1 agreement"] = f"n/a: no offline ImageNet head for {lab.scale.backbone}"
    return Measurement(evaluation.accuracy, details)


def baseline(trial: Trial) -> Measurement:
    return measure(trial, VARIANTS[trial.variant][0])


def treatment(trial: Trial) -> Measurement:
    return measure(trial, VARIANTS[trial.variant][1])


CLAIM = Claim(
    id="high_lr_forgetting",
    statement="Fine-tuning at LR 1e-3 causes catastrophic forgetting; a rate 10–100× lower avoids it.",
    lesson_section="Errores comunes: fine-tuning con LR=1e-3",
    metric="test accuracy after stage 2 (stage 1 for the forgetting variant)",
    baseline=Arm("stage 2 at 1e-3", baseline),
    treatment=Arm("stage 2 at a lower rate", treatment, names_by_variant={
        "1e-4_vs_1e-3": "stage 2 at 1e-4", "1e-5_vs_1e-3": "stage 2 at 1e-5", "1e-3_below_stage1": "stage 1"}),
    threshold=0.0,
    variants=tuple(VARIANTS),
    reading="forgetting = ending below the stage-1 model one started from; the fix = 10× (1e-4) or 100× (1e-5) "
            "lower rates beat 1e-3",
    advice="fine-tune the unfrozen base at a rate 10–100× below the head's warm-up rate (1e-4 to 1e-5)",
)
