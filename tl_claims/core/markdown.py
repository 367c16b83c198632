"""The one GitHub Markdown table writer: every table the harness and the benchmarks write goes through it, so a
cell is escaped one way everywhere."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def markdown_table(table: pd.DataFrame | Sequence[Mapping[str, object]], floats: str = "") -> str:
    """A GitHub Markdown table of a frame (its columns in order) or of dicts (their keys in first-seen order; a
    missing key is an empty cell). No newline after the last line: the caller places the table in its document.

    One rule for every cell: None and NaN are empty; a float is written with the format spec `floats` (e.g. ".3f";
    "" writes it as `str` does); a `|` becomes `\\|` and a line break a space, since either would end the cell or
    the row. Headers are escaped the same way. Anything else, like per-column formats or yes/no for booleans, is
    the caller's: it formats those cells before passing them.

    Why not pandas' `DataFrame.to_markdown`: it needs `tabulate` (one more pinned dependency), pads every cell to
    its column's width and writes alignment colons in the rule (a diff of every generated table and of the
    README's generated blocks), and escapes neither pipes nor line breaks."""
    if isinstance(table, pd.DataFrame):
        columns = [str(name) for name in table.columns]
        rows = [list(values) for values in table.itertuples(index=False, name=None)]
    else:
        columns = list(dict.fromkeys(key for row in table for key in row))
        rows = [[row.get(name) for name in columns] for row in table]
    lines = [_line(columns, ""), "|" + "---|" * len(columns)]
    lines += [_line(values, floats) for values in rows]
    return "\n".join(lines)


def _cell(value: object, floats: str) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    text = format(value, floats) if floats and isinstance(value, float) else str(value)
    return _LINE_BREAK.sub(" ", text.replace("|", "\\|"))


def _line(values: Sequence[object], floats: str) -> str:
    return "| " + " | ".join(_cell(value, floats) for value in values) + " |"
