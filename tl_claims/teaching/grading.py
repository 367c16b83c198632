"""Grading one student of `pytest --homework` (tl_claims/teaching/plugin.py's `grade_homework` fixture): the checks
and the homework in a child process, the student's record in the gradebook (tl_claims/teaching/classroom.py), the
feedback file (tl_claims/teaching/feedback.py), and the test's verdict.

A failed teaching check fails the student at every scale: the checks do not depend on the scale. The acceptance
criteria need accuracies that mean something, so they fail a student at cpu and gpu scale only; at smoke scale the
record, the table's row and the terminal line say in one phrase that they were not graded.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import tl_claims
from tl_claims.results import rowfile
from tl_claims.results.row import Outcomes, Row
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


def grade_in_child(
    config: pytest.Config, session, path: Path, student: str, scale_name: str, lang: str, keep: Callable[[dict], None]
) -> dict:
    """One student of the class: checks and homework in a child; its record (handed to `keep`, for the gradebook)
    and its feedback file, whatever happens; the test fails on a stopped grading, a failed check or (at cpu / gpu
    scale) a missed criterion. Only what the child reported through its events counts, and only this process writes:
    the child is not told where the results go."""
    progress = config.stash.get(PROGRESS, {}).get(scale_name) or classroom.Progress(1)
    session.progress(scale_name, progress.line(student))
    sha256 = classroom.sha256_of(path)  # the file as graded, read before the student's code runs
    try:
        report = run_homework_child(config, session, path, student, scale_name, lang)
    finally:
        progress.finished()
    record = graded_record(session, report, path, scale_name, lang)
    record.update(student=student, sha256=sha256, run=session.run_id)
    keep(json.loads(json.dumps(record, default=str)))  # plain values: they travel to the xdist controller
    if not record["problem"]:
        write_claim_rows(session, report, scale_name, classroom.safe_name(student))
    written = feedback.write_feedback(session.results_dir, record, config.stash[POINTS], lang)
    where = messages.text(lang, "homework_feedback", path=written)
    if record["problem"]:
        pytest.fail(f"{student}: {record['problem']}\n{where}", pytrace=False)
    headline, *rest = record["summary"].split("\n")
    summary = "\n".join([f"{headline}; {record['note']}" if record["note"] else headline, *rest])
    session.progress(scale_name, f"{student}: {summary}")
    failures = failure_lines(record, lang)
    if failures:
        pytest.fail("\n".join([summary, *failures, where]), pytrace=False)
    return record


def write_claim_rows(session, report, scale_name: str, name: str) -> None:
    """The homework's claim rows, as the child reported them, written here under this run, this scale and the
    student's own variant (whatever the child put in those fields); a row that is not one is left out."""
    for event in report.events:
        if event["event"] != "claim_row" or event.get("row", {}).get("claim") not in homework.FAILURE_TEXTS:
            continue
        try:
            fields = {**event["row"], "variant": f"student:{name}", "scale": scale_name, "run_id": session.run_id}
            row = Row(**fields)
            raw = event["outcomes"]
            outcomes = Outcomes(
                tuple(map(int, raw["seeds"])), np.asarray(raw["baseline"], float), np.asarray(raw["treatment"], float)
            )
        except (TypeError, KeyError, ValueError):
            continue
        rowfile.append_row(session.results_dir, row, session.worker)
        rowfile.append_outcomes(session.results_dir, row, outcomes)


def run_homework_child(config: pytest.Config, session, path: Path, student: str, scale_name: str, lang: str):
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
        run_id=session.run_id,
        name=classroom.safe_name(student),
    )

    def forward(event: dict) -> None:
        if event["event"] == "progress":
            session.progress(scale_name, f"{student}: {event['line']}")

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
