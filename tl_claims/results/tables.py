"""The table a reader sees: rows grouped by configuration, the newest row per claim × variant, and Markdown.

Rows are grouped by configuration (`CONFIG_KEYS`): rows measured on another image size, backbone, data set or training
size are another table, never mixed into one. The seed count is not part of it: under `--seeds auto` each row stops
at its own look, and a row may ask for more seeds (`min_seeds`), yet the table stays one table and one Holm family
(tl_claims.results.assembly); each row records its own seeds.
"""

import math
from collections.abc import Iterable

import pandas as pd

from tl_claims.core.markdown import escape_text, markdown_table

# The columns every consumer can rely on, in display order.
COLUMNS = [
    "claim",
    "variant",
    "scale",
    "backbone",
    "dataset",
    "backend",
    "image_size",
    "n_train",
    "n_test",
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
# What a reader sees of a row (README, claims.md, report.html): role, metric, arms, means, delta with its interval
# (or the failing share, for a risk), the rule (the claim type and its bound), the raw verdict and the verdict after
# the family adjustment.
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
# What makes two rows comparable: one table per distinct combination (a row's configuration). The Keras backend is
# one: the same recipe on JAX is another measurement, set beside TensorFlow's by the replication table.
CONFIG_KEYS = ("scale", "backbone", "dataset", "image_size", "n_train", "backend")


def table_key(row: dict) -> tuple:
    """The table a row belongs to: the set-up it was measured on (its `CONFIG_KEYS` values). Rows are compared and
    tabulated only within one (`replication.replication_column` instead sets set-ups side by side)."""
    return tuple(row.get(key) for key in CONFIG_KEYS)


def test_images(row: dict) -> str:
    """`1,000 test images · ` where the row recorded its test set's size, else nothing (older rows)."""
    n_test = row.get("n_test")
    return f"{int(n_test):,} test images · " if isinstance(n_test, int | float) and n_test > 0 else ""


def configuration_title(rows: list[dict]) -> str:
    """A heading that names a table's configuration, e.g. `cpu · efficientnet_lite0 · synthetic · 96 px · 50 per
    class · 5 seeds`; `5–10 seeds` where its rows stopped at different seed counts, and `· on jax` where a backend
    other than TensorFlow measured it."""
    row = rows[0]
    backend = row.get("backend") or "tensorflow"
    counts = sorted({int(r["seeds"]) for r in rows if isinstance(r.get("seeds"), int | float)})
    seeds = "?" if not counts else str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    return (
        f"{row.get('scale')} · {row.get('backbone')} · {row.get('dataset')} · {row.get('image_size')} px · "
        f"{row.get('n_train')} per class · {test_images(row)}{seeds} seeds"
        + ("" if backend == "tensorflow" else f" · on {backend}")
    )


def group_rows(rows: Iterable[dict]) -> dict[tuple, list[dict]]:
    """Rows by configuration, configurations in a stable order (most rows first, then by value)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(table_key(row), []).append(row)
    return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), [str(v) for v in item[0]])))


def latest_rows(rows: list[dict]) -> list[dict]:
    """The newest row per (claim, variant, configuration), in claim then variant order."""
    newest: dict[tuple, dict] = {}
    for row in sorted(rows, key=lambda r: (str(r["run_id"]), str(r["finished_at"]))):
        newest[(row["claim"], row["variant"], *map(str, table_key(row)))] = row
    return [newest[key] for key in sorted(newest)]


def markdown_cells(row: dict) -> list[str]:
    """One row's cells in MARKDOWN_COLUMNS order, formatted for reading (means to 3 places, Δ in pp), for the
    Markdown and the HTML tables alike."""
    shown = {
        **row,
        "baseline": f"{float(row['baseline']):.3f}",
        "treatment": f"{float(row['treatment']):.3f}",
        "delta": f"{float(row['delta']) * 100:+.1f} pp",
        "ci": ci_text(row),
    }
    return [str(shown.get(name, "") if not _missing(shown.get(name)) else "") for name in MARKDOWN_COLUMNS]


def grouped_markdown(rows: list[dict], skipped: list[dict], heading: str = "###") -> str:
    """One table per configuration, each under a heading naming it, then the skipped tests with their reasons."""
    parts = []
    for group in group_rows(rows).values():
        shown = pd.DataFrame([markdown_cells(row) for row in group], columns=MARKDOWN_COLUMNS)
        parts.append(f"{heading} {escape_text(configuration_title(group))}\n\n{markdown_table(shown)}\n")
    if skipped:
        parts.append(f"{heading} Skipped\n\n{skipped_markdown(skipped)}")
    return "\n".join(parts)


def skipped_markdown(skipped: list[dict]) -> str:
    """The skipped claim tests as a list, each with its reason (every part read back from rows files: escaped)."""
    lines = [
        f"- `{escape_text(str(skip['claim']))}` [{escape_text(str(skip['variant']))}]: "
        + escape_text(str(skip.get("reason", "no reason recorded")))
        for skip in skipped
    ]
    return "\n".join(lines) + "\n"


def ci_text(row: dict) -> str:
    """The interval as a reader wants it: in pp, as a failing share for a risk, or why there is none."""
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
