"""What a claim is: a statement from the lesson, two arms, a metric and a rule.

A claim module declares one `Claim`; the engine runs both arms on every seed, pairs the measurements by seed,
and turns them into a row of the results table.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.lab import Lab


@dataclass(frozen=True)
class Measurement:
    """An arm's metric value for one seed, with any side measurements the row should report (averaged over seeds)."""

    value: float
    details: dict[str, object] = field(default_factory=dict)  # numbers are averaged over seeds, text kept as is


@dataclass(frozen=True)
class Trial:
    """One arm's view of one run: the shared lab, which variant of the claim, which seed."""

    lab: "Lab"
    variant: str
    seed: int


@dataclass(frozen=True)
class Arm:
    name: str
    measure: Callable[[Trial], "float | Measurement"]
    names_by_variant: dict[str, str] = field(default_factory=dict)  # where the arm differs per variant

    def label(self, variant: str) -> str:
        """What the table calls this arm in this variant."""
        return self.names_by_variant.get(variant, self.name)


@dataclass(frozen=True)
class Claim:
    """A lesson claim as an experiment. The rule is always: treatment − baseline > threshold."""

    id: str
    statement: str  # the claim in English, as the lesson makes it
    lesson_section: str  # where the lesson says it
    metric: str  # what both arms measure
    baseline: Arm
    treatment: Arm
    threshold: float  # fraction (0.10 = 10 pp); negative = a non-inferiority margin
    variants: tuple[str, ...] = ("default",)
    reading: str = ""  # how we read a vague claim into the rule above, when it needs saying
    variant_backbones: dict[str, str] = field(default_factory=dict)  # variants that fix their own backbone
    advice: str = ""  # what a student should do when the measurement does not confirm the claim

    def backbone(self, variant: str, default: str) -> str:
        return self.variant_backbones.get(variant, default)

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"claim {self.id!r} needs at least one variant")
