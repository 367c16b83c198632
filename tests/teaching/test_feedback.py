"""The feedback a student reads (tl_claims/teaching/feedback.py): in the grading's language, each check's outcome and
points, the whole message of each check that did not pass, the accuracies, and each criterion's verdict with the
margin it needs and the one measured."""

from tl_claims.teaching import feedback, scoring
from tl_claims.teaching.checks import CHECKS

MESSAGE = (
    "[recompiled_after_unfreezing] stage 2 does not train the base\n  seen: ...\n  rule: ...\n  why: ...\n  fix: ..."
)


def graded(scale: str, **fields) -> dict:
    return {
        "student": "ana",
        "scale": scale,
        "graded": "2026-12-07T10:00:00Z",
        "file": "/class/ana.py",
        "sha256": "0123456789abcdef" * 4,
        "version": "0.1.0",
        "seeds": 5,
        "phase1": 0.81,
        "phase2": 0.84,
        "scratch": 0.42,
        "two_stage_delta": 0.03,
        "two_stage_need": 0.02,
        "scratch_delta": 0.39,
        "scratch_need": 0.10,
        "two_stage_accepted": True,
        "scratch_accepted": True,
        "failures": [],
        "summary": "homework at cpu scale: phase 1 0.810, phase 2 0.840, from scratch 0.420",
        **dict.fromkeys(CHECKS, "passed"),
        "recompiled_after_unfreezing": "failed",
        "check_messages": {"recompiled_after_unfreezing": MESSAGE},
        "problem": "",
        "note": "",
        **fields,
    }


def test_a_cpu_grading_gives_points_the_failed_checks_message_and_the_criteria_with_their_numbers(tmp_path):
    path = feedback.write_feedback(tmp_path, graded("cpu"), scoring.POINTS, "en")
    assert path == tmp_path / "cpu" / "feedback" / "ana.md"
    page = path.read_text(encoding="utf-8")
    assert page.startswith("# Homework feedback: ana\n\nGraded 2026-12-07T10:00:00Z at cpu scale: ana.py (SHA-256 ")
    assert "**Points: 90 of 100**" in page
    assert "| `recompiled_after_unfreezing`: stage 2 does not train the base | failed | 0 / 10 |" in page
    assert "| `finetune_lr_10x_lower`: the fine-tuning learning rate is too high | passed | 10 / 10 |" in page
    assert f"```text\n{MESSAGE}\n```" in page
    assert "| 0.810 | 0.840 | 0.420 |" in page and "(mean over 5 seed(s))" in page
    assert "| phase 2 minus phase 1 | ≥ +2.0 pp | +3.0 pp | met | 15 / 15 |" in page
    assert "| transfer learning minus from scratch | ≥ +10.0 pp | +39.0 pp | met | 15 / 15 |" in page


def test_a_missed_criterion_gives_its_advice_and_no_points():
    missed = graded("cpu", scratch_accepted=False, failures=["transfer learning must beat training from scratch"])
    page = feedback.feedback_markdown(missed, scoring.POINTS, "en")
    assert "| +39.0 pp | missed | 0 / 15 |" in page and "- transfer learning must beat training from scratch" in page
    assert "**Points: 75 of 100**" in page


def test_at_smoke_scale_the_criteria_are_measured_not_graded_in_spanish(tmp_path):
    phrase = "criterios de accuracy sin corregir a escala smoke (-m cpu los corrige)"
    page = feedback.feedback_markdown(graded("smoke", note=phrase), scoring.POINTS, "es")
    assert page.startswith("# Devolución de la tarea: ana\n\nCorregida el 2026-12-07T10:00:00Z a escala smoke")
    assert "**Puntos: 60 de 70**" in page and f"\n\n{phrase}\n" in page
    assert "| `recompiled_after_unfreezing`: la etapa 2 no entrena la base | falló | 0 / 10 |" in page
    assert "| fase 2 menos fase 1 | ≥ +2.0 pp | +3.0 pp | sin corregir a escala smoke | - |" in page


def test_a_stopped_grading_says_why_and_shows_no_accuracy():
    stopped = graded("cpu", **dict.fromkeys(CHECKS, "not run"), problem="build_model raised ValueError")
    for number in ("phase1", "phase2", "scratch", "two_stage_accepted", "scratch_accepted"):
        del stopped[number]  # a grading that stopped has no numbers
    page = feedback.feedback_markdown(stopped, scoring.POINTS, "en")
    assert "The grading stopped: build_model raised ValueError" in page and "| not run | 0 / 10 |" in page
    assert "Acceptance criteria" not in page and "**Points: 0 of 100**" in page
