"""Feedback a student can read: `results/<scale>/feedback/<student>.md`, in the grading's language.

Written from the student's grading record (tl_claims/teaching/classroom.py) where the student was graded: when and
what was graded, the points, each teaching check's outcome and, for each one that did not pass, its whole message
(what was seen, the rule, why it matters, the fix), the accuracies of both phases and from scratch, and each
acceptance criterion's verdict with the margin it needs and the one measured (at smoke scale: measured, not graded).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tl_claims.core.markdown import markdown_table
from tl_claims.teaching import messages
from tl_claims.teaching.checks import CHECKS
from tl_claims.teaching.classroom import SHOWN_SHA, safe_name
from tl_claims.teaching.scoring import criteria_graded, earned, score

STATUS_TEXTS = {status: f"status_{status.replace(' ', '_')}" for status in ("passed", "failed", "error", "not run")}
CRITERIA_TEXTS = {  # criterion -> (its description, the record's delta and needed margin, in accuracy units)
    "two_stage_accepted": ("feedback_two_stage", "two_stage_delta", "two_stage_need"),
    "scratch_accepted": ("feedback_scratch", "scratch_delta", "scratch_need"),
}


def feedback_path(results_dir: Path, scale: str, student: str) -> Path:
    return Path(results_dir) / scale / "feedback" / f"{safe_name(student)}.md"


def write_feedback(results_dir: Path, record: Mapping, points: Mapping[str, float], lang: str) -> Path:
    path = feedback_path(results_dir, record["scale"], record["student"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feedback_markdown(record, points, lang), encoding="utf-8")
    return path


def feedback_markdown(record: Mapping, points: Mapping[str, float], lang: str) -> str:
    """The student's feedback page (see the module's docstring)."""
    text = lambda key, **values: messages.text(lang, key, **values)  # noqa: E731
    scale = record["scale"]
    got, possible = score(record, points, scale)
    head = [
        f"# {text('feedback_title', student=record['student'])}",
        "",
        text(
            "feedback_graded",
            time=record["graded"],
            scale=scale,
            file=Path(record["file"]).name,
            sha=record["sha256"][:SHOWN_SHA],
            version=record["version"],
        ),
        "",
        f"**{text('feedback_points', earned=got, possible=possible)}**",
    ]
    if record.get("note"):
        head += ["", record["note"]]
    if record.get("problem"):
        head += ["", text("feedback_problem", problem=record["problem"])]
    parts = [head, checks_part(record, points, lang), accuracy_part(record, points, lang)]
    return "\n".join(line for part in parts for line in part) + "\n"


def checks_part(record: Mapping, points: Mapping[str, float], lang: str) -> list[str]:
    """A table of outcomes and points, then each check that did not pass with its full message."""
    header = messages.text(lang, "feedback_check_header").split("|")
    rows = [
        dict(
            zip(
                header,
                (
                    f"`{name}`: {messages.TITLES[lang][name]}",
                    status_text(record.get(name, "not run"), lang),
                    f"{points[name] if earned(name, record.get(name)) else 0:g} / {points[name]:g}",
                ),
            )
        )
        for name in CHECKS
    ]
    lines = ["", f"## {messages.text(lang, 'feedback_checks')}", "", markdown_table(rows)]
    for name, message in record.get("check_messages", {}).items():
        lines += ["", f"### `{name}`: {status_text(record.get(name, 'not run'), lang)}", "", "```text", message, "```"]
    return lines


def accuracy_part(record: Mapping, points: Mapping[str, float], lang: str) -> list[str]:
    """The accuracies and the criteria's verdicts with their numbers; nothing when no accuracy was measured."""
    if record.get("phase1") is None:
        return []
    header = messages.text(lang, "feedback_accuracy_header").split("|")
    numbers = dict(zip(header, (f"{record[name]:.3f}" for name in ("phase1", "phase2", "scratch"))))
    lines = ["", f"## {messages.text(lang, 'feedback_accuracy', seeds=record.get('seeds', '?'))}", ""]
    lines += [markdown_table([numbers]), "", record.get("summary", "").replace("\n", "\n\n")]  # one paragraph each
    header = messages.text(lang, "feedback_criteria_header").split("|")
    graded = criteria_graded(record["scale"])
    rows = []
    for name, (description, delta, need) in CRITERIA_TEXTS.items():
        met = "criterion_met" if record.get(name) else "criterion_missed"
        verdict = messages.text(lang, met if graded else "criterion_not_graded")
        worth = f"{points[name] if graded and record.get(name) else 0:g} / {points[name]:g}" if graded else "-"
        cells = (
            messages.text(lang, description),
            f"≥ {record[need] * 100:+.1f} pp",
            f"{record[delta] * 100:+.1f} pp",
            verdict,
            worth,
        )
        rows.append(dict(zip(header, cells)))
    advice = [f"- {failure}" for failure in record.get("failures", [])] if graded else []
    return [*lines, "", f"## {messages.text(lang, 'feedback_criteria')}", "", markdown_table(rows), *advice]


def status_text(status: str, lang: str) -> str:
    return messages.text(lang, STATUS_TEXTS[status]) if status in STATUS_TEXTS else status
