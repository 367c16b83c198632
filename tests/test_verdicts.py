import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tl_claims.stats import intervals, rules
from tl_claims.stats.rules import Band, BelowLevel, Collapse, Exact, NonInferiority, Risk, Superiority


def _summary(delta: float, se: float, df: float = 30.0, per_seed=((0.5, 0.5, 0.5), (0.6, 0.6, 0.6))):
    return intervals.Summary(
        baseline=0.5,
        treatment=0.5 + delta,
        delta=delta,
        se=se,
        df=df,
        confidence=0.95,
        method="test",
        n_seeds=len(per_seed[0]),
        n_images=100,
        per_seed_baseline=per_seed[0],
        per_seed_treatment=per_seed[1],
        floor=0.01,
    )


def test_labels_name_the_claim_type_for_the_table():
    assert Superiority(0.02).label() == "superiority Δ > +2.0 pp"
    assert NonInferiority(0.01).label() == "non-inferiority Δ > -1.0 pp"
    assert Band(0.005, 0.02).label() == "band +0.5 pp < Δ < +2.0 pp"
    assert Risk(Collapse(0.2), 0.1).label() == "risk P(treatment < baseline -20.0 pp) > 10%"
    assert Exact(0.5).label(unit="") == "exact Δ > +0.5"


@pytest.mark.parametrize(
    ("delta", "word", "confirms"), [(0.10, "CONFIRMED", True), (-0.05, "REFUTED", False), (0.03, "INCONCLUSIVE", False)]
)
def test_superiority_words(delta, word, confirms):
    verdict = Superiority(0.02).judge(_summary(delta, 0.01))
    assert (verdict.word, verdict.confirms, verdict.decided) == (word, confirms, word != "INCONCLUSIVE")
    assert verdict.rule == "superiority Δ > +2.0 pp" and verdict.ci_low < delta < verdict.ci_high


@pytest.mark.parametrize(("delta", "word"), [(0.0, "NON-INFERIOR"), (-0.05, "INFERIOR"), (-0.01, "INCONCLUSIVE")])
def test_non_inferiority_words(delta, word):
    verdict = NonInferiority(0.01).judge(_summary(delta, 0.002))
    assert verdict.word == word and verdict.confirms == (word == "NON-INFERIOR")


def test_non_inferiority_margin_is_a_size():
    with pytest.raises(ValueError, match="≥ 0"):
        NonInferiority(-0.01)


@pytest.mark.parametrize(
    ("delta", "se", "word"),
    [
        (0.012, 0.001, "INSIDE BAND"),
        (0.04, 0.002, "OUTSIDE BAND"),
        (-0.02, 0.002, "OUTSIDE BAND"),
        (0.012, 0.01, "INCONCLUSIVE"),
    ],
)
def test_band_words_and_probability_inside(delta, se, word):
    verdict = Band(0.005, 0.02).judge(_summary(delta, se))
    assert verdict.word == word and verdict.confirms == (word == "INSIDE BAND")
    probability = float(verdict.note.split("≈ ")[1])
    assert (probability > 0.99) if word == "INSIDE BAND" else (probability < 0.9)


def test_band_needs_low_below_high():
    with pytest.raises(ValueError, match="low < high"):
        Band(0.02, 0.01)


def test_risk_counts_collapsed_seeds_with_an_exact_interval():
    # The lesson's example: stage 2 at LR 1e-3 gave 0.38, 0.84, 0.80 after a stage 1 near 0.82.
    summary = _summary(0.0, 0.1, per_seed=((0.82, 0.83, 0.81), (0.38, 0.84, 0.80)))
    verdict = Risk(Collapse(0.2), 0.05).judge(summary)
    assert verdict.estimate == pytest.approx(1 / 3) and verdict.note == "1 of 3 seeds failed"
    assert (verdict.ci_low, verdict.ci_high) == pytest.approx(rules.clopper_pearson(1, 3))
    assert verdict.word == "INCONCLUSIVE"  # one collapse in three cannot show a risk above 5 %
    all_collapsed = _summary(0.0, 0.1, per_seed=((0.82,) * 8, (0.3,) * 8))
    assert Risk(Collapse(0.2), 0.1).judge(all_collapsed).word == "FAILS OFTEN"
    none_collapsed = _summary(0.0, 0.1, per_seed=((0.82,) * 40, (0.8,) * 40))
    safe = Risk(BelowLevel(0.5), 0.2, often=False).judge(none_collapsed)
    assert (safe.word, safe.confirms) == ("RARELY FAILS", True)


def test_clopper_pearson_known_values():
    assert rules.clopper_pearson(0, 3) == pytest.approx((0.0, 1 - 0.025 ** (1 / 3)))
    assert rules.clopper_pearson(3, 3) == pytest.approx((0.025 ** (1 / 3), 1.0))
    low, high = rules.clopper_pearson(5, 10)
    assert (low, high) == pytest.approx((0.1871, 0.8129), abs=1e-4)
    with pytest.raises(ValueError):
        rules.clopper_pearson(4, 3)


def test_exact_claims_have_no_interval():
    moved = _summary(1.0, 0.0, per_seed=((0.0, 0.0), (1.0, 1.0)))
    verdict = Exact(0.5).judge(moved)
    assert (verdict.word, verdict.confirms, verdict.ci_low, verdict.ci_high, verdict.confidence) == (
        "CONFIRMED",
        True,
        None,
        None,
        None,
    )
    assert Exact(0.5).judge(_summary(0.0, 0.0, per_seed=((1.0,), (1.0,)))).word == "REFUTED"
    mixed = Exact(0.5).judge(_summary(0.5, 0.1, per_seed=((0.0, 0.0), (0.2, 0.8))))
    assert mixed.word == "INCONCLUSIVE" and "not deterministic" in mixed.note
    # Every seed above the threshold but no two alike: a noisy value, not an exact one; no verdict.
    noisy = Exact(0.5).judge(_summary(0.75, 0.1, per_seed=((0.0, 0.0), (0.7, 0.8))))
    assert noisy.word == "INCONCLUSIVE" and not noisy.decided
    assert Exact(0.5).judge(_summary(0.0, 0.0, per_seed=((1.0,), (1.0,)))).p_refute == 0.0


interval_rules = st.sampled_from([Superiority(0.0), Superiority(0.02), NonInferiority(0.01), Band(0.005, 0.02)])


@settings(max_examples=200, deadline=None)
@given(interval_rules, st.floats(-0.1, 0.1), st.floats(1e-4, 0.05), st.floats(2, 500))
def test_confirmation_is_the_p_value_below_alpha(rule, delta, se, df):
    verdict = rule.judge(_summary(delta, se, df))
    margin = abs(verdict.p_value - 0.025)
    if margin > 1e-9:
        assert verdict.confirms == (verdict.p_value < 0.025)
    if abs(verdict.p_refute - 0.025) > 1e-9:
        assert verdict.refutes == (verdict.p_refute < 0.025)
    assert 0 <= verdict.p_value <= 1 and 0 <= verdict.p_refute <= 1


def test_summary_from_real_matrices_feeds_every_rule():
    rng = np.random.default_rng(0)
    base = (rng.random((5, 300)) < 0.7).astype(float)
    treat = np.maximum(base, (rng.random((5, 300)) < 0.2).astype(float))
    summary = intervals.summarize(base, treat)
    for rule in (Superiority(0.0), NonInferiority(0.01), Band(0.0, 0.2), Risk(Collapse(0.2), 0.1), Exact(0.0)):
        verdict = rule.judge(summary)
        assert verdict.rule == rule.label() and not math.isnan(verdict.p_value)


def test_explain_says_whether_seeds_or_test_images_would_settle_it():
    near = intervals.Summary(
        baseline=0.5,
        treatment=0.525,
        delta=0.025,
        se=0.01,
        df=4,
        confidence=0.95,
        method="m",
        n_seeds=5,
        n_images=1000,
        per_seed_baseline=(0.5,) * 5,
        per_seed_treatment=(0.525,) * 5,
        floor=0.008,
    )
    assert "more test images, not more seeds" in rules.explain(near, Superiority(0.02))
    far = replace(near, floor=0.001)
    text = rules.explain(far, Superiority(0.02))
    assert text.startswith("INCONCLUSIVE (superiority Δ > +2.0 pp): Δ +2.5 pp, 95% CI [")
    assert "5 seed(s) × 1000 test image(s); test-set floor ±0.1 pp" in text and "More seeds" in text
    assert "exact, no interval" in rules.explain(near, Exact(0.0))
    assert "of seeds" in rules.explain(near, Risk(Collapse(0.2), 0.1))
    assert rules.explain(near, Superiority(-0.1)).startswith("CONFIRMED")
