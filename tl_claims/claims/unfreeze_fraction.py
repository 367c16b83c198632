"""FAQ: "¿Qué proporción de capas descongelo? Empezá con todo. Si overfittea, congelar las primeras N. Si
underfittea, descongelar todo."

Arms: stage 2 with only the top part of the base unfrozen (none / top 25 % / top 50 % of its weighted layers) →
stage 2 with the whole base unfrozen; same stage-1 model, lesson rate, BatchNorm frozen, same epochs.
Metric: test accuracy. Rule: unfreezing everything is no worse than unfreezing part, within 1 pp (threshold −1 pp):
"start with everything" as a safe default. Each arm also reports train accuracy and the train − test gap, the
overfitting signal the lesson's advice turns on (train accuracy in inference mode on the training images; the test
set stands in for validation because it is 20× larger at cpu scale and never used to choose anything).
"""

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.recipe.architecture import Classifier
from tl_claims.recipe.options import Stage2Options


def accuracy_and_gap(trial: Trial, model: Classifier) -> Measurement:
    test = trial.lab.evaluate(model, trial.seed)
    train = trial.lab.evaluate(model, trial.seed, split="train").accuracy
    return Measurement.of(test, {"train accuracy": train, "train − test gap": train - test.accuracy})


CLAIM = Claim(
    id="unfreeze_fraction",
    statement="Start by unfreezing the whole base; freeze the first layers only if it overfits.",
    lesson_section="Preguntas frecuentes: ¿qué proporción de capas descongelo?",
    metric=Metric("test accuracy after stage 2", accuracy_and_gap),
    baseline=Arm("{arm}", lambda trial: trial.lab.stage2(trial.seed, Stage2Options(fraction=trial.params["fraction"]))),
    treatment=Arm("whole base unfrozen", lambda trial: trial.lab.stage2(trial.seed, Stage2Options(fraction=1.0))),
    threshold=-0.01,
    variants=(
        Variant("all_vs_none", {"fraction": 0.0, "arm": "base kept frozen"}),
        Variant("all_vs_top25", {"fraction": 0.25, "arm": "top 25% unfrozen"}),
        Variant("all_vs_top50", {"fraction": 0.5, "arm": "top 50% unfrozen"}),
    ),
    primary="all_vs_top50",
    smoke=("all_vs_top50",),
    reading="'empezá con todo' read as non-inferiority: whole-base fine-tuning within 1 pp of a partial unfreeze",
    advice="unfreezing everything was not shown to be within 1 pp of the partial unfreeze: compare the train − test "
    "gaps in the row; a larger gap with everything unfrozen is the overfitting the lesson answers by "
    "freezing the first layers",
)
