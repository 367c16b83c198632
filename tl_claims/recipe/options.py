"""What a claim may change in a stage of the lesson's recipe, as frozen dataclasses: `Lab.stage1` and `Lab.stage2`
take them, the claims build them, and `tl_claims.claims.base.LabProtocol` types them.

Typed rather than keyword options so that a misspelt or misplaced option fails where it is written, and so that a
stage-2 model visibly names the stage-1 model it starts from (`Stage2Options.stage1`). The defaults are the lesson's
recipe at the scale's own values. Options are no part of an artefact key as such: `tl_claims.recipe.lab` builds each
key from what the options decide, leaving options at their defaults out, so one training has one key whoever spells
it. Nothing heavier than the standard library is imported here: claims and the homework build options freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Stage1Options:
    """Stage 1, base frozen and head warmed up, trained differently from the scale's recipe."""

    augment: bool = True  # the lesson's augmentation layers in the model
    n_train: int | None = None  # images per class (None: the scale's n_train)
    batch_augmentation: str | None = None  # MixUp, CutMix or RandAugment on every batch (augment.BATCH_AUGMENTATIONS)
    min_steps: int = 0  # at least this many optimizer steps: more epochs on a small training set


@dataclass(frozen=True)
class Stage2Options:
    """Stage 2, the base unfrozen and fine-tuned, from the stage-1 model that `stage1` trains (its training set,
    augmentation and step floor; a batch augmentation goes on through stage 2's batches too)."""

    learning_rate: float | None = None  # None: the scale's stage2_lr
    bn_policy: str = "frozen"  # how BatchNorm behaves while fine-tuning (architecture.BN_POLICIES)
    fraction: float = 1.0  # the top fraction of the base's layers unfrozen
    early_learning_rate: float | None = None  # differential rates: the bottom half of the base trains at this one
    min_steps: int | None = None  # stage 2's own step floor (None: stage 1's min_steps)
    stage1: Stage1Options = field(default_factory=Stage1Options)


LESSON_STAGE1, LESSON_STAGE2 = Stage1Options(), Stage2Options()  # the lesson's recipe: every option at its default


def changed(options: Stage1Options | Stage2Options) -> dict[str, object]:
    """The options set away from the lesson's recipe, by name (stage 1's inside stage 2 as `stage1.NAME`): what a lab
    that runs only its own recipe (the homework's) must refuse."""
    default = type(options)()
    found: dict[str, object] = {}
    for item in fields(options):
        value = getattr(options, item.name)
        if isinstance(value, Stage1Options):
            found |= {f"{item.name}.{name}": inner for name, inner in changed(value).items()}
        elif value != getattr(default, item.name):
            found[item.name] = value
    return found
