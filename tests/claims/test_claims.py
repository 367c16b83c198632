"""Every lesson claim as an experimental test, parametrized over its variants × scales (ids like `lite0-cpu`).

What each claim measures lives in its module under harness/claims/; the `verify_claim` fixture (harness/plugin.py)
runs both arms over the scale's seeds, records the row and passes only on CONFIRMED (smoke: no verdict).
"""

import pytest

from harness.claims import aug_train_only, augmentation_helps, preprocessing, transfer_vs_scratch
from harness.plugin import claim_cases


@pytest.mark.parametrize(("variant", "scale"), claim_cases(preprocessing.CLAIM))
def test_preprocessing(verify_claim, variant, scale):
    verify_claim(preprocessing.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), claim_cases(aug_train_only.CLAIM))
def test_aug_train_only(verify_claim, variant, scale):
    verify_claim(aug_train_only.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), claim_cases(augmentation_helps.CLAIM))
def test_augmentation_helps(verify_claim, variant, scale):
    verify_claim(augmentation_helps.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), claim_cases(transfer_vs_scratch.CLAIM))
def test_transfer_vs_scratch(verify_claim, variant, scale):
    verify_claim(transfer_vs_scratch.CLAIM, variant, scale)
