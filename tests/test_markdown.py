"""The one Markdown table writer: a cell never ends its cell or its row, missing values are empty, numbers keep
the caller's format."""

import math

import pandas as pd

from tl_claims.core.markdown import markdown_table


def test_a_frame_is_a_header_a_rule_and_a_line_per_row_in_column_order():
    frame = pd.DataFrame({"b": ["x", "y"], "a": [1, 2]})
    assert markdown_table(frame) == "| b | a |\n|---|---|\n| x | 1 |\n| y | 2 |"


def test_a_pipe_is_escaped_and_a_line_break_becomes_a_space():
    frame = pd.DataFrame({"why | not": ["a | b", "one\ntwo", "dos\r\nlines"]})
    lines = markdown_table(frame).splitlines()
    assert lines[0] == "| why \\| not |"
    assert lines[2:] == ["| a \\| b |", "| one two |", "| dos lines |"]


def test_none_and_nan_are_empty_cells():
    frame = pd.DataFrame({"name": ["a", None], "value": [math.nan, 0.5]})
    assert markdown_table(frame).splitlines()[2:] == ["| a |  |", "|  | 0.5 |"]


def test_floats_take_the_format_spec_and_other_numbers_do_not():
    frame = pd.DataFrame({"seeds": [5, 10], "share": [0.12345, 1.0], "label": ["0.12345", "x"]})
    lines = markdown_table(frame, floats=".2f").splitlines()
    assert lines[2:] == ["| 5 | 0.12 | 0.12345 |", "| 10 | 1.00 | x |"]
    assert markdown_table(frame).splitlines()[2] == "| 5 | 0.12345 | 0.12345 |"


def test_dicts_give_their_keys_in_first_seen_order_and_a_missing_key_is_empty():
    rows = [{"a": 1, "b": "x"}, {"b": "y", "c": True}]
    assert markdown_table(rows) == "| a | b | c |\n|---|---|---|\n| 1 | x |  |\n|  | y | True |"


def test_an_empty_frame_keeps_its_header():
    assert markdown_table(pd.DataFrame(columns=["a", "b"])) == "| a | b |\n|---|---|"
