"""Replication: each primary verdict measured on every (data family, backbone) configuration, side by side.

A verdict that holds on one generator and one backbone may be a property of that set-up rather than of the lesson.
`make replicate` runs the primary variants on each configuration; this module folds their rows into one table with
a column per configuration and a `replicated` column:
- replicated: every configuration reached the same decided verdict (CONFIRMED everywhere, REFUTED everywhere, FAILS
  OFTEN everywhere, ...: any verdict but INCONCLUSIVE is decided);
- not replicated: two configurations reached different decided verdicts;
- undecided: no decided verdicts disagree, but at least one configuration is INCONCLUSIVE;
- incomplete: a configuration has no row yet.
"""

from __future__ import annotations

import pandas as pd

UNDECIDED = ("INCONCLUSIVE", "UNSTABLE")  # no decided verdict: undecided, or seeds split (tl_claims.stats.stability)


def replication_column(row: dict) -> str:
    """The replication table's column a row fills: its `data set × backbone`. Unlike `tables.table_key`, which keeps
    every set-up in a table of its own, this puts one claim's rows from different set-ups side by side."""
    return f"{row['dataset']} × {row['backbone']}"


def several_setups(rows: list[dict]) -> bool:
    """Whether the rows measure claims on more than one set-up: then a replication table sets them side by side."""
    return len({replication_column(row) for row in rows}) > 1


def newest_per_configuration(rows: list[dict]) -> dict[tuple[str, str, str], dict]:
    """The newest row per (claim, variant, configuration)."""
    newest: dict[tuple[str, str, str], dict] = {}
    for row in sorted(rows, key=lambda r: (r.get("run_id", ""), r.get("finished_at", ""))):
        newest[(row["claim"], row["variant"], replication_column(row))] = row
    return newest


def replication_status(verdicts: list[str | None]) -> str:
    """One word for a claim's verdicts across configurations (None: no row for that configuration)."""
    if any(verdict is None for verdict in verdicts):
        return "incomplete"
    decided = {verdict for verdict in verdicts if verdict not in UNDECIDED}
    if len(decided) > 1:
        return "not replicated"
    if len(decided) == 1 and not any(verdict in UNDECIDED for verdict in verdicts):
        return "replicated"
    return "undecided"


def replication_table(rows: list[dict], configurations: list[str] | None = None) -> pd.DataFrame:
    """One line per (claim, variant): `VERDICT Δ` per configuration, and the replication status.

    `configurations` fixes the columns (and which are missing); by default, every configuration seen in `rows`."""
    newest = newest_per_configuration(rows)
    configurations = configurations or sorted({config for _, _, config in newest})
    lines = []
    for claim, variant in sorted({(claim, variant) for claim, variant, _ in newest}):
        cells = [newest.get((claim, variant, config)) for config in configurations]
        line = {"claim": claim, "variant": variant}
        line |= {config: _cell(row) for config, row in zip(configurations, cells)}
        line["replicated"] = replication_status([row["verdict"] if row else None for row in cells])
        lines.append(line)
    return pd.DataFrame(lines, columns=["claim", "variant", *configurations, "replicated"])


def _cell(row: dict | None) -> str:
    if row is None:
        return "—"
    return f"{row['verdict']} {row['delta'] * 100:+.1f} pp"
