"""Helpers for the teaching tests: the tiny student pipeline (fixtures/tiny_student.py) with chosen bugs switched
on, as source text or as a loaded student."""

from pathlib import Path

import pytest
from student_styles import BUG_CHECKS

from tl_claims.core.paths import REPO_ROOT
from tl_claims.teaching.student import Student, load_student

TINY_STUDENT = REPO_ROOT / "fixtures" / "tiny_student.py"
KNOWN_BUGS = tuple(BUG_CHECKS)


def variant_source(*bugs: str) -> str:
    """The tiny student's text with its BUGS set to `bugs`."""
    unknown = set(bugs) - set(KNOWN_BUGS)
    assert not unknown, f"unknown bugs {unknown}"
    source = TINY_STUDENT.read_text(encoding="utf-8")
    return source.replace("BUGS: set[str] = set()", f"BUGS: set[str] = {set(bugs)!r}", 1)


@pytest.fixture
def student_source():
    """`variant_source`: the tiny student's text with the given bugs."""
    return variant_source


@pytest.fixture
def tiny(tmp_path: Path):
    """A factory: the tiny student with the given bugs, written to a file and loaded through the contract."""

    def make(*bugs: str, name: str = "tiny") -> Student:
        path = tmp_path / f"{name}.py"
        path.write_text(variant_source(*bugs), encoding="utf-8")
        return load_student(path)

    return make
