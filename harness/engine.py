"""Runs a claim: both arms on every seed, paired by seed, into one results row."""

import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from harness import stats
from harness.claims.base import Claim, Measurement, Trial
from harness.lab import Lab
from harness.results import Row


def run_claim(claim: Claim, variant: str, lab: Lab, *, run_id: str,
              progress: Callable[[str], None] = print) -> tuple[Row, str]:
    """Measure baseline and treatment on each seed of the lab's scale; return the row and a one-line explanation."""
    if variant not in claim.variants:
        raise ValueError(f"claim {claim.id!r} has no variant {variant!r}; variants: {claim.variants}")
    scale = lab.scale
    started = time.perf_counter()
    arms = (claim.baseline, claim.treatment)
    labels = {arm.name: arm.label(variant) for arm in arms}
    values: dict[str, list[float]] = {labels[arm.name]: [] for arm in arms}
    details: dict[str, list] = defaultdict(list)
    total, done = len(arms) * len(scale.seeds), 0
    for seed in scale.seeds:
        for arm in arms:
            arm_started = time.perf_counter()
            measurement = _as_measurement(arm.measure(Trial(lab, variant, seed)))
            values[labels[arm.name]].append(measurement.value)
            for key, value in measurement.details.items():
                details[f"{labels[arm.name]}: {key}"].append(value)
            done += 1
            elapsed = time.perf_counter() - started
            progress(
                f"{claim.id}[{variant}-{scale.name}] {labels[arm.name]} · seed {seed} · {measurement.value:.3f} "
                f"({time.perf_counter() - arm_started:.1f} s; elapsed {elapsed:.0f} s, "
                f"ETA {elapsed / done * (total - done):.0f} s)"
            )
    baseline, treatment = values[labels[claim.baseline.name]], values[labels[claim.treatment.name]]
    comparison = stats.compare(baseline, treatment)
    deltas = list(np.subtract(treatment, baseline))
    explanation = stats.explain(comparison, claim.threshold, deltas)
    if claim.advice and stats.verdict(comparison, claim.threshold) != stats.CONFIRMED:
        explanation += f" — {claim.advice}"
    row = Row(
        claim=claim.id, variant=variant, scale=scale.name,
        backbone=claim.backbone(variant, scale.backbone), dataset=scale.dataset,
        image_size=scale.image_size, n_train=scale.n_train, seeds=len(scale.seeds),
        baseline=comparison.baseline, treatment=comparison.treatment, delta=comparison.delta,
        ci_low=comparison.ci_low, ci_high=comparison.ci_high, threshold=claim.threshold,
        verdict=stats.verdict(comparison, claim.threshold), seconds=round(time.perf_counter() - started, 1),
        statement=claim.statement, lesson_section=claim.lesson_section, metric=claim.metric,
        baseline_arm=labels[claim.baseline.name], treatment_arm=labels[claim.treatment.name], ci_method=stats.CI_METHOD,
        explanation=explanation, per_seed=values, details={key: _summarise(v) for key, v in details.items()},
        run_id=run_id, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    return row, explanation


def _summarise(values: list) -> object:
    """Numbers are averaged over seeds; anything else (a version, a yes/no) is kept once if all seeds agree."""
    if all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        return float(np.mean(values))
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else distinct


def _as_measurement(result: "float | Measurement") -> Measurement:
    if isinstance(result, Measurement):
        return result
    return Measurement(float(result))
