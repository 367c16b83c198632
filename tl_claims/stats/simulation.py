"""`python -m tl_claims stats simulate`: proves the verdict procedure on simulated per-image outcomes with a known Δ.

Each replicate draws a fresh population sample: test images and training seeds. Per image and per model the outcome
is right (1) or wrong (0) by a probit model on a latent score

    score[a, s, i] = μ_a + seed_a[s] + difficulty[i] + affinity_a[i] + noise[a, s, i] (> 0 means right)

- difficulty: shared by both arms and all seeds, wide enough that some images are always right, some always wrong;
- affinity: per arm and image, persistent across seeds (the treatment helps some images, hurts others): the part of
  the test-sampling error that more seeds cannot remove;
- seed: each model's training draw shifts its accuracy; the two arms' shifts are correlated (same seed);
- noise: per seed and image, correlated between the arms (this sets how many images the arms disagree on);
- an outlier seed: with a small probability the treatment collapses on a seed (its score drops by a large shift).

The true Δ is the expected treatment − baseline accuracy over the population of test images and training seeds,
outliers included, computed in closed form from the normal model. Settings put it at the claim's threshold (a
confirmation there is a false confirmation), 2 pp below it, and 3 pp above it (power). The verdicts come from the
engine's own decision step, `tl_claims.stats.decide.decide`, with a `rules.Superiority` rule.
"""

import argparse
import json
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize
from scipy import stats as scipy_stats

from tl_claims.core.command_help import add_command
from tl_claims.stats import intervals
from tl_claims.stats.decide import decide
from tl_claims.stats.rules import Superiority, Verdict
from tl_claims.stats.sequential import Design

THRESHOLD = 0.02  # the simulated claim: Δ > +2 pp
OFFSETS = {"below": -0.02, "at": 0.0, "above": 0.03}


@dataclass(frozen=True)
class Scenario:
    """Population parameters on the latent probit scale (noise sd is 1)."""

    name: str
    baseline_accuracy: float
    difficulty_sd: float
    affinity_sd: float
    seed_sd: float
    seed_corr: float
    noise_corr: float
    outlier_share: float = 0.0
    outlier_shift: float = 0.0

    @property
    def total_sd(self) -> float:
        return math.sqrt(1 + self.difficulty_sd**2 + self.affinity_sd**2 + self.seed_sd**2)

    def accuracy(self, mean: float, outliers: bool) -> float:
        """Population accuracy of an arm with latent mean `mean`: Φ(μ/σ), mixed with the collapsed seeds."""
        clean = float(scipy_stats.norm.cdf(mean / self.total_sd))
        if not outliers or self.outlier_share == 0:
            return clean
        collapsed = float(scipy_stats.norm.cdf((mean - self.outlier_shift) / self.total_sd))
        return (1 - self.outlier_share) * clean + self.outlier_share * collapsed

    def means(self, true_delta: float) -> tuple[float, float]:
        """Latent means (baseline, treatment) giving the baseline accuracy and treatment − baseline = true_delta."""
        base_mean = self.total_sd * float(scipy_stats.norm.ppf(self.baseline_accuracy))
        target = self.baseline_accuracy + true_delta
        treat_mean = optimize.brentq(lambda m: self.accuracy(m, True) - target, -20, 20, xtol=1e-12)
        return base_mean, treat_mean


def default_scenarios() -> tuple[Scenario, ...]:
    """Magnitudes from the cpu table (5 classes, 1000 test images): seed sd of the paired Δ 0.5–4 pp, arms
    disagreeing on 5–25 % of images, accuracies 0.3–0.9, now and then a collapsed seed."""
    return (
        Scenario("typical", 0.75, 1.5, 0.35, 0.10, 0.5, 0.80),
        Scenario("noisy-seeds", 0.60, 1.2, 0.35, 0.12, 0.0, 0.75),
        Scenario("image-dominated", 0.85, 1.5, 0.60, 0.0, 0.5, 0.95),
        Scenario("hard-task", 0.35, 1.2, 0.40, 0.08, 0.5, 0.75),
        Scenario("outlier-seed", 0.75, 1.5, 0.35, 0.10, 0.5, 0.80, outlier_share=0.1, outlier_shift=1.5),
    )


def simulate_outcomes(
    rng: np.random.Generator, scenario: Scenario, means: tuple[float, float], n_seeds: int, n_images: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image 0/1 outcomes (baseline, treatment), each (n_seeds, n_images), for one test set and seed draw."""
    difficulty = rng.normal(0, scenario.difficulty_sd, n_images)
    affinity = rng.normal(0, scenario.affinity_sd, (2, n_images))
    shared_seed, own_seed = rng.standard_normal(n_seeds), rng.standard_normal((2, n_seeds))
    seed = scenario.seed_sd * (
        math.sqrt(scenario.seed_corr) * shared_seed + math.sqrt(1 - scenario.seed_corr) * own_seed
    )
    seed[1] -= scenario.outlier_shift * (rng.random(n_seeds) < scenario.outlier_share)
    shared_noise, own_noise = rng.standard_normal((n_seeds, n_images)), rng.standard_normal((2, n_seeds, n_images))
    noise = math.sqrt(scenario.noise_corr) * shared_noise + math.sqrt(1 - scenario.noise_corr) * own_noise
    scores = (
        np.asarray(means)[:, None, None] + seed[:, :, None] + difficulty[None, None, :] + affinity[:, None, :] + noise
    )
    outcomes = (scores > 0).astype(float)
    return outcomes[0], outcomes[1]


def describe_scenario(scenario: Scenario, rng: np.random.Generator, n_images: int, draws: int = 200) -> dict:
    """Measured magnitudes at Δ = threshold, to compare with the real table: share of images the arms disagree on
    (one seed), sd of the per-seed paired Δ on one test set, and the paired test-sampling SE of one seed pair."""
    means = scenario.means(THRESHOLD)
    disagreement, seed_sd, pair_se = [], [], []
    for _ in range(draws):
        base, treat = simulate_outcomes(rng, scenario, means, 5, n_images)
        delta = treat - base
        disagreement.append(float(np.mean(delta != 0)))
        seed_sd.append(float(delta.mean(axis=1).std(ddof=1)))
        pair_se.append(float(delta[0].std(ddof=1)) / math.sqrt(n_images))
    return {
        "disagreement": round(float(np.mean(disagreement)), 4),
        "seed_sd_of_delta_pp": round(100 * float(np.mean(seed_sd)), 2),
        "single_pair_test_se_pp": round(100 * float(np.mean(pair_se)), 2),
    }


@dataclass(frozen=True)
class Setting:
    """One cell of the simulation: a scenario, a seed plan (fixed count or sequential looks), test-set size and
    where the true Δ sits relative to the threshold."""

    scenario: Scenario
    n_images: int
    relation: str
    n_seeds: int | None = None
    looks: tuple[int, ...] | None = None

    @property
    def true_delta(self) -> float:
        return THRESHOLD + OFFSETS[self.relation]

    @property
    def most_seeds(self) -> int:
        """Seeds drawn per replicate: the fixed count, or the last planned look."""
        if self.looks is not None:
            return self.looks[-1]
        if self.n_seeds is None:
            raise ValueError("a setting needs n_seeds or looks")
        return self.n_seeds

    @property
    def plan(self) -> str:
        return f"fixed {self.n_seeds} seeds" if self.looks is None else f"auto looks {list(self.looks)}"


def default_settings() -> Iterator[Setting]:
    """Every scenario at 1000 test images for 3, 5 and 10 fixed seeds and two sequential plans; the typical one
    also at 500 and 2000 images."""
    for scenario in default_scenarios():
        for relation in OFFSETS:
            for n_seeds in (3, 5, 10):
                yield Setting(scenario, 1000, relation, n_seeds=n_seeds)
            for looks in ((3, 5, 7, 10), (5, 7, 10)):
                yield Setting(scenario, 1000, relation, looks=looks)
            if scenario.name == "typical":
                for n_images in (500, 2000):
                    for n_seeds in (3, 5, 10):
                        yield Setting(scenario, n_images, relation, n_seeds=n_seeds)


@dataclass
class _Tally:
    covered: int = 0
    confirmed: int = 0
    refuted: int = 0
    half_width: float = 0.0
    floor: float = 0.0
    seeds: int = 0
    count: int = 0

    def add(self, low: float, high: float, word: str, true_delta: float, floor: float | None, seeds: int) -> None:
        self.covered += int(low <= true_delta <= high)
        self.confirmed += int(word == "CONFIRMED")
        self.refuted += int(word == "REFUTED")
        self.half_width += (high - low) / 2 if math.isfinite(high - low) else math.nan
        self.floor += floor if floor is not None else math.nan
        self.seeds += seeds
        self.count += 1

    def report(self, setting: Setting) -> dict:
        n = max(self.count, 1)
        coverage, confirm = self.covered / n, self.confirmed / n
        return {
            "coverage": round(coverage, 4),
            "coverage_mc_se": round(math.sqrt(coverage * (1 - coverage) / n), 4),
            "confirm_rate": round(confirm, 4),
            "refute_rate": round(self.refuted / n, 4),
            "false_confirm_rate": round(confirm, 4) if setting.relation != "above" else None,
            "power": round(confirm, 4) if setting.relation == "above" else None,
            "mean_half_width_pp": round(100 * self.half_width / n, 3),
            "mean_floor_pp": round(100 * self.floor / n, 3),
            "mean_seeds": round(self.seeds / n, 2),
            "replicates": self.count,
        }


def run_setting(setting: Setting, rng: np.random.Generator, replicates: int, with_runner_up: bool) -> list[dict]:
    """Simulate one setting; one result per interval method (the chosen one, and the runner-up if asked)."""
    rule = Superiority(THRESHOLD)
    means = setting.scenario.means(setting.true_delta)
    chosen, runner_up = _Tally(), _Tally()
    for _ in range(replicates):
        base, treat = simulate_outcomes(rng, setting.scenario, means, setting.most_seeds, setting.n_images)
        summary, verdict = _decide(base, treat, rule, setting.looks)
        chosen.add(summary.ci_low, summary.ci_high, verdict.word, setting.true_delta, summary.floor, summary.n_seeds)
        if with_runner_up and setting.looks is None:
            boot = intervals.crossed_bootstrap(base, treat, n_resamples=1000)
            runner_up.add(
                boot.ci_low, boot.ci_high, rule.judge(boot).word, setting.true_delta, boot.floor, boot.n_seeds
            )
    results = [_result(setting, intervals.CHOSEN_METHOD, chosen)]
    if runner_up.count:
        results.append(_result(setting, intervals.BOOTSTRAP_METHOD, runner_up))
    return results


def _decide(
    base: np.ndarray, treat: np.ndarray, rule: Superiority, looks: tuple[int, ...] | None
) -> tuple[intervals.Summary, Verdict]:
    """The engine's decision on a pre-drawn replicate: with sequential looks, its seeds are revealed a look at a
    time, as the engine would measure them."""
    if looks is None:
        return decide(base, treat, rule)
    first = looks[0]
    return decide(base[:first], treat[:first], rule, Design(looks=looks), grow=lambda n: (base[:n], treat[:n]))


def _result(setting: Setting, method: str, tally: _Tally) -> dict:
    scenario = asdict(setting.scenario)
    return {
        "scenario": scenario.pop("name"),
        "plan": setting.plan,
        "n_seeds": setting.n_seeds,
        "looks": list(setting.looks) if setting.looks else None,
        "n_images": setting.n_images,
        "relation": setting.relation,
        "true_delta": round(setting.true_delta, 6),
        "threshold": THRESHOLD,
        "method": method,
        **tally.report(setting),
        "scenario_parameters": scenario,
    }


def simulate(
    replicates: int = 400, seed: int = 2024, runner_up: bool = True, settings: list[Setting] | None = None
) -> dict:
    """All settings, each on its own reproducible random stream (derived from `seed` and the setting's position)."""
    chosen_settings = list(default_settings()) if settings is None else settings
    streams = np.random.SeedSequence(seed).spawn(len(chosen_settings))
    started = time.perf_counter()
    rows = []
    for setting, stream in zip(chosen_settings, streams):
        rows.extend(run_setting(setting, np.random.default_rng(stream), replicates, runner_up))
    scenarios = {s.name: s for s in (setting.scenario for setting in chosen_settings)}
    described = {name: describe_scenario(s, np.random.default_rng(seed), 1000, 50) for name, s in scenarios.items()}
    return {
        "estimand": "true Δ = expected treatment − baseline accuracy over the population of test images and of "
        "training seeds (outlier seeds included)",
        "claim": f"superiority Δ > {THRESHOLD * 100:+.1f} pp; relation 'at' puts true Δ on the threshold (any "
        f"CONFIRMED is false), 'below' {OFFSETS['below'] * 100:+.0f} pp, 'above' "
        f"{OFFSETS['above'] * 100:+.0f} pp (CONFIRMED is power)",
        "interval": "two-sided 95 %; sequential plans report the repeated confidence interval at the stopping look",
        "chosen_method": intervals.CHOSEN_METHOD,
        "runner_up": intervals.BOOTSTRAP_METHOD,
        "spending": "Lan-DeMets O'Brien-Fleming type, one-sided alpha 0.025, information = seeds / max seeds",
        "targets": {
            "coverage": [0.93, 0.97],
            "false_confirm_rate_max": 0.05,
            "sequential": "coverage >= 0.93 only: repeated confidence intervals are conservative by design",
        },
        "notes": _notes(),
        "replicates": replicates,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "scenario_magnitudes_at_1000_images": described,
        "settings": [dict(row, meets_targets=_meets(row)) for row in rows],
    }


def _notes() -> list[str]:
    """What the numbers mean, so the JSON reads on its own."""
    return [
        "coverage_mc_se is the Monte Carlo standard error: with 400 replicates a coverage of 0.95 reads 0.95 ± 0.011, "
        "so single settings just outside [0.93, 0.97] are within noise",
        "3 seeds: the seed term has 2 df, so the chosen interval is conservative (wide) there, most where seed "
        "effects are small; the bootstrap runner-up undercovers there instead",
        "outlier-seed: a 10 % chance per seed of a collapse; with 3-10 seeds most replicates never see one, so no "
        "mean-based interval can cover the population Δ (which includes the collapses). Rare failures need a Risk "
        "claim (share of failing seeds, exact interval), not a mean-shift interval",
    ]


def _meets(row: dict) -> bool:
    """Targets: coverage in [0.93, 0.97] and false confirmations ≤ 0.05. A sequential plan reports a repeated
    confidence interval, conservative by design (and more so when it stops early), so only its lower bound counts."""
    false_confirm = row["false_confirm_rate"]
    upper = 1.0 if row["looks"] else 0.97
    return 0.93 <= row["coverage"] <= upper and (false_confirm is None or false_confirm <= 0.05)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "stats",
        "Check the statistics behind the verdicts on simulated outcomes whose true effect is known.",
        ["tl-claims stats simulate --replicates 50 --no-runner-up   # a quick look", "tl-claims stats simulate --json"],
    )
    commands = parser.add_subparsers(dest="stats_command", required=True)
    simulate_parser = add_command(
        commands,
        "simulate",
        "Measure the verdict procedure's coverage, false confirmations and power by simulation.",
        [
            "tl-claims stats simulate                          # 400 replicates per setting: about 20 min on 2 cores",
            "tl-claims stats simulate --replicates 50 --no-runner-up --scenario typical outlier-seed",
        ],
    )
    simulate_parser.add_argument("--replicates", type=int, default=400, help="replicates per setting (default 400)")
    simulate_parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    simulate_parser.add_argument("--no-runner-up", action="store_true", help="skip the crossed bootstrap (faster)")
    simulate_parser.add_argument(
        "--scenario",
        nargs="+",
        choices=[s.name for s in default_scenarios()],
        metavar="NAME",
        help=f"only these scenarios, of: {', '.join(s.name for s in default_scenarios())} (default: all)",
    )
    simulate_parser.add_argument("--json", action="store_true", help="print the full JSON document")
    simulate_parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = [s for s in default_settings() if not args.scenario or s.scenario.name in args.scenario]
    document = simulate(args.replicates, args.seed, runner_up=not args.no_runner_up, settings=settings)
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    for row in document["settings"]:
        rate = row["power"] if row["power"] is not None else row["false_confirm_rate"]
        label = "power" if row["power"] is not None else "false confirm"
        print(
            f"{row['scenario']:16} {row['plan']:22} {row['n_images']:5} img  Δ {row['relation']:5}  "
            f"{row['method'][:22]:22}  coverage {row['coverage']:.3f}  {label} {rate:.3f}  "
            f"half-width {row['mean_half_width_pp']:.2f} pp  seeds {row['mean_seeds']:.1f}"
        )
    return 0
