"""The one Markdown table writer: a cell never ends its cell or its row nor opens HTML, missing values are empty,
numbers keep the caller's format."""

import html
import math
import re

import pandas as pd
import pytest

from tl_claims.core.markdown import escape_text, markdown_table


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


HOSTILE = [
    "x<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<!-- the rest of the table is hidden -->",
    "<https://example.com/track>",
    "&lt;b&gt;bold&lt;/b&gt; &#60;i&#62;",
    "a\\|b, a\\\\|c and trailing\\",
    "one | two\nthree",
]


def rendered_cells(markdown: str) -> list[str]:
    """The body cells as CommonMark with GitHub's tables renders them (HTML left on, as GitHub's renderer keeps
    a safe subset of it), each as the HTML inside its <td>."""
    markdown_it = pytest.importorskip("markdown_it")
    page = markdown_it.MarkdownIt("commonmark").enable("table").render(markdown)
    return re.findall(r"<td>(.*?)</td>", page, flags=re.S)


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_opens_no_html_and_shows_its_text_as_written(text):
    """Student names and claim rows' text once went raw into claims.md and homework_class.md."""
    (cell,) = rendered_cells(markdown_table([{"name": text}]))
    assert "<" not in cell  # every element GitHub would render (script, img, a comment, a link) is text
    assert html.unescape(cell) == text.replace("\n", " ")


def test_our_own_formatting_stays_as_written():
    """A `<` or `>` that opens nothing and our code spans are left alone, so the tables read well as plain text."""
    for text in ("band +0.5 pp < Δ < +2.0 pp", "superiority Δ > +0.0 pp", "`preprocessing`", "AT&T and R&D"):
        assert markdown_table([{"a": text}]).splitlines()[2] == f"| {text} |"
    assert rendered_cells(markdown_table([{"a": "`two_stage`"}])) == ["<code>two_stage</code>"]


def test_text_outside_a_table_is_one_inert_line():
    assert escape_text("folder:<b>x</b>\n# heading") == "folder:&lt;b>x&lt;/b> # heading"
