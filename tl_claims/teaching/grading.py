"""Grading one student of `pytest --homework` (tl_claims/teaching/plugin.py's `grade_homework` fixture): the checks
and the homework in a child process, the student's record in the gradebook (tl_claims/teaching/classroom.py), the
feedback file (tl_claims/teaching/feedback.py), and the test's verdict.

A failed teaching check fails the student at every scale: the checks do not depend on the scale. The acceptance
criteria need accuracies that mean something, so they fail a student at cpu and gpu scale only; at smoke scale the
record, the table's row and the terminal line say in one phrase that they were not graded.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import pytest

import tl_claims
from tl_claims.teaching import classroom, feedback, homework, messages, sandbox, scoring
from tl_claims.teaching.checks import CHECKS
from tl_claims.teaching.plugin import (
    CHECK_IMAGE_SIZE,
    HOMEWORK_SECONDS,
    LESSON_LITERALS,
    POINTS,
    PROGRESS,
    call_timeout,
    check_verdicts,
    fork_server,
)


def grade_in_child(config: pytest.Config, session, path: Path, scale_name: str, lang: str) -> dict:
    """One student of the class: checks and homework in a child; its record in the gradebook and its feedback file,
    whatever happens; the test fails on a stopped grading, a failed check or (at cpu / gpu scale) a missed criterion."""
    progress = config.stash.get(PROGRESS, {}).get(scale_name) or classroom.Progress(1)
    session.progress(scale_name, progress.line(path.stem))
    sha256 = classroom.sha256_of(path)  # the file as graded, read before the student's code runs
    try:
        report = run_homework_child(config, session, path, scale_name, lang)
    finally:
        progress.finished()
    record = graded_record(session, report, path, scale_name, lang)
    record["sha256"] = sha256
    classroom.write_record(session.results_dir, scale_name, session.run_id, record)
    written = feedback.write_feedback(session.results_dir, record, config.stash[POINTS], lang)
    where = messages.text(lang, "homework_feedback", path=written)
    if record["problem"]:
        pytest.fail(f"{path.name}: {record['problem']}\n{where}", pytrace=False)
    headline, *rest = record["summary"].split("\n")
    summary = "\n".join([f"{headline}; {record['note']}" if record["note"] else headline, *rest])
    session.progress(scale_name, f"{path.stem}: {summary}")
    failures = failure_lines(record, lang)
    if failures:
        pytest.fail("\n".join([summary, *failures, where]), pytrace=False)
    return record


def run_homework_child(config: pytest.Config, session, path: Path, scale_name: str, lang: str):
    """The checks and the homework on the student's file in a child (forked where offered); its `ChildReport`."""
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as handle:
        pickle.dump(session.scale(scale_name), handle)
    arguments = dict(
        path=str(path),
        lang=lang,
        image_size=CHECK_IMAGE_SIZE,
        call_timeout=call_timeout(config),
        scale=handle.name,
        cache_dir=str(session.cache_dir),
        results_dir=str(session.results_dir),
        run_id=session.run_id,
        worker=session.worker,
    )

    def forward(event: dict) -> None:
        if event["event"] == "progress":
            session.progress(scale_name, f"{path.stem}: {event['line']}")

    try:
        return sandbox.run_child(
            "homework", arguments, seconds=HOMEWORK_SECONDS, on_event=forward, server=fork_server(config)
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)


def graded_record(session, report, path: Path, scale_name: str, lang: str) -> dict:
    """The student's record: the homework's numbers (with the lesson's code beside them), every check's outcome and,
    for those that did not pass, its message; why the grading stopped, if it did; when, at which scale, by which
    version; and what was not graded."""
    result = (report.first("result") or {}) if report.contract is None else {}
    problem = report.contract or report.problem(lang)
    if result and not problem:
        reference = lesson_literal(session, scale_name, str(result.get("backbone", "")))
        result = homework.with_reference(result, reference, lang)
    verdicts = check_verdicts(report, lang)
    return {
        "student": path.stem,
        **result,
        **{name: outcome for name, (outcome, _) in verdicts.items()},
        "check_messages": {name: message for name, (outcome, message) in verdicts.items() if outcome != "passed"},
        "problem": problem or "",
        "note": "" if scoring.criteria_graded(scale_name) else messages.text(lang, "homework_smoke_not_graded"),
        "graded": classroom.now(),
        "scale": scale_name,
        "version": tl_claims.__version__,
        "file": str(path.resolve()),
    }


def failure_lines(record: dict, lang: str) -> list[str]:
    """Why a graded student fails: the missed criteria (where graded), the checks that did not pass, accuracies
    that are not accuracies."""
    lines = list(record["failures"]) if scoring.criteria_graded(record["scale"]) else []
    failed_checks = [name for name in CHECKS if record[name] != "passed"]
    if failed_checks:
        lines.append(messages.text(lang, "homework_checks_failed", checks=", ".join(failed_checks)))
    if not record["all_finite"]:
        lines.append("accuracies outside [0, 1]")
    return lines


def lesson_literal(session, scale_name: str, backbone: str):
    """The lesson's own code on the homework's data and backbone (`homework.lesson_literal_reference`), run here,
    where no student code runs, once per scale and backbone in this process."""
    known = session.config.stash.setdefault(LESSON_LITERALS, {})
    key = (scale_name, backbone)
    if key not in known:
        known[key] = homework.lesson_literal_reference(
            session.scale(scale_name),
            backbone,
            session.cache_dir,
            session.run_id,
            lambda line: session.progress(scale_name, line),
        )
    return known[key]
