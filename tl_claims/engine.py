"""Runs a claim: both arms on every seed, paired by seed and by test image, into one results row.

Data flows one way: claim + variant + lab → per-seed measurements (per-image scores) → statistics → row.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from tl_claims.claims import records
from tl_claims.claims.base import Arm, Claim, LabProtocol, Measurement, Trial, Variant
from tl_claims.recipe.training import StageBudget
from tl_claims.results.row import Outcomes, Row
from tl_claims.stats import rules, sequential
from tl_claims.stats.decide import decide


def run_claim(
    claim: Claim, variant: Variant | str, lab: LabProtocol, *, run_id: str, progress: Callable[[str], None] = print
) -> tuple[Row, Outcomes]:
    """Measure baseline and treatment on each seed of the lab's scale; return the row and the per-image outcomes.

    With `scale.seed_looks` (`--seeds auto`), seeds are added at the planned looks while the row is undecided, and
    the verdict is the group-sequential one (tl_claims.stats.sequential), so repeated looks keep the error rate honest.
    """
    variant = claim.variant(variant) if isinstance(variant, str) else variant
    scale = lab.scale
    started = time.perf_counter()
    arms = _Arms(claim, variant, lab, progress, started)
    rule = claim.rule_for(variant)
    first_budget = len(lab.ledger)
    first = arms.run(list(variant.seeds_at(scale)))
    design = sequential.Design(scale.seed_looks) if scale.seed_looks else None
    summary, verdict = decide(first.baseline, first.treatment, rule, design, grow=arms.grow_to)
    outcomes = arms.outcomes()
    steps, regime = describe_regime(lab.ledger[first_budget:])
    explanation = rules.explain(summary, rule, verdict)
    if claim.advice and not verdict.confirms:
        explanation += f" — {claim.advice}"
    row = Row.from_result(
        claim,
        variant,
        scale,
        summary,
        verdict,
        arms=arms.labels,
        seeds=len(outcomes.seeds),
        per_seed=arms.per_seed(outcomes),
        details={key: _summarise(values) for key, values in arms.details.items()},
        records=arms.records,
        steps=steps,
        regime=regime,
        explanation=explanation,
        seconds=round(time.perf_counter() - started, 1),
        run_id=run_id,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
        n_test=test_set_size(lab),
    )
    return row, outcomes


def test_set_size(lab: LabProtocol) -> int:
    """How many test images the configuration holds (a real folder's split leaves what it can), or 0 for a lab
    without data splits (the engine's fakes)."""
    splits = getattr(lab, "splits", None)
    return len(splits(lab.scale.seeds[0]).y_test) if splits else 0


class _Arms:
    """Both arms of a claim variant, measured seed by seed: the per-image scores, details and records gathered so
    far, in seed order, with a progress line per arm and seed."""

    def __init__(
        self, claim: Claim, variant: Variant, lab: LabProtocol, progress: Callable[[str], None], started: float
    ) -> None:
        self.claim, self.variant, self.lab, self.progress, self.started = claim, variant, lab, progress, started
        self.sides = {"baseline": claim.baseline, "treatment": claim.treatment}
        self.labels = {side: arm.label_for(variant) for side, arm in self.sides.items()}
        self.scores: dict[str, list[np.ndarray]] = {side: [] for side in self.sides}
        self.details: dict[str, list] = defaultdict(list)
        self.records: list[dict] = []
        self.seeds: list[int] = []

    def run(self, new_seeds: list[int]) -> Outcomes:
        """Measure both arms on each new seed; the outcomes of every seed so far."""
        total = len(self.sides) * (len(self.seeds) + len(new_seeds))
        for seed in new_seeds:
            for side, arm in self.sides.items():
                arm_started = time.perf_counter()
                measurement = measure(self.claim, arm, Trial(self.lab, self.variant, seed))
                self.scores[side].append(measurement.scores)
                for key, value in measurement.details.items():
                    self.details[f"{self.labels[side]}: {key}"].append(value)
                self.records.extend(records.to_dict(record) for record in measurement.records)
                done, elapsed = sum(len(values) for values in self.scores.values()), time.perf_counter() - self.started
                self.progress(
                    f"{self.claim.id}[{self.variant.name}-{self.lab.scale.name}] {self.labels[side]} · seed {seed} · "
                    f"{measurement.value:.3f} ({time.perf_counter() - arm_started:.1f} s; elapsed {elapsed:.0f} "
                    f"s, ETA {elapsed / done * (total - done):.0f} s)"
                )
            self.seeds.append(seed)
        return self.outcomes()

    def grow_to(self, n_seeds: int) -> tuple[np.ndarray, np.ndarray]:
        """Measure the next seeds up to `n_seeds` in all (a sequential look); every seed's outcomes so far."""
        following = max(self.seeds) + 1
        outcomes = self.run(list(range(following, following + n_seeds - len(self.seeds))))
        return outcomes.baseline, outcomes.treatment

    def outcomes(self) -> Outcomes:
        return Outcomes(tuple(self.seeds), *(_stack(self.scores[side], self.claim.id) for side in self.sides))

    def per_seed(self, outcomes: Outcomes) -> dict[str, list[float]]:
        """Each arm's metric per seed (the mean of its per-image scores), by arm label."""
        return {self.labels[side]: [float(np.mean(row)) for row in getattr(outcomes, side)] for side in self.sides}


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
