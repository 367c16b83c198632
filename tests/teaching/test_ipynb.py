"""Notebooks as student files: the code cells read as one module (magics left out, cells and lines kept), every
pointer at code naming the cell, and `--student` / `--homework` grading a notebook like its .py twin."""

import csv
from pathlib import Path

import nbformat
import pytest

from tl_claims.teaching.checks import CHECKS
from tl_claims.teaching.ipynb import NotebookError, read_notebook, skipped_notes
from tl_claims.teaching.student import ContractError, load_student, probe_config

PLUGINS = 'pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]'


def write_notebook(path: Path, source: str) -> Path:
    """`source` as a notebook in the shape students hand in: a title cell, an install cell with IPython lines, then
    one code cell per top-level block of the file (split before each `def`), written by nbformat as Jupyter does."""
    blocks, current = [], []
    for line in source.splitlines():
        if line.startswith("def ") and current:
            blocks.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    blocks.append("\n".join(current).strip("\n"))
    cells = [
        nbformat.v4.new_markdown_cell("# My pipeline"),
        nbformat.v4.new_code_cell("%pip install tl-claims\n!nvidia-smi"),
        *(nbformat.v4.new_code_cell(block) for block in blocks),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_code_cells_become_one_module_with_each_line_traced_to_its_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    cells = [
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("x = 1\n%matplotlib inline\nif x:\n    !ls"),
        nbformat.v4.new_code_cell("%%writefile other.py\nprint('not run')"),
        nbformat.v4.new_code_cell("y = x + 1"),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    notebook = read_notebook(path)
    namespace: dict = {}
    exec(compile(notebook.source, str(path), "exec"), namespace)
    assert namespace["y"] == 2
    assert notebook.origin(4) == (2, 4) and notebook.origin(7) == (4, 1) and notebook.origin(8) is None
    assert [(item.cell, item.line, item.text) for item in notebook.skipped] == [
        (2, 2, "%matplotlib inline"),
        (2, 4, "!ls"),
        (3, 1, "%%writefile other.py"),
    ]
    (note,) = skipped_notes([tmp_path / "a.py", path], "es")
    assert note.startswith("nb.ipynb: se dejaron afuera 3 línea(s)") and "celda 3, línea 1: %%writefile" in note


@pytest.mark.parametrize(
    ("text", "key"),
    [("{not json", "notebook_not_json"), ('{"nbformat": 4}', "notebook_no_cells"), ('{"nbformat": 3, "cells": []}',
                                                                                  "notebook_format")],
)  # fmt: skip
def test_a_file_that_is_not_a_format_4_notebook_says_why(tmp_path, text, key):
    path = tmp_path / "nb.ipynb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NotebookError) as raised:
        read_notebook(path)
    assert raised.value.key == key
    with pytest.raises(ContractError, match=r"nb\.ipynb: (no es un cuaderno|cuaderno en formato 3)"):
        load_student(path, lang="es")


@pytest.mark.parametrize(
    ("old", "new", "english", "spanish"),
    [
        ("def build_model(config):\n", "def build_model(config):\n    pass\n1 / 0\n",
         "IndentationError: unexpected indent (nb.ipynb, cell 7, line 4)", "celda 7, línea 4"),
        ("BACKBONE =", "1 / 0\nBACKBONE =", "ZeroDivisionError: division by zero (nb.ipynb, cell 3, line 13)",
         "celda 3, línea 13"),
    ],
)  # fmt: skip
def test_an_error_at_import_names_the_cell_and_its_line(tmp_path, student_source, old, new, english, spanish):
    """A syntax error (its own text names the module's line: left out) and an error raised at import."""
    path = write_notebook(tmp_path / "nb.ipynb", student_source().replace(old, new, 1))
    with pytest.raises(ContractError) as raised:
        load_student(path)
    assert str(raised.value).endswith(english)
    with pytest.raises(ContractError, match=spanish):
        load_student(path, lang="es")


def test_an_error_in_a_students_function_names_the_cell_and_its_line(tmp_path, student_source):
    broken = "def build_model(config):\n    raise ValueError('no model yet')\n"
    path = write_notebook(tmp_path / "nb.ipynb", student_source().replace("def build_model(config):\n", broken))
    student = load_student(path)
    with pytest.raises(ValueError, match="no model yet") as raised:
        student.build_model(probe_config())
    assert student.describe_error(raised.value) == "ValueError: no model yet (nb.ipynb, cell 7, line 2)"


def class_rows(results_dir: Path) -> dict[str, dict[str, str]]:
    with (results_dir / "smoke" / "homework_class.csv").open(encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.mark.longest
def test_a_notebook_is_graded_like_its_py_twin(pytester, student_source):
    """`--homework` on a folder that mixes .py files and notebooks: the correct and the buggy (no recompile) tiny
    pipeline, each as a .py and as a notebook, get the same checks outcome; the notes name the IPython lines left
    out. At smoke scale and 32 px to stay fast."""
    pytester.makeconftest(PLUGINS)
    folder = pytester.path / "class"
    folder.mkdir()
    for name, bugs in (("correct", ()), ("no_recompile", ("no_recompile",))):
        folder.joinpath(f"{name}.py").write_text(student_source(*bugs), encoding="utf-8")
        write_notebook(folder / f"{name}_nb.ipynb", student_source(*bugs))
    results_dir = pytester.path / "results"
    arguments = ["--homework", str(folder), "--results-dir", str(results_dir), "--image-size", "32", "--seeds", "1"]
    result = pytester.runpytest(*arguments, "--n-train", "4", "--dataset", "synthetic:objects")
    rows = class_rows(results_dir)
    assert set(rows) == {"correct", "correct_nb", "no_recompile", "no_recompile_nb"}, result.stdout.str()
    for name in ("correct", "no_recompile"):
        assert {check: rows[f"{name}_nb"][check] for check in CHECKS} == {check: rows[name][check] for check in CHECKS}
        assert rows[f"{name}_nb"]["problem"] == rows[name]["problem"] == ""
    assert rows["no_recompile_nb"]["recompiled_after_unfreezing"] == "failed"
    result.stdout.fnmatch_lines(["correct_nb.ipynb: 2 IPython line(s) left out*cell 2, line 1: %pip install*"])


def test_student_takes_a_notebook(pytester, student_source):
    """`--student nb.ipynb`: one test per check under the notebook's name, the buggy check failing as in the .py."""
    pytester.makeconftest(PLUGINS)
    write_notebook(pytester.path / "nb.ipynb", student_source("no_recompile"))
    result = pytester.runpytest("--student", "nb.ipynb", "-v")
    result.assert_outcomes(passed=len(CHECKS) - 1, failed=1)
    result.stdout.fnmatch_lines(["nb.ipynb::test_check?recompiled_after_unfreezing? FAILED*"])
