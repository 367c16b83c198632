"""Lesson: "MixUp, CutMix, RandAugment como augmentations modernas (anticipo)" — a preview with no number attached.

Arms: the lab's shared stage 1 with the lesson's augmentation layers → the same stage 1 (same data, epochs, optimizer,
seed) with one modern augmentation added to each training batch in tf.data, before the model's own layers: Keras'
MixUp (alpha 0.2), CutMix (Beta(1, 1) areas) or RandAugment (2 ops, strength 0.5), one variant each. MixUp and CutMix
make soft labels, so that arm trains with cross-entropy on probabilities; evaluation never mixes anything.
Rule: the direction (delta > 0), reported with the delta. At the cpu scale's budget (10 epochs, 50 images per class)
these regularisers may cost more than they give: a REFUTED row is a finding, not a bug.
"""

from harness import augment
from harness.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from harness.training import Classifier


def accuracy_and_train_accuracy(trial: Trial, model: Classifier) -> Measurement:
    """Test accuracy, with clean training accuracy beside it: regularisers show as a lower train score."""
    lab, seed = trial.lab, trial.seed
    train = lab.evaluate(model, seed, "train").accuracy
    return Measurement.of(lab.evaluate(model, seed), {"clean train accuracy": train})


EXPECTED_ON_CPU = {"mixup": "INCONCLUSIVE", "cutmix": "REFUTED", "randaugment": "REFUTED"}

CLAIM = Claim(
    id="modern_augs",
    statement="Modern augmentations (MixUp, CutMix, RandAugment) improve on the lesson's augmentation.",
    lesson_section="Temas: MixUp, CutMix, RandAugment como augmentations modernas (anticipo)",
    metric=Metric("test accuracy after stage 1", accuracy_and_train_accuracy),
    baseline=Arm("lesson augmentation", lambda trial: trial.lab.stage1(trial.seed)),
    treatment=Arm(
        "lesson augmentation + {augmentation}",
        lambda trial: trial.lab.stage1(trial.seed, batch_augmentation=trial.params["augmentation"]),
    ),
    threshold=0.0,
    variants=tuple(
        Variant(name, {"augmentation": name}, expected={"cpu": EXPECTED_ON_CPU[name]})
        for name in augment.BATCH_AUGMENTATIONS
    ),
    smoke=("cutmix",),
    reading="The lesson gives no number: verdict on the direction (treatment − baseline > 0), reported with the "
    "delta. Settings per variant: "
    + "; ".join(f"{name} {settings}" for name, settings in augment.BATCH_AUGMENTATIONS.items())
    + ".",
    advice="MixUp, CutMix and RandAugment are strong regularisers that usually need longer training than a short "
    "head warm-up to pay off (see the lower clean train accuracy in the details); compare them at your real "
    "budget before adopting one.",
)
