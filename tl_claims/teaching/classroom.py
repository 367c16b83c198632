"""Grading a whole class: one record per student (the homework's numbers and every teaching check's outcome), and
the class table `results/<scale>/homework_class.{csv,md}` assembled from them at the end of the session.

Each record is a JSON file under `results/<scale>/homework/<run id>/`, written by whichever pytest process graded
that student, so the table is complete under xdist too; the table holds the current run's students only.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tl_claims.core.markdown import markdown_table
from tl_claims.core.spreadsheet import csv_text
from tl_claims.teaching.checks import CHECKS

NUMBERS = ("phase1", "phase2", "scratch")
CRITERIA = ("two_stage_accepted", "scratch_accepted")
COLUMNS = ("student", *NUMBERS, *CRITERIA, *CHECKS, "problem")


def record_path(results_dir: Path, scale: str, run_id: str, student: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", student)
    return Path(results_dir) / scale / "homework" / run_id / f"{safe}.json"


def write_record(results_dir: Path, scale: str, run_id: str, record: dict) -> Path:
    path = record_path(results_dir, scale, run_id, record["student"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    return path


def class_table(results_dir: Path, scale: str, run_id: str) -> pd.DataFrame | None:
    folder = Path(results_dir) / scale / "homework" / run_id
    records = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]
    if not records:
        return None
    return pd.DataFrame([{column: record.get(column, "") for column in COLUMNS} for record in records])


def write_class_table(results_dir: Path, scale: str, run_id: str) -> tuple[Path, Path] | None:
    """`homework_class.csv` and `.md` for one scale; None when no student was graded at that scale in this run."""
    table = class_table(results_dir, scale, run_id)
    if table is None:
        return None
    csv_path = Path(results_dir) / scale / "homework_class.csv"
    md_path = csv_path.with_suffix(".md")
    csv_path.write_text(csv_text(table), encoding="utf-8")  # no cell a spreadsheet would run as a formula
    md_path.write_text(to_markdown(table, scale), encoding="utf-8")
    return csv_path, md_path


def to_markdown(table: pd.DataFrame, scale: str) -> str:
    """The class table under a title, numbers to 3 places, criteria and checks as yes / no, and a legend."""
    shown = table.map(lambda value: ("yes" if value else "no") if isinstance(value, bool) else value)
    title = f"# Homework, {scale} scale: {len(table)} student(s)\n\n"
    note = (
        "\n\nphase1 / phase2 / scratch: test accuracy (mean over seeds); *_accepted: the lesson's acceptance "
        "criteria; one column per teaching check; problem: why a student's grading stopped, if it did.\n"
    )
    return title + markdown_table(shown, floats=".3f") + note


@dataclass
class Progress:
    """'student k/n: name' lines with the elapsed time and an estimate of what is left (mean per student so far)."""

    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0

    def line(self, student: str) -> str:
        elapsed = time.monotonic() - self.started
        text = f"student {self.done + 1}/{self.total}: {student} (elapsed {clock(elapsed)}"
        if self.done:
            left = elapsed / self.done * (self.total - self.done)
            text += f", about {clock(left)} left, {clock(elapsed + left)} in total"
        return text + ")"

    def finished(self) -> None:
        self.done += 1


def clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"
