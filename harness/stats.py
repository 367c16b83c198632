"""Paired comparisons and verdicts.

Every claim is phrased as "the treatment arm beats the baseline arm by more than `threshold`" (a negative threshold is
a non-inferiority margin). Both arms are measured on the same seeds, so each seed gives one paired delta
(treatment − baseline). The interval is a two-sided Student-t interval over those per-seed deltas: it covers the
seed-to-seed variation of the whole experiment (initialisation, training subset, augmentation draws, test noise),
which is what a student re-running the lesson would see.

Verdicts:
- CONFIRMED when the whole interval lies above the threshold;
- REFUTED when the whole interval lies at or below it;
- INCONCLUSIVE otherwise (the interval straddles the threshold, or there are too few seeds for an interval).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

CONFIRMED = "CONFIRMED"
REFUTED = "REFUTED"
INCONCLUSIVE = "INCONCLUSIVE"
CI_METHOD = "paired Student-t over seeds, 95 %"


@dataclass(frozen=True)
class Comparison:
    """The measured effect of a treatment over a baseline, paired by seed."""

    baseline: float
    treatment: float
    delta: float
    ci_low: float
    ci_high: float
    n_seeds: int


def compare(baseline: Sequence[float], treatment: Sequence[float], confidence: float = 0.95) -> Comparison:
    """Mean of each arm, mean paired delta and its t-interval. One seed gives an infinite interval."""
    base, treat = np.asarray(baseline, float), np.asarray(treatment, float)
    if base.shape != treat.shape or base.ndim != 1 or base.size == 0:
        raise ValueError(f"need two equally long, non-empty lists of per-seed values; got {base.shape}, {treat.shape}")
    deltas = treat - base
    low, high = _t_interval(deltas, confidence)
    return Comparison(float(base.mean()), float(treat.mean()), float(deltas.mean()), low, high, int(deltas.size))


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    mean = float(values.mean())
    if values.size < 2:
        return -math.inf, math.inf
    half_width = _t_quantile(confidence, values.size - 1) * float(values.std(ddof=1)) / math.sqrt(values.size)
    return mean - half_width, mean + half_width


def _t_quantile(confidence: float, dof: int) -> float:
    return float(scipy_stats.t.ppf(0.5 + confidence / 2, dof))


def verdict(comparison: Comparison, threshold: float) -> str:
    """CONFIRMED / REFUTED / INCONCLUSIVE for the claim "delta > threshold"."""
    if comparison.ci_low > threshold:
        return CONFIRMED
    if comparison.ci_high <= threshold:
        return REFUTED
    return INCONCLUSIVE


def seeds_to_settle(deltas: Sequence[float], threshold: float, confidence: float = 0.95) -> int | None:
    """Roughly how many seeds would make the interval clear the threshold, if the mean and spread stay as measured.

    None when that cannot be said: fewer than two seeds, or a mean sitting on the threshold.
    """
    values = np.asarray(deltas, float)
    gap = abs(float(values.mean()) - threshold)
    if values.size < 2 or gap == 0:
        return None
    spread = float(values.std(ddof=1))
    n = values.size
    while _t_quantile(confidence, n - 1) * spread / math.sqrt(n) >= gap:
        n += 1
        if n > 10_000:
            return None
    return n


def explain(comparison: Comparison, threshold: float, deltas: Sequence[float]) -> str:
    """One sentence with the numbers, and for INCONCLUSIVE what would settle it."""
    result = verdict(comparison, threshold)
    text = (
        f"{result}: delta {comparison.delta * 100:+.1f} pp, 95 % CI [{comparison.ci_low * 100:+.1f}, "
        f"{comparison.ci_high * 100:+.1f}] pp over {comparison.n_seeds} seed(s); claim needs delta > "
        f"{threshold * 100:+.1f} pp (baseline {comparison.baseline:.3f}, treatment {comparison.treatment:.3f})"
    )
    if result != INCONCLUSIVE:
        return text
    needed = seeds_to_settle(deltas, threshold)
    if needed is None:
        return text + ". More seeds (--seeds) or more test images would be needed to decide."
    return text + f". About {needed} seeds (--seeds {needed}) would settle it if the effect stays as measured."
