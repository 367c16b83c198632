"""The decision step both the engine and the simulation run: fixed seeds are summarised and judged once; a sequential
design looks at its planned seed counts, asking for more seeds only while the row is undecided."""

import numpy as np
import pytest

from tl_claims.stats.decide import decide
from tl_claims.stats.intervals import summarize
from tl_claims.stats.rules import Superiority
from tl_claims.stats.sequential import Design, sequential_look

RULE = Superiority(0.02)


def outcomes(delta: float, seeds: int = 10, images: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    base = (rng.random((seeds, images)) < 0.7).astype(float)
    treat = (rng.random((seeds, images)) < 0.7 + delta).astype(float)
    return base, treat


def test_fixed_seeds_are_summarised_and_judged_once():
    base, treat = outcomes(0.05)
    summary, verdict = decide(base, treat, RULE)
    assert summary == summarize(base, treat) and verdict == RULE.judge(summary)


def test_an_undecided_row_grows_to_each_planned_look_and_is_judged_at_the_last():
    base, treat = outcomes(0.02)
    asked = []

    def grow(n_seeds):
        asked.append(n_seeds)
        return base[:n_seeds], treat[:n_seeds]

    design = Design(looks=(5, 7, 10))
    summary, verdict = decide(base[:5], treat[:5], RULE, design, grow)
    last = sequential_look(base, treat, RULE, design)
    assert asked == [7, 10] and (summary, verdict) == (last.summary, last.verdict)


def test_a_row_decided_at_the_first_look_asks_for_no_seeds():
    base, treat = outcomes(0.3)
    summary, verdict = decide(base[:5], treat[:5], RULE, Design(looks=(5, 7, 10)))  # no grow: none needed
    assert verdict.decided and summary.n_seeds == 5


def test_an_undecided_sequential_row_without_grow_is_an_error():
    base, treat = outcomes(0.02)
    with pytest.raises(ValueError, match="needs `grow`"):
        decide(base[:5], treat[:5], RULE, Design(looks=(5, 7, 10)))
