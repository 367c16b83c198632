"""The results row: what one claim test measured, as plain data, and how it is made from the engine's result.

A row is written as one JSON line the moment its test finishes (tl_claims.results.rowfile) and read back as a dict;
nothing but the dataclass below decides which fields a line has.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tl_claims import __version__
from tl_claims.core import provenance
from tl_claims.core.backend import keras_backend
from tl_claims.core.paths import REPO_ROOT

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np

    from tl_claims.claims.base import Claim, Variant
    from tl_claims.recipe.scales import Scale
    from tl_claims.stats.intervals import Summary
    from tl_claims.stats.rules import Verdict


def _measuring_commit() -> str:
    """The checkout's commit, read once per process (the code a process measures with is the code it loaded), and
    the same value provenance stamps, so a row costs no git call of its own."""
    return provenance.head_commit(REPO_ROOT)


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Per-image scores of both arms, shape (seeds, images): what every interval can be recomputed from."""

    seeds: tuple[int, ...]
    baseline: np.ndarray
    treatment: np.ndarray


@dataclass
class Row:
    """One claim × variant × configuration as measured: the schema of a rows-file line (field for field, in this
    order), and of claims.json's rows before the family columns are added."""

    claim: str
    variant: str
    scale: str
    backbone: str
    dataset: str
    image_size: int
    n_train: int
    seeds: int
    baseline: float
    treatment: float
    delta: float
    ci_low: float
    ci_high: float
    threshold: float
    verdict: str
    seconds: float
    statement: str = ""
    lesson_section: str = ""
    metric: str = ""
    baseline_arm: str = ""
    treatment_arm: str = ""
    ci_method: str = ""
    explanation: str = ""
    per_seed: dict = field(default_factory=dict)  # arm -> list of per-seed values
    details: dict = field(default_factory=dict)  # extra measurements a claim reports (drift, gaps, versions)
    records: list = field(default_factory=list)  # typed per-seed side measurements (tl_claims.claims.records), as dicts
    primary: bool = True  # the claim's own reading of the lesson; other variants are exploratory
    claim_version: int = 1  # the claim's experiment version (bumped when the experiment changes)
    expected: str = ""  # a known finding on this setup: the verdict the test expects instead of CONFIRMED
    rule: str = ""  # the claim type and its bound(s), e.g. "superiority Δ > +2.0 pp" (tl_claims.stats.rules)
    confirms: bool = False  # whether the verdict confirms the lesson's claim (what a test passes on)
    decided: bool = False  # False for INCONCLUSIVE
    p_value: float = 1.0  # one-sided, for "the claim is false"; what the family adjustment uses
    p_refute: float = 1.0  # one-sided, for "the claim is true": what a refutation rejects, adjusted alike
    estimate: float = 0.0  # Δ, or for a risk claim the share of seeds that failed
    confidence: float | None = 0.95  # None for exact (deterministic) rows: no interval
    floor: float | None = None  # the half-width the test images alone contribute: the smallest Δ they resolve
    note: str = ""  # the verdict's remark (P(Δ in band), seeds that failed, non-determinism)
    images: int = 0  # test images per seed behind each arm's metric (1: a per-seed scalar metric)
    steps: dict = field(default_factory=dict)  # optimizer steps per training stage behind the row ("stage 2": 48)
    regime: str = ""  # the same in words: epochs × steps per epoch and images per class, per stage
    run_id: str = ""
    finished_at: str = ""  # ISO 8601 with time zone where the plugin stamped it (tl_claims.core.provenance)
    git_commit: str = field(default_factory=_measuring_commit)  # the code that measured this row
    # Provenance of the measurement, stamped by the plugin when the test finishes (tl_claims.core.provenance); empty on
    # rows recorded before these fields existed.
    started_at: str = ""  # ISO 8601 with time zone
    node_id: str = ""  # the pytest node id that measured the row: paste it to rerun exactly this test
    tool_version: str = ""  # tl-claims' version
    git_dirty: bool | None = None  # uncommitted changes to tracked files when the row was measured
    versions: dict = field(default_factory=dict)  # library -> version
    machine: dict = field(default_factory=dict)  # host, processor, CPUs, platform, Python, GPUs
    n_test: int = 0  # images in the configuration's test set (real photos: what the split left; 0: not recorded)
    # The Keras backend that measured the row (tl_claims.core.backend): a replication axis. Rows recorded before this
    # field were all measured on TensorFlow, so that is what a row without it reads as (rowfile.parse_row).
    backend: str = "tensorflow"

    @classmethod
    def from_result(
        cls,
        claim: Claim,
        variant: Variant,
        scale: Scale,
        summary: Summary,
        verdict: Verdict,
        *,
        arms: Mapping[str, str],
        seeds: int,
        per_seed: dict,
        details: dict,
        records: list,
        steps: dict,
        regime: str,
        explanation: str,
        seconds: float,
        run_id: str,
        finished_at: str,
        n_test: int = 0,
    ) -> Row:
        """The row of a claim variant measured at a scale and decided (tl_claims.stats.decide): `arms` labels the
        baseline and the treatment; the rest is what the engine gathered while measuring."""
        return cls(
            **_setup_fields(claim, variant, scale),
            **_decision_fields(summary, verdict),
            seeds=seeds,
            seconds=seconds,
            baseline_arm=arms["baseline"],
            treatment_arm=arms["treatment"],
            explanation=explanation,
            per_seed=per_seed,
            details=details,
            records=records,
            steps=steps,
            regime=regime,
            run_id=run_id,
            finished_at=finished_at,
            n_test=n_test,
        )


def _setup_fields(claim: Claim, variant: Variant, scale: Scale) -> dict[str, Any]:
    """What was measured, where: the claim and its variant, and the configuration of the scale."""
    return {
        "claim": claim.id,
        "variant": variant.name,
        "scale": scale.name,
        "backbone": claim.backbone(variant, scale.backbone),
        "dataset": scale.dataset,
        "image_size": scale.image_size,
        "n_train": scale.n_train,
        "threshold": claim.threshold,
        "statement": claim.statement,
        "lesson_section": claim.lesson_section,
        "metric": claim.metric.name,
        "primary": variant.name == claim.primary_variant,
        "claim_version": claim.version,
        "expected": scale.known_finding(variant),
        "backend": keras_backend(),
    }


def _decision_fields(summary: Summary, verdict: Verdict) -> dict[str, Any]:
    """What was found: the arms' means and Δ from the summary, the interval and the decision from the verdict."""
    return {
        "baseline": summary.baseline,
        "treatment": summary.treatment,
        "delta": summary.delta,
        "ci_low": verdict.ci_low,
        "ci_high": verdict.ci_high,
        "verdict": verdict.word,
        "ci_method": summary.method,
        "rule": verdict.rule,
        "confirms": verdict.confirms,
        "decided": verdict.decided,
        "p_value": verdict.p_value,
        "p_refute": verdict.p_refute,
        "estimate": verdict.estimate,
        "confidence": verdict.confidence,
        "floor": summary.floor,
        "note": verdict.note,
        "images": summary.n_images,
    }


def stamp(row: Row, *, node_id: str, started_at: str, checkout: Path, gpus: list[str] | None = None) -> Row:
    """The row with its provenance: test node id, start and end times, tool version, commit and dirty flag,
    library versions, machine."""
    commit = provenance.process_commit(checkout)
    return replace(
        row,
        node_id=node_id,
        started_at=started_at,
        finished_at=provenance.now(),
        tool_version=__version__,
        git_commit=commit["id"],
        git_dirty=commit["dirty"],
        versions=provenance.library_versions(),
        machine=provenance.machine_info(gpus),
    )
