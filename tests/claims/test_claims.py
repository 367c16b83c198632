"""Every lesson claim as an experimental test: one test over the registry, parametrized by claim × variant × scale
(ids like `two_stage-lr_1e-5-cpu`).

What each claim measures lives in its module under tl_claims/claims/; the `verify_claim` fixture
(tl_claims/plugin/hooks.py) runs both arms over the scale's seeds, records the row, and passes only on CONFIRMED
(smoke: no verdict; a known finding: a strict xfail).
"""

import pytest

from tl_claims.plugin.selection import claim_cases


@pytest.mark.parametrize(("claim", "variant", "scale"), claim_cases())
def test_claim(verify_claim, claim, variant, scale):
    verify_claim(claim, variant, scale)
