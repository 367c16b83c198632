"""Seeds that lie apart: the check that keeps a mean-shift verdict off a row whose seeds split into groups.

A mean-shift rule (superiority, non-inferiority, band) is about a typical training run. When a few seeds collapse
(or take off) far from the rest, the mean over seeds is a mixture: its interval with 5–10 seeds is centred wherever
the seeds happened to fall, and a rare failure goes unseen most of the time (a 10 % collapse is missing from 59 % of
5-seed samples). No mean-shift interval can be trusted there; the simulation shows it confirming false claims up to
40 % of the time (`tl-claims stats simulate`). So a row whose seeds split gets the verdict UNSTABLE: no
confirmation, no refutation, and how often a run fails is a risk claim's question (`rules.Risk`).

The check: sort the seeds' paired Δ and, at every split into a lower and an upper group, compare the groups' means
with the spread inside them (pooled sd, S − 2 df), floored at the spread one seed's Δ shows from the test images
alone (the seed × image residual, `Summary.seed_noise`), so a test-noise wobble on a row whose seeds barely differ
is not a split. The seeds split when some split's gap of means exceeds `SPLIT_T` such spreads; the smaller group is
the seeds apart (either group when equal). Two groups of any sizes are found alike: one collapsed seed, or four of
ten taking off. Its cost is power, never error: a flagged row decides nothing. On normal seeds, with no floor, it
flags about 22 % of 5-seed rows, 12 % of 7 and 5 % of 10; a 30 pp collapse among seeds a few pp apart, nearly all.
"""

import numpy as np

SPLIT_T = 5.0  # gap of group means, in within-group sds, that marks a split (see the module docstring)


def apart(per_seed_delta: np.ndarray, seed_noise: np.ndarray | float) -> np.ndarray:
    """Which seeds lie apart, for one row (shape (S,)) or a batch of rows (shape (..., S), `seed_noise` (...))."""
    delta = np.asarray(per_seed_delta, float)
    n_seeds = delta.shape[-1]
    flagged = np.zeros(delta.shape, bool)
    if n_seeds < 3:
        return flagged
    order = np.argsort(delta, axis=-1, kind="stable")
    ranked = np.take_along_axis(delta, order, axis=-1)
    floor = np.asarray(seed_noise, float)
    best, cut = np.zeros(delta.shape[:-1]), np.zeros(delta.shape[:-1], int)
    for split in range(1, n_seeds):
        lower, upper = ranked[..., :split], ranked[..., split:]
        squares = _squares(lower) + _squares(upper)
        spread = np.maximum(np.sqrt(squares / (n_seeds - 2)), floor)
        gap = upper.mean(axis=-1) - lower.mean(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(spread > 0, gap / spread, np.where(gap > 0, np.inf, 0.0))
        better = score > best
        best, cut = np.where(better, score, best), np.where(better, split, cut)
    positions = np.arange(n_seeds)
    smaller_low = cut[..., None] <= n_seeds - cut[..., None]
    in_smaller = np.where(smaller_low, positions < cut[..., None], positions >= cut[..., None])
    np.put_along_axis(flagged, order, in_smaller & (best > SPLIT_T)[..., None], axis=-1)
    return flagged


def _squares(values: np.ndarray) -> np.ndarray:
    return np.sum((values - values.mean(axis=-1, keepdims=True)) ** 2, axis=-1)
