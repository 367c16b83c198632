"""Grading a whole class: one record per student (the homework's numbers, every teaching check's outcome and
message, when and what was graded), and the gradebook `results/<scale>/homework_class.{csv,md}` assembled from them
at the end of the session.

The gradebook is written by the grader alone, from what it measured: each record travels from the pytest process that
graded the student to the one that writes the table in memory (the test report's user properties, which carry it
under xdist too), and the earlier gradebook is read before any student's code runs. So nothing a student's process
writes in the results folder (a record for a student who does not exist, another student's row, its own row
rewritten after its turn) counts. The gradebook accumulates: the run's records are merged into the earlier rows, one
row per student, the latest grading winning, so re-grading one student leaves the others.

A student is the file's path relative to the class folder ("ana/pipeline", "a b"): two students never share a row,
whatever their files are called. Each row carries the time graded, the scale, the tool's version, the run and the
SHA-256 of the file graded; a row whose file has changed (or gone) since is marked stale each time the table is
written. Points are counted from the outcomes when the table is written (tl_claims/teaching/scoring.py), and the
Markdown table and the terminal end with a class summary: the pass rate of each check and criterion, the mean and
spread of each accuracy and of the points.
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tl_claims.core.markdown import markdown_table
from tl_claims.core.spreadsheet import FORMULA_STARTS, neutral_cell
from tl_claims.teaching.checks import CHECKS
from tl_claims.teaching.scoring import CRITERIA, criteria_graded, mean_spread, pass_rate, score

NUMBERS = ("phase1", "phase2", "scratch")
POINTS_COLUMNS = ("points", "max_points")
ABOUT = ("graded", "scale", "version", "run", "sha256", "stale", "file")  # when, by which run, what was graded
COLUMNS = ("student", *POINTS_COLUMNS, *NUMBERS, *CRITERIA, *CHECKS, "note", "problem", *ABOUT)
SHOWN_SHA = 12  # hex digits of the SHA-256 in the Markdown table (the CSV keeps all 64)
NAME_CHARACTERS = 100  # of a student's name in file names and claim variants, before its hash suffix
NAME_HASH = 10  # hex digits of the SHA-256 of the student's name that keep a changed or shortened name unique


def safe_name(student: str) -> str:
    """The student's name as a file name and a claim variant: itself when it is short and plain; otherwise its
    plain characters (at most NAME_CHARACTERS) and a hash of the whole name, so that `a b` and `a_b`, or two long
    names alike at the start, stay two files."""
    plain = re.sub(r"[^A-Za-z0-9_.-]", "_", student).lstrip(".")
    if plain == student and len(student) <= NAME_CHARACTERS:
        return student
    digest = hashlib.sha256(student.encode("utf-8", errors="surrogatepass")).hexdigest()[:NAME_HASH]
    return f"{plain[:NAME_CHARACTERS]}-{digest}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def now() -> str:
    """The time graded: UTC, to the second, in a form that sorts as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cells(record: Mapping[str, object], scale: str) -> dict[str, str]:
    """A record as the gradebook's text cells: criteria yes / no (empty where not graded), numbers as written."""
    row = {}
    for column in COLUMNS:
        value = record.get(column)
        if column in CRITERIA and not criteria_graded(scale):
            value = None
        row[column] = "" if value is None else ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return row


def class_rows(
    records: list[Mapping], earlier: list[dict[str, str]], scale: str, points: Mapping[str, float]
) -> list[dict[str, str]] | None:
    """The gradebook after this run: the `earlier` rows merged with this run's records by student, the latest
    grading winning, each marked stale or not and scored; None when no student was graded at `scale` in this run."""
    if not records:
        return None
    merged: dict[str, dict[str, str]] = {}
    for row in sorted([*earlier, *(cells(record, scale) for record in records)], key=lambda row: row["graded"]):
        merged[row["student"]] = row  # stable sort: at equal times this run's record comes last and wins
    rows = [merged[student] for student in sorted(merged)]
    for row in rows:
        row["stale"] = staleness(row)
        row["points"], row["max_points"] = (f"{value:g}" for value in score(row, points, scale))
    return rows


def gradebook_path(results_dir: Path, scale: str) -> Path:
    return Path(results_dir) / scale / "homework_class.csv"


def read_gradebook(path: Path) -> list[dict[str, str]]:
    """The rows of an earlier `homework_class.csv` (missing columns empty), [] when there is none."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [{column: as_written(row.get(column) or "") for column in COLUMNS} for row in csv.DictReader(handle)]


def as_written(cell: str) -> str:
    """A cell as it was before `neutral_cell` marked it as text for the spreadsheets (a leading `'`), so that a
    student named `-ana` stays one student when the gradebook is read back and written again."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def staleness(row: Mapping[str, str]) -> str:
    """yes when the graded file has changed since, gone when it is no longer there, no when it is the same."""
    if not row["file"] or not row["sha256"]:
        return ""
    path = Path(row["file"])
    if not path.is_file():
        return "gone"
    return "yes" if sha256_of(path) != row["sha256"] else "no"


def earlier_gradebooks(results_dir: Path) -> dict[str, list[dict[str, str]]]:
    """scale -> the rows of its `homework_class.csv` as they are now: read before any student's code runs."""
    return {path.parent.name: read_gradebook(path) for path in sorted(Path(results_dir).glob("*/homework_class.csv"))}


def write_class_table(
    results_dir: Path,
    scale: str,
    records: list[Mapping],
    points: Mapping[str, float],
    earlier: list[dict[str, str]] | None = None,
) -> tuple[Path, Path, list[str]] | None:
    """`homework_class.csv` and `.md` for one scale from this run's `records` and the `earlier` rows (those on disk
    now when not given), and the class summary's terminal lines; None when no student was graded at that scale."""
    if earlier is None:
        earlier = read_gradebook(gradebook_path(results_dir, scale))
    rows = class_rows(records, earlier, scale, points)
    if rows is None:
        return None
    csv_path = gradebook_path(results_dir, scale)
    md_path = csv_path.with_suffix(".md")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({column: neutral_cell(value) for column, value in row.items()} for row in rows)
    summary = class_summary(rows, scale)
    md_path.write_text(to_markdown(rows, summary, scale), encoding="utf-8")
    return csv_path, md_path, summary_lines(rows, summary, scale)


def class_summary(rows: list[dict[str, str]], scale: str) -> dict[str, str]:
    """The summary row: pass rate per check and criterion, mean ± sd of each accuracy and of the points."""
    summary = {"student": f"class ({len(rows)})"}
    for number in NUMBERS:
        summary[number] = mean_spread([float(row[number]) for row in rows if row[number]], 3)
    for name in (*CRITERIA, *CHECKS):
        if name in CHECKS or criteria_graded(scale):
            passed = sum(row[name] in ("passed", "yes") for row in rows)
            summary[name] = pass_rate(passed, len(rows))
    summary["points"] = mean_spread([float(row["points"]) for row in rows], 1)
    summary["max_points"] = rows[0]["max_points"]
    return summary


def to_markdown(rows: list[dict[str, str]], summary: dict[str, str], scale: str) -> str:
    """The gradebook under a title, numbers to 3 places, the SHA-256 shortened, the summary row last, a legend."""
    shown = [shown_row(row) for row in rows]
    shown.append({column: summary.get(column, "") for column in COLUMNS if column != "file"})
    title = f"# Homework, {scale} scale: {len(rows)} student(s)\n\n"
    note = (
        "\n\npoints of max_points (tl_claims/teaching/scoring.py); phase1 / phase2 / scratch: test accuracy (mean "
        "over seeds); *_accepted: the lesson's acceptance criteria (not graded at smoke scale); one column per "
        "teaching check; note: what was not graded; problem: why a student's grading stopped, if "
        "it did; graded (UTC), scale, tool version, run id and the SHA-256 of the file graded; stale: yes when that "
        "file has changed since (gone: no longer there). The last row is the class: pass rates, mean ± sd over "
        "students. "
        "Each student's feedback: feedback/<student>.md.\n"
    )
    return title + markdown_table(shown) + note


def shown_row(row: Mapping[str, str]) -> dict[str, str]:
    shown = {column: row[column] for column in COLUMNS if column != "file"}
    for number in NUMBERS:
        shown[number] = f"{float(row[number]):.3f}" if row[number] else ""
    shown["sha256"] = row["sha256"][:SHOWN_SHA]
    return shown


def summary_lines(rows: list[dict[str, str]], summary: dict[str, str], scale: str) -> list[str]:
    """The class summary for the terminal: points, accuracies, pass rate per check and criterion, stale rows."""
    lines = [
        f"class summary, {scale} scale: {len(rows)} student(s), points {summary['points']} of {summary['max_points']}",
        "  accuracy, mean ± sd: " + ", ".join(f"{number} {summary[number] or '-'}" for number in NUMBERS),
    ]
    if criteria_graded(scale):
        lines.append("  criteria met: " + ", ".join(f"{name} {summary[name]}" for name in CRITERIA))
    else:
        lines.append("  criteria: not graded at smoke scale (-m cpu grades them)")
    lines += [f"  {name}: {summary[name]} passed" for name in CHECKS]
    stale = [row["student"] for row in rows if row["stale"] in ("yes", "gone")]
    if stale:
        lines.append(f"  stale (file changed since graded; grade again): {', '.join(stale)}")
    return lines


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
