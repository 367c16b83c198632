"""A student's notebook (.ipynb, Jupyter or Colab) read as one Python module: its code cells in order.

Students work in notebooks, so `--student` and `--homework` take them as they take a .py file: the child process
(tl_claims/teaching/sandbox_child.py) runs the code cells as the student's module, and every message that points at
code names the notebook's cell and the line inside it ("cell 4, line 3"; cells counted from the top, markdown cells
included, as a reader scrolls).

IPython syntax is not Python: a line magic or shell line (`%pip install ...`, `!ls`) becomes `pass`, and a cell
that starts with a cell magic (`%%writefile`, `%%capture`) is left out whole; each one is listed in `skipped`, for
the note the session prints. Line numbers stay those of the cells.

Read with the standard json module, not nbformat: a notebook (format 4, what Jupyter and Colab write) is JSON with a
list of cells, and reading it needs nothing more; nbformat would bring jsonschema and traitlets to every install.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tl_claims.teaching import messages

SUFFIX = ".ipynb"
MAGICS = ("%", "!")  # IPython line magics and shell escapes
CELL_MAGIC = "%%"


class NotebookError(ValueError):
    """The file is not a notebook this reader understands: `key` names the sentence in messages.TEXTS that says why
    (in the student's language), `values` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key, values)
        self.key, self.values = key, values


@dataclass(frozen=True)
class Skipped:
    cell: int
    line: int
    text: str


@dataclass(frozen=True)
class Notebook:
    """The module text of a notebook's code cells, where each of its lines came from, and what was left out."""

    path: Path
    source: str
    origins: tuple[tuple[int, int], ...]  # module line n (1-based) -> origins[n - 1] = (cell, line in cell)
    skipped: tuple[Skipped, ...]

    def origin(self, line: int) -> tuple[int, int] | None:
        """(cell, line in cell) of the module's line `line`; None outside the cells."""
        return self.origins[line - 1] if 1 <= line <= len(self.origins) else None


def is_notebook(path: Path) -> bool:
    return path.suffix == SUFFIX


def read_notebook(path: Path) -> Notebook:
    """The notebook at `path` as module text; `NotebookError` when it is not a format-4 notebook."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookError("notebook_not_json", error=error) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("notebook_no_cells")
    if data.get("nbformat") != 4:
        raise NotebookError("notebook_format", version=data.get("nbformat"))
    lines: list[str] = []
    origins: list[tuple[int, int]] = []
    skipped: list[Skipped] = []
    for number, cell in enumerate(data["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        for index, line in enumerate(code_lines(cell, number, skipped), start=1):
            lines.append(line)
            origins.append((number, index))
    return Notebook(path, "\n".join(lines) + "\n", tuple(origins), tuple(skipped))


def code_lines(cell: dict, number: int, skipped: list[Skipped]) -> list[str]:
    """The cell's lines as Python: magics and shell lines replaced by `pass` (same indentation), so that the line
    numbers and the blocks around them stay; a cell magic's cell all blank."""
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith(CELL_MAGIC):
        skipped.append(Skipped(number, 1, lines[0].strip()))
        return [""] * len(lines)
    python = []
    for index, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        if stripped.startswith(MAGICS):
            skipped.append(Skipped(number, index, stripped))
        python.append(line[: len(line) - len(stripped)] + "pass" if stripped.startswith(MAGICS) else line)
    return python


def skipped_notes(paths: list[Path], lang: str) -> list[str]:
    """One line per notebook among `paths` with IPython lines left out, for the session's summary (reading a
    notebook runs none of its code); a notebook that cannot be read is left to the child, which says why."""
    notes = []
    for path in filter(is_notebook, paths):
        try:
            skipped = read_notebook(path).skipped
        except (OSError, NotebookError):
            continue
        if skipped:
            lines = "; ".join(
                messages.text(lang, "notebook_skipped_line", cell=item.cell, line=item.line, text=item.text)
                for item in skipped
            )
            notes.append(messages.text(lang, "notebook_skipped", file=path.name, count=len(skipped), lines=lines))
    return notes
