"""Grading a class: `pytest --homework FOLDER` grades every student in a child of its own, one failing student never
stops the others, and the class table has one row per student with the numbers and every check's outcome."""

import csv

import pytest
from test_checks import EXAMPLE_BUGS, GRADED_IN_CLASS

from tl_claims.claims.registry import CLAIMS
from tl_claims.core.paths import REPO_ROOT
from tl_claims.results.rowfile import read_rows
from tl_claims.teaching import classroom
from tl_claims.teaching.checks import CHECKS

EXAMPLES = REPO_ROOT / "examples"


def test_progress_lines_estimate_the_time_left(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(classroom.time, "monotonic", lambda: now[0])
    progress = classroom.Progress(4, started=100.0)
    assert progress.line("ana") == "student 1/4: ana (elapsed 0m00s)"
    now[0] += 90
    progress.finished()
    assert progress.line("beto") == "student 2/4: beto (elapsed 1m30s, about 4m30s left, 6m00s in total)"


def test_the_class_table_has_one_row_per_record_and_a_column_per_check(tmp_path):
    records = [
        {"student": "ana", "phase1": 0.5, "phase2": 0.6, "scratch": 0.3, "two_stage_accepted": True,
         "scratch_accepted": True, **dict.fromkeys(CHECKS, "passed"), "problem": ""},
        {"student": "beto", **dict.fromkeys(CHECKS, "not run"), "problem": "build_model raised | twice\nsee log"},
    ]  # fmt: skip
    for record in records:
        classroom.write_record(tmp_path, "smoke", "run-1", record)
    classroom.write_record(tmp_path, "smoke", "run-0", {"student": "old", "problem": ""})  # another run: left out
    csv_path, md_path = classroom.write_class_table(tmp_path, "smoke", "run-1")
    with csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["student"] for row in rows] == ["ana", "beto"]
    assert list(rows[0]) == list(classroom.COLUMNS)
    assert rows[1]["problem"] == "build_model raised | twice\nsee log" and rows[1]["phase1"] == ""
    markdown = md_path.read_text(encoding="utf-8")
    assert "| ana | 0.500 | 0.600 | 0.300 | yes | yes |" in markdown
    assert "| not run | build_model raised \\| twice see log |\n\nphase1 / phase2" in markdown


def test_an_empty_folder_is_a_usage_error(pytester):
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    pytester.path.joinpath("empty").mkdir()
    result = pytester.runpytest("--homework", "empty")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --homework empty: no student .py or .ipynb file in this folder*"])


# The fast suite's class: the example that passes, one failing its check and the one on a keras.applications base
# (refused offline), so the lesson's code runs once for two graded students. Grading every example costs four minutes
# of one worker: the whole folder runs with `pytest -m cpu`, and the fast suite checks the other seven examples in
# process instead (test_checks.py::test_examples_fail_exactly_their_checks, at half the cost of grading them).


@pytest.mark.longest
@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(GRADED_IN_CLASS, id="three_examples"),
        pytest.param(tuple(EXAMPLE_BUGS), id="every_example", marks=pytest.mark.cpu),
    ],
)
def test_the_examples_folder_gives_one_row_per_example(pytester, student_source, examples):
    """`pytest --homework examples/` at smoke scale, and beside it a student whose process dies: one row each, every
    example failing exactly its own checks, the homework rows on disk and the lesson's code run once for the class.
    Every example's children are forked from one server, each tracing Lite0's training steps."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    folder = pytester.path / "examples"  # a copy: under this repository, its conftest.py would not be the top one
    folder.mkdir()
    for name in examples:
        example = EXAMPLES / f"{name}.py"
        folder.joinpath(example.name).write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    folder.joinpath("_helpers.py").write_text("", encoding="utf-8")  # a leading underscore: not a student
    crash = pytester.path / "zoe.py"  # a second --homework path, graded after the folder
    crash.write_text(student_source().replace("def build_model(config):\n", "def build_model(config):\n    import os\n"
                                              "    os._exit(0)\n"), encoding="utf-8")  # fmt: skip
    results_dir = pytester.path / "results"
    result = pytester.runpytest("--homework", str(folder), "--homework", str(crash), "--results-dir", str(results_dir))
    output = result.stdout.str() + result.stderr.str()
    with (results_dir / "smoke" / "homework_class.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {*examples, "zoe"}
    for student in examples:  # each example fails exactly its own checks
        assert {name for name in CHECKS if rows[student][name] != "passed"} == EXAMPLE_BUGS[student][0], student
    # The one example on a keras.applications base (EfficientNetB0) needs Keras' ImageNet file for its homework;
    # offline its row says so. The student whose process ends in build_model gets a row too; nobody else fails.
    assert "exit status 0" in rows["zoe"]["problem"] and rows["zoe"]["phase1"] == ""
    failing = {student for student, row in rows.items() if row["problem"]}
    assert failing - {"zoe"} <= {"student_double_scaling"}
    assert all("ImageNet weights file" in rows[student]["problem"] for student in failing - {"zoe"})
    result.assert_outcomes(passed=len(rows) - len(failing), failed=len(failing), deselected=2 * len(rows))
    assert result.ret == pytest.ExitCode.TESTS_FAILED and (results_dir / "smoke" / "homework_class.md").is_file()
    graded = [student for student in rows if student not in failing]
    assert all(0.0 <= float(rows[student][number]) <= 1.0 for student in graded for number in classroom.NUMBERS)
    assert "student 1/" in output and f"student {len(rows)}/{len(rows)}: zoe" in output and "left" in output
    # The homework's claims on each graded student's own recipe, with the claims' own margins.
    claim_rows = [row for row in read_rows(results_dir / "smoke") if row["variant"].startswith("student:")]
    assert {(row["variant"], row["claim"]) for row in claim_rows} == {
        (f"student:{student}", claim) for student in graded for claim in ("two_stage", "transfer_vs_scratch")
    }
    assert all(row["threshold"] == CLAIMS[row["claim"]].threshold for row in claim_rows)
    assert all(len(values) == 1 for row in claim_rows for values in row["per_seed"].values())  # smoke: one seed
    assert (results_dir / "smoke" / "claims.csv").is_file()
    # The lesson's code as written runs once for the class (two arms, one seed), and every graded student's
    # summary (all on Lite0) ends with its sentence.
    assert output.count("two_stage[lesson_literal-smoke]") == 2
    assert output.count("the lesson's code as written (exercises") == len(graded)


def test_a_hostile_student_name_is_inert_in_the_class_table(tmp_path):
    """Student names went raw into homework_class.md (HTML) and .csv (a formula when opened in a spreadsheet)."""
    for name in ("<script>alert(1)</script>", '=HYPERLINK("http://x")', "-ana"):
        classroom.write_record(tmp_path, "smoke", "run-1", {"student": name, "phase1": -0.5, "problem": ""})
    csv_path, md_path = classroom.write_class_table(tmp_path, "smoke", "run-1")
    markdown = md_path.read_text(encoding="utf-8")
    assert "<script>" not in markdown and "| &lt;script>alert(1)&lt;/script> | -0.500 |" in markdown
    with csv_path.open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"<script>alert(1)</script>", '\'=HYPERLINK("http://x")', "'-ana"}
    assert {row["phase1"] for row in rows.values()} == {"-0.5"}  # a number, even a negative one, stays a number
