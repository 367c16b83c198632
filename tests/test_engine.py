"""The engine pairs arms by seed and image, labels them from the variant's parameters, applies the claim's metric
to models, summarises details, keeps typed records and explains failures."""

from types import SimpleNamespace

import numpy as np
import pytest

from tl_claims import engine
from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Variant
from tl_claims.claims.records import CurvePoint
from tl_claims.recipe.scales import SCALES
from tl_claims.recipe.training import StageBudget
from tl_claims.stats.rules import Exact

TREATMENT_BY_SEED = {seed: 0.70 + 0.02 * (seed % 3) for seed in range(10)}


def treatment(trial) -> Measurement:
    accuracy = TREATMENT_BY_SEED[trial.seed] * trial.params.get("scale", 1.0)
    return Measurement.of(
        np.full(50, accuracy), {"seen": trial.seed, "keras": "3.x"}, (CurvePoint("fe_probe", 10, trial.seed, accuracy),)
    )


def make_claim(**changes) -> Claim:
    fields = dict(
        id="toy",
        statement="treatment beats baseline",
        lesson_section="nowhere",
        baseline=Arm("base", lambda trial: "a model"),
        treatment=Arm("treat ({label})", treatment),
        metric=Metric("accuracy", lambda trial, model: Measurement.of(np.full(50, 0.5))),
        threshold=0.0,
        variants=(
            Variant("a", {"label": "a"}),
            Variant("b", {"label": "b", "scale": 1.0}, expected={"cpu": "REFUTED"}),
        ),
        primary="b",
        advice="do the other thing",
    )
    return Claim(**{**fields, **changes})


def lab(seeds=(0, 1, 2)):
    return SimpleNamespace(scale=SCALES["smoke"].override(seeds=len(seeds)), ledger=[])


def test_arms_are_paired_by_seed_and_labelled_from_the_variant():
    row, outcomes = engine.run_claim(make_claim(), "b", lab(), run_id="r", progress=lambda line: None)
    assert row.per_seed == {"base": [0.5, 0.5, 0.5], "treat (b)": pytest.approx([0.70, 0.72, 0.74])}
    assert (row.baseline_arm, row.treatment_arm, row.metric) == ("base", "treat (b)", "accuracy")
    assert row.delta == pytest.approx(0.22) and row.verdict == "CONFIRMED"
    assert row.details == {"treat (b): seen": pytest.approx(1.0), "treat (b): keras": "3.x"}
    assert outcomes.baseline.shape == outcomes.treatment.shape == (3, 50) and outcomes.seeds == (0, 1, 2)
    assert [record["seed"] for record in row.records] == [0, 1, 2] and row.records[0]["kind"] == "CurvePoint"
    assert row.primary and row.claim_version == 1 and row.expected == ""


def test_a_claim_that_does_not_hold_is_explained_with_its_advice():
    row, _ = engine.run_claim(make_claim(threshold=0.5), "a", lab(), run_id="r", progress=lambda line: None)
    assert row.verdict == "REFUTED" and not row.primary
    assert row.explanation.startswith("REFUTED (superiority Δ > +50.0 pp): Δ +22.0 pp")
    assert row.explanation.endswith("do the other thing") and not row.confirms


def test_progress_names_claim_arm_seed_and_eta():
    lines = []
    engine.run_claim(make_claim(), "a", lab(), run_id="r", progress=lines.append)
    assert len(lines) == 6
    assert lines[-1].startswith("toy[a-smoke] treat (a) · seed 2 · 0.740") and "ETA 0 s" in lines[-1]


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="no variant 'c'"):
        engine.run_claim(make_claim(), "c", lab(), run_id="r")


def test_a_model_without_a_metric_to_measure_it_is_an_error():
    claim = make_claim(metric=Metric("described only"))
    with pytest.raises(TypeError, match="returned a model"):
        engine.run_claim(claim, "a", lab(), run_id="r", progress=lambda line: None)


def test_claims_check_their_variant_names():
    with pytest.raises(ValueError, match="unknown variant 'z'"):
        make_claim(primary="z")
    with pytest.raises(ValueError, match="distinct variants"):
        make_claim(variants=(Variant("a"), Variant("a")))


def test_a_variant_rule_and_per_image_scores_decide_the_row():
    variants = (Variant("a", {"label": "a"}, rule=Exact(0.1)),)
    steady = Arm("treat ({label})", lambda trial: Measurement.of(np.full(50, 0.7)))
    exact = make_claim(variants=variants, primary="a", treatment=steady)
    row, _ = engine.run_claim(exact, "a", lab(), run_id="r", progress=lambda line: None)
    assert (row.verdict, row.confirms, row.confidence, row.ci_low) == ("CONFIRMED", True, None, None)
    assert row.rule == "exact Δ > +10.0 pp" and row.images == 50
    # The default treatment differs by seed (+20, +22, +24 pp): not a deterministic value, so no exact verdict.
    varying, _ = engine.run_claim(make_claim(variants=variants, primary="a"), "a", lab(), run_id="r",
                                  progress=lambda line: None)  # fmt: skip
    assert varying.verdict == "INCONCLUSIVE" and "not deterministic" in varying.note


def test_auto_seeds_add_seeds_only_while_the_row_is_undecided():
    # Spread evenly around 0.5 (−2 … +2 pp): undecided at every look, yet no split into two groups (UNSTABLE).
    noisy = {seed: 0.5 + 0.01 * ((seed * 3) % 5 - 2) for seed in range(10)}

    def wobbling(trial):
        return Measurement.of(np.full(50, noisy[trial.seed]))

    claim = make_claim(treatment=Arm("treat ({label})", wobbling))
    auto = SimpleNamespace(scale=SCALES["smoke"].override(seeds="auto"), ledger=[])
    row, outcomes = engine.run_claim(claim, "a", auto, run_id="r", progress=lambda line: None)
    assert row.seeds == 10 and outcomes.seeds == tuple(range(10)) and row.verdict == "INCONCLUSIVE"
    clear, _ = engine.run_claim(
        make_claim(),
        "a",
        SimpleNamespace(scale=SCALES["smoke"].override(seeds="auto"), ledger=[]),
        run_id="r",
        progress=lambda line: None,
    )
    assert clear.seeds == 5 and clear.confirms  # decided at the first look


def test_a_variant_minimum_adds_the_next_seeds_at_its_scale_only():
    needy = Variant("a", {"label": "a"}, min_seeds={"smoke": 5})
    row, outcomes = engine.run_claim(make_claim(variants=(needy,), primary="a"), "a", lab(), run_id="r",
                                     progress=lambda line: None)  # fmt: skip
    assert row.seeds == 5 and outcomes.seeds == (0, 1, 2, 3, 4)
    cpu, auto = SCALES["cpu"].override(seeds=7), SCALES["smoke"].override(seeds="auto")
    assert needy.seeds_at(cpu) == tuple(range(7))  # another scale: its own seeds
    assert Variant("a", min_seeds={"smoke": 2}).seeds_at(lab().scale) == (0, 1, 2)  # never fewer
    assert needy.seeds_at(auto) == tuple(range(5))  # a sequential scale adds seeds at its looks instead
    assert Variant("a", min_seeds={"cpu": 4}).seeds_at(SCALES["cpu"].override(seeds=(3, 8))) == (3, 8, 9, 10)


def test_the_regime_names_each_distinct_stage_once_and_sizes_when_a_stage_repeats():
    stage1, stage2 = StageBudget("stage 1", 50, 10, 80), StageBudget("stage 2", 50, 6, 48)
    small = StageBudget("stage 2", 10, 24, 48)
    steps, regime = engine.describe_regime([stage1, stage2, stage1, stage2])
    assert steps == {"stage 1": 80, "stage 2": 48}
    assert regime == "stage 1: 10 ep × 8 = 80 steps (n=50); stage 2: 6 ep × 8 = 48 steps (n=50)"
    steps, _ = engine.describe_regime([stage1, stage2, small])
    assert steps == {"stage 1": 80, "stage 2 (n=50)": 48, "stage 2 (n=10)": 48}


def test_a_row_records_the_size_of_its_test_set():
    scale = SCALES["smoke"].override(seeds=2)
    with_data = SimpleNamespace(scale=scale, ledger=[], splits=lambda seed: SimpleNamespace(y_test=np.zeros(37)))
    row, _ = engine.run_claim(make_claim(), "a", with_data, run_id="r", progress=lambda line: None)
    assert row.n_test == 37
    row, _ = engine.run_claim(make_claim(), "a", lab(), run_id="r", progress=lambda line: None)
    assert row.n_test == 0  # a lab without data splits records none
