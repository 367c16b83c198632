"""The seeds-apart check: split seeds are found whatever the sizes of the groups, test noise is not a split, and a
mean-shift rule on a split row decides nothing."""

import numpy as np

from tl_claims.stats import stability
from tl_claims.stats.intervals import summarize
from tl_claims.stats.rules import UNSTABLE, Band, Superiority


def test_one_collapsed_seed_and_four_of_ten_taking_off_are_apart():
    collapsed = np.array([0.03, 0.02, 0.04, -0.28, 0.03])
    assert stability.apart(collapsed, 0.005).tolist() == [False, False, False, True, False]
    take_off = np.array([0.0, 0.01, -0.01, 0.18, 0.02, 0.17, 0.0, 0.19, 0.01, 0.2])
    assert np.flatnonzero(stability.apart(take_off, 0.005)).tolist() == [3, 5, 7, 9]


def test_a_spread_within_test_noise_is_no_split():
    wobble = np.array([0.010, 0.011, 0.009, 0.030, 0.010])
    assert stability.apart(wobble, 0.0).any()  # with no noise floor, a 2 pp step among near-equal seeds is a split
    assert not stability.apart(wobble, 0.01).any()  # but one seed's Δ wobbles by ±1 pp from its test images alone
    assert not stability.apart(np.array([0.1, 0.1, 0.1]), 0.0).any()
    assert not stability.apart(np.array([0.1, -0.3]), 0.0).any()  # two seeds: nothing to compare a gap with


def test_a_batch_of_rows_is_checked_row_by_row():
    rows = np.array([[0.03, 0.02, 0.04, -0.28, 0.03], [0.03, 0.02, 0.04, 0.01, 0.03]])
    assert stability.apart(rows, np.array([0.005, 0.005])).any(axis=-1).tolist() == [True, False]


def test_a_split_row_gets_no_mean_shift_verdict():
    rng = np.random.default_rng(0)
    base = (rng.random((5, 400)) < 0.7).astype(float)
    treat = base.copy()
    treat[:, :40] = 1.0  # +≈3 pp on every seed ...
    treat[2] = (rng.random(400) < 0.3).astype(float)  # ... but seed 2 (the third) collapses
    summary = summarize(base, treat)
    for rule in (Superiority(0.0), Band(-0.5, 0.5)):
        verdict = rule.judge(summary)
        assert verdict.word == UNSTABLE and not verdict.decided and not verdict.confirms
        assert verdict.p_value == verdict.p_refute == 1.0 and "apart from the rest: seed 2 (" in verdict.note
