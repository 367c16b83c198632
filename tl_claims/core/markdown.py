"""The one GitHub Markdown table writer: every table the harness and the benchmarks write goes through it, so a
cell is escaped one way everywhere. Cells hold text nobody checked (a student's file name, a claim row read back
from a results folder, an error message), so each is made inert: it cannot end its cell or row, open an HTML tag,
comment or entity, whatever it holds.

What is escaped, and why only that: a `|` (and the backslashes just before it, which would otherwise escape the
`\\` we add) and line breaks end a cell or a row; `<` before a letter, `/`, `!` or `?` opens HTML, a comment or an
autolink, and `&` before `name;` or `#nn;` an entity: those become `&lt;` and `&amp;`, which GitHub shows as the
characters themselves. A `<` or `>` anywhere else (`Δ > +2.0 pp`, `band +0.5 pp < Δ`) opens nothing and stays as
written, so the tables stay readable as plain text. Backticks stay too: our own cells use code spans (a claim id, a
`trainable` in a lesson's statement), and a code span cannot leave its cell and shows HTML as text. `escape_text`
applies the same rule to text placed outside a table (a heading, a list item)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TAG_OPENER = re.compile(r"<(?=[A-Za-z/!?])")
_REFERENCE = re.compile(r"&(?=#?\w+;)")
_PIPE = re.compile(r"(\\*)\|")  # a pipe and the backslashes before it


def escape_text(text: str) -> str:
    """`text` as one line of Markdown that shows it: no HTML tag, comment, autolink or entity can start in it (module
    doc), and a line break is a space (a new line could start a heading or a table)."""
    return _LINE_BREAK.sub(" ", _TAG_OPENER.sub("&lt;", _REFERENCE.sub("&amp;", text)))


def markdown_table(table: pd.DataFrame | Sequence[Mapping[str, object]], floats: str = "") -> str:
    """A GitHub Markdown table of a frame (its columns in order) or of dicts (their keys in first-seen order; a
    missing key is an empty cell). No newline after the last line: the caller places the table in its document.

    One rule for every cell: None and NaN are empty; a float is written with the format spec `floats` (e.g. ".3f";
    "" writes it as `str` does); the text is made inert (`escape_text`), a `|` becomes `\\|` (backslashes before it
    doubled) and a line break a space, since either would end the cell or the row. Headers are escaped the same
    way. Anything else, like per-column formats or yes/no for booleans, is the caller's: it formats those cells
    before passing them.

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
    return _PIPE.sub(lambda match: match.group(1) * 2 + "\\|", escape_text(text))


def _line(values: Sequence[object], floats: str) -> str:
    return "| " + " | ".join(_cell(value, floats) for value in values) + " |"
