"""Grading one student of `pytest --homework` (tl_claims/teaching/plugin.py's `grade_homework` fixture): the checks and
the homework's training in a child process, the scoring of the trained models in a second one (both sealed off the data:
tl_claims/teaching/seal.py), the claims and the accuracies here, the student's record in the gradebook
(tl_claims/teaching/classroom.py), the feedback file (tl_claims/teaching/feedback.py), and the test's verdict.

A failed teaching check fails the student at every scale: the checks do not depend on the scale. The acceptance
criteria need accuracies that mean something, so they fail a student at cpu and gpu scale only; at smoke scale the
record, the table's row and the terminal line say in one phrase that they were not graded.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest

import tl_claims
from tl_claims.core.errors import HarnessError
from tl_claims.core.paths import default_cache_dir
from tl_claims.data import load_splits
from tl_claims.results import rowfile
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
    """One student of the class: checks and homework in children; its record (handed to `keep`, for the gradebook)
    and its feedback file, whatever happens; the test fails on a stopped grading, a failed check or (at cpu / gpu
    scale) a missed criterion. Only what the children reported through their events counts, and only this process
    writes: the children are not told where the results go, and never see a test label."""
    progress = config.stash.get(PROGRESS, {}).get(scale_name) or classroom.Progress(1)
    session.progress(scale_name, progress.line(student))
    sha256 = classroom.sha256_of(path)  # the file as graded, read before the student's code runs
    try:
        graded = grade_sealed(config, session, path, student, scale_name, lang)
    finally:
        progress.finished()
    record = graded_record(session, graded, path, scale_name, lang)
    record.update(student=student, sha256=sha256, run=session.run_id)
    keep(json.loads(json.dumps(record, default=str)))  # plain values: they travel to the xdist controller
    if graded.result is not None and not record["problem"]:
        for row, outcomes in zip(graded.result.rows, graded.result.outcomes, strict=True):
            rowfile.append_row(session.results_dir, row, session.worker)
            rowfile.append_outcomes(session.results_dir, row, outcomes)
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


@dataclass
class Graded:
    """One student's grading: the training child's report (the checks' outcomes), the homework's result (None when
    it stopped, `problem` saying why) and why the children were not sealed off the data, if they were not."""

    report: sandbox.ChildReport
    result: homework.HomeworkResult | None
    problem: str | None
    unsealed: str


def grade_sealed(config: pytest.Config, session, path: Path, student: str, scale_name: str, lang: str) -> Graded:
    """The training child (training and validation images only), then a fresh scoring child (the test images,
    never their labels), both sealed off the data; then the claims, here, on what they measured."""
    scale = session.scale(scale_name)
    settings = homework.Settings.of(scale)
    splits = {seed: load_splits(scale.data_config(session.cache_dir), seed) for seed in settings.seeds}
    class_names = list(splits[settings.seeds[0]].class_names)
    common = dict(
        path=str(path),
        lang=lang,
        call_timeout=call_timeout(config),
        settings=asdict(settings),
        class_names=class_names,
        hidden=[str(folder) for folder in hidden_folders(scale, session)],
    )

    with tempfile.TemporaryDirectory(prefix="tl-claims-student-") as work:
        for seed, split in splits.items():
            np.savez(homework.data_path(Path(work), seed), x_train=split.x_train, y_train=split.y_train,
                     x_val=split.x_val, y_val=split.y_val)  # fmt: skip
        arguments = dict(common, work=work, image_size=CHECK_IMAGE_SIZE)
        server = fork_server(config)
        report = sandbox.run_child("homework", arguments, seconds=HOMEWORK_SECONDS, server=server)
        unsealed = unsealed_reason(report)
        problem = report.contract or report.problem(lang)
        trained = {event["seed"]: homework.Trained.from_fields(event) for event in report.events
                   if event["event"] == "trained"}  # fmt: skip
        if problem or set(trained) != set(settings.seeds):
            return Graded(report, None, problem or messages.text(lang, "child_missing"), unsealed)
        x_test = splits[settings.seeds[0]].x_test
        np.savez(homework.test_images_path(Path(work)), x_test=x_test)
        seconds = score_seconds(call_timeout(config), len(settings.seeds))
        scoring = sandbox.run_child("score", dict(common, work=work), seconds=seconds, server=server)
    unsealed = unsealed or unsealed_reason(scoring)
    try:
        predictions = scored_predictions(scoring, len(x_test), len(class_names), lang)
        lab = homework.GradedLab(scale, student_backbone(report), splits, trained, predictions)
        result = homework.grade(lab, classroom.safe_name(student), run_id=session.run_id,
                                progress=lambda line: session.progress(scale_name, f"{student}: {line}"))  # fmt: skip
    except HarnessError as error:
        return Graded(report, None, str(error), unsealed)
    return Graded(report, result, None, unsealed)


def score_seconds(call_timeout: float, seeds: int) -> float:
    """The scoring child's bound: its start, and per model the calls it makes of the student's code (build_model,
    build_datasets and the pass, once more each per group where the pipeline shuffles: counted as twice)."""
    return sandbox.STARTUP_SECONDS + call_timeout * SCORE_CALLS * len(homework.PHASES) * seeds


def scored_predictions(scoring: sandbox.ChildReport, n: int, num_classes: int, lang: str) -> dict:
    """(phase, seed) -> each test image's prediction, in the test set's order (HarnessError: why there is none)."""
    problem = scoring.contract or scoring.problem(lang)
    if problem:
        raise HarnessError(problem)
    predictions = {}
    for event in scoring.events:
        if event["event"] == "scored":
            for phase, passes in event["phases"].items():
                predictions[(phase, int(event["seed"]))] = homework.predictions_in_order(passes, n, num_classes, lang)
    return predictions


def unsealed_reason(report: sandbox.ChildReport) -> str:
    event = report.first("sealed")
    return "" if event is not None and not event.get("reason") else str((event or {}).get("reason") or "no seal")


def hidden_folders(scale, session) -> list[Path]:
    """Every folder the test split or its labels can be read from: the data source, the caches but their converted
    weights (a student's base loads them), the results, TensorFlow Datasets' and Keras' data folders."""
    from tl_claims.data import photos
    from tl_claims.data.spec import parse_dataset_spec

    spec = parse_dataset_spec(scale.dataset)
    folders = [Path(session.results_dir)]
    if spec.kind == "tf_flowers":
        folders += [photos.PHOTOS_ROOT, *git_folders(photos.PHOTOS_ROOT)]
    elif spec.kind == "folder":
        folders.append(Path(spec.argument).expanduser())
    for cache in {Path(session.cache_dir).resolve(), default_cache_dir().resolve()}:
        if cache.is_dir():
            folders += [entry for entry in cache.iterdir() if entry.name not in WEIGHTS_CACHE]
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    tfds = Path(os.environ.get("TFDS_DATA_DIR", Path.home() / "tensorflow_datasets"))
    return [*folders, keras_home / "datasets", tfds, Path.home() / "tensorflow_datasets"]


def git_folders(path: Path) -> list[Path]:
    """The git folder of the repository `path` is in (its objects hold the shipped photos too), shared worktrees'
    included."""
    for folder in (path, *path.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return [dot_git]
        if dot_git.is_file():
            own = Path(dot_git.read_text(encoding="utf-8").split(":", 1)[1].strip())
            common = own / "commondir"
            return [own, (own / common.read_text(encoding="utf-8").strip()).resolve()] if common.is_file() else [own]
    return []


SCORE_CALLS = 6  # student calls per model scored: build_model, build_datasets and the pass, twice where it shuffles
WEIGHTS_CACHE = ("backbones", "locks")  # the cache's entries a student's base reads: converted weights, their locks


def student_backbone(report: sandbox.ChildReport) -> str:
    return str((report.first("trained") or {}).get("backbone", ""))


def graded_record(session, graded: Graded, path: Path, scale_name: str, lang: str) -> dict:
    """The student's record: the homework's numbers (with the lesson's code beside them), every check's outcome and,
    for those that did not pass, its message; why the grading stopped, if it did; when, at which scale, by which
    version; what was not graded, and whether the test split was sealed off the student's code."""
    fields = {}
    if graded.result is not None:
        fields = homework.result_fields(graded.result, lang)
        reference = lesson_literal(session, scale_name, str(fields["backbone"]))
        fields = homework.with_reference(fields, reference, lang)
    verdicts = check_verdicts(graded.report, lang)
    notes = [] if scoring.criteria_graded(scale_name) else [messages.text(lang, "homework_smoke_not_graded")]
    if graded.unsealed:
        notes.append(messages.text(lang, "homework_not_sealed", reason=graded.unsealed))
    return {
        **fields,
        **{name: outcome for name, (outcome, _) in verdicts.items()},
        "check_messages": {name: message for name, (outcome, message) in verdicts.items() if outcome != "passed"},
        "problem": graded.problem or "",
        "note": "; ".join(notes),
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
