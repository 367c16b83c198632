"""`tl-claims stats simulate`: the verdict procedure on simulated rows whose truth is known, inside the model the
interval assumes and outside it (tl_claims.stats.scenarios), for every claim type and for a table's family.

Each setting draws `replicates` independent rows (a fresh test set and fresh seeds each) at 1000 test images and
judges them with the engine's procedure on arrays (tl_claims.stats.batch): fixed 5 seeds (the cpu and gpu scales),
fixed 10 (a `min_seeds` row) and `--seeds auto` (looks at 5, 7, 10). The claims sit at Δ = −1 pp:

- superiority Δ > −1 pp, non-inferiority with margin 1 pp, band −1 < Δ < +0.5 pp, exact Δ > −1 pp: the true Δ on
  the bound (`boundary`), where both errors peak: a confirmation is false (the claim is false there) and a
  refutation's rate is the limit of false refutations as Δ comes down to the bound; and 3 pp above it (`true`);
- risk "more than q of seeds fail (fall > 10 pp below the baseline)", q the scenario's true failing share (the
  bound), or q − 10 pp (`true`).

The family: 12 primary rows (8 superiority, 2 non-inferiority, a band and a risk, as the cpu table has), drawn
independently, each on its bound, Holm over both sides (tl_claims.stats.family); its family-wise error is the chance
that any row is decided at all. Independence is the hard case for Holm: rows that share a test set err together,
which lowers the chance of any error.

Overlapping training pools (`pool_overlap`): the estimand is pool-conditional, the Δ of models trained on draws
from the row's own fixed training pool (docs/statistics.md, "Estimand"), so each replicate's truth is its own pool's
Δ. The bars are measured on `Scenario.given_pool`: each replicate's arms centred so that its pool-conditional
accuracies are the baseline's and the baseline's + Δ, which puts every replicate's pool Δ exactly on the bound
(`boundary`) or 3 pp above it (`true`). Centring is what makes the rates comparable with the other scenarios': with
the population Δ on the bound instead, the pools' Δ would scatter around it, half the replicates' claims would hold,
and the false verdicts would be counted mostly where they are rare, away from the bound, a bar too easy to meet.
Centred, the pool's shift cancels from every score, so the draw is the scenario's seeds with the pool's variance share
taken out; the risk rule's share and the family are judged on it as well. Beside the bars, not as one:
`population_coverage` (and the family's `family_wise_error_population`), from a second draw in which every replicate
draws its own pool around fixed population means, with the population value (Δ or the failing share) on the bound:
how often the interval covers what the pool-conditional statement does not promise, the Δ over other pools.

Bars, each with the Monte Carlo standard error (MCSE) the replicate count gives at the nominal rate, so fewer
replicates widen a bar by exactly the noise they add: false confirmations and false refutations ≤ 0.025 + 2 MCSE;
coverage 0.95 ± 2 MCSE (an exact Clopper–Pearson interval, and a sequential plan's repeated confidence interval, are
conservative by construction: only ≥ 0.95 − 2 MCSE); family-wise error ≤ 0.05 + 2 MCSE. Coverage counts the rows
that report an interval: an UNSTABLE row claims none (its rate is reported).
"""

import argparse
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache

import numpy as np

from tl_claims.core.command_help import add_command
from tl_claims.stats import batch
from tl_claims.stats.rules import Band, Collapse, Exact, NonInferiority, Risk, Rule, Superiority
from tl_claims.stats.scenarios import Scenario, Truth, default_scenarios, outcomes
from tl_claims.stats.sequential import Design

BOUND = -0.01
RELATIONS = {"boundary": BOUND, "true": BOUND + 0.03}
PLANS: dict[str, int | Design] = {"fixed 5": 5, "fixed 10": 10, "auto [5, 7, 10]": Design(looks=(5, 7, 10))}
N_IMAGES, MAX_SEEDS = 1000, 10
ALPHA, CONFIDENCE, FAMILY_ALPHA = 0.025, 0.95, 0.05
COLLAPSE = Collapse(0.10)
FAMILY = ("superiority",) * 8 + ("non-inferiority",) * 2 + ("band", "risk")


@cache
def failing_share(scenario: Scenario) -> float:
    """The true share of seeds the risk rule counts as failed at the bound, measured once on 5000 seeds with a
    fixed generator (MCSE ≤ 0.007): the collapsing seeds, and normal seeds whose Δ falls 10 pp below by chance."""
    base, treat = outcomes(scenario, scenario.truth(BOUND), np.random.default_rng(7), 500, MAX_SEEDS, N_IMAGES)
    return round(float(COLLAPSE.failed(base.mean(axis=-1), treat.mean(axis=-1)).mean()), 4)


def claims(scenario: Scenario, relation: str) -> dict[str, tuple[Rule, str]]:
    """Each claim type's rule and whether its claim is true, false or on its bound at this relation."""
    share = failing_share(scenario)
    min_share = share if relation == "boundary" else max(share - 0.1, 0.0)
    risk_truth = "boundary" if math.isclose(share, min_share) else ("true" if share > min_share else "false")
    boundary = relation == "boundary"
    return {
        "superiority": (Superiority(BOUND), "boundary" if boundary else "true"),
        "non-inferiority": (NonInferiority(-BOUND), "boundary" if boundary else "true"),
        "band": (Band(BOUND, BOUND + 0.015), "boundary" if boundary else "false"),
        "risk": (Risk(COLLAPSE, min_share), risk_truth),
        "exact": (Exact(BOUND), "boundary" if boundary else "true"),
    }


def _mcse(rate: float, count: int) -> float:
    return math.sqrt(rate * (1 - rate) / max(count, 1))


def _target(scenario: Scenario, truth: Truth, claim: str) -> float | None:
    """What a claim's interval should cover: the failing share for a risk, Δ otherwise, nothing for an exact claim."""
    return None if claim == "exact" else failing_share(scenario) if claim == "risk" else truth.delta


def _covered(judged: batch.Judged, target: float | None) -> np.ndarray | None:
    """Whether each row that reports an interval covers `target` (an UNSTABLE row claims none)."""
    reported = ~judged.unstable & np.isfinite(judged.low) & np.isfinite(judged.high)
    if target is None or not reported.any():
        return None
    return (judged.low[reported] <= target) & (target <= judged.high[reported])


def _row(judged: batch.Judged, truth: str, target: float | None, conservative: bool) -> dict:
    """One setting's rates, their MCSEs and the bars they meet."""
    count = judged.confirms.size
    confirm, refute = float(judged.confirms.mean()), float(judged.refutes.mean())
    row: dict = {"truth": truth, "replicates": count, "confirm_rate": round(confirm, 4)}
    row["refute_rate"] = round(refute, 4)
    row["unstable_rate"] = round(float(judged.unstable.mean()), 4)
    row["mean_seeds"] = round(float(judged.seeds.mean()), 2)
    error_bar = ALPHA + 2 * _mcse(ALPHA, count)
    meets = {}
    if truth in ("false", "boundary"):
        row["false_confirm_rate"], row["false_confirm_mc_se"] = round(confirm, 4), round(_mcse(confirm, count), 4)
        meets["false_confirm"] = confirm <= error_bar
    if truth in ("true", "boundary"):
        row["false_refute_rate"], row["false_refute_mc_se"] = round(refute, 4), round(_mcse(refute, count), 4)
        meets["false_refute"] = refute <= error_bar
    if truth == "true":
        row["power"] = round(confirm, 4)
    covered = _covered(judged, target)
    if covered is not None:
        coverage, margin = float(covered.mean()), 2 * _mcse(CONFIDENCE, covered.size)
        row["coverage"], row["coverage_mc_se"] = round(coverage, 4), round(_mcse(coverage, covered.size), 4)
        meets["coverage"] = coverage >= CONFIDENCE - margin and (conservative or coverage <= CONFIDENCE + margin)
    row["bars"] = {"error_max": round(error_bar, 4), "coverage_margin": round(2 * _mcse(CONFIDENCE, count), 4)}
    row["meets"] = meets
    return row


def run_scenario(scenario: Scenario, relation: str, rng: np.random.Generator, replicates: int) -> list[dict]:
    """Every claim type and plan on one draw of `replicates` rows (plans read the first 5, 10 or the looked seeds):
    the pool-conditional draw, and with overlapping pools each setting's `population_coverage` beside it."""
    given_pool = scenario.given_pool()
    truth = given_pool.truth(RELATIONS[relation])
    base, treat = outcomes(given_pool, truth, rng, replicates, MAX_SEEDS, N_IMAGES)
    population = population_coverage(scenario, relation, rng, replicates) if scenario.pool_overlap else {}
    rows = []
    for claim, (rule, claim_truth) in claims(given_pool, relation).items():
        target = _target(given_pool, truth, claim)
        for plan_name, plan in PLANS.items():
            judged = batch.decide(rule, base, treat, plan)
            conservative = claim == "risk" or not isinstance(plan, int)
            row: dict[str, object] = {
                "scenario": scenario.name,
                "relation": relation,
                "claim": claim,
                "rule": rule.label(),
            }
            row |= {"plan": plan_name, "true_delta": truth.delta, "mixture_delta": round(truth.mixture_delta, 5)}
            row |= _row(judged, claim_truth, target, conservative)
            if (claim, plan_name) in population:
                row["population_coverage"] = population[claim, plan_name]
            rows.append(row)
    return rows


def population_coverage(
    scenario: Scenario, relation: str, rng: np.random.Generator, replicates: int
) -> dict[tuple[str, str], float]:
    """Each claim and plan's coverage of the population value (Δ or the failing share, over pools) on a draw where
    every replicate trains on its own pool: what the pool-conditional interval does not promise to cover."""
    truth = scenario.truth(RELATIONS[relation])
    base, treat = outcomes(scenario, truth, rng, replicates, MAX_SEEDS, N_IMAGES)
    coverage = {}
    for claim, (rule, _) in claims(scenario, relation).items():
        for plan_name, plan in PLANS.items():
            covered = _covered(batch.decide(rule, base, treat, plan), _target(scenario, truth, claim))
            if covered is not None:
                coverage[claim, plan_name] = round(float(covered.mean()), 4)
    return coverage


def holm_batch(p_values: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values along the last axis (tl_claims.stats.family.holm_adjust, for many families at once)."""
    m = p_values.shape[-1]
    order = np.argsort(p_values, axis=-1, kind="stable")
    ranked = np.take_along_axis(p_values, order, axis=-1) * (m - np.arange(m))
    adjusted_sorted = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    adjusted = np.empty_like(adjusted_sorted)
    np.put_along_axis(adjusted, order, adjusted_sorted, axis=-1)
    return adjusted


def family_decisions(
    scenario: Scenario, rng: np.random.Generator, replicates: int, seeds: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each table's rows confirmed and refuted, raw then kept by Holm, shape (replicates, rows): `FAMILY` rows,
    every one on its bound, drawn independently."""
    truth = scenario.truth(BOUND)
    rules = claims(scenario, "boundary")
    confirms, refutes, p_values, p_refutes = [], [], [], []
    for claim in FAMILY:
        base, treat = outcomes(scenario, truth, rng, replicates, seeds, N_IMAGES)
        judged = batch.decide(rules[claim][0], base, treat, seeds)
        confirms.append(judged.confirms)
        refutes.append(judged.refutes)
        p_values.append(judged.p_value)
        p_refutes.append(judged.p_refute)
    confirm, refute = np.stack(confirms, axis=-1), np.stack(refutes, axis=-1)
    kept_confirm = confirm & (holm_batch(np.stack(p_values, axis=-1)) < ALPHA)
    kept_refute = refute & (holm_batch(np.stack(p_refutes, axis=-1)) < ALPHA)
    return confirm, refute, kept_confirm, kept_refute


def run_family(scenario: Scenario, rng: np.random.Generator, replicates: int, seeds: int) -> dict:
    """The family-wise error of a table of `FAMILY` rows, every one on its bound, before and after Holm; with
    overlapping pools on the pool-conditional draw, and over pools beside it (not a bar)."""
    confirm, refute, kept_confirm, kept_refute = family_decisions(scenario.given_pool(), rng, replicates, seeds)
    adjusted = float((kept_confirm | kept_refute).any(axis=-1).mean())
    bar = FAMILY_ALPHA + 2 * _mcse(FAMILY_ALPHA, replicates)
    row: dict = {
        "scenario": scenario.name,
        "plan": f"fixed {seeds}",
        "rows": len(FAMILY),
        "replicates": replicates,
        "family_wise_error": round(adjusted, 4),
        "family_wise_error_mc_se": round(_mcse(adjusted, replicates), 4),
        "family_wise_error_unadjusted": round(float((confirm | refute).any(axis=-1).mean()), 4),
        "false_confirm_any": round(float(kept_confirm.any(axis=-1).mean()), 4),
        "false_refute_any": round(float(kept_refute.any(axis=-1).mean()), 4),
        "bar": round(bar, 4),
        "meets": {"family_wise_error": adjusted <= bar},
    }
    if scenario.pool_overlap:
        *_, over_pools_confirm, over_pools_refute = family_decisions(scenario, rng, replicates, seeds)
        decided = (over_pools_confirm | over_pools_refute).any(axis=-1)
        row["family_wise_error_population"] = round(float(decided.mean()), 4)
    return row


def simulate(
    replicates: int = 2000,
    seed: int = 2024,
    scenarios: Sequence[Scenario] | None = None,
    relations: Sequence[str] = tuple(RELATIONS),
    family_replicates: int | None = None,
    family_seeds: Sequence[int] = (5, 10),
) -> dict:
    """Every scenario × relation (all claim types and plans), then the family; each on its own reproducible stream."""
    chosen = list(default_scenarios() if scenarios is None else scenarios)
    streams = iter(np.random.SeedSequence(seed).spawn(len(chosen) * (len(relations) + len(family_seeds))))
    started = time.perf_counter()
    settings = [
        row
        for scenario in chosen
        for relation in relations
        for row in run_scenario(scenario, relation, np.random.default_rng(next(streams)), replicates)
    ]
    family = [
        run_family(scenario, np.random.default_rng(next(streams)), family_replicates or replicates, seeds)
        for scenario in chosen
        for seeds in family_seeds
    ]
    failures = [
        f"{row['scenario']} · {row['claim']} · {row['plan']} · {row['relation']}: {bar}"
        for row in settings
        for bar, ok in row["meets"].items()
        if not ok
    ] + [
        f"{row['scenario']} · family · {row['plan']}: family_wise_error"
        for row in family
        if not row["meets"]["family_wise_error"]
    ]
    return {
        "command": f"tl-claims stats simulate --json --replicates {replicates} --seed {seed} --relation "
        + " ".join(relations),
        "procedure": "variance-components interval (seeds × test images), seeds-apart check (UNSTABLE), rules of "
        "tl_claims.stats.rules, O'Brien-Fleming looks for --seeds auto, Holm over confirmations and refutations",
        "estimand": "pool-conditional Δ of a typical run: expected treatment − baseline accuracy over test images "
        "and the seeds that train normally, each seed a draw from the row's fixed training pool (with overlapping "
        "pools, each replicate's own pool, centred on the relation's Δ); mixture_delta adds the collapsing / "
        "taking-off seeds; population_coverage and family_wise_error_population (overlapping pools, not bars): "
        "against the Δ over pools instead",
        "bars": {
            "false_confirm_and_false_refute": "≤ 0.025 + 2 MCSE",
            "coverage": "0.95 ± 2 MCSE (risk and --seeds auto: ≥ 0.95 − 2 MCSE)",
            "family_wise_error": "≤ 0.05 + 2 MCSE",
        },
        "replicates": replicates,
        "family_replicates": family_replicates or replicates,
        "seed": seed,
        "n_images": N_IMAGES,
        "scenarios": {scenario.name: asdict(scenario) for scenario in chosen},
        "settings": settings,
        "family": family,
        "failures": failures,
        "seconds": round(time.perf_counter() - started, 1),
    }


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "stats",
        "Check the statistics behind the verdicts on simulated outcomes whose true effect is known.",
        ["tl-claims stats simulate --replicates 200   # a quick look", "tl-claims stats simulate --json"],
    )
    commands = parser.add_subparsers(dest="stats_command", required=True)
    simulate_parser = add_command(
        commands,
        "simulate",
        "Measure false confirmations, false refutations, coverage and the family-wise error by simulation.",
        [
            "tl-claims stats simulate --json               # 2000 replicates per setting: minutes on 2 cores",
            "tl-claims stats simulate --replicates 200 --scenario typical outlier-seed",
        ],
    )
    names = [scenario.name for scenario in default_scenarios()]
    simulate_parser.add_argument("--replicates", type=int, default=2000, help="rows per setting (default 2000)")
    simulate_parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    simulate_parser.add_argument(
        "--scenario", nargs="+", choices=names, metavar="NAME", help=f"only these, of: {', '.join(names)}"
    )
    simulate_parser.add_argument(
        "--relation",
        nargs="+",
        choices=list(RELATIONS),
        default=list(RELATIONS),
        help="where the true Δ sits: on each claim's bound (every bar) and/or where the claim holds (power)",
    )
    simulate_parser.add_argument("--json", action="store_true", help="print the full JSON document")
    simulate_parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """0 when every setting meets its bars, 1 otherwise (the failures are listed)."""
    chosen = [s for s in default_scenarios() if not args.scenario or s.name in args.scenario]
    document = simulate(args.replicates, args.seed, scenarios=chosen, relations=args.relation)
    if args.json:
        print(json.dumps(document, indent=2))
        return 0 if not document["failures"] else 1
    for row in document["settings"]:
        rates = "  ".join(
            f"{key.replace('_rate', '')} {row[key]:.3f}"
            for key in (
                "false_confirm_rate",
                "false_refute_rate",
                "coverage",
                "population_coverage",
                "power",
                "unstable_rate",
            )
            if key in row
        )
        print(f"{row['scenario']:24} {row['claim']:15} {row['plan']:16} {row['relation']:8}  {rates}")
    for row in document["family"]:
        over_pools = row.get("family_wise_error_population")
        population = "" if over_pools is None else f"  (over pools {over_pools:.3f})"
        print(
            f"{row['scenario']:24} family of {row['rows']:<5} {row['plan']:16}  FWER {row['family_wise_error']:.3f}"
            + population
        )
    print("\n".join(["failures:", *document["failures"]]) if document["failures"] else "every bar met")
    return 0 if not document["failures"] else 1
