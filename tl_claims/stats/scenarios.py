"""Simulated populations for `tl-claims stats simulate`: per-image outcomes of two arms with a known true Δ, inside
the model the interval assumes and outside it.

Per image and per model the outcome is right (1) or wrong (0) by a probit model on a latent score

    score[a, s, i] = μ_a + seed_a[s] + difficulty[i] + affinity_a[i] + noise[a, s, i] (> 0 means right)

- difficulty: shared by both arms and all seeds; affinity: per arm and image, persistent across seeds (the part of
  the test-sampling error more seeds cannot remove); noise: per seed and image, correlated between the arms;
- seed: each model's training draw shifts its accuracy, the two arms' shifts correlated (same seed).

Inside the model every term is normal and independent across seeds. Outside it (each a `Scenario` field):
- `seed_tails`: seed effects from a Student t (3 df: heavy tails), scaled to the same variance;
- `split_share` / `split_shift`: a share of seeds whose treatment collapses (shift < 0) or takes off (shift > 0):
  bimodal seeds, a rare outlier seed at 10 %;
- `own_test_images`: each seed scored on its own test images (a seed-specific test subset), not on shared ones;
- `pool_overlap`: seeds drawn from one fixed training pool share images, so their seed effects share a component
  with this correlation (n_train / pool, as on the tf_flowers photos: 50 of 200 per class = 0.25, 100 of 200 = 0.5,
  200 of 200 = 1, where every seed trains on the same images; the worst case, every bit of seed variation coming
  from which images were drawn). Normal seed effects only: the pool-conditional truth below is theirs.

The true Δ (`Truth`) is the typical run's: the expected treatment − baseline accuracy over test images and training
seeds of the seeds that train normally (tl_claims.stats.stability says why a split mixture has no mean-shift
verdict). The population mean including the split seeds is reported beside it. With overlapping pools the verdicts'
estimand is pool-conditional (docs/statistics.md, "Estimand"): `Scenario.given_pool` is the population of seeds
drawn from one fixed pool.
"""

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize
from scipy import stats as scipy_stats

_SEED_SAMPLE = 200_000  # draws that integrate a non-normal seed effect out of the accuracy (MC error ≪ 0.01 pp)


@dataclass(frozen=True)
class Scenario:
    """Population parameters on the latent probit scale (noise sd is 1); see the module docstring."""

    name: str
    baseline_accuracy: float
    difficulty_sd: float
    affinity_sd: float
    seed_sd: float
    seed_corr: float
    noise_corr: float
    split_share: float = 0.0
    split_shift: float = 0.0
    seed_tails: float = math.inf
    own_test_images: bool = False
    pool_overlap: float = 0.0

    def __post_init__(self) -> None:
        if self.pool_overlap and not math.isinf(self.seed_tails):
            raise ValueError(
                f"{self.name}: pool_overlap needs normal seed effects (seed_tails = inf): a t-distributed seed effect "
                "split into a pool part and a seed's own part has no closed-form pool-conditional truth"
            )

    @property
    def rest_sd(self) -> float:
        """Latent sd of everything but the seed effect."""
        return math.sqrt(1 + self.difficulty_sd**2 + self.affinity_sd**2)

    @property
    def in_model(self) -> bool:
        return (
            self.split_share == 0
            and math.isinf(self.seed_tails)
            and not self.own_test_images
            and self.pool_overlap == 0
        )

    def given_pool(self) -> "Scenario":
        """The seeds of one fixed training pool, the pool's shared component taken as given: for normal seed
        effects, what remains of each seed's effect is normal with variance seed_sd² · (1 − pool_overlap), arms
        correlated as before, independent across seeds. An arm's pool-conditional accuracy is then
        Φ((μ + pool shift) / sqrt(rest_sd² + seed_sd² · (1 − pool_overlap))): this scenario's `accuracy` at latent
        mean μ + pool shift. Without overlap, the scenario itself."""
        if not self.pool_overlap:
            return self
        return replace(self, seed_sd=self.seed_sd * math.sqrt(1 - self.pool_overlap), pool_overlap=0.0)

    def accuracy(self, mean: float) -> float:
        """Population accuracy of an arm with latent mean `mean` (seeds that train normally)."""
        if math.isinf(self.seed_tails):
            return float(scipy_stats.norm.cdf(mean / math.sqrt(self.rest_sd**2 + self.seed_sd**2)))
        return float(np.mean(scipy_stats.norm.cdf((mean + _seed_sample(self)) / self.rest_sd)))

    def truth(self, true_delta: float) -> "Truth":
        """Latent means giving the baseline accuracy and a typical-run Δ of `true_delta`."""
        base_mean = optimize.brentq(lambda m: self.accuracy(m) - self.baseline_accuracy, -20, 20, xtol=1e-12)
        target = self.baseline_accuracy + true_delta
        treat_mean = optimize.brentq(lambda m: self.accuracy(m) - target, -20, 20, xtol=1e-12)
        split = self.accuracy(treat_mean + self.split_shift) if self.split_share else target
        mixed = (1 - self.split_share) * target + self.split_share * split
        return Truth(base_mean, treat_mean, true_delta, mixed - self.baseline_accuracy)


@dataclass(frozen=True)
class Truth:
    """Latent means of the arms, the typical run's Δ and the population mean Δ with the split seeds."""

    base_mean: float
    treat_mean: float
    delta: float
    mixture_delta: float


def _seed_sample(scenario: Scenario) -> np.ndarray:
    """A fixed sample of one arm's seed effect (reproducible: the truth must not depend on a run's seed)."""
    rng = np.random.default_rng(0)
    shared, own = _standard(scenario, rng, (_SEED_SAMPLE,)), _standard(scenario, rng, (_SEED_SAMPLE,))
    return scenario.seed_sd * (math.sqrt(scenario.seed_corr) * shared + math.sqrt(1 - scenario.seed_corr) * own)


def _standard(scenario: Scenario, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Unit-variance draws: normal, or Student t with `seed_tails` df scaled to variance 1."""
    if math.isinf(scenario.seed_tails):
        return rng.standard_normal(shape)
    nu = scenario.seed_tails
    return rng.standard_t(nu, shape) / math.sqrt(nu / (nu - 2))


def seed_effects(scenario: Scenario, rng: np.random.Generator, reps: int, n_seeds: int) -> np.ndarray:
    """Both arms' seed effects, shape (2, reps, n_seeds); the arms share their `seed_corr` part, the seeds of a
    replicate their pool's part (variance share `pool_overlap`, one draw per replicate), and the split seeds'
    treatment moves by `split_shift`."""
    shared = _standard(scenario, rng, (reps, n_seeds))
    own = _standard(scenario, rng, (2, reps, n_seeds))
    if scenario.pool_overlap:
        weight = math.sqrt(scenario.pool_overlap)
        shared = weight * _standard(scenario, rng, (reps, 1)) + math.sqrt(1 - scenario.pool_overlap) * shared
        own = weight * _standard(scenario, rng, (2, reps, 1)) + math.sqrt(1 - scenario.pool_overlap) * own
    seed = scenario.seed_sd * (math.sqrt(scenario.seed_corr) * shared + math.sqrt(1 - scenario.seed_corr) * own)
    seed[1] += scenario.split_shift * (rng.random((reps, n_seeds)) < scenario.split_share)
    return seed


def outcomes(
    scenario: Scenario, truth: Truth, rng: np.random.Generator, reps: int, n_seeds: int, n_images: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image 0/1 outcomes (baseline, treatment), each (reps, n_seeds, n_images) int8: `reps` independent test
    sets and seed draws."""
    image_seeds = n_seeds if scenario.own_test_images else 1
    difficulty = scenario.difficulty_sd * rng.standard_normal((reps, image_seeds, n_images), dtype=np.float32)
    affinity = scenario.affinity_sd * rng.standard_normal((2, reps, image_seeds, n_images), dtype=np.float32)
    seed = seed_effects(scenario, rng, reps, n_seeds).astype(np.float32)
    shared = math.sqrt(scenario.noise_corr) * rng.standard_normal((reps, n_seeds, n_images), dtype=np.float32)
    own_weight = math.sqrt(1 - scenario.noise_corr)
    arms = []
    for arm, mean in enumerate((truth.base_mean, truth.treat_mean)):
        score = shared + own_weight * rng.standard_normal((reps, n_seeds, n_images), dtype=np.float32)
        score += difficulty + affinity[arm] + (seed[arm] + np.float32(mean))[:, :, None]
        arms.append((score > 0).astype(np.int8))
    return arms[0], arms[1]


def default_scenarios() -> tuple[Scenario, ...]:
    """Magnitudes from the cpu table (5 classes, 1000 test images): seed sd of the paired Δ 0.5–4 pp, arms
    disagreeing on 5–25 % of images, accuracies 0.3–0.9; then the same typical row outside the model. A collapse
    (shift −1.5) costs a seed about 30 pp, a take-off (+1.5) gains it about 18 pp."""
    typical = Scenario("typical", 0.75, 1.5, 0.35, 0.10, 0.5, 0.80)
    noisy = Scenario("noisy-seeds", 0.60, 1.2, 0.35, 0.12, 0.0, 0.75)
    return (
        typical,
        noisy,
        Scenario("image-dominated", 0.85, 1.5, 0.60, 0.0, 0.5, 0.95),
        Scenario("hard-task", 0.35, 1.2, 0.40, 0.08, 0.5, 0.75),
        replace(noisy, name="heavy-tailed-t3", seed_tails=3.0),
        replace(typical, name="outlier-seed", split_share=0.10, split_shift=-1.5),
        replace(typical, name="collapse-25", split_share=0.25, split_shift=-1.5),
        replace(typical, name="collapse-40", split_share=0.40, split_shift=-1.5),
        replace(typical, name="take-off-10", split_share=0.10, split_shift=1.5),
        replace(typical, name="take-off-25", split_share=0.25, split_shift=1.5),
        replace(typical, name="take-off-40", split_share=0.40, split_shift=1.5),
        replace(typical, name="own-test-subsets", own_test_images=True),
        replace(noisy, name="pool-overlap-50-of-200", pool_overlap=50 / 200),
        replace(noisy, name="pool-overlap-100-of-200", pool_overlap=100 / 200),
        replace(noisy, name="pool-overlap-200-of-200", pool_overlap=200 / 200),
    )
