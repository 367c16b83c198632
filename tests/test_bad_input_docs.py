"""docs/bad-input.md is the one table of every bad-input case: each row names the test that shows its behaviour, and
each named test exists (a test function in that file, or a parametrized one), so the table cannot promise what no
test checks."""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "bad-input.md"
SECTIONS = ("Image folders", "Weights files (`.pth`)", "Caches", "Options", "Student code")
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def table_rows(text: str) -> list[tuple[str, list[str]]]:
    """(section, cells) of every table row below a `## ` heading, header and rule lines left out."""
    rows, section, seen_header = [], "", False
    for line in text.splitlines():
        if line.startswith("## "):
            section, seen_header = line[3:].strip(), False
        elif line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not seen_header:
                seen_header = True
            elif not set(line) <= set("|-: "):
                rows.append((section, cells))
        else:
            seen_header = False  # the next table starts with its own header
    return rows


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


ROWS = table_rows(DOC.read_text(encoding="utf-8"))


def test_the_document_has_every_section_and_rows_in_each():
    headings = [line[3:].strip() for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    assert headings == list(SECTIONS)
    assert {section for section, _ in ROWS} == set(SECTIONS)
    assert len(ROWS) >= 50


@pytest.mark.parametrize("section, cells", ROWS, ids=[f"{section}: {cells[0][:40]}" for section, cells in ROWS])
def test_every_row_names_an_existing_test(section, cells):
    assert len(cells) == 4, f"{section}: a row needs input | decision | why | test: {cells}"
    references = TEST_REFERENCE.findall(cells[3])
    assert references, f"{section}: row {cells[0]!r} names no test"
    for file, name in references:
        assert (REPO / file).is_file(), f"{file} does not exist"
        assert name in defined_tests(REPO / file), f"{file} has no test {name}"
