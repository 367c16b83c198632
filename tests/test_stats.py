import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import chi2 as scipy_chi2
from scipy.stats import t as scipy_t

from tl_claims.stats import intervals


def _arms(seed: int = 0, n_seeds: int = 5, n_images: int = 400, gain: float = 0.05):
    rng = np.random.default_rng(seed)
    difficulty, affinity = rng.random(n_images), rng.uniform(-0.2, 0.2, n_images)  # affinity: persistent per image
    base = (rng.random((n_seeds, n_images)) < 0.3 + 0.6 * difficulty).astype(float)
    treat = (rng.random((n_seeds, n_images)) < 0.3 + gain + 0.6 * difficulty + affinity).astype(float)
    return base, treat


def _mean_squares_by_loops(matrix):
    rows, cols = len(matrix), len(matrix[0])
    grand = sum(sum(row) for row in matrix) / (rows * cols)
    row_means = [sum(row) / cols for row in matrix]
    col_means = [sum(matrix[r][c] for r in range(rows)) / rows for c in range(cols)]
    ms_rows = cols * sum((m - grand) ** 2 for m in row_means) / (rows - 1)
    ms_cols = rows * sum((m - grand) ** 2 for m in col_means) / (cols - 1)
    resid = sum((matrix[r][c] - row_means[r] - col_means[c] + grand) ** 2 for r in range(rows) for c in range(cols))
    return ms_rows, ms_cols, resid / ((rows - 1) * (cols - 1))


def test_mean_squares_match_the_textbook_sums():
    base, treat = _arms(n_seeds=3, n_images=7)
    delta = treat - base
    assert intervals.mean_squares(delta) == pytest.approx(_mean_squares_by_loops(delta.tolist()))


def test_variance_is_the_seed_term_plus_the_image_term():
    base, treat = _arms()
    delta = treat - base
    ms_seed, ms_image, ms_resid = intervals.mean_squares(delta)
    summary = intervals.summarize(base, treat)
    expected = (max(ms_seed, ms_resid) + max(ms_image - ms_resid, 0)) / delta.size
    assert summary.se**2 == pytest.approx(expected)
    assert summary.delta == pytest.approx(delta.mean())
    assert (summary.baseline, summary.treatment) == (pytest.approx(base.mean()), pytest.approx(treat.mean()))
    assert summary.method == intervals.CHOSEN_METHOD == intervals.VC_METHOD


def test_satterthwaite_degrees_of_freedom_by_hand():
    """Satterthwaite's df with the seed term at its 90 % upper limit; the variance itself is the estimate."""
    rng = np.random.default_rng(3)
    delta = rng.normal(0, 1, (4, 50)) + rng.normal(0, 3, (4, 1)) + rng.normal(0, 3, (1, 50))
    summary = intervals.summarize(np.zeros_like(delta), delta)
    ms_s, ms_i, ms_r = intervals.mean_squares(delta)
    cells = delta.size
    seed_term, image_term = ms_s / cells, (ms_i - ms_r) / cells
    seed_limit = seed_term * 3 / scipy_chi2.ppf(0.10, 3)
    expected = (seed_limit + image_term) ** 2 / (seed_limit**2 / 3 + (ms_i**2 / 49 + ms_r**2 / (3 * 49)) / cells**2)
    assert summary.df == pytest.approx(expected)
    plain = (seed_term + image_term) ** 2 / (seed_term**2 / 3 + (ms_i**2 / 49 + ms_r**2 / (3 * 49)) / cells**2)
    assert 3 <= summary.df < plain  # between the seeds' own df and plain Satterthwaite's
    half = summary.ci_high - summary.delta
    assert half == pytest.approx(float(scipy_t.isf(0.025, expected)) * math.sqrt(seed_term + image_term))


DRAWS = 400_000


def _tail_rates(seeds: int, seed_share: float, alphas: tuple[float, ...], plain: bool = False) -> list[float]:
    """How often the one-sided test at each of `alphas` rejects a true null when the seeds carry `seed_share` of
    Var(Δ̂) (their term estimated with S − 1 df, the test images' with a thousand) and the rest is the test images'."""
    rng = np.random.default_rng(seeds)
    n_images, cells = 1000, seeds * 1000
    z, chi = rng.standard_normal(DRAWS), rng.chisquare(seeds - 1, DRAWS)
    ms_resid = np.full(DRAWS, 1e-9)
    ms_seed = cells * seed_share * chi / (seeds - 1)
    ms_image = np.full(DRAWS, cells * (1 - seed_share)) + ms_resid
    variance, dof = intervals.batch_variance_components(ms_seed, ms_image, ms_resid, seeds, n_images)
    if plain:  # Satterthwaite's df from the estimates themselves
        dof = variance**2 / ((ms_seed / cells) ** 2 / (seeds - 1))
    pivot = z / np.sqrt(variance)
    return [float(np.mean(pivot > scipy_t.isf(alpha, dof))) for alpha in alphas]


def _bar(alpha: float) -> float:
    return alpha + 3 * math.sqrt(alpha * (1 - alpha) / DRAWS)


@pytest.mark.parametrize("seeds", [5, 7, 10])
def test_the_t_quantile_keeps_its_level_at_every_seed_share(seeds):
    """The df rule's property: at most the nominal rejection rate (within 3 Monte Carlo errors), whatever share of
    the variance the seeds carry (all of it: the paired t over seeds, exact by construction), at the 2.5 % of one
    row and the 0.2 % of Holm's first step over 12 rows."""
    for share in (0.95, 0.9, 0.8, 0.5, 0.2):
        one_row, holm_first = _tail_rates(seeds, share, (0.025, 0.002))
        assert one_row <= _bar(0.025) and holm_first <= _bar(0.002), (share, one_row, holm_first)


def test_plain_satterthwaite_df_are_liberal_with_few_seeds():
    """Why the seed term is taken at its upper limit: with 5 seeds carrying 90 % of the variance, df estimated from
    the same mean square as the standard error reject a true null more than twice as often at Holm's 0.2 %."""
    assert _tail_rates(5, 0.9, (0.002,), plain=True)[0] > 2 * 0.002


def test_with_no_image_component_the_interval_is_the_paired_t_over_seeds():
    # Every image differs alike within a seed: no image or residual variation, so the seed t with S − 1 df remains.
    per_seed = np.array([0.01, 0.03, 0.05])
    treat = np.repeat(per_seed[:, None], 40, axis=1)
    summary = intervals.summarize(np.zeros_like(treat), treat)
    half = scipy_t.ppf(0.975, 2) * per_seed.std(ddof=1) / math.sqrt(3)
    assert summary.df == pytest.approx(2.0)
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(0.03 - half), pytest.approx(0.03 + half))


def test_per_seed_scalar_metric_falls_back_to_the_paired_t_over_seeds():
    summary = intervals.summarize(np.array([0.5, 0.5, 0.5]), np.array([0.6, 0.7, 0.8]))
    half = scipy_t.ppf(0.975, 2) * 0.1 / math.sqrt(3)  # deltas 0.1, 0.2, 0.3: sd 0.1
    assert summary.method == intervals.SEED_ONLY_METHOD and "not estimable" in summary.method
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(0.2 - half), pytest.approx(0.2 + half))
    assert summary.floor is None and summary.n_images == 1


def test_one_seed_gives_an_unbounded_interval():
    base, treat = _arms(n_seeds=1)
    summary = intervals.summarize(base, treat)
    assert math.isinf(summary.ci_low) and math.isinf(summary.ci_high) and "one seed" in summary.method


def test_no_variation_is_flagged_not_dressed_as_an_interval():
    ones, zeros = np.ones((3, 20)), np.zeros((3, 20))
    summary = intervals.summarize(zeros, ones)
    assert summary.deterministic and "no variation" in summary.method
    assert (summary.ci_low, summary.ci_high, summary.delta) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("bad", [np.zeros((3, 5)), np.zeros((2, 4)), np.zeros((0, 4))])
def test_mismatched_or_empty_matrices_are_rejected(bad):
    with pytest.raises(ValueError, match="equally shaped"):
        intervals.summarize(np.zeros((2, 5)) if bad.size else bad, bad)


def test_non_finite_scores_are_rejected():
    base = np.zeros((2, 3))
    treat = base.copy()
    treat[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        intervals.summarize(base, treat)


def test_prob_below_agrees_with_the_interval():
    summary = intervals.summarize(*_arms())
    assert summary.prob_below(summary.ci_low) == pytest.approx(0.025, abs=1e-9)
    assert summary.prob_below(summary.ci_high) == pytest.approx(0.975, abs=1e-9)
    narrower = summary.at_confidence(0.5)
    assert summary.ci_low < narrower.ci_low < narrower.ci_high < summary.ci_high


def test_floor_is_the_image_component_and_shrinks_like_one_over_root_images():
    # A purely per-image difference, identical on every seed: no residual, so the floor is z·sd(image means)/√I,
    # and repeating the test set four times halves it.
    rng = np.random.default_rng(1)
    per_image = rng.choice([-1.0, 0.0, 0.0, 1.0], size=200)
    treat = np.tile(per_image, (3, 1))
    floor = intervals.resolvable_floor(np.zeros_like(treat), treat)
    assert floor == pytest.approx(1.959964 * per_image.std(ddof=1) / math.sqrt(200), rel=1e-5)
    quadrupled = np.tile(treat, (1, 4))
    assert intervals.resolvable_floor(np.zeros_like(quadrupled), quadrupled) == pytest.approx(floor / 2, rel=0.01)


def test_floor_never_exceeds_the_half_width():
    base, treat = _arms(n_images=1000, n_seeds=4)
    summary = intervals.summarize(base, treat)
    assert 0 < summary.floor <= summary.ci_high - summary.delta


def test_floor_is_none_for_a_scalar_metric_and_defined_for_one_seed():
    assert intervals.resolvable_floor(np.array([0.5, 0.6]), np.array([0.7, 0.8])) is None
    base, treat = _arms(n_seeds=1)
    assert intervals.resolvable_floor(base, treat) > 0


def test_crossed_bootstrap_is_deterministic_and_brackets_the_estimate():
    base, treat = _arms()
    first, second = intervals.crossed_bootstrap(base, treat), intervals.crossed_bootstrap(base, treat)
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert first.ci_low < first.delta < first.ci_high and first.method == intervals.BOOTSTRAP_METHOD
    assert first.prob_below(first.ci_low) == pytest.approx(0.025, abs=0.01)  # ties: 0/1 scores


matrices = st.integers(2, 6).flatmap(
    lambda seeds: st.integers(2, 12).flatmap(
        lambda images: st.tuples(
            hnp.arrays(float, (seeds, images), elements=st.sampled_from([0.0, 1.0])),
            hnp.arrays(float, (seeds, images), elements=st.sampled_from([0.0, 1.0])),
            st.permutations(range(seeds)),
            st.permutations(range(images)),
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_interval_contains_the_estimate_and_ignores_the_order_of_seeds_and_images(case):
    base, treat, seed_order, image_order = case
    summary = intervals.summarize(base, treat)
    assert summary.ci_low <= summary.delta <= summary.ci_high
    shuffled = intervals.summarize(
        base[list(seed_order)][:, list(image_order)], treat[list(seed_order)][:, list(image_order)]
    )
    assert shuffled.delta == pytest.approx(summary.delta, abs=1e-12)
    assert shuffled.se == pytest.approx(summary.se, abs=1e-12)
    # never below either one-way estimate: the per-seed t, or the per-image paired one
    ms_seed, ms_image, _ = intervals.mean_squares(treat - base)
    assert summary.se**2 >= max(ms_seed, ms_image) / base.size - 1e-12


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_swapping_the_arms_mirrors_the_interval(case):
    base, treat, _, _ = case
    forward, backward = intervals.summarize(base, treat), intervals.summarize(treat, base)
    assert backward.delta == pytest.approx(-forward.delta, abs=1e-12)
    assert (backward.ci_low, backward.ci_high) == (
        pytest.approx(-forward.ci_high, abs=1e-9),
        pytest.approx(-forward.ci_low, abs=1e-9),
    )


@settings(max_examples=40, deadline=None)
@given(matrices, st.floats(-2, 2))
def test_adding_the_same_per_image_score_to_both_arms_changes_nothing(case, shift):
    base, treat, _, _ = case
    bonus = shift * np.linspace(-1, 1, base.shape[1])
    plain, moved = intervals.summarize(base, treat), intervals.summarize(base + bonus, treat + bonus)
    assert moved.delta == pytest.approx(plain.delta, abs=1e-9)
    assert moved.se == pytest.approx(plain.se, abs=1e-9)
