"""Simulated populations: each scenario's draws have the typical-run Δ its truth says, and the split seeds move the
population mean as the mixture says."""

import math
from dataclasses import replace

import numpy as np
import pytest

from tl_claims.stats import scenarios

SCENARIOS = {scenario.name: scenario for scenario in scenarios.default_scenarios()}


@pytest.mark.parametrize("name", ["typical", "heavy-tailed-t3", "collapse-25", "take-off-40", "own-test-subsets"])
def test_draws_have_the_true_delta(name):
    scenario = SCENARIOS[name]
    truth = scenario.truth(0.02)
    base, treat = scenarios.outcomes(scenario, truth, np.random.default_rng(5), 300, 10, 500)
    per_row = (treat.astype(float) - base).mean(axis=(1, 2))
    standard_error = per_row.std(ddof=1) / math.sqrt(per_row.size)
    assert per_row.mean() == pytest.approx(truth.mixture_delta, abs=4 * standard_error)
    assert base.mean() == pytest.approx(scenario.baseline_accuracy, abs=0.01)
    assert math.isclose(truth.mixture_delta, truth.delta) == (scenario.split_share == 0)


def test_the_list_covers_the_brief():
    names = set(SCENARIOS)
    assert {"outlier-seed", "collapse-25", "collapse-40", "take-off-10", "take-off-40", "heavy-tailed-t3"} <= names
    assert any(s.own_test_images for s in SCENARIOS.values()) and any(s.pool_overlap for s in SCENARIOS.values())
    assert sum(s.in_model for s in SCENARIOS.values()) == 4


def test_a_fixed_pool_leaves_each_seed_the_rest_of_its_variance():
    """`given_pool` (the pool-conditional population) takes out exactly the share of the seed variance that the
    seeds of one replicate share: what `seed_effects` draws once per replicate."""
    scenario = SCENARIOS["pool-overlap-100-of-200"]
    seed = scenarios.seed_effects(scenario, np.random.default_rng(1), 4000, 20)
    within = seed.var(axis=-1, ddof=1).mean()
    between = seed.mean(axis=-1).var(ddof=1) - within / seed.shape[-1]
    assert within == pytest.approx(scenario.given_pool().seed_sd ** 2, rel=0.03)
    assert between == pytest.approx(scenario.seed_sd**2 * scenario.pool_overlap, rel=0.1)
    assert scenario.given_pool().pool_overlap == 0 and SCENARIOS["typical"].given_pool() == SCENARIOS["typical"]


def test_overlap_needs_normal_seeds():
    with pytest.raises(ValueError, match="normal seed effects"):
        replace(SCENARIOS["heavy-tailed-t3"], pool_overlap=0.5)
