"""FAQ: "¿Qué proporción de capas descongelo? Empezá con todo. Si overfittea, congelar las primeras N. Si
underfittea, descongelar todo."

Arms: stage 2 with only the top part of the base unfrozen (none / top 25 % / top 50 % of its weighted layers) →
stage 2 with the whole base unfrozen; same stage-1 model, lesson rate, BatchNorm frozen, same epochs.
Metric: test accuracy. Rule: unfreezing everything is no worse than unfreezing part, within 1 pp (threshold −1 pp):
"start with everything" as a safe default. Each arm also reports train accuracy and the train − test gap, the
overfitting signal the lesson's advice turns on (train accuracy in inference mode on the training images; the test
set stands in for validation because it is 20× larger at cpu scale and never used to choose anything).
"""

from harness.claims.base import Arm, Claim, Measurement, Trial

PARTIAL_FRACTION = {"all_vs_none": 0.0, "all_vs_top25": 0.25, "all_vs_top50": 0.5}


def measure(trial: Trial, fraction: float) -> Measurement:
    lab, seed = trial.lab, trial.seed
    model = lab.stage2(seed, fraction=fraction)
    test = lab.evaluate(model, seed).accuracy
    train = lab.evaluate(model, seed, split="train").accuracy
    return Measurement(test, {"fraction unfrozen": fraction, "train accuracy": train, "train − test gap": train - test})


CLAIM = Claim(
    id="unfreeze_fraction",
    statement="Start by unfreezing the whole base; freeze the first layers only if it overfits.",
    lesson_section="Preguntas frecuentes: ¿qué proporción de capas descongelo?",
    metric="test accuracy after stage 2",
    baseline=Arm("top part unfrozen", lambda trial: measure(trial, PARTIAL_FRACTION[trial.variant]),
                 names_by_variant={variant: f"top {fraction:.0%} unfrozen" if fraction else "base kept frozen"
                                   for variant, fraction in PARTIAL_FRACTION.items()}),
    treatment=Arm("whole base unfrozen", lambda trial: measure(trial, 1.0)),
    threshold=-0.01,
    variants=tuple(PARTIAL_FRACTION),
    reading="'empezá con todo' read as non-inferiority: whole-base fine-tuning within 1 pp of a partial unfreeze",
    advice="unfreezing everything was not shown to be within 1 pp of the partial unfreeze: compare the train − test "
           "gaps in the row; a larger gap with everything unfrozen is the overfitting the lesson answers by "
           "freezing the first layers",
)
