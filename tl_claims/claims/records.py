"""Typed per-seed side measurements that rows carry for the figures: learning-curve points, BatchNorm statistics.

Claims create them; rows store them as plain dicts with a `kind`; `tl_claims.results.figures` reads them back with
`read`. Neither side parses strings, and claims never import the figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class CurvePoint:
    """Test accuracy of one training regime at one training-set size and seed."""

    regime: str  # "fe_stage1", "ft_stage2" or "fe_probe"
    n_per_class: int
    seed: int
    accuracy: float


@dataclass(frozen=True)
class BatchNormPoint:
    """Stage-2 test accuracy and moving-mean drift under one BatchNorm policy, one seed."""

    policy: str  # tl_claims.recipe.architecture.BN_POLICIES
    seed: int
    accuracy: float
    drift: float  # moving-mean drift in units of the original standard deviation


KINDS: dict[str, type] = {kind.__name__: kind for kind in (CurvePoint, BatchNormPoint)}


def to_dict(record: object) -> dict[str, object]:
    return {"kind": type(record).__name__, **asdict(record)}  # type: ignore[call-overload]


def read(rows: list[dict], kind: type) -> list:
    """Every record of `kind` in the rows, deduplicated (arms sharing a model report the same point)."""
    names = {field.name for field in fields(kind)}
    found = []
    for row in rows:
        for stored in row.get("records") or []:
            if stored.get("kind") == kind.__name__:
                record = kind(**{name: stored[name] for name in names})
                if record not in found:
                    found.append(record)
    return found
