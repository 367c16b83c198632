"""The homework grader: the correct example at smoke scale (runs, writes its rows) and at cpu scale (acceptance)."""

import math

import pytest

from harness import results
from harness.paths import REPO_ROOT
from harness.plugin import SESSION_KEY
from harness.scales import SCALES
from harness.teaching import homework
from harness.teaching.student import load_student

CORRECT = REPO_ROOT / "examples" / "student_correct.py"


@pytest.mark.parametrize("scale_name", [
    pytest.param("smoke", marks=pytest.mark.smoke, id="smoke"),
    pytest.param("cpu", marks=pytest.mark.cpu, id="cpu"),
])
def test_the_correct_example_passes_the_homework(grade_homework, scale_name, request):
    result = grade_homework(load_student(CORRECT), scale_name)
    session = request.config.stash[SESSION_KEY]
    rows = [row for row in results.read_rows(session.results_dir / scale_name)
            if row["run_id"] == session.run_id and row["claim"] == "homework"]
    assert {row["variant"] for row in rows} == {"student_correct:two_stage", "student_correct:transfer_vs_scratch"}
    assert all(len(values) == len(result.scale.seeds) for values in rows[0]["per_seed"].values())


def fabricated(phase1: list[float], phase2: list[float], scratch: list[float]) -> homework.HomeworkResult:
    scale = SCALES["cpu"].override(seeds=len(phase1))
    per_seed = {homework.PHASE1: phase1, homework.PHASE2: phase2, homework.SCRATCH: scratch}
    return homework.HomeworkResult("hw", "efficientnet_lite0", scale, per_seed, 1.0)


def test_acceptance_uses_the_mean_delta_and_the_lessons_margins():
    assert homework.failures(fabricated([0.80, 0.82], [0.83, 0.83], [0.50, 0.52])) == []  # +2.0 pp exactly passes
    two_stage, = homework.failures(fabricated([0.80, 0.82], [0.81, 0.83], [0.50, 0.52]))
    assert "at least 2 pp" in two_stage and "measured +1.0 pp" in two_stage
    scratch, = homework.failures(fabricated([0.50, 0.50], [0.60, 0.60], [0.55, 0.55]))
    assert "at least 10 pp" in scratch and "+5.0 pp" in scratch
    assert "al menos 10 pp" in homework.failures(fabricated([0.5], [0.6], [0.55]), lang="es")[0]


def test_rows_carry_all_three_arms_and_the_interval_verdict():
    result = fabricated([0.80, 0.82, 0.81], [0.86, 0.87, 0.85], [0.40, 0.45, 0.42])
    two_stage, transfer = homework.rows(result, run_id="r1")
    assert (two_stage.claim, two_stage.variant, two_stage.threshold) == ("homework", "hw:two_stage", 0.02)
    assert math.isclose(two_stage.delta, 0.05) and two_stage.verdict == "CONFIRMED"
    assert transfer.baseline_arm == homework.SCRATCH and transfer.treatment_arm == homework.PHASE2
    assert set(transfer.per_seed) == {homework.PHASE1, homework.PHASE2, homework.SCRATCH}
    assert transfer.details["accepted"] is True
