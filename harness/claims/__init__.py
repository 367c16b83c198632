"""The claims registry: every lesson claim, declared once, by stable id."""

from harness.claims import aug_train_only, augmentation_helps, preprocessing, transfer_vs_scratch
from harness.claims.base import Arm, Claim, Measurement, Trial

CLAIMS: dict[str, Claim] = {
    claim.id: claim
    for claim in (
        preprocessing.CLAIM,
        aug_train_only.CLAIM,
        augmentation_helps.CLAIM,
        transfer_vs_scratch.CLAIM,
    )
}

__all__ = ["CLAIMS", "Arm", "Claim", "Measurement", "Trial", "get"]


def get(claim_id: str) -> Claim:
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim {claim_id!r}; known: {sorted(CLAIMS)}") from None
