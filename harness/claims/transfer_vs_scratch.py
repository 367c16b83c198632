"""Homework: "transfer learning supera 'desde cero' por mucho margen con dataset chico".

Arms: the same architecture from random weights → from ImageNet weights.
Budget: the same training images, augmentation and number of epochs (stage 1 + stage 2) for both. Transfer runs
the lesson's two stages; scratch trains every layer with Adam at the stage-1 rate, since the fine-tuning rate is
meant to protect pretrained weights and would only slow a random network down.
Metric: test accuracy. Rule: at least 10 pp, our reading of "por mucho margen".
"""

from harness import training
from harness.claims.base import Arm, Claim, Trial


def scratch_accuracy(trial: Trial) -> float:
    splits = trial.lab.splits(trial.seed)
    return training.accuracy(trial.lab.scratch(trial.seed).model, splits.x_test, splits.y_test)


def transfer_accuracy(trial: Trial) -> float:
    splits = trial.lab.splits(trial.seed)
    return training.accuracy(trial.lab.stage2(trial.seed).model, splits.x_test, splits.y_test)


CLAIM = Claim(
    id="transfer_vs_scratch",
    statement="On a small data set, transfer learning beats training the same network from scratch by far.",
    lesson_section="Homework: criterio de aceptación",
    metric="test accuracy, same data and epochs",
    baseline=Arm("from scratch", scratch_accuracy),
    treatment=Arm("ImageNet transfer, two stages", transfer_accuracy),
    threshold=0.10,
    variants=("same_budget",),
    reading="'por mucho margen' read as at least 10 pp",
)
