"""The claims registry: every lesson claim, declared once, by stable id.

Importing it imports every claim module (and with them the recipe and TensorFlow); `tl_claims.claims.base` alone,
what a claim is, stays light.
"""

from tl_claims.claims import (
    aug_train_only,
    augmentation_helps,
    bn_gotcha,
    differential_lr,
    fe_vs_ft_by_size,
    high_lr_forgetting,
    min_images,
    modern_augs,
    preprocessing,
    recompile,
    transfer_vs_scratch,
    tta,
    two_stage,
    unfreeze_fraction,
)
from tl_claims.claims.base import Claim

CLAIMS: dict[str, Claim] = {
    claim.id: claim
    for claim in (
        preprocessing.CLAIM,
        aug_train_only.CLAIM,
        augmentation_helps.CLAIM,
        transfer_vs_scratch.CLAIM,
        two_stage.CLAIM,
        high_lr_forgetting.CLAIM,
        recompile.CLAIM,
        bn_gotcha.CLAIM,
        differential_lr.CLAIM,
        fe_vs_ft_by_size.CLAIM,
        min_images.CLAIM,
        unfreeze_fraction.CLAIM,
        tta.CLAIM,
        modern_augs.CLAIM,
    )
}


def get(claim_id: str) -> Claim:
    """The claim with this id; an unknown id is an error that lists the known ones."""
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim {claim_id!r}; known: {sorted(CLAIMS)}") from None
