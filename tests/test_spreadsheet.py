"""CSV cells a spreadsheet would run as formulas are neutralised; numbers, negative ones included, stay numbers."""

import csv
import io

import pandas as pd
import pytest

from tl_claims.core.spreadsheet import csv_text, neutral_cell


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1"])
def test_a_text_cell_that_starts_a_formula_gets_a_leading_apostrophe(text):
    assert neutral_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-1.4", "+3", "-1e-05", "ana", "", -1.4, 2, True, None])
def test_numbers_as_text_other_text_and_non_text_values_are_kept(value):
    assert neutral_cell(value) == value


def test_the_csv_neutralises_text_columns_and_keeps_numeric_ones_as_numbers():
    frame = pd.DataFrame(
        {
            "student": ["=cmd()", "-ana", "beto"],
            "delta": [-1.4, 0.5, -0.25],
            "seeds": [1, 2, 3],
            "ok": [True, False, True],
        }
    )
    rows = list(csv.DictReader(io.StringIO(csv_text(frame))))
    assert [row["student"] for row in rows] == ["'=cmd()", "'-ana", "beto"]
    assert [row["delta"] for row in rows] == ["-1.4", "0.5", "-0.25"]
    assert [row["seeds"] for row in rows] == ["1", "2", "3"] and rows[0]["ok"] == "True"
    assert frame["student"].tolist() == ["=cmd()", "-ana", "beto"]  # the caller's frame is left as it was
