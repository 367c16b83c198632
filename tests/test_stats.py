import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import stats

values = st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=12)


def test_known_interval():
    # deltas 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t(0.975, 2) = 4.3027 -> half width 0.2484
    result = stats.compare([0.5, 0.5, 0.5], [0.6, 0.7, 0.8])
    assert result.delta == pytest.approx(0.2)
    assert result.ci_low == pytest.approx(0.2 - 0.24841, abs=1e-4)
    assert result.ci_high == pytest.approx(0.2 + 0.24841, abs=1e-4)
    assert (result.baseline, result.treatment, result.n_seeds) == (pytest.approx(0.5), pytest.approx(0.7), 3)


def test_verdicts_against_threshold():
    clear = stats.compare([0.5, 0.5, 0.5], [0.8, 0.81, 0.79])
    assert stats.verdict(clear, 0.0) == stats.CONFIRMED
    assert stats.verdict(clear, 0.5) == stats.REFUTED
    assert stats.verdict(stats.compare([0.5, 0.5, 0.5], [0.6, 0.7, 0.8]), 0.0) == stats.INCONCLUSIVE


def test_no_effect_at_all_refutes_an_improvement():
    same = stats.compare([0.4, 0.6], [0.4, 0.6])
    assert (same.ci_low, same.ci_high) == (0.0, 0.0)
    assert stats.verdict(same, 0.0) == stats.REFUTED


def test_one_seed_is_inconclusive_with_an_unbounded_interval():
    single = stats.compare([0.5], [0.9])
    assert math.isinf(single.ci_low) and math.isinf(single.ci_high)
    assert stats.verdict(single, 0.0) == stats.INCONCLUSIVE


def test_explain_says_how_many_seeds_would_settle_it():
    text = stats.explain(stats.compare([0.5, 0.5, 0.5], [0.6, 0.7, 0.8]), 0.0, [0.1, 0.2, 0.3])
    assert "INCONCLUSIVE" in text and "--seeds" in text


def test_mismatched_arms_are_rejected():
    with pytest.raises(ValueError, match="equally long"):
        stats.compare([0.1, 0.2], [0.1])


@given(values)
def test_interval_contains_the_mean_delta(baseline):
    treatment = [min(1.0, b + 0.05) for b in baseline]
    result = stats.compare(baseline, treatment)
    assert result.ci_low <= result.delta <= result.ci_high


@given(values, st.floats(-1, 1, allow_nan=False))
def test_shifting_both_arms_keeps_the_delta(baseline, shift):
    treatment = [b * 0.5 for b in baseline]
    moved = stats.compare([b + shift for b in baseline], [t + shift for t in treatment])
    plain = stats.compare(baseline, treatment)
    assert moved.delta == pytest.approx(plain.delta, abs=1e-9)


@given(values, st.floats(-0.5, 0.5, allow_nan=False))
def test_swapping_arms_mirrors_the_verdict(baseline, threshold):
    treatment = [1 - b for b in baseline]
    forward = stats.verdict(stats.compare(baseline, treatment), threshold)
    backward = stats.verdict(stats.compare(treatment, baseline), -threshold)
    mirrored = {stats.CONFIRMED: {stats.REFUTED}, stats.REFUTED: {stats.CONFIRMED, stats.INCONCLUSIVE},
                stats.INCONCLUSIVE: {stats.INCONCLUSIVE, stats.REFUTED}}
    assert backward in mirrored[forward]


@given(st.lists(st.floats(0.01, 0.2), min_size=3, max_size=8))
def test_more_seeds_never_needed_once_confirmed(deltas):
    needed = stats.seeds_to_settle(deltas, -1.0)
    assert needed is not None and needed <= len(deltas)
