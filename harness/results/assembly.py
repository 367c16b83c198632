"""The results table: rows are plain data, written the moment a claim test finishes, rendered at the end.

Layout under the results directory, per scale:
    <scale>/runs/<run id>/<worker>.jsonl   one JSON row per finished claim test, appended and flushed at once
    <scale>/runs/<run id>/skipped/<worker>.jsonl   one JSON line per skipped claim test, with its reason
    <scale>/claims.csv | claims.md | claims.json   the assembled table (newest row per claim × variant × configuration)
    <scale>/figures/deltas.png                    delta ± interval per claim, threshold marked
An interrupted run keeps its jsonl rows; `assemble` (run at session end and by `python -m harness report`) folds
every recorded run into the table, so nothing measured is lost. A scale folder holding only claims.json (the runs
were deleted or never copied) is assembled from that file's rows. Every file is written whole or not at all.

Rows are grouped by configuration (`CONFIG_KEYS`): rows measured on another image size, backbone, data set, training
size or number of seeds are another table, never mixed into one.
"""

import json
import math
import os
import platform
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from harness.core.paths import REPO_ROOT
from harness.results import figures, replication

# The columns every consumer can rely on, in display order.
COLUMNS = [
    "claim",
    "variant",
    "scale",
    "backbone",
    "dataset",
    "image_size",
    "n_train",
    "seeds",
    "baseline",
    "treatment",
    "delta",
    "ci_low",
    "ci_high",
    "threshold",
    "verdict",
    "seconds",
]
MARKDOWN_COLUMNS = [
    "claim",
    "variant",
    "role",
    "metric",
    "baseline_arm",
    "baseline",
    "treatment_arm",
    "treatment",
    "delta",
    "ci",
    "rule",
    "verdict",
    "adjusted",
]
# What makes two rows comparable: one table per distinct combination (a row's configuration).
CONFIG_KEYS = ("scale", "backbone", "dataset", "image_size", "n_train", "seeds")


class MalformedRowWarning(UserWarning):
    """A line of a rows file that is not a row; it is skipped, and the warning names the file and the line."""


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return "unknown"
    return result.stdout.strip() or "unknown"


@dataclass
class Row:
    claim: str
    variant: str
    scale: str
    backbone: str
    dataset: str
    image_size: int
    n_train: int
    seeds: int
    baseline: float
    treatment: float
    delta: float
    ci_low: float
    ci_high: float
    threshold: float
    verdict: str
    seconds: float
    statement: str = ""
    lesson_section: str = ""
    metric: str = ""
    baseline_arm: str = ""
    treatment_arm: str = ""
    ci_method: str = ""
    explanation: str = ""
    per_seed: dict = field(default_factory=dict)  # arm -> list of per-seed values
    details: dict = field(default_factory=dict)  # extra measurements a claim reports (drift, gaps, versions)
    records: list = field(default_factory=list)  # typed per-seed side measurements (harness.results.records), as dicts
    primary: bool = True  # the claim's own reading of the lesson; other variants are exploratory
    claim_version: int = 1  # the claim's experiment version (bumped when the experiment changes)
    expected: str = ""  # a known finding on this setup: the verdict the test expects instead of CONFIRMED
    rule: str = ""  # the claim type and its bound(s), e.g. "superiority Δ > +2.0 pp" (harness.stats.rules)
    confirms: bool = False  # whether the verdict confirms the lesson's claim (what a test passes on)
    decided: bool = False  # False for INCONCLUSIVE
    p_value: float = 1.0  # one-sided, for "the claim is false"; what the family adjustment uses
    estimate: float = 0.0  # Δ, or for a risk claim the share of seeds that failed
    confidence: float | None = 0.95  # None for exact (deterministic) rows: no interval
    floor: float | None = None  # the half-width the test images alone contribute: the smallest Δ they resolve
    note: str = ""  # the verdict's remark (P(Δ in band), seeds that failed, non-determinism)
    images: int = 0  # test images per seed behind each arm's metric (1: a per-seed scalar metric)
    steps: dict = field(default_factory=dict)  # optimizer steps per training stage behind the row ("stage 2": 48)
    regime: str = ""  # the same in words: epochs × steps per epoch and images per class, per stage
    run_id: str = ""
    finished_at: str = ""  # ISO 8601 with time zone where the plugin stamped it (harness.core.provenance)
    git_commit: str = field(default_factory=_git_commit)  # the code that measured this row
    # Provenance of the measurement, stamped by the plugin when the test finishes (harness.core.provenance); empty on
    # rows recorded before these fields existed.
    started_at: str = ""  # ISO 8601 with time zone
    node_id: str = ""  # the pytest node id that measured the row: paste it to rerun exactly this test
    tool_version: str = ""  # tl-claims' version
    git_dirty: bool | None = None  # uncommitted changes to tracked files when the row was measured
    versions: dict = field(default_factory=dict)  # library -> version
    machine: dict = field(default_factory=dict)  # host, processor, CPUs, platform, Python, GPUs


def new_run_id() -> str:
    """Sortable by start time, unique enough across machines sharing a results folder."""
    return time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"


def append_row(results_dir: Path, row: Row, worker: str = "main") -> Path:
    """Write one row as a JSON line and flush it to disk before returning."""
    path = Path(results_dir) / row.scale / "runs" / row.run_id / f"{worker}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(_line_start(path) + json.dumps(_finite(asdict(row))) + "\n")
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


def append_outcomes(results_dir: Path, row: Row, outcomes) -> Path:
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


def _finite(value: object) -> object:
    """JSON has no infinity: an unbounded interval (one seed) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
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
    return {"run_id": "", "finished_at": "", **value}, ""


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
    return any(Path(scale_dir).glob("runs/*/*.jsonl"))


def _previous_environment(scale_dir: Path) -> dict:
    """Rows assembled again from claims.json keep the environment that file recorded."""
    try:
        document = json.loads((Path(scale_dir) / "claims.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return environment()
    previous = document.get("environment") if isinstance(document, dict) else None
    return previous if isinstance(previous, dict) else environment()


def configuration(row: dict) -> tuple:
    """The set-up a row was measured on (`CONFIG_KEYS`): rows are compared and tabulated only within one."""
    return tuple(row.get(key) for key in CONFIG_KEYS)


def configuration_title(row: dict) -> str:
    """A heading that names a configuration, e.g. `cpu · efficientnet_lite0 · synthetic · 96 px · 50 per class ·
    5 seeds`."""
    return (
        f"{row.get('scale')} · {row.get('backbone')} · {row.get('dataset')} · {row.get('image_size')} px · "
        f"{row.get('n_train')} per class · {row.get('seeds')} seeds"
    )


def group_rows(rows: Iterable[dict]) -> dict[tuple, list[dict]]:
    """Rows by configuration, configurations in a stable order (most rows first, then by value)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(configuration(row), []).append(row)
    return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), [str(v) for v in item[0]])))


def latest_rows(rows: list[dict]) -> list[dict]:
    """The newest row per (claim, variant, configuration), in claim then variant order."""
    newest: dict[tuple, dict] = {}
    for row in sorted(rows, key=lambda r: (str(r["run_id"]), str(r["finished_at"]))):
        newest[(row["claim"], row["variant"], *map(str, configuration(row)))] = row
    return [newest[key] for key in sorted(newest)]


def assemble(results_dir: Path, scale: str) -> pd.DataFrame | None:
    """Fold all recorded rows of one scale into claims.csv / .md / .json and the figures; the table comes back with
    the assembling environment in `table.attrs["environment"]` and the skipped tests in `table.attrs["skipped"]`.
    Holm's adjustment runs within each configuration (one table, one family)."""
    scale_dir = Path(results_dir) / scale
    rows = latest_rows(read_rows(scale_dir))
    if not rows:
        return None
    rows = [row for group in group_rows(rows).values() for row in with_family_verdicts(group)]
    skipped = read_skips(scale_dir)
    table = pd.DataFrame(rows)
    table = table[COLUMNS + [c for c in table.columns if c not in COLUMNS]]
    flat = table.drop(columns=["per_seed", "details", "records", "versions", "machine"], errors="ignore")
    write_atomic(scale_dir / "claims.csv", flat.to_csv(index=False))
    write_atomic(scale_dir / "claims.md", grouped_markdown(rows, skipped))
    table.attrs["environment"] = environment() if has_runs(scale_dir) else _previous_environment(scale_dir)
    table.attrs["skipped"] = skipped
    document = {"scale": scale, "environment": table.attrs["environment"], "rows": rows, "skipped": skipped}
    write_atomic(scale_dir / "claims.json", json.dumps(_finite(document), indent=2))
    figures.plot_deltas(rows, scale_dir / "figures" / "deltas.png")
    figures.draw_claim_figures(rows, scale_dir / "figures")
    if len({replication.configuration(row) for row in rows}) > 1:  # the same claims on several set-ups
        replicated = replication.replication_table(rows)
        write_atomic(scale_dir / "replication.csv", replicated.to_csv(index=False))
        write_atomic(scale_dir / "replication.md", replication.to_markdown(replicated))
        table.attrs["replication"] = replicated
    return table


def with_family_verdicts(rows: list[dict]) -> list[dict]:
    """Each row with its role (primary / exploratory / deterministic) and its verdict after Holm's adjustment over
    the primary rows of the table (harness.stats.family.holm): one claim, one primary row, one family."""
    from harness.stats.family import holm
    from harness.stats.rules import Verdict

    judged = [
        Verdict(
            row.get("verdict", ""),
            bool(row.get("confirms")),
            bool(row.get("decided")),
            float(row.get("p_value", 1.0)),
            row.get("rule", ""),
            float(row.get("estimate", 0.0)),
            row.get("ci_low"),
            row.get("ci_high"),
            row.get("confidence"),
        )
        for row in rows
    ]
    family = holm(judged, [bool(row.get("primary")) for row in rows])
    return [
        {**row, "role": member.role, "adjusted_p": member.adjusted_p, "adjusted": member.word}
        for row, member in zip(rows, family)
    ]


def to_markdown(table: pd.DataFrame | list[dict]) -> str:
    """A GitHub table of the rows: role, metric, arms, means, delta with its interval (or the failing share, for a
    risk), the rule (the claim type and its bound), the raw verdict and the verdict after the family adjustment."""
    rows = table.to_dict("records") if isinstance(table, pd.DataFrame) else list(table)
    lines = ["| " + " | ".join(MARKDOWN_COLUMNS) + " |", "|" + "---|" * len(MARKDOWN_COLUMNS)]
    lines += ["| " + " | ".join(_cell(value) for value in markdown_cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown_cells(row: dict) -> list[str]:
    """One row's cells in MARKDOWN_COLUMNS order, formatted for reading (means to 3 places, Δ in pp)."""
    shown = {
        **row,
        "baseline": f"{float(row['baseline']):.3f}",
        "treatment": f"{float(row['treatment']):.3f}",
        "delta": f"{float(row['delta']) * 100:+.1f} pp",
        "ci": ci_text(row),
    }
    return [str(shown.get(name, "") if not _missing(shown.get(name)) else "") for name in MARKDOWN_COLUMNS]


def _cell(text: str) -> str:
    """A table cell: a `|` inside would split it."""
    return text.replace("|", "\\|").replace("\n", " ")


def grouped_markdown(rows: list[dict], skipped: list[dict], heading: str = "###") -> str:
    """One table per configuration, each under a heading naming it, then the skipped tests with their reasons."""
    parts = []
    for group in group_rows(rows).values():
        parts.append(f"{heading} {configuration_title(group[0])}\n\n{to_markdown(group)}")
    if skipped:
        parts.append(f"{heading} Skipped\n\n{skipped_markdown(skipped)}")
    return "\n".join(parts)


def skipped_markdown(skipped: list[dict]) -> str:
    lines = [f"- `{skip['claim']}` [{skip['variant']}]: {skip.get('reason', 'no reason recorded')}" for skip in skipped]
    return "\n".join(lines) + "\n"


def ci_text(row: dict) -> str:
    low, high = row.get("ci_low"), row.get("ci_high")
    if _missing(row.get("confidence", 0.95)):  # rows of exact (deterministic) claims carry no confidence
        return "exact (no interval)"
    if low is None or high is None or _missing(low) or _missing(high):
        return "n/a (1 seed)"
    if str(row.get("rule", "")).startswith("risk"):
        return f"share {row['estimate']:.2f} [{low:.2f}, {high:.2f}]"
    if "no variation observed" in str(row.get("ci_method", "")):
        return f"none: every seed and image Δ {float(low) * 100:+.1f}"
    return f"[{float(low) * 100:+.1f}, {float(high) * 100:+.1f}]"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def environment() -> dict:
    """The environment that assembled the table (each row carries its own measuring provenance)."""
    from harness.core import provenance

    commit = provenance.commit_info(REPO_ROOT)
    return {
        "date": provenance.now(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), {platform.platform()}",
        "python": platform.python_version(),
        "versions": provenance.library_versions(),
        "git_commit": commit["id"],
        "git_dirty": commit["dirty"],
    }
