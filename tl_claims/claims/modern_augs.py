"""Lesson: "MixUp, CutMix, RandAugment como augmentations modernas (anticipo)" — a preview with no number attached.

Arms: the lesson's whole recipe (stage 1 + stage 2, augmentation layers in the model) → the same recipe (same data,
steps, optimizer, seed) with one modern augmentation added to each training batch of both stages, in tf.data,
before the model's own layers: Keras' MixUp (alpha 0.2), CutMix (Beta(1, 1) areas) or RandAugment (2 ops,
strength 0.5), one variant each, at 25 images per class in the small-data regime of tl_claims.claims.small_data.
MixUp and CutMix make soft labels, so those stages train with cross-entropy on probabilities; evaluation never mixes
anything. The `*_stage1_only` variants keep the earlier measurement (stage 1 alone, the scale's n) as secondary rows.
Rule: the direction (delta > 0), reported with the delta. The lesson only announces these augmentations, with no
claim or number, so no variant is a primary: every row is exploratory, a direction measured at this budget and never
a verdict on the lesson (nor part of the family the primaries' verdicts are adjusted over).
"""

from tl_claims.claims import small_data
from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.data import augment
from tl_claims.recipe.architecture import Classifier
from tl_claims.recipe.options import Stage1Options

RECIPE_SIZE = 25  # images per class: the middle of the small-data sizes; the three regularisers cost 3 models each


def accuracy_and_train_accuracy(trial: Trial, model: Classifier) -> Measurement:
    """Test accuracy, with clean training accuracy beside it: regularisers show as a lower train score."""
    lab, seed = trial.lab, trial.seed
    train = lab.evaluate(model, seed, "train").accuracy
    return Measurement.of(lab.evaluate(model, seed), {"clean train accuracy": train})


def recipe(trial: Trial, batch_augmentation: str | None) -> Classifier:
    lab, seed = trial.lab, trial.seed
    if trial.params["stage1_only"]:
        return lab.stage1(seed, Stage1Options(batch_augmentation=batch_augmentation))
    return lab.stage2(seed, small_data.recipe_options(trial, RECIPE_SIZE, batch_augmentation=batch_augmentation))


EXPECTED_ON_CPU = {"mixup": "REFUTED", "cutmix": "REFUTED", "randaugment": "INCONCLUSIVE"}
# On the photos (2026-12-07); mixup's rows were INCONCLUSIVE on the generated flowers.
EXPECTED_STAGE1_ONLY_ON_CPU = {"mixup": "REFUTED", "cutmix": "REFUTED", "randaugment": "REFUTED"}

CLAIM = Claim(
    id="modern_augs",
    statement="Modern augmentations (MixUp, CutMix, RandAugment), which the lesson announces without a claim: do "
    "they improve on the lesson's augmentation?",
    lesson_section="Temas: MixUp, CutMix, RandAugment como augmentations modernas (anticipo)",
    metric=Metric("test accuracy after the recipe (stage1_only: after stage 1)", accuracy_and_train_accuracy),
    baseline=Arm("lesson augmentation", lambda trial: recipe(trial, None)),
    treatment=Arm("lesson augmentation + {augmentation}", lambda trial: recipe(trial, trial.params["augmentation"])),
    threshold=0.0,
    version=3,
    primary=None,
    variants=(
        *(
            Variant(name, {"augmentation": name, "stage1_only": False}, expected={"cpu": EXPECTED_ON_CPU[name]})
            for name in augment.BATCH_AUGMENTATIONS
        ),
        *(
            Variant(
                f"{name}_stage1_only",
                {"augmentation": name, "stage1_only": True},
                expected={"cpu": EXPECTED_STAGE1_ONLY_ON_CPU[name]},
            )
            for name in augment.BATCH_AUGMENTATIONS
        ),
    ),
    smoke=("cutmix",),
    reading="The lesson announces these augmentations without a claim: each row reports the direction "
    "(treatment − baseline > 0) with the delta, none is a verdict on the lesson. Settings per variant: "
    + "; ".join(f"{name} {settings}" for name, settings in augment.BATCH_AUGMENTATIONS.items())
    + ".",
    advice="MixUp, CutMix and RandAugment are strong regularisers that usually need longer training than a short "
    "recipe to pay off (see the lower clean train accuracy in the details); compare them at your real "
    "budget before adopting one.",
)
