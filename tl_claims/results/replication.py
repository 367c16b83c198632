"""Replication: each primary verdict measured on every (data family, backbone, Keras backend) configuration, side by
side.

A verdict that holds on one generator, one backbone and one backend's kernels may be a property of that set-up
rather than of the lesson. `make replicate` runs the primary variants on each data family × backbone (and, with
`BACKENDS="tensorflow jax"`, once per Keras backend, each in its own process); this module folds their rows into one
table with a column per configuration and a `replicated` column:
- replicated: every configuration reached the same decided verdict (CONFIRMED everywhere, REFUTED everywhere, FAILS
  OFTEN everywhere, ...: any verdict but INCONCLUSIVE is decided);
- not replicated: two configurations reached different decided verdicts;
- undecided: no decided verdicts disagree, but at least one configuration is INCONCLUSIVE;
- incomplete: a configuration has no row yet.
Where the rows come from more than one backend, the columns name the backend too, and an `across backends` column
says, in the same words, whether each data family × backbone gave the same verdict on every backend (the BatchNorm
claims especially: the same Keras semantics on other kernels).
"""

from __future__ import annotations

import pandas as pd

UNDECIDED = ("INCONCLUSIVE", "UNSTABLE")  # no decided verdict: undecided, or seeds split (tl_claims.stats.stability)
DEFAULT_BACKEND = "tensorflow"  # what a row without a backend was measured on (rowfile.OLDER_ROWS)
STATUS_ORDER = ("not replicated", "incomplete", "undecided", "replicated")  # the worst first


def backend_of(row: dict) -> str:
    return row.get("backend") or DEFAULT_BACKEND


def setup_column(row: dict) -> str:
    """A row's data set × backbone: what stays fixed when only the backend changes."""
    return f"{row['dataset']} × {row['backbone']}"


def replication_column(row: dict, with_backend: bool = False) -> str:
    """The replication table's column a row fills: its `data set × backbone`, and `× backend` when the table spans
    several backends. Unlike `tables.table_key`, which keeps every set-up in a table of its own, this puts one
    claim's rows from different set-ups side by side."""
    return setup_column(row) + (f" × {backend_of(row)}" if with_backend else "")


def several_backends(rows: list[dict]) -> bool:
    return len({backend_of(row) for row in rows}) > 1


def several_setups(rows: list[dict]) -> bool:
    """Whether the rows measure claims on more than one set-up (data set, backbone or backend): then a replication
    table sets them side by side."""
    return len({replication_column(row, with_backend=True) for row in rows}) > 1


def newest_per_configuration(rows: list[dict], with_backend: bool = False) -> dict[tuple[str, str, str], dict]:
    """The newest row per (claim, variant, configuration)."""
    newest: dict[tuple[str, str, str], dict] = {}
    for row in sorted(rows, key=lambda r: (r.get("run_id", ""), r.get("finished_at", ""))):
        newest[(row["claim"], row["variant"], replication_column(row, with_backend))] = row
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


def across_backends(cells: dict[str, dict | None], backends: list[str]) -> str:
    """Whether every data set × backbone gave one verdict on every backend, in `replication_status`'s words: per
    set-up the status of its verdicts across backends, then the worst of them. A set-up the claim has no row on, on
    any backend, or that only one backend ever measured, has nothing to compare."""
    by_setup: dict[str, list[str | None]] = {}
    for column, row in cells.items():
        setup = column.rsplit(" × ", 1)[0]
        by_setup.setdefault(setup, []).append(row["verdict"] if row else None)
    compared = [verdicts for verdicts in by_setup.values() if len(verdicts) == len(backends) and any(verdicts)]
    statuses = [replication_status(verdicts) for verdicts in compared]
    return min(statuses, key=STATUS_ORDER.index) if statuses else "incomplete"


def replication_table(rows: list[dict], configurations: list[str] | None = None) -> pd.DataFrame:
    """One line per (claim, variant): `VERDICT Δ` per configuration, the replication status, and with rows from
    several backends, the status across backends.

    `configurations` fixes the columns (and which are missing); by default, every configuration seen in `rows`."""
    with_backend = several_backends(rows)
    newest = newest_per_configuration(rows, with_backend)
    configurations = configurations or sorted({config for _, _, config in newest})
    backends = sorted({backend_of(row) for row in rows})
    extra = ["across backends"] if with_backend else []
    lines = []
    for claim, variant in sorted({(claim, variant) for claim, variant, _ in newest}):
        cells = {config: newest.get((claim, variant, config)) for config in configurations}
        line = {"claim": claim, "variant": variant}
        line |= {config: _cell(row) for config, row in cells.items()}
        line["replicated"] = replication_status([row["verdict"] if row else None for row in cells.values()])
        if with_backend:
            line["across backends"] = across_backends(cells, backends)
        lines.append(line)
    return pd.DataFrame(lines, columns=["claim", "variant", *configurations, "replicated", *extra])


def _cell(row: dict | None) -> str:
    if row is None:
        return "—"
    return f"{row['verdict']} {row['delta'] * 100:+.1f} pp"
