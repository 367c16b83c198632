"""Claim types, each with its own verdict words (the family adjustment over the primary claims is
tl_claims.stats.family).

A rule is a small frozen dataclass with `label()` (the words a table column shows, e.g. "superiority Δ > +2.0 pp")
and `judge(summary)` turning a `tl_claims.stats.intervals.Summary` into a `Verdict`. Every verdict carries `confirms`
(the lesson's claim is supported; a pytest test passes only then) and two one-sided p-values: `p_value` for H0 "the
claim is false" (what a confirmation rejects) and `p_refute` for H0 "the claim is true" (what a refutation rejects);
`tl_claims.stats.family.holm` adjusts both.

Levels: a rule decides from the summary's two-sided interval at `summary.confidence` (95 % by default), so each
confirmation is a one-sided test at α = (1 − confidence)/2 = 2.5 %, and the p-value is consistent with it:
`confirms` ⇔ p < α and a refutation ⇔ p_refute < α (for interval rules). The family adjustment uses the same α.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import stats as scipy_stats

from tl_claims.stats import stability
from tl_claims.stats.intervals import Summary

INCONCLUSIVE = "INCONCLUSIVE"
UNSTABLE = "UNSTABLE"  # seeds split into groups: a mean-shift rule decides nothing (tl_claims.stats.stability)


@dataclass(frozen=True)
class Verdict:
    """A rule applied to a summary. `ci_low`/`ci_high` are None for exact claims (nothing to put an interval on);
    for risk claims they bound the share of failing seeds, not Δ. `estimate` is Δ, or the failing share for risk."""

    word: str
    confirms: bool
    decided: bool
    p_value: float
    rule: str
    estimate: float
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    note: str = ""
    p_refute: float = 1.0  # one-sided, for H0 "the claim is true": what a refutation rejects

    @property
    def refutes(self) -> bool:
        """A decided verdict that does not confirm says the claim is false (REFUTED, INFERIOR, OUTSIDE BAND, …)."""
        return self.decided and not self.confirms


class Rule(Protocol):
    def label(self, unit: str = "pp") -> str: ...

    def judge(self, summary: Summary) -> Verdict: ...


def _fmt(value: float, unit: str) -> str:
    """Signed value in the claim's unit: "pp" shows fractions as percentage points, anything else as is."""
    return f"{value * 100:+.1f} pp" if unit == "pp" else f"{value:+.3g}{unit}"


def _p_above(summary: Summary, threshold: float) -> float:
    """One-sided p-value for H0 "Δ ≤ threshold" (claim: Δ > threshold)."""
    return summary.prob_below(threshold)


@dataclass(frozen=True)
class Superiority:
    """The treatment beats the baseline by more than `threshold` (a fraction: 0.02 = 2 pp)."""

    threshold: float

    @property
    def bounds(self) -> tuple[float, ...]:
        return (self.threshold,)

    def label(self, unit: str = "pp") -> str:
        return f"superiority Δ > {_fmt(self.threshold, unit)}"

    def judge(self, summary: Summary) -> Verdict:
        return _one_sided(summary, self.threshold, self.label(), ("CONFIRMED", "REFUTED"))


@dataclass(frozen=True)
class NonInferiority:
    """The treatment is at most `margin` worse than the baseline: Δ > −margin (margin ≥ 0, a fraction)."""

    margin: float

    def __post_init__(self) -> None:
        if self.margin < 0:
            raise ValueError(f"a non-inferiority margin is a size, ≥ 0; got {self.margin}")

    @property
    def bounds(self) -> tuple[float, ...]:
        return (-self.margin,)

    def label(self, unit: str = "pp") -> str:
        return f"non-inferiority Δ > {_fmt(-self.margin, unit)}"

    def judge(self, summary: Summary) -> Verdict:
        return _one_sided(summary, -self.margin, self.label(), ("NON-INFERIOR", "INFERIOR"))


def split_seeds(summary: Summary, label: str) -> Verdict | None:
    """UNSTABLE when some seeds lie apart from the rest (tl_claims.stats.stability), else None: a mean-shift rule
    then says neither yes nor no (both p-values 1), and the note names the seeds and their Δ. The interval over all
    seeds stays in the verdict for the reader, but it is no claim about a typical run."""
    per_seed = np.asarray(summary.per_seed_delta)
    flagged = stability.apart(per_seed, summary.seed_noise)
    if not flagged.any():
        return None
    low, high = summary.interval()
    # A row's seeds are 0, 1, ... in order (every preset, --seeds N, --seeds auto), so a position is the seed's name.
    seeds = ", ".join(f"seed {index} ({per_seed[index] * 100:+.1f} pp)" for index in np.flatnonzero(flagged))
    note = (
        f"seeds apart from the rest: {seeds}; median seed {float(np.median(per_seed)) * 100:+.1f} pp. "
        "A typical run's Δ is not one number here: how often a run fails is a risk claim"
    )
    return Verdict(UNSTABLE, False, False, 1.0, label, summary.delta, low, high, summary.confidence, note=note)


def _one_sided(summary: Summary, threshold: float, label: str, words: tuple[str, str]) -> Verdict:
    unstable = split_seeds(summary, label)
    if unstable is not None:
        return unstable
    low, high = summary.interval()
    if low > threshold:
        word, confirms = words[0], True
    elif high <= threshold:
        word, confirms = words[1], False
    else:
        word, confirms = INCONCLUSIVE, False
    return Verdict(
        word,
        confirms,
        word != INCONCLUSIVE,
        _p_above(summary, threshold),
        label,
        summary.delta,
        low,
        high,
        summary.confidence,
        p_refute=1 - summary.prob_below(threshold),
    )


@dataclass(frozen=True)
class Band:
    """The lesson gives a range: low < Δ < high (e.g. TTA gains 0.5–2 pp). INSIDE BAND when the whole interval lies
    in the band (two one-sided tests, each at α), OUTSIDE BAND when it lies wholly outside. The note gives the
    confidence-distribution probability that Δ is in the band, a graded answer when the verdict is INCONCLUSIVE."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"a band needs low < high; got {self.low}, {self.high}")

    @property
    def bounds(self) -> tuple[float, ...]:
        return (self.low, self.high)

    def label(self, unit: str = "pp") -> str:
        return f"band {_fmt(self.low, unit)} < Δ < {_fmt(self.high, unit)}"

    def judge(self, summary: Summary) -> Verdict:
        unstable = split_seeds(summary, self.label())
        if unstable is not None:
            return unstable
        ci_low, ci_high = summary.interval()
        if self.low < ci_low and ci_high < self.high:
            word = "INSIDE BAND"
        elif ci_high <= self.low or ci_low >= self.high:
            word = "OUTSIDE BAND"
        else:
            word = INCONCLUSIVE
        p_value = max(_p_above(summary, self.low), 1 - summary.prob_below(self.high))
        # OUTSIDE BAND: the interval lies wholly below `low` or wholly above `high`; the smaller one-sided p-value.
        # Under "Δ in band" the two events are disjoint and the far one is negligible unless the band is narrower
        # than the interval (the simulation measures it: `tl-claims stats simulate`).
        p_refute = min(1 - summary.prob_below(self.low), summary.prob_below(self.high))
        inside = max(0.0, summary.prob_below(self.high) - summary.prob_below(self.low))
        return Verdict(
            word,
            word == "INSIDE BAND",
            word != INCONCLUSIVE,
            p_value,
            self.label(),
            summary.delta,
            ci_low,
            ci_high,
            summary.confidence,
            note=f"P(Δ in band) ≈ {inside:.2f}",
            p_refute=p_refute,
        )


@dataclass(frozen=True)
class Collapse:
    """A seed fails when the treatment's metric on it falls more than `drop` below the baseline's on the same seed
    (e.g. stage-2 fine-tuning far below the stage-1 model it started from)."""

    drop: float

    def failed(self, baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
        return treatment < baseline - self.drop

    def label(self, unit: str = "pp") -> str:
        return f"treatment < baseline {_fmt(-self.drop, unit)}"


@dataclass(frozen=True)
class BaselineCollapse:
    """A seed fails when the baseline arm falls more than `drop` below the treatment arm on the same seed (a claim
    whose risky arm is the baseline, e.g. stage 2 at LR 1e-3 against the stage-1 model it started from)."""

    drop: float

    def failed(self, baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
        return baseline < treatment - self.drop

    def label(self, unit: str = "pp") -> str:
        return f"baseline < treatment {_fmt(-self.drop, unit)}"


@dataclass(frozen=True)
class BelowLevel:
    """A seed fails when the treatment's metric on it is below an absolute `level` (e.g. accuracy < 0.5)."""

    level: float

    def failed(self, baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
        return treatment < self.level

    def label(self, unit: str = "pp") -> str:
        return f"treatment < {self.level:.3g}"


class FailureRule(Protocol):
    def failed(self, baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray: ...

    def label(self, unit: str = "pp") -> str: ...


@dataclass(frozen=True)
class Risk:
    """How often an arm fails badly, per seed. Claim "fails in more than `min_share` of seeds" (`often=True`, e.g.
    "LR 1e-3 in stage 2 can wreck the pretrained features") or "in less than `min_share`" (`often=False`).

    The share of failing seeds gets an exact Clopper–Pearson interval at the summary's confidence; the verdict reads
    that interval against `min_share`. A mean-shift interval is the wrong tool here: one collapsed seed out of three
    (0.38, 0.84, 0.80) makes it span tens of points both ways. The per-seed metric's own test noise is ignored: a
    failure rule should ask for drops far larger than the test-set floor.
    """

    failure: FailureRule
    min_share: float
    often: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.min_share < 1:
            raise ValueError(f"min_share must lie in [0, 1); got {self.min_share}")

    def label(self, unit: str = "pp") -> str:
        relation = ">" if self.often else "<"
        return f"risk P({self.failure.label(unit)}) {relation} {self.min_share:.0%}"

    def judge(self, summary: Summary) -> Verdict:
        failed = self.failure.failed(np.asarray(summary.per_seed_baseline), np.asarray(summary.per_seed_treatment))
        k, n = int(np.sum(failed)), int(failed.size)
        low, high = clopper_pearson(k, n, summary.confidence)
        if low > self.min_share:
            word = "FAILS OFTEN"
        elif high <= self.min_share:
            word = "RARELY FAILS"
        else:
            word = INCONCLUSIVE
        confirms = word == ("FAILS OFTEN" if self.often else "RARELY FAILS")
        # Exact binomial p-values, the tests Clopper–Pearson inverts: P(X ≥ k | min_share), P(X ≤ k | min_share).
        p_often = float(scipy_stats.binom.sf(k - 1, n, self.min_share))
        p_rarely = float(scipy_stats.binom.cdf(k, n, self.min_share))
        return Verdict(
            word,
            confirms,
            word != INCONCLUSIVE,
            p_often if self.often else p_rarely,
            self.label(),
            k / n,
            low,
            high,
            summary.confidence,
            note=f"{k} of {n} seeds failed",
            p_refute=p_rarely if self.often else p_often,
        )


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided interval for a binomial share k/n."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 ≤ k ≤ n, n ≥ 1; got k={k}, n={n}")
    tail = (1 - confidence) / 2
    low = 0.0 if k == 0 else float(scipy_stats.beta.ppf(tail, k, n - k + 1))
    high = 1.0 if k == n else float(scipy_stats.beta.ppf(1 - tail, k + 1, n - k))
    return low, high


@dataclass(frozen=True)
class Exact:
    """A deterministic measurement (e.g. the share of tensors that moved: 1.0 vs 0.0) compared with `threshold`:
    claim Δ > threshold. No interval: CONFIRMED when every seed gives the same Δ and it exceeds the threshold,
    REFUTED when that same Δ does not. Seeds that differ at all mean the value is not deterministic, so this rule
    does not apply: INCONCLUSIVE, with the range in the note. (Deciding on "every seed above" instead would confirm
    a noisy Δ sitting on the threshold with probability 2^−S: 3 % at 5 seeds, 12 % at 3.)"""

    threshold: float

    def label(self, unit: str = "pp") -> str:
        return f"exact Δ > {_fmt(self.threshold, unit)}"

    def judge(self, summary: Summary) -> Verdict:
        per_seed = np.asarray(summary.per_seed_delta)
        deterministic = np.ptp(per_seed) == 0
        if not deterministic:
            word, p_value, p_refute = INCONCLUSIVE, 1.0, 1.0
        elif per_seed[0] > self.threshold:
            word, p_value, p_refute = "CONFIRMED", 0.0, 1.0
        else:
            word, p_value, p_refute = "REFUTED", 1.0, 0.0
        note = (
            ""
            if deterministic
            else f"not deterministic: per-seed Δ from {per_seed.min():+.4g} to {per_seed.max():+.4g}"
        )
        return Verdict(
            word,
            word == "CONFIRMED",
            word != INCONCLUSIVE,
            p_value,
            self.label(),
            summary.delta,
            None,
            None,
            None,
            note=note,
            p_refute=p_refute,
        )


def explain(summary: Summary, rule: Rule, verdict: Verdict | None = None, unit: str = "pp") -> str:
    """One sentence with the numbers; for an undecided interval rule, whether seeds or test images would settle it.

    When the test-set floor alone is at least the distance from Δ to the claim's nearest bound, more seeds cannot
    decide the row (its interval can never shrink below the floor): only a larger test set can.
    """
    verdict = rule.judge(summary) if verdict is None else verdict
    head = f"{verdict.word} ({rule.label(unit)})"
    if verdict.confidence is None:
        return f"{head}: Δ {_fmt(verdict.estimate, unit)}, exact, no interval" + (
            f"; {verdict.note}" if verdict.note else ""
        )
    if isinstance(rule, Risk):
        return (
            f"{head}: {verdict.note}, {verdict.confidence:.0%} exact CI [{verdict.ci_low:.0%}, "
            f"{verdict.ci_high:.0%}] of seeds"
        )
    low, high = summary.interval(verdict.confidence)
    text = (
        f"{head}: Δ {_fmt(summary.delta, unit)}, {verdict.confidence:.0%} CI [{_fmt(low, unit)}, "
        f"{_fmt(high, unit)}] over {summary.n_seeds} seed(s) × {summary.n_images} test image(s)"
    )
    if summary.floor is not None:
        text += f"; test-set floor ±{_fmt(summary.floor, unit)[1:]}"
    if verdict.note:
        text += f"; {verdict.note}"
    if verdict.decided:
        return text
    if verdict.word == UNSTABLE:
        return text + ". More seeds of the same mean would not settle it"
    bounds = getattr(rule, "bounds", ())
    gap = min((abs(summary.delta - bound) for bound in bounds), default=None)
    if summary.floor is not None and gap is not None and summary.floor >= gap:
        return text + ". The test set cannot resolve this: more test images, not more seeds, would decide it"
    return text + ". More seeds (--seeds auto) would narrow the interval"
