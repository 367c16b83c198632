"""CSV files a teacher opens in a spreadsheet, written so no cell runs as a formula.

Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a
carriage return) as a formula: a student's file named `=HYPERLINK(...)`, or a claim row's text read back from a
results folder, would run when the class table is opened. The rule, one for every CSV the harness writes:

- a **text** cell that starts with one of those characters gets a leading `'`, the spreadsheets' own mark for
  "text, not a formula" (the cell then shows the text as written, and a script reading the CSV sees the `'`);
- a text cell that is a number as a whole (`-1.4`, `+3`, `-1e-05`) is left alone: a spreadsheet reads it as that
  number, which runs nothing;
- numeric columns (floats, integers, booleans) are never touched: a negative delta stays the number it is.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral_cell(value: object) -> object:
    """`value`, or the text with a leading `'` when a spreadsheet would run it as a formula (module doc)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV text (no index), every text cell passed through `neutral_cell`."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):  # numbers and booleans run nothing: kept as they are
            safe[column] = safe[column].map(neutral_cell)
    return safe.to_csv(index=False)
