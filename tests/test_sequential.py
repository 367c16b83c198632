import math

import numpy as np
import pytest

from tl_claims.stats import sequential
from tl_claims.stats.rules import Exact, Superiority
from tl_claims.stats.sequential import Design, sequential_look


def test_obrien_fleming_boundaries_match_the_published_values():
    # Lan–DeMets O'Brien–Fleming type, one-sided 0.025, five equally spaced looks: the values in the textbooks.
    bounds = Design(looks=(2, 4, 6, 8, 10)).boundaries()
    assert bounds == pytest.approx((4.877, 3.357, 2.680, 2.290, 2.031), abs=2e-3)


def test_pocock_type_boundaries_are_nearly_flat():
    bounds = Design(looks=(2, 4, 6, 8, 10), spending=sequential.POCOCK).boundaries()
    assert bounds == pytest.approx((2.438, 2.427, 2.410, 2.397, 2.386), abs=2e-3)


def test_boundaries_spend_exactly_alpha_under_the_null():
    design = Design(looks=(3, 5, 7, 10))
    bounds = np.array(design.boundaries())
    rng = np.random.default_rng(0)
    fractions = np.array(design.fractions)
    steps = rng.standard_normal((200_000, fractions.size)) * np.sqrt(np.diff(fractions, prepend=0.0))
    crossed = (np.cumsum(steps, axis=1) / np.sqrt(fractions) >= bounds).any(axis=1).mean()
    assert crossed == pytest.approx(0.025, abs=0.0015)


def test_stagewise_p_equals_the_alpha_spent_at_each_boundary():
    design = Design()
    for index, (bound, fraction) in enumerate(zip(design.boundaries(), design.fractions)):
        assert sequential.stagewise_p(design, index, bound) == pytest.approx(design.spent(fraction), rel=1e-6)
    assert sequential.stagewise_p(design, 2, -math.inf) == pytest.approx(1.0)


@pytest.mark.parametrize("looks", [(), (3, 3), (5, 3), (1, 5)])
def test_designs_must_be_increasing_looks(looks):
    with pytest.raises(ValueError, match="looks"):
        Design(looks=looks)


def test_spending_rejects_bad_inputs():
    with pytest.raises(ValueError):
        sequential.spending(sequential.OBRIEN_FLEMING, 0.025, 0.0)
    with pytest.raises(ValueError):
        Design(spending="haybittle")


def _arms(n_seeds: int, gain: float, seed: int = 0, n_images: int = 500):
    rng = np.random.default_rng(seed)
    difficulty = rng.random(n_images)
    base = (rng.random((n_seeds, n_images)) < 0.2 + 0.6 * difficulty).astype(float)
    treat = (rng.random((n_seeds, n_images)) < 0.2 + gain + 0.6 * difficulty).astype(float)
    return base, treat


def test_a_clear_effect_stops_at_the_first_look():
    look = sequential_look(*_arms(5, 0.3), Superiority(0.0))
    assert look.stop and look.verdict.word == "CONFIRMED" and look.next_seeds is None
    assert look.summary.confidence == pytest.approx(1 - 2 * Design().nominal_levels()[0])
    assert look.verdict.p_value < Design().spent(0.5)


def test_an_undecided_row_asks_for_the_next_look_and_the_last_look_always_stops():
    base, treat = _arms(10, 0.02, seed=3)
    first = sequential_look(base[:5], treat[:5], Superiority(0.02))
    assert (first.stop, first.next_seeds, first.verdict.word) == (False, 7, "INCONCLUSIVE")
    last = sequential_look(base, treat, Superiority(0.02))
    assert last.stop and last.next_seeds is None and last.look_index == 2


def test_only_planned_looks_are_accepted():
    base, treat = _arms(6, 0.1)
    with pytest.raises(ValueError, match="planned look"):
        sequential_look(base, treat, Superiority(0.0))


def test_exact_claims_stop_at_once():
    ones = np.ones((5, 10))
    look = sequential_look(0 * ones, ones, Exact(0.5))
    assert look.stop and look.verdict.confirms and look.verdict.p_value == 0.0


def test_looks_are_stricter_than_a_fixed_design_until_the_last():
    levels = Design().nominal_levels()
    assert levels[0] < levels[1] < levels[2] < 0.025
    assert levels[2] > 0.02  # O'Brien–Fleming keeps the final look close to the fixed-design level
