"""tl_claims/claims/preregistration.toml is the dated record of what every claim tests: the code may not change a
primary, a rule, a threshold, a known finding, a seed count or the lesson sentence without a new entry saying when,
why, and whether it came before the runs or after seeing them (docs/statistics.md, "Pre-registration")."""

import datetime
import tomllib
from dataclasses import replace

import pytest

from tl_claims.claims.base import Claim
from tl_claims.claims.registry import CLAIMS
from tl_claims.core.paths import REPO_ROOT
from tl_claims.recipe.scales import SCALES, Scale
from tl_claims.stats.decide import PROCEDURE

RECORD = REPO_ROOT / "tl_claims" / "claims" / "preregistration.toml"
ENTRIES: list[dict] = tomllib.loads(RECORD.read_text(encoding="utf-8"))["entry"]
REGISTERED_SCALES = ("cpu", "gpu")  # the scales whose verdicts are published; smoke asserts none, replicate is cpu's
CLAIM_FIELDS = ("version", "primary", "rule", "threshold", "expected", "min_seeds", "statement", "lesson_section")
SCALE_FIELDS = ("backbone", "dataset", "image_size", "n_train", "n_test", "stage1_epochs", "stage2_epochs", "seeds")
# Registered where a scale has one (the gpu scale's offline path, since 2026-12-07), so the entries written before it
# existed stay complete.
OPTIONAL_SCALE_FIELDS = ("offline_backbone",)
PROCEDURE_FIELDS = tuple(PROCEDURE)
# Fields declared after their subject's first entry, registered by the entry that adds them (the code must still
# equal the registration), so the entries written before them stay as written.
ADDED_LATER = {"procedure verdicts": ("estimand",)}
ABOUT = {"date", "claim", "scale", "procedure", "commit", "timing", "reason"}  # what an entry says about itself
TIMINGS = ("pre", "post-hoc")


def claim_fields(claim: Claim) -> dict:
    """What a claim registers, read from its code. A claim without a primary registers primary "" and the rule its
    variants are read by (the claim's own or its threshold's), no known finding."""
    primary = claim.variant(claim.primary_variant) if claim.primary_variant else replace(claim.variants[0], rule=None)
    return {
        "version": claim.version,
        "primary": primary.name if claim.primary_variant else "",
        "rule": repr(claim.rule_for(primary)),
        "threshold": claim.threshold,
        "expected": dict(primary.expected) if claim.primary_variant else {},
        "min_seeds": {variant.name: dict(variant.min_seeds) for variant in claim.variants if variant.min_seeds},
        "statement": claim.statement,
        "lesson_section": claim.lesson_section,
    }


def scale_fields(scale: Scale) -> dict:
    fields = {name: getattr(scale, name) for name in SCALE_FIELDS}
    optional = {name: getattr(scale, name) for name in OPTIONAL_SCALE_FIELDS if getattr(scale, name)}
    return {**fields, **optional, "seeds": list(scale.seeds)}


def subject(entry: dict) -> str:
    kind = next((kind for kind in ("claim", "scale", "procedure") if kind in entry), "scale")
    return f"{kind} {entry.get(kind)}"


def registered_fields(name: str) -> tuple[str, ...]:
    kind = name.split()[0]
    return {"claim": CLAIM_FIELDS, "scale": SCALE_FIELDS, "procedure": PROCEDURE_FIELDS}[kind]


def registration(name: str) -> dict:
    """A subject's first entry amended by its later ones, in the record's order."""
    registered: dict = {}
    for entry in ENTRIES:
        if subject(entry) == name:
            registered.update({key: value for key, value in entry.items() if key not in ABOUT})
    return registered


def in_code() -> dict[str, dict]:
    return {
        **{f"claim {claim.id}": claim_fields(claim) for claim in CLAIMS.values()},
        **{f"scale {name}": scale_fields(SCALES[name]) for name in REGISTERED_SCALES},
        "procedure verdicts": dict(PROCEDURE),
    }


def unregistered_changes() -> list[str]:
    """One line per field where the code differs from the registration."""
    return [
        f"{name}: `{field}` is {value!r} in the code but {registration(name).get(field)!r} in {RECORD.name}; "
        "register the change: add an entry with date, timing (pre or post-hoc), reason and the new value"
        for name, fields in in_code().items()
        for field, value in fields.items()
        if registration(name).get(field) != value
    ]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: f"{subject(entry)}-{entry.get('date')}")
def test_every_entry_says_when_why_and_whether_before_the_data(entry):
    named = [kind for kind in ("claim", "scale", "procedure") if kind in entry]
    assert len(named) == 1, f"an entry names one claim, one scale or the procedure: {entry}"
    assert isinstance(entry.get("date"), datetime.date), f"{subject(entry)}: date must be a TOML date (2026-12-07)"
    assert entry["date"] <= datetime.date.today(), f"{subject(entry)}: dated {entry['date']}, after today"
    assert entry.get("timing") in TIMINGS, f"{subject(entry)} {entry['date']}: timing must be one of {TIMINGS}"
    assert str(entry.get("reason", "")).strip(), f"{subject(entry)} {entry['date']}: give a reason"
    assert subject(entry) in in_code(), f"unknown subject {subject(entry)}; known: {sorted(in_code())}"
    fields = registered_fields(subject(entry)) + (OPTIONAL_SCALE_FIELDS if "scale" in entry else ())
    unknown = set(entry) - ABOUT - set(fields)
    assert not unknown, f"{subject(entry)} {entry['date']}: unknown fields {sorted(unknown)}; registered: {fields}"


def test_entries_are_in_date_order():
    dates = [entry["date"] for entry in ENTRIES]
    late = [f"{subject(entry)} {entry['date']}" for entry, before in zip(ENTRIES[1:], dates) if entry["date"] < before]
    assert not late, f"append entries in date order; out of order: {late}"


@pytest.mark.parametrize("name", sorted(in_code()))
def test_every_claim_and_scale_is_first_registered_in_full(name):
    first = next((entry for entry in ENTRIES if subject(entry) == name), None)
    assert first is not None, f"{name} has no entry in {RECORD.name}: add one with every registered field"
    fields = set(registered_fields(name)) - set(ADDED_LATER.get(name, ()))
    assert fields <= set(first), f"{name}'s first entry lacks {sorted(fields - set(first))}"


def test_the_code_declares_what_is_registered():
    changes = unregistered_changes()
    assert not changes, "\n".join(changes)


@pytest.mark.parametrize(
    ("declared", "key", "change", "where"),
    [
        (CLAIMS, "two_stage", {"threshold": 0.03}, "claim two_stage: `threshold`"),
        (CLAIMS, "bn_gotcha", {"primary": "call_inference"}, "claim bn_gotcha: `primary`"),
        (CLAIMS, "tta", {"statement": "TTA helps."}, "claim tta: `statement`"),
        (SCALES, "cpu", {"seeds": (0, 1, 2, 3, 4, 5)}, "scale cpu: `seeds`"),
        (SCALES, "gpu", {"offline_backbone": "efficientnet_lite1"}, "scale gpu: `offline_backbone`"),
        (SCALES, "cpu", {"offline_backbone": "efficientnet_lite1"}, "scale cpu: `offline_backbone`"),
    ],
)
def test_a_change_without_an_entry_fails_naming_the_subject_and_field(monkeypatch, declared, key, change, where):
    monkeypatch.setitem(declared, key, replace(declared[key], **change))
    assert any(line.startswith(where) for line in unregistered_changes())


def test_a_procedure_change_without_an_entry_fails_too(monkeypatch):
    monkeypatch.setitem(PROCEDURE, "family", "Holm per table over confirmations only")
    assert any(line.startswith("procedure verdicts: `family`") for line in unregistered_changes())
