"""The example pipelines cannot drift: each buggy `examples/student_*.py` differs from `student_correct.py` only in
its module docstring and in lines marked `# BUG` (a removed line leaves a `# BUG` comment in its place)."""

import ast
import difflib
from pathlib import Path

import pytest

from tl_claims.core.paths import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
CORRECT = EXAMPLES / "student_correct.py"
BUGGY = sorted(path for path in EXAMPLES.glob("student_*.py") if path != CORRECT)


def body(path: Path) -> list[str]:
    """The file's non-blank lines after its module docstring (blank lines are the formatter's business)."""
    source = path.read_text(encoding="utf-8")
    docstring = ast.parse(source).body[0]
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant), f"{path.name}: no docstring"
    return [line for line in source.splitlines()[docstring.end_lineno :] if line.strip()]


def unmarked_changes(buggy: Path) -> list[str]:
    """Every difference from the correct example that is not a `# BUG` line, as readable text."""
    correct, changed = body(CORRECT), body(buggy)
    problems = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=correct, b=changed, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if j1 == j2:
            problems.append(f"removed without a '# BUG' line in its place: {correct[i1:i2]}")
        problems += [f"line {line!r} differs without '# BUG'" for line in changed[j1:j2] if "# BUG" not in line]
    return problems


def test_there_are_buggy_examples():
    assert len(BUGGY) >= 9


@pytest.mark.parametrize("buggy", BUGGY, ids=lambda path: path.stem)
def test_a_buggy_example_differs_from_the_correct_one_only_in_marked_lines(buggy):
    assert not unmarked_changes(buggy), "\n".join(unmarked_changes(buggy))
    assert any("# BUG" in line for line in body(buggy)), f"{buggy.name} marks no line as the bug"


def test_an_unmarked_change_is_caught(tmp_path):
    drifted = tmp_path / "student_drifted.py"
    drifted.write_text(CORRECT.read_text(encoding="utf-8").replace("STAGE1_LR = 1e-3", "STAGE1_LR = 2e-3"))
    assert unmarked_changes(drifted) == ["line 'STAGE1_LR = 2e-3  # head warm-up (the lesson)' differs without '# BUG'"]
