"""Rows files: each finished claim test appended as one JSON line and flushed at once, read back as dicts.

Layout under the results directory, per scale:
    <scale>/runs/<run id>/<worker>.jsonl            one JSON row per finished claim test (tl_claims.results.row.Row)
    <scale>/runs/<run id>/skipped/<worker>.jsonl    one JSON line per skipped claim test, with its reason
    <scale>/runs/<run id>/outcomes/<claim>-<variant>.npz   per-image scores of both arms, seeds × images
An interrupted run keeps its lines; a torn or malformed line is skipped with a warning naming file and line. A
scale folder holding only claims.json (the runs were deleted or never copied) is read from that file's rows. Files
written whole (`write_atomic`) are seen old or new, never half written.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
import warnings
from dataclasses import MISSING, asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tl_claims.results.row import Row

if TYPE_CHECKING:
    from tl_claims.results.row import Outcomes


class MalformedRowWarning(UserWarning):
    """A line of a rows file that is not a row; it is skipped, and the warning names the file and the line."""


def new_run_id() -> str:
    """Sortable by start time, unique enough across machines sharing a results folder."""
    return time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"


def append_row(results_dir: Path, row: Row, worker: str = "main") -> Path:
    """Write one row as a JSON line and flush it to disk before returning."""
    path = Path(results_dir) / row.scale / "runs" / row.run_id / f"{worker}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(_line_start(path) + json.dumps(json_safe(asdict(row))) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def _line_start(path: Path) -> str:
    """A newline first when the file ends in a torn line (a killed writer), so that line cannot swallow this row."""
    if not path.is_file() or path.stat().st_size == 0:
        return ""
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return "" if handle.read(1) == b"\n" else "\n"


def append_outcomes(results_dir: Path, row: Row, outcomes: Outcomes) -> Path:
    """Per-image scores of both arms (seeds × images) next to the row, so every interval can be recomputed."""
    path = Path(results_dir) / row.scale / "runs" / row.run_id / "outcomes" / f"{row.claim}-{row.variant}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
    np.savez_compressed(
        partial,
        seeds=np.asarray(outcomes.seeds),
        baseline=outcomes.baseline.astype("float32"),
        treatment=outcomes.treatment.astype("float32"),
    )
    partial.replace(path)
    return path


def json_safe(value: object) -> object:
    """JSON has no infinity: an unbounded interval (one seed) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    return value


def append_skip(results_dir: Path, skip: dict, worker: str = "main") -> Path:
    """A skipped claim test (claim, variant, scale, run_id, reason, node_id), so the report can list it."""
    path = Path(results_dir) / skip["scale"] / "runs" / skip["run_id"] / "skipped" / f"{worker}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(skip) + "\n")
    return path


def write_atomic(path: Path, text: str) -> Path:
    """Write through a temporary file in the same folder and rename it: a reader sees the old file or the new one,
    never half of one (a killed report, a full disk)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


REQUIRED = tuple(f.name for f in fields(Row) if f.default is MISSING and f.default_factory is MISSING)
TEXT_KEYS = ("claim", "variant", "scale")
NUMBER_KEYS = ("baseline", "treatment", "delta", "threshold")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_rows(scale_dir: Path) -> list[dict]:
    """Every recorded row of every run, oldest run first. A line that is not a row (a torn last line from a killed
    writer, a number, `{}`, a row without `claim`, bytes that are not UTF-8) is skipped with a MalformedRowWarning
    naming the file and line. With no runs, the rows of an assembled claims.json stand in."""
    paths = sorted(Path(scale_dir).glob("runs/*/*.jsonl"))
    if not paths and (Path(scale_dir) / "claims.json").is_file():
        return read_claims_json(Path(scale_dir) / "claims.json")
    rows = []
    for path in paths:
        rows.extend(_rows_of(path))
    return rows


def _rows_of(path: Path) -> list[dict]:
    rows = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        row, problem = parse_row(raw)
        if problem:
            warnings.warn(f"{path}:{number}: skipped, {problem}", MalformedRowWarning, stacklevel=2)
        else:
            rows.append(row)
    return rows


def parse_row(raw: bytes) -> tuple[dict, str]:
    """One rows-file line as a row, or why it is not one."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return {}, "not UTF-8 text"
    except json.JSONDecodeError:
        return {}, "not a complete JSON object (a torn line from an interrupted run?)"
    if not isinstance(value, dict):
        return {}, f"a JSON {type(value).__name__}, not a row object"
    missing = [key for key in REQUIRED if key not in value]
    if missing:
        return {}, f"row without {', '.join(missing)}"
    wrong = [key for key in TEXT_KEYS if not isinstance(value[key], str) or not value[key]]
    if wrong:
        return {}, f"{', '.join(wrong)} must be non-empty text"
    not_numbers = [key for key in NUMBER_KEYS if not _is_number(value[key])]
    not_numbers += [key for key in ("ci_low", "ci_high") if value[key] is not None and not _is_number(value[key])]
    if not_numbers:
        return {}, f"{', '.join(not_numbers)} must be numbers"
    return {**OLDER_ROWS, **value}, ""


# What a row recorded before a field existed reads as: unknown run and test-set size, and TensorFlow, the one backend
# the suite ran on before `Row.backend`.
OLDER_ROWS = {"run_id": "", "finished_at": "", "n_test": 0, "backend": "tensorflow"}


def read_claims_json(path: Path) -> list[dict]:
    """The rows of an assembled claims.json (checked like rows-file lines); [] with a warning if it is unreadable."""
    try:
        document = json.loads(Path(path).read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        warnings.warn(f"{path}: skipped, not a readable claims.json ({error})", MalformedRowWarning, stacklevel=2)
        return []
    listed = document.get("rows", []) if isinstance(document, dict) else []
    rows = []
    for number, value in enumerate(listed if isinstance(listed, list) else [], start=1):
        row, problem = parse_row(json.dumps(value).encode())
        if problem:
            warnings.warn(f"{path}: row {number} skipped, {problem}", MalformedRowWarning, stacklevel=2)
        else:
            rows.append(row)
    return rows


def read_skips(scale_dir: Path) -> list[dict]:
    """Skipped claim tests, newest per claim × variant, leaving out those measured in the same or a later run."""
    skips: dict[tuple[str, str], dict] = {}
    for path in sorted(Path(scale_dir).glob("runs/*/skipped/*.jsonl")):
        for skip in _rows_of_any(path):
            skips[(skip["claim"], skip["variant"])] = skip
    measured: dict[tuple[str, str], str] = {}
    for row in read_rows(scale_dir) if skips else []:
        key = (row["claim"], row["variant"])
        measured[key] = max(measured.get(key, ""), str(row.get("run_id", "")))
    return [skip for key, skip in sorted(skips.items()) if measured.get(key, "") < str(skip.get("run_id", ""))]


def _rows_of_any(path: Path) -> list[dict]:
    """JSON objects with a claim and a variant, one a line; anything else is skipped with a warning."""
    found = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
        if isinstance(value, dict) and isinstance(value.get("claim"), str) and isinstance(value.get("variant"), str):
            found.append(value)
        elif raw.strip():
            warnings.warn(f"{path}:{number}: skipped, not a skip record", MalformedRowWarning, stacklevel=2)
    return found


def has_runs(scale_dir: Path) -> bool:
    """Whether any run recorded rows here (else only an assembled claims.json may hold them)."""
    return any(Path(scale_dir).glob("runs/*/*.jsonl"))
