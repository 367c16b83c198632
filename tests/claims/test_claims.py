"""Every lesson claim as an experimental test, parametrized over its variants × scales (ids like `lite0-cpu`).

What each claim measures lives in its module under harness/claims/; the `verify_claim` fixture (harness/plugin.py)
runs both arms over the scale's seeds, records the row and passes only on CONFIRMED (smoke: no verdict).
"""

import pytest

from harness.claims import (
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
from harness.plugin import claim_cases


def smoke_once(claim, smoke_variant: str) -> list:
    """`claim_cases`, with the smoke scale run for one variant only. For claims whose variants differ only in a rate,
    a fraction or which arm is compared, one variant covers the code path, and each extra stage-2 training costs
    the fast suite 10–25 s (mostly tracing the network's gradient)."""
    return [case for case in claim_cases(claim) if case.values[1] != "smoke" or case.values[0] == smoke_variant]


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


@pytest.mark.parametrize(("variant", "scale"), smoke_once(two_stage.CLAIM, "lr_1e-5"))
def test_two_stage(verify_claim, variant, scale):
    verify_claim(two_stage.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), smoke_once(high_lr_forgetting.CLAIM, "1e-3_below_stage1"))
def test_high_lr_forgetting(verify_claim, variant, scale):
    verify_claim(high_lr_forgetting.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), claim_cases(recompile.CLAIM))
def test_recompile(verify_claim, variant, scale):
    verify_claim(recompile.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), smoke_once(bn_gotcha.CLAIM, "bn_frozen"))
def test_bn_gotcha(verify_claim, variant, scale):
    verify_claim(bn_gotcha.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), smoke_once(differential_lr.CLAIM, "vs_uniform_1e-5"))
def test_differential_lr(verify_claim, variant, scale):
    verify_claim(differential_lr.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), claim_cases(fe_vs_ft_by_size.CLAIM))
def test_fe_vs_ft_by_size(verify_claim, variant, scale):
    verify_claim(fe_vs_ft_by_size.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), claim_cases(min_images.CLAIM))
def test_min_images(verify_claim, variant, scale):
    verify_claim(min_images.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), smoke_once(unfreeze_fraction.CLAIM, "all_vs_top50"))
def test_unfreeze_fraction(verify_claim, variant, scale):
    verify_claim(unfreeze_fraction.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), claim_cases(tta.CLAIM))
def test_tta(verify_claim, variant, scale):
    verify_claim(tta.CLAIM, variant, scale)


@pytest.mark.parametrize(("variant", "scale"), smoke_once(modern_augs.CLAIM, "cutmix"))
def test_modern_augs(verify_claim, variant, scale):
    verify_claim(modern_augs.CLAIM, variant, scale)
