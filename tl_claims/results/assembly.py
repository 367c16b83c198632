"""Assembling: every recorded row of a scale folded into the table files, rendered at the end of a session.

Written per scale, whole or not at all (tl_claims.results.rowfile.write_atomic):
    <scale>/claims.csv | claims.md | claims.json   the table (newest row per claim × variant × configuration)
    <scale>/figures/deltas.png                    delta ± interval per claim, threshold marked
    <scale>/replication.csv | replication.md      when the rows span several data set × backbone set-ups
`assemble` runs at session end and in `python -m tl_claims report`, so an interrupted run's rows are not lost. The
family adjustment (tl_claims.stats.family) runs here, on each table's rows.
"""

import json
import platform
from pathlib import Path

import pandas as pd

from tl_claims.core.markdown import markdown_table
from tl_claims.core.paths import REPO_ROOT
from tl_claims.core.spreadsheet import csv_text
from tl_claims.results import figures, replication, rowfile, tables
from tl_claims.stats.family import holm
from tl_claims.stats.rules import Verdict


def assemble(results_dir: Path, scale: str) -> pd.DataFrame | None:
    """Fold all recorded rows of one scale into claims.csv / .md / .json and the figures; the table comes back with
    the assembling environment in `table.attrs["environment"]` and the skipped tests in `table.attrs["skipped"]`.
    Holm's adjustment runs within each configuration (one table, one family)."""
    scale_dir = Path(results_dir) / scale
    rows = fold(rowfile.read_rows(scale_dir))
    if not rows:
        return None
    skipped = rowfile.read_skips(scale_dir)
    table = pd.DataFrame(rows)
    table = table[tables.COLUMNS + [c for c in table.columns if c not in tables.COLUMNS]]
    flat = table.drop(columns=["per_seed", "details", "records", "versions", "machine"], errors="ignore")
    rowfile.write_atomic(scale_dir / "claims.csv", csv_text(flat))
    rowfile.write_atomic(scale_dir / "claims.md", tables.grouped_markdown(rows, skipped))
    table.attrs["environment"] = environment() if rowfile.has_runs(scale_dir) else _previous_environment(scale_dir)
    table.attrs["skipped"] = skipped
    document = {"scale": scale, "environment": table.attrs["environment"], "rows": rows, "skipped": skipped}
    rowfile.write_atomic(scale_dir / "claims.json", json.dumps(rowfile.json_safe(document), indent=2))
    figures.plot_deltas(rows, scale_dir / "figures" / "deltas.png")
    figures.draw_claim_figures(rows, scale_dir / "figures")
    if replication.several_setups(rows):  # the same claims on several set-ups
        replicated = replication.replication_table(rows)
        rowfile.write_atomic(scale_dir / "replication.csv", csv_text(replicated))
        rowfile.write_atomic(scale_dir / "replication.md", markdown_table(replicated) + "\n")
        table.attrs["replication"] = replicated
    return table


def fold(rows: list[dict]) -> list[dict]:
    """The rows a table shows: the newest per claim × variant × configuration, each with its family verdict. The
    published copies (tl_claims.results.published) are folded the same way, so they render as the tables did."""
    groups = tables.group_rows(tables.latest_rows(rows)).values()
    return [row for group in groups for row in with_family_verdicts(group)]


def with_family_verdicts(rows: list[dict]) -> list[dict]:
    """Each row with its role (primary / exploratory / deterministic) and its verdict after Holm's adjustment over
    the primary rows of the table (tl_claims.stats.family.holm), confirmations and refutations alike: one claim,
    one primary row, one family, whatever seed count each row stopped at."""
    family = holm([recorded_verdict(row) for row in rows], [bool(row.get("primary")) for row in rows])
    return [
        {
            **row,
            "role": member.role,
            "adjusted_p": member.adjusted_p,
            "adjusted_p_refute": member.adjusted_p_refute,
            "adjusted": member.word,
        }
        for row, member in zip(rows, family)
    ]


def recorded_verdict(row: dict) -> Verdict:
    """The verdict a recorded row carries, rebuilt from its fields (what the family adjustment reads). Rows recorded
    before `p_refute` existed get 1 − p_value: exact for the interval rules (superiority, non-inferiority, band:
    their two p-values are complementary tail masses), slightly small for a risk row's discrete binomial tails."""
    p_value = float(row.get("p_value", 1.0))
    return Verdict(
        row.get("verdict", ""),
        bool(row.get("confirms")),
        bool(row.get("decided")),
        p_value,
        row.get("rule", ""),
        float(row.get("estimate", 0.0)),
        row.get("ci_low"),
        row.get("ci_high"),
        row.get("confidence"),
        p_refute=float(row.get("p_refute", 1 - p_value)),
    )


def _previous_environment(scale_dir: Path) -> dict:
    """Rows assembled again from claims.json keep the environment that file recorded."""
    try:
        document = json.loads((Path(scale_dir) / "claims.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return environment()
    previous = document.get("environment") if isinstance(document, dict) else None
    return previous if isinstance(previous, dict) else environment()


def environment() -> dict:
    """The environment that assembled the table (each row carries its own measuring provenance)."""
    from tl_claims.core import provenance

    commit = provenance.commit_info(REPO_ROOT)
    return {
        "date": provenance.now(),
        "machine": provenance.machine_line(),
        "python": platform.python_version(),
        "versions": provenance.library_versions(),
        "git_commit": commit["id"],
        "git_dirty": commit["dirty"],
    }
