"""The results table: rows are plain data, written the moment a claim test finishes, rendered at the end.

Layout under the results directory, per scale:
    <scale>/runs/<run id>/<worker>.jsonl   one JSON row per finished claim test, appended and flushed at once
    <scale>/claims.csv | claims.md | claims.json   the assembled table (newest row per claim × variant)
    <scale>/figures/deltas.png                    delta ± interval per claim, threshold marked
An interrupted run keeps its jsonl rows; `assemble` (run at session end and by `python -m harness report`) folds
every recorded run into the table, so nothing measured is lost.
"""

import json
import math
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness import figures
from harness.paths import REPO_ROOT

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
    records: list = field(default_factory=list)  # typed per-seed side measurements (harness.records), as dicts
    primary: bool = True  # the claim's own reading of the lesson; other variants are exploratory
    claim_version: int = 1  # the claim's experiment version (bumped when the experiment changes)
    expected: str = ""  # a known finding on this setup: the verdict the test expects instead of CONFIRMED
    rule: str = ""  # the claim type and its bound(s), e.g. "superiority Δ > +2.0 pp" (harness.verdicts)
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
    finished_at: str = ""
    git_commit: str = field(default_factory=_git_commit)  # the code that measured this row


def new_run_id() -> str:
    """Sortable by start time, unique enough across machines sharing a results folder."""
    return time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"


def append_row(results_dir: Path, row: Row, worker: str = "main") -> Path:
    """Write one row as a JSON line and flush it to disk before returning."""
    path = Path(results_dir) / row.scale / "runs" / row.run_id / f"{worker}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(_finite(asdict(row))) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


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


def read_rows(scale_dir: Path) -> list[dict]:
    """Every recorded row of every run, oldest run first; a torn last line (a killed writer) is skipped."""
    rows = []
    for path in sorted(Path(scale_dir).glob("runs/*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def latest_rows(rows: list[dict]) -> list[dict]:
    """The newest row per (claim, variant), in claim then variant order."""
    newest: dict[tuple[str, str], dict] = {}
    for row in sorted(rows, key=lambda r: (r["run_id"], r["finished_at"])):
        newest[(row["claim"], row["variant"])] = row
    return [newest[key] for key in sorted(newest)]


def assemble(results_dir: Path, scale: str) -> pd.DataFrame | None:
    """Fold all recorded rows of one scale into claims.csv / .md / .json and the figures; the table comes back with
    the measuring environment in `table.attrs["environment"]`."""
    scale_dir = Path(results_dir) / scale
    rows = latest_rows(read_rows(scale_dir))
    if not rows:
        return None
    rows = with_family_verdicts(rows)
    table = pd.DataFrame(rows)
    table = table[COLUMNS + [c for c in table.columns if c not in COLUMNS]]
    flat = table.drop(columns=["per_seed", "details", "records"], errors="ignore")
    flat.to_csv(scale_dir / "claims.csv", index=False)
    (scale_dir / "claims.md").write_text(to_markdown(table), encoding="utf-8")
    table.attrs["environment"] = environment()
    document = {"scale": scale, "environment": table.attrs["environment"], "rows": rows}
    (scale_dir / "claims.json").write_text(json.dumps(_finite(document), indent=2), encoding="utf-8")
    plot_deltas(table, scale_dir / "figures" / "deltas.png")
    figures.draw_claim_figures(rows, scale_dir / "figures")
    return table


def with_family_verdicts(rows: list[dict]) -> list[dict]:
    """Each row with its role (primary / exploratory / deterministic) and its verdict after Holm's adjustment over
    the primary rows of the table (harness.verdicts.holm): one claim, one primary row, one family."""
    from harness.verdicts import Verdict, holm

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


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub table of the rows: role, arms, means, delta with its interval (or the failing share, for a risk),
    the rule, the raw verdict and the verdict after the family adjustment (in pp)."""
    table = table.assign(**{name: table.get(name, "") for name in ("role", "rule", "adjusted")})
    shown = table.assign(
        baseline=table["baseline"].map("{:.3f}".format),
        treatment=table["treatment"].map("{:.3f}".format),
        delta=table["delta"].map(lambda d: f"{d * 100:+.1f} pp"),
        ci=[_ci_text(row) for row in table.to_dict("records")],
    )[MARKDOWN_COLUMNS]
    lines = ["| " + " | ".join(MARKDOWN_COLUMNS) + " |", "|" + "---|" * len(MARKDOWN_COLUMNS)]
    lines += ["| " + " | ".join(str(value) for value in record) + " |" for record in shown.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _ci_text(row: dict) -> str:
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


def plot_deltas(table: pd.DataFrame, path: Path) -> Path:
    """Delta ± 95 % interval per claim variant, the claimed threshold as a tick; green where the verdict confirms the
    lesson, red where it is decided against it, orange where undecided. Risk and exact rows are drawn as points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{c} [{v}]" for c, v in zip(table["claim"], table["variant"])]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(table) + 1.5))
    for y, row in enumerate(table.to_dict("records")):
        on_delta = not str(row.get("rule", "")).startswith("risk")
        low = _bounds(row["ci_low"] if on_delta else None, row["delta"])
        high = _bounds(row["ci_high"] if on_delta else None, row["delta"])
        colour = "tab:green" if row.get("confirms") else "tab:red" if row.get("decided") else "tab:orange"
        axes.errorbar(
            row["delta"] * 100,
            y,
            xerr=[[(row["delta"] - low) * 100], [(high - row["delta"]) * 100]],
            fmt="o",
            color=colour,
            capsize=3,
        )
        axes.plot(row["threshold"] * 100, y, marker="|", markersize=14, color="black")
    axes.axvline(0, color="grey", linewidth=0.8)
    axes.set_yticks(range(len(table)), labels)
    axes.invert_yaxis()
    axes.set_xlabel("treatment − baseline (pp), 95 % interval; | = claimed threshold")
    axes.set_title(f"tl-claims, {table['scale'].iloc[0]} scale")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _bounds(value: float | None, fallback: float) -> float:
    """An unbounded interval is drawn as a point: the figure shows what was measured, not infinity."""
    return fallback if value is None or not math.isfinite(value) else value


def environment() -> dict:
    """Where and with what the numbers were measured."""
    import keras
    import numpy
    import tensorflow as tf

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), {platform.platform()}",
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "python": platform.python_version(),
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": numpy.__version__,
            "pandas": pd.__version__,
        },
        "git_commit": _git_commit(),
    }
