"""Holm's family adjustment: known adjusted p-values, confirmations the family cannot carry withdrawn, roles, and
never less conservative than the raw verdicts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tl_claims.stats import rules
from tl_claims.stats.family import holm, holm_adjust


def test_holm_known_adjustment():
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def _verdict(p_value: float, confirms: bool = True, confidence: float | None = 0.95) -> rules.Verdict:
    word = "CONFIRMED" if confirms else "INCONCLUSIVE"
    return rules.Verdict(word, confirms, confirms, p_value, "r", 0.0, 0.0, 0.0, confidence)


def test_holm_withdraws_confirmations_the_family_cannot_carry():
    rows = [
        _verdict(0.001),
        _verdict(0.02),
        _verdict(0.004),
        _verdict(0.3, confirms=False),
        _verdict(0.02),
        _verdict(0.0, confidence=None),
    ]
    family = holm(rows, [True, True, True, True, False, True])
    assert [row.role for row in family] == ["primary"] * 4 + ["exploratory", "deterministic"]
    assert [row.word for row in family] == [
        "CONFIRMED",
        "INCONCLUSIVE",
        "CONFIRMED",
        "INCONCLUSIVE",
        "CONFIRMED",
        "CONFIRMED",
    ]
    assert family[4].adjusted_p is None and family[5].adjusted_p is None


def test_holm_withdraws_refutations_the_family_cannot_carry_and_leaves_confirmations_alone():
    refuted = [rules.Verdict("REFUTED", False, True, 0.99, "r", 0.0, 0.0, 0.0, 0.95, p_refute=p) for p in (0.001, 0.02)]
    family = holm([*refuted, _verdict(0.004), _verdict(0.3, confirms=False)], [True] * 4)
    assert [row.word for row in family] == ["REFUTED", "INCONCLUSIVE", "CONFIRMED", "INCONCLUSIVE"]
    assert [row.adjusted_p_refute for row in family[:2]] == pytest.approx([0.004, 0.06])
    assert family[2].adjusted_p == pytest.approx(0.016)  # the confirmation side is Holm over its own p-values


def test_holm_needs_one_flag_per_row():
    with pytest.raises(ValueError):
        holm([_verdict(0.01)], [True, False])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_is_never_less_conservative_than_raw(p_values):
    adjusted = holm_adjust(p_values)
    assert all(a >= p - 1e-15 for a, p in zip(adjusted, p_values))
    assert all(a <= 1 for a in adjusted)
    rows = [_verdict(p, confirms=p < 0.025) for p in p_values]
    family = holm(rows, [True] * len(rows))
    assert all(row.raw.confirms or not row.confirms for row in family)
    assert sum(row.confirms for row in family) >= sum(p < 0.025 / len(p_values) for p in p_values)
