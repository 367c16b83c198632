"""examples/colab/student_colab.ipynb, executed offline against this checkout: install cell, pipeline, the checks.

The kernel imports this checkout's tl_claims (PYTHONPATH), so the install cell finds tl-claims and installs nothing;
PIP_NO_INDEX makes sure that nothing could be downloaded if it tried. PYTEST_PLUGINS names the student plugin for
environments where this checkout is not pip-installed (an installed entry point of the same name takes precedence).
"""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tl_claims import __version__
from tl_claims.core.paths import REPO_ROOT

NOTEBOOK = REPO_ROOT / "examples" / "colab" / "student_colab.ipynb"


def outputs(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def test_every_markdown_cell_speaks_spanish_and_english():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    texts = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert len(texts) >= 4 and all(("**ES**" in text and "**EN**" in text) or " · " in text for text in texts)


@pytest.mark.longest
def test_the_notebook_runs_the_seven_checks_offline_at_32_px(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("PYTEST_PLUGINS", "tl_claims.teaching.plugin")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("TL_CLAIMS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TL_CLAIMS_SOURCE", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = outputs(notebook)
    assert f"tl-claims {__version__}" in text
    assert "7 passed" in text, text
    assert (tmp_path / "my_pipeline.py").is_file()
    assert "absl::InitializeLog" not in text and "Traceback" not in text
