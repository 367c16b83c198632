"""The decision step, written once: per-image outcomes of both arms → (summary, verdict).

The engine calls it on measured seeds. The simulation (`tl_claims.stats.simulation`) runs the same procedure on arrays
of thousands of rows (`tl_claims.stats.batch`), which tests/test_batch.py checks against this function verdict for
verdict, so the simulation tests the procedure that makes the suite's verdicts. With fixed seeds the row is summarised
and judged by its rule; with a sequential design it is judged at each planned look, and seeds are added (`grow`)
until the design says stop.
"""

from collections.abc import Callable

import numpy as np

from tl_claims.stats.intervals import Summary, summarize
from tl_claims.stats.rules import Rule, Verdict
from tl_claims.stats.sequential import Design, sequential_look
from tl_claims.stats.stability import SPLIT_T

# How a row's verdict and a table's family are decided, as pre-registered (tl_claims/claims/preregistration.toml,
# subject `procedure = "verdicts"`): changing any of these changes verdicts, so it needs a dated entry there.
PROCEDURE = {
    "interval": (
        "paired, seeds x test images (variance components; t, Satterthwaite df at the seed term's 90 % upper limit), "
        "95 %"
    ),
    "family": "Holm per table over primaries: confirmations at 2.5 %, refutations at 2.5 %",
    "split_seeds": f"UNSTABLE when two groups of seeds lie {SPLIT_T:g} within-group sds apart (mean-shift rules)",
    "exact": "decided only when every seed gives the same value",
    "estimand": "pool-conditional: the typical run's Δ on seeds drawn from the row's training pool, over test images",
}

# Given the seed count of the next look, the outcomes (baseline, treatment) of all seeds so far, shape (seeds, images).
Grow = Callable[[int], tuple[np.ndarray, np.ndarray]]


def decide(
    baseline: np.ndarray,
    treatment: np.ndarray,
    rule: Rule,
    design: Design | None = None,
    grow: Grow | None = None,
) -> tuple[Summary, Verdict]:
    """The row's summary and verdict. Without `design`, from these seeds at the fixed confidence; with one, the
    first look is at these seeds and `grow` brings each later look's seeds while the row is undecided, so repeated
    looks keep the error rate honest (tl_claims.stats.sequential)."""
    if design is None:
        summary = summarize(baseline, treatment)
        return summary, rule.judge(summary)
    look = sequential_look(baseline, treatment, rule, design)
    while not look.stop and look.next_seeds is not None:
        if grow is None:
            raise ValueError(f"look {look.look_index + 1} is undecided: a sequential design needs `grow` to add seeds")
        baseline, treatment = grow(look.next_seeds)
        look = sequential_look(baseline, treatment, rule, design)
    return look.summary, look.verdict
