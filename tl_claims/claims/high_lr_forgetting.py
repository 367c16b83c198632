"""Common error: "Fine-tuning con LR=1e-3 → catastrophic forgetting. Fix: LR 10-100× más bajo."

Arms: stage 2 at 1e-3 (the head's warm-up rate, reused by mistake) → stage 2 at 1e-4 or 1e-5, all from the same
stage-1 model (base unfrozen, BatchNorm layers frozen, same epochs); and, for "forgetting", stage 2 at 1e-3 → the
stage-1 model it started from.
Metric: test accuracy. Rules: the lesson's own claim, `1e-3_collapses` (primary), is a risk: "catastrophic" read as
stage 2 at 1e-3 ending more than 10 pp below the stage-1 model it started from, in more than 1 seed in 5 (the
share of collapsed seeds gets an exact interval; one collapse among a few good seeds makes a mean shift meaningless).
Exploratory mean-shift rows: the lower rate beats 1e-3 (`1e-4_vs_1e-3`, `1e-5_vs_1e-3`); stage 1 beats stage 2 at
1e-3 on average (`1e-3_below_stage1`).
Side measurements in every row: feature drift, as linear CKA between the stage-1 base's pooled test features and
the fine-tuned base's (1 = unchanged; the stage-1 base is the ImageNet base, frozen); and ImageNet knowledge kept,
as the top-1 agreement with the original 1000-class model when its base is swapped for the fine-tuned one, on
augmented crops of real photos (Lite0 only: the one backbone with its ImageNet head offline).
"""

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.recipe import measures
from tl_claims.recipe.architecture import Classifier
from tl_claims.recipe.options import Stage2Options
from tl_claims.stats.rules import BaselineCollapse, Risk

HIGH_RATE = 1e-3
COLLAPSE = 0.10  # "catastrophic": more than 10 pp below stage 1, far above the test set's resolution (~1–2 pp)
RISK_SHARE = 0.2  # the claim holds if stage 2 at 1e-3 collapses in more than 1 seed in 5


def accuracy_and_drift(trial: Trial, model: Classifier) -> Measurement:
    lab, seed = trial.lab, trial.seed
    evaluation = lab.evaluate(model, seed)
    start = lab.evaluate(lab.stage1(seed), seed)
    details: dict[str, object] = {
        "feature CKA to ImageNet base": measures.linear_cka(start.features, evaluation.features)
    }
    if lab.scale.backbone in measures.IMAGENET_BACKBONES:
        details["ImageNet top-1 agreement"] = lab.imagenet_agreement(model, seed)
    else:
        details["ImageNet top-1 agreement"] = f"n/a: no offline ImageNet head for {lab.scale.backbone}"
    return Measurement.of(evaluation, details)


def lower_rate_or_stage1(trial: Trial) -> Classifier:
    rate = trial.params["learning_rate"]
    if rate is None:
        return trial.lab.stage1(trial.seed)
    return trial.lab.stage2(trial.seed, Stage2Options(learning_rate=rate))


CLAIM = Claim(
    id="high_lr_forgetting",
    statement="Fine-tuning at LR 1e-3 causes catastrophic forgetting; a rate 10–100× lower avoids it.",
    lesson_section="Errores comunes: fine-tuning con LR=1e-3",
    metric=Metric("test accuracy after stage 2 (stage 1 for the forgetting variant)", accuracy_and_drift),
    baseline=Arm("stage 2 at 1e-3", lambda trial: trial.lab.stage2(trial.seed, Stage2Options(learning_rate=HIGH_RATE))),
    treatment=Arm("{arm}", lower_rate_or_stage1),
    threshold=0.0,
    variants=(
        Variant(
            "1e-3_collapses",
            {"learning_rate": None, "arm": "stage 1"},
            rule=Risk(BaselineCollapse(COLLAPSE), min_share=RISK_SHARE),
        ),
        Variant("1e-4_vs_1e-3", {"learning_rate": 1e-4, "arm": "stage 2 at 1e-4"}),
        Variant("1e-5_vs_1e-3", {"learning_rate": 1e-5, "arm": "stage 2 at 1e-5"}),
        Variant("1e-3_below_stage1", {"learning_rate": None, "arm": "stage 1"}),
    ),
    primary="1e-3_collapses",
    smoke=("1e-3_collapses",),
    reading="forgetting = a risk: stage 2 at 1e-3 ends more than 10 pp below the stage-1 model it started from in "
    "more than 1 seed in 5; the fix = 10× (1e-4) or 100× (1e-5) lower rates beat 1e-3 (exploratory rows)",
    advice="fine-tune the unfrozen base at a rate 10–100× below the head's warm-up rate (1e-4 to 1e-5)",
)
