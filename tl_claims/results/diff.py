"""`python -m tl_claims diff A B`: what changed between two runs (a Keras or TensorFlow upgrade, another backbone or
data set, new code).

A and B are results folders (`results/`, or one scale's `results/cpu/`) or assembled `claims.json` files. Rows are
matched by claim, variant and configuration (scale, backbone, data set, image size, training images per class; the
number of seeds may differ and is shown). Changed verdicts come first (the raw verdict, or the verdict after the
table's Holm adjustment: a primary can keep its raw verdict and lose the adjusted one), then shifts larger than the
intervals (each run's estimate, Δ or a risk row's failing share, outside the other's 95 % interval; for exact rows
any change of Δ), then rows found in one run only. `--fail-on-change` makes either of the first two an exit status
of 1, for CI.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from tl_claims.core.command_help import add_command
from tl_claims.core.errors import HarnessError
from tl_claims.core.markdown import markdown_table
from tl_claims.results import rowfile, tables

MATCH_KEYS = ("claim", "variant", "scale", "backbone", "dataset", "image_size", "n_train")
KINDS = ("verdict changed", "shift beyond intervals", "only in A", "only in B", "within intervals")
FAILING = KINDS[:2]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "diff",
        "Compare two runs row by row: changed verdicts first, then shifts larger than the intervals.",
        [
            "tl-claims diff results_keras_3.10/ results/        # every scale of two results folders",
            "tl-claims diff old/cpu results/cpu --all          # one scale, unchanged rows too",
            "tl-claims diff a/claims.json b/claims.json --fail-on-change   # in CI: exit 1 on a change",
        ],
    )
    parser.add_argument("a", type=Path, help="results folder, scale folder or claims.json of the reference run")
    parser.add_argument("b", type=Path, help="the same for the run compared with it")
    parser.add_argument("--fail-on-change", action="store_true", help="exit 1 on a changed verdict or a shift")
    parser.add_argument("--all", action="store_true", help="also list the rows that stayed within their intervals")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    key: tuple
    a: dict | None
    b: dict | None


def run(args: argparse.Namespace) -> int:
    rows_a, rows_b = load_rows(args.a), load_rows(args.b)
    changes = compare(rows_a, rows_b)
    print(f"A: {args.a} ({len(rows_a)} rows)\nB: {args.b} ({len(rows_b)} rows)\n")
    shown = [change for change in changes if args.all or change.kind != "within intervals"]
    if shown:
        print(markdown_table([change_cells(change) for change in shown]) + "\n")
    counts = {kind: sum(change.kind == kind for change in changes) for kind in KINDS}
    print(", ".join(f"{count} {kind}" for kind, count in counts.items()))
    return 1 if args.fail_on_change and any(counts[kind] for kind in FAILING) else 0


def load_rows(path: Path) -> list[dict]:
    """The newest rows of a claims.json, a scale folder or a results folder (every scale in it)."""
    path = Path(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rowfile.MalformedRowWarning)
        if path.is_file():
            rows = rowfile.read_claims_json(path)
        elif (path / "claims.json").is_file() or (path / "runs").is_dir():
            rows = tables.latest_rows(rowfile.read_rows(path))
        else:
            scales = sorted(child for child in path.iterdir() if child.is_dir()) if path.is_dir() else []
            rows = [row for scale in scales for row in tables.latest_rows(rowfile.read_rows(scale))]
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    if not rows:
        raise HarnessError(f"no rows in {path} (give a results folder, a scale folder or a claims.json)")
    return rows


def compare(rows_a: list[dict], rows_b: list[dict]) -> list[Change]:
    """Every row of either run, classified; in KINDS order, then by claim, variant and configuration."""
    by_a = {match_key(row): row for row in rows_a}
    by_b = {match_key(row): row for row in rows_b}
    changes = [
        Change(classify(by_a.get(key), by_b.get(key)), key, by_a.get(key), by_b.get(key)) for key in {**by_a, **by_b}
    ]
    return sorted(changes, key=lambda change: (KINDS.index(change.kind), [str(part) for part in change.key]))


def match_key(row: dict) -> tuple:
    return tuple(str(row.get(key)) for key in MATCH_KEYS)


def classify(a: dict | None, b: dict | None) -> str:
    if a is None:
        return "only in B"
    if b is None:
        return "only in A"
    if _verdicts(a) != _verdicts(b):
        return "verdict changed"
    return "shift beyond intervals" if shifted(a, b) else "within intervals"


def shifted(a: dict, b: dict) -> bool:
    """Each run's estimate lies outside the other's interval; without an interval on either side, any change of Δ.
    The estimate is what the interval is about: Δ, or a risk row's failing share (its `estimate`)."""
    interval_a, interval_b = _interval(a), _interval(b)
    if interval_a is None or interval_b is None:
        return not math.isclose(float(a["delta"]), float(b["delta"]), abs_tol=1e-9)
    return not _inside(_estimate(a), interval_b) and not _inside(_estimate(b), interval_a)


def _verdicts(row: dict) -> tuple[object, object]:
    """The raw verdict and the adjusted one (the raw verdict where the row carries no adjustment)."""
    return row.get("verdict"), row.get("adjusted", row.get("verdict"))


def _estimate(row: dict) -> float:
    value = row.get("estimate")
    is_risk = str(row.get("rule", "")).startswith("risk")
    return float(value if is_risk and isinstance(value, int | float) else row["delta"])


def _interval(row: dict) -> tuple[float, float] | None:
    low, high = row.get("ci_low"), row.get("ci_high")
    if row.get("confidence") is None and "confidence" in row:  # an exact (deterministic) row
        return None
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return None
    return (float(low), float(high))


def _inside(value: float, interval: tuple[float, float]) -> bool:
    return interval[0] <= value <= interval[1]


COLUMNS = ("change", "claim", "variant", "configuration", "seeds", "Δ A [interval]", "Δ B [interval]", "B − A",
           "verdict A → B")  # fmt: skip


def change_cells(change: Change) -> dict[str, object]:
    """One change as the printed table's cells, by COLUMNS."""
    a, b = change.a or {}, change.b or {}
    either = change.a or change.b or {}
    shift = f"{(float(b['delta']) - float(a['delta'])) * 100:+.1f} pp" if a and b else ""
    cells = (
        change.kind,
        either["claim"],
        either["variant"],
        _configuration_text(either),
        f"{a.get('seeds', '–')} → {b.get('seeds', '–')}" if a.get("seeds") != b.get("seeds") else str(a["seeds"]),
        _delta_text(a),
        _delta_text(b),
        shift,
        f"{_verdict_text(a)} → {_verdict_text(b)}",
    )
    return dict(zip(COLUMNS, cells))


def _verdict_text(row: dict) -> str:
    """The raw verdict, and the adjusted one beside it where Holm's adjustment changed it."""
    verdict, adjusted = row.get("verdict", "–"), row.get("adjusted")
    return f"{verdict} (adjusted {adjusted})" if adjusted and adjusted != verdict else str(verdict)


def _configuration_text(row: dict) -> str:
    return " · ".join(
        [str(row.get(key)) for key in ("scale", "backbone", "dataset")]
        + [f"{row.get('image_size')} px", f"{row.get('n_train')} per class"]
    )


def _delta_text(row: dict) -> str:
    if not row:
        return "–"
    return f"{float(row['delta']) * 100:+.1f} pp {tables.ci_text(row)}"
