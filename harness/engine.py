"""Runs a claim: both arms on every seed, paired by seed and by test image, into one results row.

Data flows one way: claim + variant + lab → per-seed measurements (per-image scores) → statistics → row.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness.claims.base import Arm, Claim, LabProtocol, Measurement, Trial, Variant
from harness.recipe.training import StageBudget
from harness.results import records
from harness.results.assembly import Row
from harness.stats import intervals, rules, sequential


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Per-image scores of both arms, shape (seeds, images): what every interval can be recomputed from."""

    seeds: tuple[int, ...]
    baseline: np.ndarray
    treatment: np.ndarray


def run_claim(
    claim: Claim, variant: Variant | str, lab: LabProtocol, *, run_id: str, progress: Callable[[str], None] = print
) -> tuple[Row, Outcomes]:
    """Measure baseline and treatment on each seed of the lab's scale; return the row and the per-image outcomes.

    With `scale.seed_looks` (`--seeds auto`), seeds are added at the planned looks while the row is undecided, and
    the verdict is the group-sequential one (harness.stats.sequential), so repeated looks keep the error rate honest.
    """
    variant = claim.variant(variant) if isinstance(variant, str) else variant
    scale = lab.scale
    started = time.perf_counter()
    arms = {"baseline": claim.baseline, "treatment": claim.treatment}
    labels = {side: arm.label_for(variant) for side, arm in arms.items()}
    scores: dict[str, list[np.ndarray]] = {side: [] for side in arms}
    details: dict[str, list] = defaultdict(list)
    found: list[dict] = []
    seeds: list[int] = []

    def run_seeds(new_seeds: list[int]) -> Outcomes:
        total = len(arms) * (len(seeds) + len(new_seeds))
        for seed in new_seeds:
            for side, arm in arms.items():
                arm_started = time.perf_counter()
                measurement = measure(claim, arm, Trial(lab, variant, seed))
                scores[side].append(measurement.scores)
                for key, value in measurement.details.items():
                    details[f"{labels[side]}: {key}"].append(value)
                found.extend(records.to_dict(record) for record in measurement.records)
                done, elapsed = sum(len(values) for values in scores.values()), time.perf_counter() - started
                progress(
                    f"{claim.id}[{variant.name}-{scale.name}] {labels[side]} · seed {seed} · "
                    f"{measurement.value:.3f} ({time.perf_counter() - arm_started:.1f} s; elapsed {elapsed:.0f} "
                    f"s, ETA {elapsed / done * (total - done):.0f} s)"
                )
            seeds.append(seed)
        return Outcomes(tuple(seeds), *(_stack(scores[side], claim.id) for side in arms))

    rule = claim.rule_for(variant)
    first_budget = len(lab.ledger)
    outcomes = run_seeds(list(variant.seeds_at(scale)))
    if scale.seed_looks:
        design = sequential.Design(scale.seed_looks)
        look = sequential.sequential_look(outcomes.baseline, outcomes.treatment, rule, design)
        while not look.stop and look.next_seeds is not None:
            outcomes = run_seeds(list(range(max(seeds) + 1, max(seeds) + 1 + look.next_seeds - len(seeds))))
            look = sequential.sequential_look(outcomes.baseline, outcomes.treatment, rule, design)
        summary, verdict = look.summary, look.verdict
    else:
        summary = intervals.summarize(outcomes.baseline, outcomes.treatment)
        verdict = rule.judge(summary)
    per_seed = {labels[side]: [float(np.mean(row)) for row in getattr(outcomes, side)] for side in arms}
    steps, regime = describe_regime(lab.ledger[first_budget:])
    explanation = rules.explain(summary, rule, verdict)
    if claim.advice and not verdict.confirms:
        explanation += f" — {claim.advice}"
    row = Row(
        claim=claim.id,
        variant=variant.name,
        scale=scale.name,
        backbone=claim.backbone(variant, scale.backbone),
        dataset=scale.dataset,
        image_size=scale.image_size,
        n_train=scale.n_train,
        seeds=len(seeds),
        baseline=summary.baseline,
        treatment=summary.treatment,
        delta=summary.delta,
        ci_low=verdict.ci_low,
        ci_high=verdict.ci_high,
        threshold=claim.threshold,
        verdict=verdict.word,
        seconds=round(time.perf_counter() - started, 1),
        statement=claim.statement,
        lesson_section=claim.lesson_section,
        metric=claim.metric.name,
        baseline_arm=labels["baseline"],
        treatment_arm=labels["treatment"],
        ci_method=summary.method,
        explanation=explanation,
        per_seed=per_seed,
        details={key: _summarise(values) for key, values in details.items()},
        records=found,
        primary=variant.name == claim.primary_variant,
        claim_version=claim.version,
        expected=scale.known_finding(variant),
        rule=verdict.rule,
        confirms=verdict.confirms,
        decided=verdict.decided,
        p_value=verdict.p_value,
        estimate=verdict.estimate,
        confidence=verdict.confidence,
        floor=summary.floor,
        note=verdict.note,
        images=summary.n_images,
        steps=steps,
        regime=regime,
        run_id=run_id,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    return row, outcomes


def describe_regime(budgets: list[StageBudget]) -> tuple[dict[str, int], str]:
    """Steps per stage, and the regime in words, of the stages a row's arms trained (each distinct stage once; a
    stage trained at several sizes is named per size)."""
    distinct = list(dict.fromkeys(budgets))
    repeated = {stage for stage in (b.stage for b in distinct) if sum(b.stage == stage for b in distinct) > 1}
    steps = {(f"{b.stage} (n={b.per_class})" if b.stage in repeated else b.stage): b.steps for b in distinct}
    return steps, "; ".join(str(budget) for budget in distinct)


def measure(claim: Claim, arm: Arm, trial: Trial) -> Measurement:
    """An arm's measurement: its own, or the claim's metric applied to the model it trained."""
    result = arm.run(trial)
    if isinstance(result, Measurement):
        return result
    if claim.metric.measure is None:
        raise TypeError(
            f"claim {claim.id!r}: arm {arm.label!r} returned a model, but the claim's metric "
            f"{claim.metric.name!r} has no measure; return a Measurement or give the metric one"
        )
    return claim.metric.measure(trial, result)


def _stack(per_seed: list[np.ndarray], claim_id: str) -> np.ndarray:
    sizes = {scores.shape for scores in per_seed}
    if len(sizes) != 1:
        raise ValueError(f"claim {claim_id!r}: an arm measured a different number of images per seed: {sizes}")
    return np.stack(per_seed)


def _summarise(values: list) -> object:
    """Numbers are averaged over seeds; anything else (a version, a yes/no) is kept once if all seeds agree."""
    if all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        return float(np.mean(values))
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else distinct
