"""The verdict procedure on thousands of simulated rows at once: `intervals.summarize` then `rule.judge`, per row,
as arrays (numpy), for `tl-claims stats simulate`.

The arithmetic is the engine's own where it can be (`intervals.batch_mean_squares`,
`intervals.batch_variance_components`, `stability.apart`, `sequential.Design`); the rule logic is restated on arrays,
and tests/stats/test_batch.py checks it against `decide.decide` row by row, verdict for verdict, so the simulation
measures the code that makes the table's verdicts.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from tl_claims.stats import intervals, stability
from tl_claims.stats.rules import Band, Exact, NonInferiority, Risk, Rule, Superiority
from tl_claims.stats.sequential import Design


@dataclass(frozen=True)
class Looked:
    """Each row's summary at one confidence: Δ, its t reference, the per-seed arm metrics and their seed noise."""

    delta: np.ndarray
    se: np.ndarray
    df: np.ndarray
    confidence: float
    per_seed_base: np.ndarray
    per_seed_treat: np.ndarray
    seed_noise: np.ndarray

    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        half = scipy_stats.t.isf((1 - self.confidence) / 2, self.df) * self.se
        half = np.where(self.se > 0, half, 0.0)
        return self.delta - half, self.delta + half

    def prob_below(self, value: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            smooth = scipy_stats.t.cdf((value - self.delta) / self.se, self.df)
        return np.where(self.se > 0, smooth, (self.delta <= value).astype(float))


def summarize(base: np.ndarray, treat: np.ndarray, confidence: float = 0.95) -> Looked:
    """`intervals.summarize` for each row of (rows, seeds ≥ 2, images ≥ 2) 0/1 outcome arrays."""
    n_seeds, n_images = base.shape[-2:]
    deltas = treat.astype(np.int8) - base.astype(np.int8)
    ms_seed, ms_image, ms_resid = intervals.batch_mean_squares(deltas)
    variance, dof = intervals.batch_variance_components(ms_seed, ms_image, ms_resid, n_seeds, n_images)
    per_seed_base, per_seed_treat = base.mean(axis=-1), treat.mean(axis=-1)
    return Looked(
        delta=(per_seed_treat - per_seed_base).mean(axis=-1),
        se=np.sqrt(variance),
        df=dof,
        confidence=confidence,
        per_seed_base=per_seed_base,
        per_seed_treat=per_seed_treat,
        seed_noise=np.sqrt(ms_resid / n_images),
    )


@dataclass(frozen=True)
class Judged:
    """Each row's verdict: confirms / refutes / unstable flags, its interval (Δ, or the failing share for a risk; nan
    for exact), one-sided p-values for "claim false" and "claim true", and the seeds it stopped at."""

    confirms: np.ndarray
    refutes: np.ndarray
    unstable: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_value: np.ndarray
    p_refute: np.ndarray
    seeds: np.ndarray


def judge(rule: Rule, look: Looked) -> Judged:
    """`rule.judge` for every row of `look`."""
    rows, n_seeds = look.per_seed_base.shape
    seeds = np.full(rows, n_seeds)
    per_seed = look.per_seed_treat - look.per_seed_base
    if isinstance(rule, Risk):
        return _risk(rule, look, seeds)
    if isinstance(rule, Exact):
        same = np.ptp(per_seed, axis=-1) == 0
        above = per_seed[:, 0] > rule.threshold
        nan = np.full(rows, math.nan)
        return Judged(same & above, same & ~above, np.zeros(rows, bool), nan, nan, *_exact_p(same, above), seeds)
    unstable = np.asarray(stability.apart(per_seed, look.seed_noise).any(axis=-1))
    low, high = look.interval()
    if isinstance(rule, Band):
        inside = (rule.low < low) & (high < rule.high)
        outside = (high <= rule.low) | (low >= rule.high)
        p_value = np.maximum(look.prob_below(rule.low), 1 - look.prob_below(rule.high))
        p_refute = np.minimum(1 - look.prob_below(rule.low), look.prob_below(rule.high))
        return _gated(inside, outside, unstable, low, high, p_value, p_refute, seeds)
    if not isinstance(rule, Superiority | NonInferiority):
        raise TypeError(f"no batch form for {type(rule).__name__}")
    bound = rule.threshold if isinstance(rule, Superiority) else -rule.margin
    below = look.prob_below(bound)
    return _gated(low > bound, high <= bound, unstable, low, high, below, 1 - below, seeds)


def _gated(*arrays: np.ndarray) -> Judged:
    """A mean-shift rule's verdict from (confirms, refutes, unstable, low, high, p_value, p_refute, seeds): nothing
    decided (p-values 1) where the seeds split."""
    confirms, refutes, unstable, low, high, p_value, p_refute, seeds = arrays
    return Judged(
        confirms & ~unstable,
        refutes & ~unstable,
        unstable,
        low,
        high,
        np.where(unstable, 1.0, p_value),
        np.where(unstable, 1.0, p_refute),
        seeds,
    )


def _exact_p(same: np.ndarray, above: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.where(same & above, 0.0, 1.0), np.where(same & ~above, 0.0, 1.0)


def _risk(rule: Risk, look: Looked, seeds: np.ndarray) -> Judged:
    failed = rule.failure.failed(look.per_seed_base, look.per_seed_treat)
    k, n = failed.sum(axis=-1), failed.shape[-1]
    tail = (1 - look.confidence) / 2
    low = np.where(k == 0, 0.0, scipy_stats.beta.ppf(tail, np.maximum(k, 1), n - k + 1))
    high = np.where(k == n, 1.0, scipy_stats.beta.ppf(1 - tail, k + 1, np.maximum(n - k, 1)))
    often, rarely = low > rule.min_share, high <= rule.min_share
    p_often = scipy_stats.binom.sf(k - 1, n, rule.min_share)
    p_rarely = scipy_stats.binom.cdf(k, n, rule.min_share)
    confirms, refutes = (often, rarely) if rule.often else (rarely, often)
    p_value, p_refute = (p_often, p_rarely) if rule.often else (p_rarely, p_often)
    return Judged(confirms, refutes, np.zeros(k.shape, bool), low, high, p_value, p_refute, seeds)


def decide(rule: Rule, base: np.ndarray, treat: np.ndarray, plan: int | Design) -> Judged:
    """`decide.decide` for every row: a fixed seed count (the first `plan` seeds of each row), or a sequential
    design judged at each look on the first seeds, each row stopping at its first decided look. Sequential
    p-values are left nominal (the family simulation runs fixed plans)."""
    if isinstance(plan, int):
        return judge(rule, summarize(base[:, :plan], treat[:, :plan]))
    if isinstance(rule, Exact):  # deterministic claims need no more seeds
        return judge(rule, summarize(base[:, : plan.looks[0]], treat[:, : plan.looks[0]]))
    levels = plan.nominal_levels()
    final: Judged | None = None
    settled = np.zeros(base.shape[0], bool)
    for look_seeds, level in zip(plan.looks, levels):
        looked = judge(rule, summarize(base[:, :look_seeds], treat[:, :look_seeds], 1 - 2 * level))
        if final is None:
            final = looked
        else:
            final = Judged(*(np.where(settled, old, new) for old, new in zip(_fields(final), _fields(looked))))
        settled |= looked.confirms | looked.refutes
    if final is None:
        raise ValueError("a design needs at least one look")
    return final


def _fields(judged: Judged) -> tuple[np.ndarray, ...]:
    return (
        judged.confirms,
        judged.refutes,
        judged.unstable,
        judged.low,
        judged.high,
        judged.p_value,
        judged.p_refute,
        judged.seeds,
    )
