"""The small-data regime the augmentation claims share: the whole recipe (stage 1 + stage 2) at n images per class,
for the same optimizer steps at every n as the scale's recipe takes at its own n_train.

Fixing steps rather than epochs means a smaller training set is seen more often, which is where over-fitting, and so
what augmentation is for, shows. Each row states the resulting epochs and steps (its regime).
"""

from tl_claims.claims.base import Trial
from tl_claims.recipe.options import Stage1Options, Stage2Options

SIZES = (10, 25, 50)  # images per class


def recipe_options(
    trial: Trial, n_per_class: int, *, augment: bool = True, batch_augmentation: str | None = None
) -> Stage2Options:
    """`Lab.stage2` options for the whole recipe at `n_per_class` (at most the scale's own n_train: the smoke scale
    trains a handful of images whatever the variant says) with the scale's step budget, stage 1 trained with or
    without the lesson's augmentation and a batch augmentation."""
    scale = trial.lab.scale
    images = len(trial.lab.splits(trial.seed).y_train)  # the scale's own training set: its budget in steps
    steps_per_epoch = -(-images // scale.batch_size)
    stage1 = Stage1Options(
        augment=augment,
        n_train=min(n_per_class, scale.n_train),
        batch_augmentation=batch_augmentation,
        min_steps=scale.stage1_epochs * steps_per_epoch,
    )
    return Stage2Options(min_steps=scale.stage2_epochs * steps_per_epoch, stage1=stage1)
