"""What a claim is: a statement from the lesson, two arms, a metric and a rule, declared once as data.

A claim module declares one `Claim`. Its variants are names with parameters (`Variant("lr_1e-4",
{"learning_rate": 1e-4})`); the parameters reach the arms through the `Trial`, and fill the arms' label templates
("stage 2 at {learning_rate:g}"). An arm returns the model it trained (the claim's metric then measures it) or a
`Measurement` of its own. The engine runs both arms on every seed and turns the pairs into a row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tl_claims.stats.rules import NonInferiority, Rule, Superiority

if TYPE_CHECKING:
    from tl_claims.recipe.architecture import Classifier
    from tl_claims.recipe.evaluation import Evaluation
    from tl_claims.recipe.options import Stage1Options, Stage2Options
    from tl_claims.recipe.scales import Scale
    from tl_claims.recipe.training import StageBudget


class LabProtocol(Protocol):
    """Everything a claim may ask of a lab. `tl_claims.recipe.lab.Lab` is the suite's recipe; the homework's
    `GradedLab` implements the models and the evaluation with what a student's own functions trained and predicted
    (and refuses the rest)."""

    scale: Scale
    ledger: list[StageBudget]  # every training stage handed out, in order (what a row's regime is read from)

    def splits(self, seed: int, n_train: int | None = None) -> Any: ...  # tl_claims.data.Splits

    def stage1(self, seed: int, options: Stage1Options = ...) -> Classifier: ...

    def stage2(self, seed: int, options: Stage2Options = ...) -> Classifier: ...

    def stage2_without_recompile(self, seed: int) -> Classifier: ...

    def scratch(self, seed: int) -> Classifier: ...

    def evaluate(self, classifier: Classifier, seed: int, split: str = "test") -> Evaluation: ...

    def linear_probe(self, seed: int, **options: Any) -> Evaluation: ...

    def moving_statistics(self, classifier: Classifier) -> list[tuple[np.ndarray, np.ndarray]]: ...

    def imagenet_agreement(self, classifier: Classifier, seed: int) -> float: ...

    def base_shift(self, after: Classifier, before: Classifier) -> float: ...


@dataclass(frozen=True, eq=False)
class Measurement:
    """An arm's metric for one seed: per-image scores (their mean is the value; a single number for metrics that
    are not per image), table details (numbers averaged over seeds) and typed records for the figures."""

    scores: np.ndarray
    details: Mapping[str, object] = field(default_factory=dict)
    records: tuple[object, ...] = ()  # tl_claims.claims.records dataclasses, one per seed and point

    @classmethod
    def of(
        cls,
        value: float | np.ndarray | Evaluation,
        details: Mapping[str, object] | None = None,
        records: tuple[object, ...] = (),
    ) -> Measurement:
        scores = getattr(value, "correct", value)
        return cls(np.atleast_1d(np.asarray(scores, dtype="float64")), dict(details or {}), records)

    @property
    def value(self) -> float:
        return float(np.mean(self.scores))


@dataclass(frozen=True)
class Variant:
    """A named setting of a claim's experiment. `expected` records, per scale, a verdict known on this setup that
    does not confirm the lesson (a finding): the test then runs as a strict xfail, so only a change fails it."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    expected: Mapping[str, str] = field(default_factory=dict)  # scale -> verdict, e.g. {"cpu": "REFUTED"}
    rule: Rule | None = None  # when this variant tests its claim differently (a risk, an exact value)
    # scale -> at least this many seeds: for a row whose verdict, at the scale's own count, changes with the machine
    min_seeds: Mapping[str, int] = field(default_factory=dict)

    def seeds_at(self, scale: Scale) -> tuple[int, ...]:
        """The scale's seeds, extended with the next ones up to this variant's minimum there; never fewer.
        A sequential scale (`--seeds auto`) adds seeds at its own looks instead."""
        needed = 0 if scale.seed_looks else self.min_seeds.get(scale.name, 0)
        extra = tuple(range(max(scale.seeds) + 1, max(scale.seeds) + 1 + needed - len(scale.seeds)))
        return (*scale.seeds, *extra)


@dataclass(frozen=True)
class Trial:
    """One arm's view of one run: the lab, the variant (its parameters), the seed."""

    lab: LabProtocol
    variant: Variant
    seed: int

    @property
    def params(self) -> Mapping[str, Any]:
        return self.variant.params


@dataclass(frozen=True)
class Metric:
    """What both arms measure: a name for the table, and how to measure an arm's model (None when the claim's
    arms return their own `Measurement`)."""

    name: str
    measure: Callable[[Trial, Classifier], Measurement] | None = None


def _test_accuracy(trial: Trial, classifier: Classifier) -> Measurement:
    return Measurement.of(trial.lab.evaluate(classifier, trial.seed))


TEST_ACCURACY = Metric("test accuracy", _test_accuracy)


@dataclass(frozen=True)
class Arm:
    """One side of the comparison: a label (a template over the variant's parameters) and what to run."""

    label: str
    run: Callable[[Trial], Classifier | Measurement]

    def label_for(self, variant: Variant) -> str:
        return self.label.format(**variant.params)


@dataclass(frozen=True)
class Claim:
    """A lesson claim as an experiment: treatment − baseline against `threshold`, read by the claim's `rule`
    (default: superiority Δ > threshold; a negative threshold is a non-inferiority margin)."""

    id: str
    statement: str  # the claim in English, as the lesson makes it
    lesson_section: str  # where the lesson says it
    baseline: Arm
    treatment: Arm
    threshold: float  # fraction (0.10 = 10 pp); negative = a non-inferiority margin
    variants: tuple[Variant, ...]
    metric: Metric = TEST_ACCURACY
    rule: Rule | None = None  # the claim type, when not read from the threshold (a band, an exact value)
    # The variant that is the lesson's own reading ("": the first). None where the lesson makes no claim to test (it
    # only announces a topic): every variant is then exploratory, a direction reported, never a verdict on the lesson.
    primary: str | None = ""
    smoke: tuple[str, ...] = ()  # variants run at smoke scale (default: all); one covers a shared code path
    version: int = 1  # bumped when the experiment changes; recorded in every row
    reading: str = ""  # how we read a vague claim into the rule above, when it needs saying
    advice: str = ""  # what a student should do when the measurement does not confirm the claim

    def __post_init__(self) -> None:
        names = [variant.name for variant in self.variants]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"claim {self.id!r} needs distinct variants; got {names}")
        for name in (self.primary, *self.smoke):
            if name and name not in names:
                raise ValueError(f"claim {self.id!r} names an unknown variant {name!r}; variants: {names}")

    @property
    def primary_variant(self) -> str | None:
        return self.variants[0].name if self.primary == "" else self.primary

    @property
    def smoke_variants(self) -> tuple[str, ...]:
        return self.smoke or tuple(variant.name for variant in self.variants)

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise ValueError(
            f"claim {self.id!r} has no variant {name!r}; variants: {[variant.name for variant in self.variants]}"
        )

    def rule_for(self, variant: Variant) -> Rule:
        """How a variant's measurement is judged: its own rule, the claim's, or one read from the threshold."""
        if variant.rule is not None:
            return variant.rule
        if self.rule is not None:
            return self.rule
        return NonInferiority(-self.threshold) if self.threshold < 0 else Superiority(self.threshold)

    def backbone(self, variant: Variant, default: str) -> str:
        """The backbone a variant runs on: its own `backbone` parameter, else the scale's."""
        return str(variant.params.get("backbone", default))
