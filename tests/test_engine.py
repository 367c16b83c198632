"""The engine pairs arms by seed, labels them per variant, summarises details and explains failures."""

from types import SimpleNamespace

import pytest

from harness import engine, stats
from harness.claims.base import Arm, Claim, Measurement
from harness.scales import SCALES

TREATMENT_BY_SEED = {0: 0.70, 1: 0.72, 2: 0.74}


def make_claim(**changes) -> Claim:
    fields = dict(
        id="toy", statement="treatment beats baseline", lesson_section="nowhere", metric="accuracy",
        baseline=Arm("base", lambda trial: 0.5),
        treatment=Arm("treat", lambda trial: Measurement(TREATMENT_BY_SEED[trial.seed],
                                                          {"seen": trial.seed, "keras": "3.x"}),
                      names_by_variant={"b": "treat (b)"}),
        threshold=0.0, variants=("a", "b"), advice="do the other thing",
    )
    return Claim(**{**fields, **changes})


def lab(seeds=(0, 1, 2)):
    return SimpleNamespace(scale=SCALES["smoke"].override(seeds=len(seeds)))


def test_arms_are_paired_by_seed_and_labelled_per_variant():
    row, _ = engine.run_claim(make_claim(), "b", lab(), run_id="r", progress=lambda line: None)
    assert row.per_seed == {"base": [0.5, 0.5, 0.5], "treat (b)": [0.70, 0.72, 0.74]}
    assert (row.baseline_arm, row.treatment_arm) == ("base", "treat (b)")
    assert row.delta == pytest.approx(0.22) and row.verdict == stats.CONFIRMED
    assert row.details == {"treat (b): seen": pytest.approx(1.0), "treat (b): keras": "3.x"}


def test_a_claim_that_does_not_hold_is_explained_with_its_advice():
    claim = make_claim(threshold=0.5)
    row, explanation = engine.run_claim(claim, "a", lab(), run_id="r", progress=lambda line: None)
    assert row.verdict == stats.REFUTED
    assert explanation.startswith("REFUTED: delta +22.0 pp") and explanation.endswith("do the other thing")


def test_progress_names_claim_arm_seed_and_eta():
    lines = []
    engine.run_claim(make_claim(), "a", lab(), run_id="r", progress=lines.append)
    assert len(lines) == 6
    assert lines[-1].startswith("toy[a-smoke] treat · seed 2 · 0.740") and "ETA 0 s" in lines[-1]


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="no variant 'c'"):
        engine.run_claim(make_claim(), "c", lab(), run_id="r")
