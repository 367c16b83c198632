"""The end of a claims run, apart from the per-test work because only the controller does it, once: at session finish
it folds every scale's rows of this run, those of all pytest-xdist workers merged, into the table files, and the
terminal summary gives each scale in lines a person reads: one per claim (its primary variant), the verdicts counted,
and where the full tables are. The 13-column table itself is in claims.md, too wide for a terminal.
"""

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tl_claims.plugin.session import SESSION_KEY

# tl_claims.results.assembly (pandas) and tl_claims.results.tables are imported inside the functions that use them, so
# that importing the plugin stays cheap.

WIDTH = 120  # what a claim line fits in: a wide terminal, or a narrow one that wraps rarely
INDENT = "  "


def assemble_tables(session: pytest.Session) -> None:
    """The controller (not xdist workers) folds every scale's rows into the table files."""
    config = session.config
    if hasattr(config, "workerinput") or SESSION_KEY not in config.stash:
        return
    claims_session = config.stash[SESSION_KEY]
    from tl_claims.results.assembly import assemble

    claims_session.tables = {}
    for scale_dir in sorted(claims_session.results_dir.glob("*/runs")):
        scale = scale_dir.parent.name
        if (scale_dir / claims_session.run_id).is_dir():
            claims_session.tables[scale] = assemble(claims_session.results_dir, scale)


def write_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Each scale's table assembled at session finish, in short lines, and where its files are."""
    tables = getattr(config.stash.get(SESSION_KEY, None), "tables", None)
    if not tables:
        return
    for scale, table in tables.items():
        if table is None:
            continue
        terminalreporter.section(f"tl-claims results, {scale} scale")
        where = config.stash[SESSION_KEY].results_dir / scale
        lines = summary_lines(table.to_dict("records"), table.attrs.get("skipped", []))
        for line in lines + where_lines(where, replicated="replication" in table.attrs):
            terminalreporter.write_line(line)


def summary_lines(rows: list[dict], skipped: list[dict], width: int = WIDTH) -> list[str]:
    """Under each configuration's title, a line per primary row (the lesson's reading of a claim); then the verdicts
    counted, and how many exploratory rows and skipped tests only the full table shows."""
    from tl_claims.results.tables import configuration_title, group_rows

    lines = []
    for group in group_rows(rows).values():
        primary = [row for row in group if row.get("primary")]
        if primary:
            lines += [configuration_title(group), *claim_lines(primary, width)]
    shown = [row for row in rows if row.get("primary")]
    counts = Counter(shown_verdict(row) for row in shown)
    if counts:  # none where only exploratory variants ran (make explore)
        lines.append(" · ".join(f"{count} {word.lower()}" for word, count in counts.most_common()))
    if len(rows) > len(shown):
        lines.append(f"{_count(len(rows) - len(shown), 'more row')} in the full table (exploratory variants)")
    if skipped:
        lines.append(f"{_count(len(skipped), 'claim test')} skipped (the reasons are in claims.md)")
    return lines


def claim_lines(rows: list[dict], width: int = WIDTH) -> list[str]:
    """`statement…  VERDICT  Δ +4.1 pp [+2.3, +5.9]`, the columns aligned, the statement shortened so that each line
    fits `width` (unless Δ and the verdict alone do not)."""
    from tl_claims.results.tables import ci_text

    statements = [" ".join(str(row.get("statement") or row["claim"]).split()) for row in rows]
    verdicts = [shown_verdict(row, raw=True) for row in rows]
    effects = [
        ci_text(row) if is_risk(row) else f"Δ {float(row['delta']) * 100:+.1f} pp {ci_text(row)}" for row in rows
    ]
    verdict_width = max(map(len, verdicts))
    room = max(20, width - len(INDENT) - verdict_width - max(map(len, effects)) - 4)
    room = min(room, max(map(len, statements)))  # short statements: no padding beyond the longest
    return [
        f"{INDENT}{textwrap.shorten(statement, room, placeholder='…'):<{room}}  {verdict:<{verdict_width}}  {effect}"
        for statement, verdict, effect in zip(statements, verdicts, effects)
    ]


def is_risk(row: dict) -> bool:
    """A risk row is judged on its share of failing seeds (what ci_text shows), not on Δ."""
    return str(row.get("rule", "")).startswith("risk")


def shown_verdict(row: dict, raw: bool = False) -> str:
    """The verdict after the family adjustment (what decides the lesson); with `raw`, the measured one beside it
    where the adjustment changed it, since the test passed or failed on that one."""
    adjusted = row.get("adjusted") or row["verdict"]
    if raw and adjusted != row["verdict"]:
        return f"{adjusted} (raw {row['verdict']})"
    return adjusted


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def where_lines(where: Path, replicated: bool = False) -> list[str]:
    """Where the full tables and figures of a scale are."""
    lines = [f"full table: {where}/claims.csv | claims.md | claims.json", f"figures: {where}/figures/"]
    if replicated:
        lines.append(f"replication: {where}/replication.csv | replication.md")
    return lines
