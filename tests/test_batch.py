"""The simulation's array form of the procedure gives, row by row, the verdict the engine's `decide` gives: every
claim type, fixed and sequential plans, in and outside the model (split seeds included)."""

import numpy as np
import pytest

from tl_claims.stats import batch, scenarios
from tl_claims.stats.decide import decide
from tl_claims.stats.rules import UNSTABLE, Band, Collapse, Exact, NonInferiority, Risk, Superiority
from tl_claims.stats.sequential import Design

SCENARIOS = {scenario.name: scenario for scenario in scenarios.default_scenarios()}
RULES = [Superiority(-0.01), NonInferiority(0.01), Band(-0.01, 0.005), Risk(Collapse(0.10), 0.1), Exact(-0.01)]


@pytest.mark.parametrize("name", ["typical", "collapse-25", "take-off-40", "noisy-seeds"])
@pytest.mark.parametrize("plan", [5, Design(looks=(5, 7, 10))], ids=["fixed 5", "auto"])
def test_batch_verdicts_are_the_engines(name, plan):
    scenario = SCENARIOS[name]
    base, treat = scenarios.outcomes(scenario, scenario.truth(-0.01), np.random.default_rng(4), 6, 10, 200)
    for rule in RULES:
        judged = batch.decide(rule, base, treat, plan)
        for row in range(base.shape[0]):
            if isinstance(plan, int):
                summary, verdict = decide(base[row, :plan], treat[row, :plan], rule)
            else:
                first = plan.looks[0]
                grow = lambda n, r=row: (base[r, :n], treat[r, :n])  # noqa: E731
                summary, verdict = decide(base[row, :first], treat[row, :first], rule, plan, grow=grow)
            where = f"{name} {rule.label()} row {row}"
            assert judged.confirms[row] == verdict.confirms, where
            assert judged.refutes[row] == verdict.refutes, where
            assert judged.unstable[row] == (verdict.word == UNSTABLE), where
            assert judged.seeds[row] == summary.n_seeds, where
            if verdict.ci_low is not None:
                assert judged.low[row] == pytest.approx(verdict.ci_low, abs=1e-9), where
            if isinstance(plan, int):
                assert judged.p_value[row] == pytest.approx(verdict.p_value, abs=1e-9), where
                assert judged.p_refute[row] == pytest.approx(verdict.p_refute, abs=1e-9), where
