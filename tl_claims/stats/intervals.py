"""Paired comparisons: the interval for the treatment − baseline difference, over seeds and test images.

Both arms are measured on the same training seeds and scored on the same fixed test images, so the engine hands over,
per arm, a matrix of per-image scores of shape (n_seeds, n_images) whose mean over images is the arm's metric. The
paired difference matrix D[s, i] = treatment[s, i] − baseline[s, i] carries two sources of variation that a student
re-running the lesson on a fresh test set would meet: seed-to-seed training noise (a different model each seed) and
test-image sampling (a different test set). The first shrinks with more seeds; the second does not, it is a floor set
by the number of test images.

The estimand ("true Δ") is the expected difference over the population of training seeds and of test images: the
number the lesson's claim is about. It is pool-conditional: the seeds are draws from the row's own fixed training
pool (the data set the row names), so another photo collection is the replication table's question, not the
interval's (docs/statistics.md, "Estimand"). `summarize` estimates it with the two-way crossed variance components
of D (see `summarize`); the choice over the crossed bootstrap was made by an earlier version of
`tl-claims stats simulate`.
"""

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats as scipy_stats

# Method names shown in the table's interval column.
VC_METHOD = (
    "seeds × test images variance components: per-seed t plus test-image component "
    "(Satterthwaite df at the seed term's 90 % upper limit)"
)
BOOTSTRAP_METHOD = "two-way crossed bootstrap over seeds × test images (percentile)"
SEED_ONLY_METHOD = "paired t over seeds (per-seed scalar metric: test-image sampling not estimable)"
CHOSEN_METHOD = VC_METHOD
# Satterthwaite's df take the seed term at its upper confidence limit, through the χ² quantile at this probability:
# 0.10 gives the 90 % upper limit (see `summarize`).
SEED_TERM_LIMIT = 0.10


@dataclass(frozen=True)
class Summary:
    """What one claim row measured: arm means, the paired Δ and its interval, with what the interval stands on.

    `se` and `df` define a Student-t reference for Δ (df may be inf; se 0 means no variation was observed, se inf
    means the interval cannot be estimated). A bootstrap summary instead carries its sorted resampled deltas in
    `draws`. `per_seed_baseline` / `per_seed_treatment` are the per-seed arm metrics (for risk claims); `floor` is
    the half-width the test images alone contribute (see `resolvable_floor`), None where it cannot be estimated;
    `seed_noise` the spread of one seed's Δ that test-image sampling alone gives (tl_claims.stats.stability).
    """

    baseline: float
    treatment: float
    delta: float
    se: float
    df: float
    confidence: float
    method: str
    n_seeds: int
    n_images: int
    per_seed_baseline: tuple[float, ...]
    per_seed_treatment: tuple[float, ...]
    floor: float | None
    draws: tuple[float, ...] | None = field(default=None, repr=False)
    seed_noise: float = 0.0  # sd of one seed's Δ from the test images alone (seed × image residual); 0: unknown

    @property
    def ci_low(self) -> float:
        return self.interval()[0]

    @property
    def ci_high(self) -> float:
        return self.interval()[1]

    @property
    def per_seed_delta(self) -> tuple[float, ...]:
        return tuple(t - b for b, t in zip(self.per_seed_baseline, self.per_seed_treatment))

    @property
    def deterministic(self) -> bool:
        """True when every seed and image gave the same difference: there is nothing to put an interval on."""
        return self.se == 0.0

    def interval(self, confidence: float | None = None) -> tuple[float, float]:
        """Two-sided interval at `confidence` (default: the summary's own)."""
        level = self.confidence if confidence is None else confidence
        tail = (1 - level) / 2
        if self.draws is None and 0 < self.se < math.inf:
            half_width = float(scipy_stats.t.isf(tail, self.df)) * self.se
            return self.delta - half_width, self.delta + half_width
        return self.quantile(tail), self.quantile(1 - tail)

    def quantile(self, q: float) -> float:
        """Quantile of the confidence distribution of Δ (the t reference, or the bootstrap draws)."""
        if self.draws is not None:
            return float(np.quantile(np.asarray(self.draws), q))
        if self.se == 0.0:
            return self.delta
        if math.isinf(self.se):
            return -math.inf if q < 0.5 else math.inf
        return self.delta + float(scipy_stats.t.ppf(q, self.df)) * self.se

    def prob_below(self, value: float) -> float:
        """Confidence-distribution mass at or below `value`: the one-sided p-value for H0 "Δ ≤ value" is 1 − this,
        and for H0 "Δ ≥ value" it is this. Consistent with `interval`: the lower bound exceeds `value` exactly when
        this is below (1 − confidence) / 2."""
        if self.draws is not None:
            draws = np.asarray(self.draws)
            return float(np.mean(draws <= value))
        if self.se == 0.0:
            return 1.0 if self.delta <= value else 0.0
        if math.isinf(self.se):
            return 0.5
        return float(scipy_stats.t.cdf((value - self.delta) / self.se, self.df))

    def at_confidence(self, confidence: float) -> "Summary":
        """The same measurement reported at another confidence (sequential looks use a stricter one)."""
        return replace(self, confidence=confidence)


def summarize(baseline: np.ndarray, treatment: np.ndarray, confidence: float = 0.95) -> Summary:
    """Paired Δ and its interval over seeds and test images: the estimator the verdicts use.

    Model: D[s, i] = Δ + a_s + b_i + e_si (seed effect, image effect, seed × image residual). The mean of D has
    variance σ_a²/S + σ_e²/(S·I) + σ_b²/I. The first two are the variance of a per-seed mean, estimated by
    MS_seed/(S·I) with S − 1 degrees of freedom (the paired t over seeds); the last is the test-set part no seed
    count removes, estimated by (MS_image − MS_resid)/(S·I) from the two-way ANOVA with hundreds of df. The seed term
    is floored at MS_resid/(S·I) (its expectation is at least σ_e²/(S·I), which MS_resid pins down), the image term at
    0; the t quantile takes Satterthwaite's df for the sum, so the seed term always carries its S − 1 df.

    The df are computed with the seed term at its 90 % upper confidence limit (MS_seed · (S − 1) / χ²_{S−1, 0.10}),
    the variance itself with the estimate. Why: plain Satterthwaite df come from the same MS_seed as the standard
    error, and a row whose seeds happen to agree gets both a small standard error and a small seed share, hence many
    df and a short t quantile: with 5 seeds and the seeds carrying 80–95 % of the variance, a one-sided test at
    2.5 % rejects 2.8–2.9 % of the time, and at 0.2 % (Holm's first step over 12 rows) 0.44–0.50 %; the simulation's
    noisy-seeds family failed on it. At the upper limit the df lie between S − 1 and Satterthwaite's, and the same
    calculation gives at most 1.01 times the nominal rate for 5, 7 and 10 seeds at every seed share, at both levels
    (down to about half of it where seeds and images share the variance at 5 seeds; docs/statistics.md).

    Why this form: the textbook two-way estimate (MS_seed + MS_image − MS_resid)/(S·I), guarded by the one-way
    estimates, switches to the image-only estimate with ~I df whenever MS_seed comes out small, which with 2 seed df
    happens a quarter of the time; the simulation showed it undercovering at 3 seeds (0.93). Keeping the seed df
    makes 3 seeds conservative (coverage 0.94–0.99 over the simulated scenarios, highest where seed effects are
    small) and leaves 5 and 10 seeds unchanged (about 0.94–0.97).

    Why this over the crossed (pigeonhole) bootstrap: with 3–5 seeds the bootstrap's seed resampling has the
    familiar small-sample undercoverage (percentile quantiles, variance shrunk by (S−1)/S: coverage 0.85–0.92 when
    seed noise dominates), and where the test images dominate it is conservative (0.98–0.99, Owen's double counting
    of the residual); that earlier simulation showed both. One seed gives an
    unbounded interval (seed variation unknown); n_images == 1 (a per-seed scalar metric) falls back to the paired
    t over seeds and says so in `method`.
    """
    delta_matrix, base, treat = _paired_matrix(baseline, treatment)
    n_seeds, n_images = delta_matrix.shape
    common = _common_fields(base, treat, delta_matrix, confidence)
    if n_images == 1:
        return Summary(
            **common,
            se=_seed_only_se(delta_matrix[:, 0]),
            df=float(max(n_seeds - 1, 1)),
            method=SEED_ONLY_METHOD,
            floor=None,
        )
    if n_seeds == 1:
        return Summary(
            **common, se=math.inf, df=math.inf, method=VC_METHOD + "; one seed: seed variation unknown", floor=None
        )
    variance, dof = _variance_components(delta_matrix)
    se = math.sqrt(variance)
    method = VC_METHOD if se > 0 else VC_METHOD + "; no variation observed"
    seed_noise = math.sqrt(mean_squares(delta_matrix)[2] / n_images)
    return Summary(
        **common, se=se, df=dof, method=method, floor=_floor(delta_matrix, confidence), seed_noise=seed_noise
    )


def _paired_matrix(baseline: np.ndarray, treatment: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base, treat = np.asarray(baseline, float), np.asarray(treatment, float)
    if base.ndim == 1:
        base, treat = base[:, None], treat[:, None]
    if base.shape != treat.shape or base.ndim != 2 or base.size == 0:
        raise ValueError(
            f"need two equally shaped, non-empty (n_seeds, n_images) arrays; got {base.shape}, {treat.shape}"
        )
    if not (np.all(np.isfinite(base)) and np.all(np.isfinite(treat))):
        raise ValueError("per-image scores must be finite numbers")
    return treat - base, base, treat


def _common_fields(base: np.ndarray, treat: np.ndarray, delta_matrix: np.ndarray, confidence: float) -> dict:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    seed_base, seed_treat = base.mean(axis=1), treat.mean(axis=1)
    return dict(
        baseline=float(seed_base.mean()),
        treatment=float(seed_treat.mean()),
        delta=float(delta_matrix.mean()),
        confidence=confidence,
        n_seeds=int(delta_matrix.shape[0]),
        n_images=int(delta_matrix.shape[1]),
        per_seed_baseline=tuple(float(v) for v in seed_base),
        per_seed_treatment=tuple(float(v) for v in seed_treat),
    )


def _seed_only_se(per_seed: np.ndarray) -> float:
    if per_seed.size < 2:
        return math.inf
    return float(per_seed.std(ddof=1)) / math.sqrt(per_seed.size)


def mean_squares(delta_matrix: np.ndarray) -> tuple[float, float, float]:
    """Two-way ANOVA mean squares (seed, image, residual) of a (n_seeds ≥ 2, n_images ≥ 2) matrix, no replication."""
    ms_seed, ms_image, ms_resid = batch_mean_squares(np.asarray(delta_matrix, float)[None])
    return float(ms_seed[0]), float(ms_image[0]), float(ms_resid[0])


def batch_mean_squares(deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`mean_squares` of each (n_seeds, n_images) matrix along the last two axes: the simulation judges thousands of
    rows at once with the very arithmetic a single row gets. Σ residual² = Σ D² − I·Σ seed means² − S·Σ image
    means² + S·I·grand² (no residual matrix is materialised)."""
    n_seeds, n_images = deltas.shape[-2:]
    seed_means, image_means = deltas.mean(axis=-1), deltas.mean(axis=-2)
    grand = seed_means.mean(axis=-1)
    seed_ss = n_images * (np.sum(seed_means**2, axis=-1) - n_seeds * grand**2)
    image_ss = n_seeds * (np.sum(image_means**2, axis=-1) - n_images * grand**2)
    total_ss = np.sum(np.square(deltas, dtype=float), axis=(-2, -1)) - n_seeds * n_images * grand**2
    resid_ss = np.maximum(total_ss - seed_ss - image_ss, 0.0)
    return (
        np.maximum(seed_ss, 0.0) / (n_seeds - 1),
        np.maximum(image_ss, 0.0) / (n_images - 1),
        resid_ss / ((n_seeds - 1) * (n_images - 1)),
    )


def _variance_components(delta_matrix: np.ndarray) -> tuple[float, float]:
    """Variance of the grand mean of D and its degrees of freedom (see `summarize`)."""
    variance, dof = batch_variance_components(*batch_mean_squares(delta_matrix[None]), *delta_matrix.shape)
    return float(variance[0]), float(dof[0])


def batch_variance_components(
    ms_seed: np.ndarray, ms_image: np.ndarray, ms_resid: np.ndarray, n_seeds: int, n_images: int
) -> tuple[np.ndarray, np.ndarray]:
    """Variance of the grand mean and its df (Satterthwaite's, the seed term at its upper limit), from each row's
    mean squares (see `summarize`)."""
    cells = n_seeds * n_images
    seed_term = np.maximum(ms_seed, ms_resid) / cells
    image_term = np.maximum(ms_image - ms_resid, 0.0) / cells
    variance = seed_term + image_term
    seed_limit = seed_term * (n_seeds - 1) / scipy_stats.chi2.ppf(SEED_TERM_LIMIT, n_seeds - 1)
    image_spread = (ms_image**2 / (n_images - 1) + ms_resid**2 / ((n_seeds - 1) * (n_images - 1))) / cells**2
    denominator = seed_limit**2 / (n_seeds - 1) + np.where(image_term > 0, image_spread, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = np.where(variance > 0, (seed_limit + image_term) ** 2 / denominator, math.inf)
    return np.where(variance > 0, variance, 0.0), dof


def resolvable_floor(baseline: np.ndarray, treatment: np.ndarray, confidence: float = 0.95) -> float | None:
    """Half-width the test images alone put on Δ: the smallest |Δ| this test set can resolve, however many seeds.

    With infinitely many seeds Var(mean D) → σ_b²/I; σ_b² (the persistent per-image difference between the arms) is
    estimated as (MS_image − MS_resid)/S. With one seed it cannot be told apart from the seed × image residual, so
    MS_image/I is used (an upper bound). None for a per-seed scalar metric (n_images == 1). Normal quantile: the
    image component has I − 1 ≥ hundreds of degrees of freedom.
    """
    return _floor(_paired_matrix(baseline, treatment)[0], confidence)


def _floor(delta_matrix: np.ndarray, confidence: float) -> float | None:
    n_seeds, n_images = delta_matrix.shape
    if n_images < 2:
        return None
    if n_seeds == 1:
        image_variance = float(delta_matrix[0].var(ddof=1)) / n_images
    else:
        _, ms_image, ms_resid = mean_squares(delta_matrix)
        image_variance = max(ms_image - ms_resid, 0.0) / (n_seeds * n_images)
    return float(scipy_stats.norm.ppf(0.5 + confidence / 2)) * math.sqrt(image_variance)


def crossed_bootstrap(
    baseline: np.ndarray,
    treatment: np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    rng_seed: int = 20240607,
) -> Summary:
    """Runner-up interval: seeds and images resampled independently and jointly (Owen 2007's pigeonhole bootstrap).

    A resampled mean is w_seed · D · w_image / (S·I) with multinomial counts w, so it is computed as two matrix
    products, never by materialising the resampled matrix. A fixed generator makes it deterministic.
    """
    delta_matrix, base, treat = _paired_matrix(baseline, treatment)
    n_seeds, n_images = delta_matrix.shape
    rng = np.random.default_rng(rng_seed)
    seed_counts = _resample_counts(rng, n_resamples, n_seeds)
    image_counts = _resample_counts(rng, n_resamples, n_images)
    per_seed = image_counts @ delta_matrix.T  # (resamples, seeds): each seed's total over the resampled images
    means = np.einsum("bs,bs->b", per_seed, seed_counts) / (n_seeds * n_images)
    common = _common_fields(base, treat, delta_matrix, confidence)
    return Summary(
        **common,
        se=float(means.std(ddof=1)),
        df=math.inf,
        method=BOOTSTRAP_METHOD,
        floor=_floor(delta_matrix, confidence),
        draws=tuple(np.sort(means).tolist()),
    )


def _resample_counts(rng: np.random.Generator, n_resamples: int, size: int) -> np.ndarray:
    """How often each of `size` units is drawn in each of `n_resamples` resamples with replacement."""
    draws = rng.integers(0, size, size=(n_resamples, size)) + size * np.arange(n_resamples)[:, None]
    return np.bincount(draws.ravel(), minlength=n_resamples * size).reshape(n_resamples, size).astype(float)
