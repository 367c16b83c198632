"""Sequential seeds (`--seeds auto`): add seeds only to undecided rows, at planned looks, with honest error rates.

Looking at a row after 5, 7 and 10 seeds and stopping as soon as its interval clears the threshold would, at a fixed
95 % each time, confirm a false claim more often than 2.5 %. Group-sequential designs fix this by spending the
one-sided α over the looks. The spending rule here is the Lan–DeMets O'Brien–Fleming type,
α(t) = 2·(1 − Φ(z_{1−α/2} / √t)), with information fraction t = seeds so far / maximum seeds. Why O'Brien–Fleming
rather than Pocock: it spends almost nothing at the early looks, where 3–5 seeds give a shaky variance estimate
(few degrees of freedom), and keeps the last look's level close to the fixed-design α, so a row that needs all the
seeds loses little power; Pocock spends evenly and pays with a noticeably stricter final look. Pocock stays available
(`Design(spending="pocock")`) for comparison.

Boundaries are computed on the Brownian-motion scale with independent increments between looks (the usual
numerical recursion, on a grid). The test images are the same at every look, so the real statistics are more
strongly correlated than that model assumes; by Slepian's inequality this makes the boundaries conservative. Each
boundary is turned into a nominal one-sided level α_k = 1 − Φ(c_k), and the row's rule is judged on the interval at
confidence 1 − 2·α_k (a repeated confidence interval), so the t quantile with the look's own degrees of freedom is
used. Refutations use the mirrored boundary. Both boundaries are non-binding: stopping for the other reason only
removes chances to err.
"""

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy import optimize, signal
from scipy import stats as scipy_stats

from tl_claims.stats.intervals import Summary, summarize
from tl_claims.stats.rules import Rule, Verdict

OBRIEN_FLEMING, POCOCK = "obrien-fleming", "pocock"
_GRID_STEP, _GRID_HALF_WIDTH = 0.002, 10.0


@dataclass(frozen=True)
class Design:
    """Planned looks (seed counts, increasing; the last is the maximum), spending rule and one-sided α."""

    looks: tuple[int, ...] = (5, 7, 10)
    spending: str = OBRIEN_FLEMING
    alpha: float = 0.025

    def __post_init__(self) -> None:
        if not self.looks or list(self.looks) != sorted(set(self.looks)) or self.looks[0] < 2:
            raise ValueError(f"looks must be increasing seed counts, each ≥ 2; got {self.looks}")
        if self.spending not in (OBRIEN_FLEMING, POCOCK):
            raise ValueError(f"spending must be {OBRIEN_FLEMING!r} or {POCOCK!r}; got {self.spending!r}")
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"alpha is one-sided, in (0, 0.5); got {self.alpha}")

    @property
    def fractions(self) -> tuple[float, ...]:
        return tuple(n / self.looks[-1] for n in self.looks)

    def spent(self, fraction: float) -> float:
        """Cumulative one-sided α spent by information fraction `fraction` (0 < fraction ≤ 1)."""
        return spending(self.spending, self.alpha, fraction)

    def boundaries(self) -> tuple[float, ...]:
        """Upper z boundaries, one per look."""
        return _boundaries(self.spending, self.alpha, self.fractions)

    def nominal_levels(self) -> tuple[float, ...]:
        """The one-sided level each look's test is run at: 1 − Φ(boundary)."""
        return tuple(float(scipy_stats.norm.sf(c)) for c in self.boundaries())


def spending(kind: str, alpha: float, fraction: float) -> float:
    """Lan–DeMets spending functions (one-sided α)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"information fraction must lie in (0, 1]; got {fraction}")
    if kind == OBRIEN_FLEMING:
        return float(2 * scipy_stats.norm.sf(scipy_stats.norm.isf(alpha / 2) / math.sqrt(fraction)))
    if kind == POCOCK:
        return alpha * math.log(1 + (math.e - 1) * fraction)
    raise ValueError(f"unknown spending rule {kind!r}")


def _grid() -> np.ndarray:
    half = round(_GRID_HALF_WIDTH / _GRID_STEP)
    return np.arange(-half, half + 1) * _GRID_STEP


def _truncated(density: np.ndarray, grid: np.ndarray, bound: float) -> np.ndarray:
    """Mass per grid cell of a density cut at `bound` (midpoint rule, the cell holding the bound counted in part)."""
    inside = np.clip((bound - (grid - _GRID_STEP / 2)) / _GRID_STEP, 0.0, 1.0)
    return density * inside * _GRID_STEP


def _tail(masses: np.ndarray, grid: np.ndarray, spread: float, bound: float) -> float:
    """P(no crossing so far and the next B-value ≥ bound), B moving by N(0, spread²) from the grid masses."""
    return float(np.sum(masses * scipy_stats.norm.sf((bound - grid) / spread)))


def _propagate(masses: np.ndarray, spread: float) -> np.ndarray:
    """Density on the grid after a N(0, spread²) step from the grid masses."""
    reach = min(math.ceil(8 * spread / _GRID_STEP), masses.size // 2)
    offsets = np.arange(-reach, reach + 1) * _GRID_STEP
    return signal.fftconvolve(masses, scipy_stats.norm.pdf(offsets, scale=spread), mode="same")


@lru_cache(maxsize=64)
def _boundaries(kind: str, alpha: float, fractions: tuple[float, ...]) -> tuple[float, ...]:
    grid = _grid()
    density = scipy_stats.norm.pdf(grid, scale=math.sqrt(fractions[0]))
    bounds: list[float] = [float(scipy_stats.norm.isf(spending(kind, alpha, fractions[0])))]
    previous = fractions[0]
    for fraction in fractions[1:]:
        masses = _truncated(density, grid, bounds[-1] * math.sqrt(previous))
        spread = math.sqrt(fraction - previous)
        target = spending(kind, alpha, fraction) - spending(kind, alpha, previous)
        b_value = optimize.brentq(lambda b, m=masses, s=spread, a=target: _tail(m, grid, s, b) - a, -12, 12, xtol=1e-10)
        bounds.append(b_value / math.sqrt(fraction))
        density, previous = _propagate(masses, spread), fraction
    return tuple(bounds)


def stagewise_p(design: Design, look_index: int, z_value: float) -> float:
    """Stage-wise ordering p-value of stopping at look `look_index` (0-based) with statistic `z_value`:
    α spent before this look + P(H0: no crossing before, Z ≥ z here). A valid p-value for H0 "claim false" across
    the looks, so a family adjustment (Holm) can take it; it is below α(t_k) exactly when z crosses the boundary."""
    if look_index == 0:
        return float(scipy_stats.norm.sf(z_value))
    fractions = design.fractions
    masses = _masses_before(design.spending, design.alpha, fractions, look_index)
    if z_value == math.inf:
        tail = 0.0
    elif z_value == -math.inf:
        tail = float(np.sum(masses))
    else:
        spread = math.sqrt(fractions[look_index] - fractions[look_index - 1])
        tail = _tail(masses, _grid(), spread, z_value * math.sqrt(fractions[look_index]))
    return min(1.0, design.spent(fractions[look_index - 1]) + tail)


@lru_cache(maxsize=64)
def _masses_before(kind: str, alpha: float, fractions: tuple[float, ...], look_index: int) -> np.ndarray:
    """Grid masses of the B-value at look `look_index − 1` on the paths that have not crossed by then."""
    bounds, grid = _boundaries(kind, alpha, fractions), _grid()
    density = scipy_stats.norm.pdf(grid, scale=math.sqrt(fractions[0]))
    masses = _truncated(density, grid, bounds[0] * math.sqrt(fractions[0]))
    for k in range(1, look_index):
        density = _propagate(masses, math.sqrt(fractions[k] - fractions[k - 1]))
        masses = _truncated(density, grid, bounds[k] * math.sqrt(fractions[k]))
    masses.setflags(write=False)
    return masses


@dataclass(frozen=True)
class Look:
    """The outcome of one planned look at a row: its verdict (interval at the look's stricter confidence, p-value
    stage-wise), and whether to add seeds, to how many."""

    verdict: Verdict
    summary: Summary
    look_index: int
    n_seeds: int
    nominal_alpha: float
    stop: bool
    next_seeds: int | None


def sequential_look(baseline: np.ndarray, treatment: np.ndarray, rule: Rule, design: Design | None = None) -> Look:
    """Judge a row after a planned look; the engine calls this after measuring each look's seeds.

    `baseline` / `treatment` hold all seeds measured so far, shape (n_seeds, n_images); n_seeds must be one of the
    design's looks (a design is honest only when followed). Stops when the verdict is decided, or at the last look.
    """
    plan = design or Design()
    n_seeds = int(np.asarray(baseline).shape[0])
    if n_seeds not in plan.looks:
        raise ValueError(f"{n_seeds} seeds is not a planned look; looks: {plan.looks}")
    index = plan.looks.index(n_seeds)
    level = plan.nominal_levels()[index]
    summary = summarize(baseline, treatment, confidence=1 - 2 * level)
    verdict = rule.judge(summary)
    if verdict.confidence is None:  # deterministic claims need no more seeds
        return Look(verdict, summary, index, n_seeds, level, True, None)
    verdict = replace(
        verdict,
        p_value=stagewise_p(plan, index, _z_of(verdict.p_value)),
        p_refute=stagewise_p(plan, index, _z_of(verdict.p_refute)),  # the mirrored boundary
    )
    last = index == len(plan.looks) - 1
    stop = verdict.decided or last
    return Look(verdict, summary, index, n_seeds, level, stop, None if stop else plan.looks[index + 1])


def _z_of(p_value: float) -> float:
    """The standard normal statistic whose upper tail is `p_value` (±inf at 0 and 1)."""
    if 0 < p_value < 1:
        return float(scipy_stats.norm.isf(p_value))
    return math.inf if p_value <= 0 else -math.inf
