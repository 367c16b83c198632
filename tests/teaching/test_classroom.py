"""Grading a class: `pytest --homework FOLDER` grades every student in a child of its own, one failing student never
stops the others, and the class table has one row per student with the numbers and every check's outcome."""

import csv
import time
from pathlib import Path

import pytest
from test_checks import EXAMPLE_BUGS, GRADED_IN_CLASS
from test_sandbox import alive

import tl_claims
from tl_claims.claims.registry import CLAIMS
from tl_claims.core.paths import REPO_ROOT
from tl_claims.results.rowfile import read_rows
from tl_claims.teaching import classroom, scoring
from tl_claims.teaching.checks import CHECKS
from tl_claims.teaching.classroom import sha256_of

EXAMPLES = REPO_ROOT / "examples"


def test_progress_lines_estimate_the_time_left(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(classroom.time, "monotonic", lambda: now[0])
    progress = classroom.Progress(4, started=100.0)
    assert progress.line("ana") == "student 1/4: ana (elapsed 0m00s)"
    now[0] += 90
    progress.finished()
    assert progress.line("beto") == "student 2/4: beto (elapsed 1m30s, about 4m30s left, 6m00s in total)"


def record(student: str, file: Path, scale: str = "cpu", graded: str = "2026-12-07T10:00:00Z", **fields) -> dict:
    """A student's record as the grader writes it, for a file that exists (its SHA-256 taken now)."""
    about = {"graded": graded, "scale": scale, "version": "0.1.0", "file": str(file), "sha256": sha256_of(file)}
    numbers = {"phase1": 0.5, "phase2": 0.6, "scratch": 0.3, "two_stage_accepted": True, "scratch_accepted": False}
    return {"student": student, **numbers, **dict.fromkeys(CHECKS, "passed"), "problem": "", **about, **fields}


def read_table(results_dir: Path, scale: str = "cpu") -> dict[str, dict[str, str]]:
    with (results_dir / scale / "homework_class.csv").open(encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_the_class_table_has_a_row_per_student_points_and_a_summary_row(tmp_path):
    ana, beto = tmp_path / "ana.py", tmp_path / "beto.py"
    ana.write_text("# ana", encoding="utf-8")
    beto.write_text("# beto", encoding="utf-8")
    graded = record("ana", ana, finetune_lr_10x_lower="failed")
    crashed = record("beto", beto, **dict.fromkeys(CHECKS, "not run"), problem="build_model raised | twice\nsee log")
    del crashed["phase1"], crashed["two_stage_accepted"]
    _, md_path, summary = classroom.write_class_table(tmp_path, "cpu", [crashed, graded], scoring.POINTS)
    rows = read_table(tmp_path)
    assert list(rows) == ["ana", "beto"] and list(rows["ana"]) == list(classroom.COLUMNS)
    assert rows["ana"]["sha256"] == sha256_of(ana) and rows["ana"]["stale"] == "no" and rows["ana"]["scale"] == "cpu"
    # ana: 6 checks x 10 and two_stage 15 (scratch missed); beto: nothing passed
    assert (rows["ana"]["points"], rows["ana"]["max_points"], rows["beto"]["points"]) == ("75", "100", "0")
    assert rows["beto"]["problem"] == "build_model raised | twice\nsee log" and rows["beto"]["phase1"] == ""
    markdown = md_path.read_text(encoding="utf-8")
    assert "| ana | 75 | 100 | 0.500 | 0.600 | 0.300 | yes | no | passed |" in markdown
    assert "| not run |  | build_model raised \\| twice see log | 2026-12-07T10:00:00Z | cpu |" in markdown
    assert f"| {sha256_of(ana)[:12]} | no |" in markdown  # shortened in Markdown, whole in the CSV
    rates = ["1/2 (50 %)"] * (len(CHECKS) - 1) + ["0/2 (0 %)"]  # the criteria, then the checks (the last failed)
    numbers = ["37.5 ± 53.0", "100", "0.500 ± 0.000", "0.600 ± 0.000", "0.300 ± 0.000", "1/2 (50 %)", "0/2 (0 %)"]
    assert "| " + " | ".join(["class (2)", *numbers, *rates]) + " |" in markdown
    assert summary[0] == "class summary, cpu scale: 2 student(s), points 37.5 ± 53.0 of 100"
    assert "  finetune_lr_10x_lower: 0/2 (0 %) passed" in summary
    assert "  criteria met: two_stage_accepted 1/2 (50 %), scratch_accepted 0/2 (0 %)" in summary


def test_at_smoke_scale_the_criteria_are_not_graded_and_the_row_says_so(tmp_path):
    ana = tmp_path / "ana.py"
    ana.write_text("# ana", encoding="utf-8")
    phrase = "accuracy criteria not graded at smoke scale (-m cpu grades them)"
    records = [record("ana", ana, scale="smoke", note=phrase)]
    _, _, summary = classroom.write_class_table(tmp_path, "smoke", records, scoring.POINTS)
    row = read_table(tmp_path, "smoke")["ana"]
    assert (row["two_stage_accepted"], row["scratch_accepted"], row["note"]) == ("", "", phrase)
    assert (row["points"], row["max_points"]) == ("70", "70")
    assert "  criteria: not graded at smoke scale (-m cpu grades them)" in summary


def test_regrading_one_student_keeps_the_others_and_the_latest_grading_wins(tmp_path):
    ana, beto = tmp_path / "ana.py", tmp_path / "beto.py"
    for path in (ana, beto):
        path.write_text(f"# {path.stem}", encoding="utf-8")
    first = [record("ana", ana, phase1=0.1), record("beto", beto, phase1=0.2)]
    classroom.write_class_table(tmp_path, "cpu", first, scoring.POINTS)
    again = [record("beto", beto, graded="2026-12-08T09:00:00Z", phase1=0.3)]
    classroom.write_class_table(tmp_path, "cpu", again, scoring.POINTS)
    rows = read_table(tmp_path)
    assert {student: (row["phase1"], row["graded"]) for student, row in rows.items()} == {
        "ana": ("0.1", "2026-12-07T10:00:00Z"),
        "beto": ("0.3", "2026-12-08T09:00:00Z"),
    }
    assert classroom.write_class_table(tmp_path, "cpu", [], scoring.POINTS) is None  # nobody graded: untouched
    assert read_table(tmp_path) == rows


def test_a_student_whose_file_changed_since_grading_is_marked_stale(tmp_path):
    ana, beto, carla = tmp_path / "ana.py", tmp_path / "beto.py", tmp_path / "carla.py"
    for path in (ana, beto, carla):
        path.write_text(f"# {path.stem}", encoding="utf-8")
    classroom.write_class_table(
        tmp_path, "cpu", [record(path.stem, path) for path in (ana, beto, carla)], scoring.POINTS
    )
    ana.write_text("# ana, edited after grading", encoding="utf-8")
    carla.unlink()
    again = [record("beto", beto, graded="2026-12-08T09:00:00Z")]
    _, _, summary = classroom.write_class_table(tmp_path, "cpu", again, scoring.POINTS)
    assert {student: row["stale"] for student, row in read_table(tmp_path).items()} == {
        "ana": "yes",
        "beto": "no",
        "carla": "gone",
    }
    assert summary[-1] == "  stale (file changed since graded; grade again): ana, carla"


def test_an_empty_folder_is_a_usage_error(pytester):
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    pytester.path.joinpath("empty").mkdir()
    result = pytester.runpytest("--homework", "empty")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --homework empty: no student .py or .ipynb file in this folder*"])


# The fast suite's class: the example that passes and one failing its check (every bug kind fails its check on the
# tiny student in test_checks.py). Grading every example costs about four minutes of one worker: the whole folder,
# with the example on a keras.applications base (refused offline), runs with `pytest -m cpu`.


@pytest.mark.longest
@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(GRADED_IN_CLASS, id="two_examples"),
        pytest.param(tuple(EXAMPLE_BUGS), id="every_example", marks=pytest.mark.cpu),
    ],
)
def test_the_examples_fail_at_smoke_scale_with_exactly_their_own_checks(pytester, student_source, examples):
    """`pytest --homework examples/` at smoke scale, and beside it a student whose process dies: one row each in the
    gradebook, every buggy example failing exactly its own checks (the accuracy criteria not graded), each student's
    feedback with its check's message, points from the project's pyproject.toml, the class summary, the homework
    rows on disk and the lesson's code run once for the class. Every example's children are forked from one server,
    each tracing Lite0's training steps."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntl_claims_points = ["finetune_lr_10x_lower = 20"]\n')
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
    for student in examples:  # each example fails exactly its own checks; its feedback explains them
        bug_checks, phrase = EXAMPLE_BUGS[student]
        assert {name for name in CHECKS if rows[student][name] != "passed"} == bug_checks, student
        assert phrase in (results_dir / "smoke" / "feedback" / f"{student}.md").read_text(encoding="utf-8")
        if bug_checks and not rows[student]["problem"]:
            assert f"teaching checks that did not pass: {', '.join(sorted(bug_checks))}" in output
    # The one example on a keras.applications base (EfficientNetB0) needs Keras' ImageNet file for its homework;
    # offline its row says so. The student whose process ends in build_model gets a row too.
    assert "exit status 0" in rows["zoe"]["problem"] and rows["zoe"]["phase1"] == ""
    stopped = {student for student, row in rows.items() if row["problem"]}
    assert stopped - {"zoe"} <= {"student_double_scaling"}
    assert all("ImageNet weights file" in rows[student]["problem"] for student in stopped - {"zoe"})
    result.assert_outcomes(passed=1, failed=len(rows) - 1, deselected=2 * len(rows))  # student_correct passes
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    graded = [student for student in rows if student not in stopped]
    assert all(0.0 <= float(rows[student][number]) <= 1.0 for student in graded for number in classroom.NUMBERS)
    not_graded = "accuracy criteria not graded at smoke scale (-m cpu grades them)"
    assert all(row["note"] == not_graded and row["two_stage_accepted"] == "" for row in rows.values())
    progress = result.stderr.str()  # the progress lines; the failures repeat a failing student's summary
    assert progress.count(f"(test accuracy, mean over 1 seed(s)); {not_graded}") == len(graded)
    assert rows["student_correct"]["points"] == rows["student_correct"]["max_points"] == "80"  # 6 x 10 + 20
    assert rows["student_no_recompile"]["points"] == "70" and rows["zoe"]["points"] == "0"  # 5 x 10 + 20; nothing
    assert all(row["stale"] == "no" and row["version"] == tl_claims.__version__ for row in rows.values())
    assert f"| class ({len(rows)}) |" in (results_dir / "smoke" / "homework_class.md").read_text(encoding="utf-8")
    assert f"class summary, smoke scale: {len(rows)} student(s), points " in output
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
    assert progress.count("the lesson's code as written (exercises") == len(graded)


@pytest.mark.cpu
def test_two_xdist_workers_grade_the_same_class_table_as_a_serial_run(pytester, student_source):
    """`pytest --homework class/ -n 2`: each worker grades its share of the students in children of its own, and the
    controller merges their records into the same gradebook as one process does (but for the time each was graded).
    About a minute on two cores: three tiny students, graded twice."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    folder = pytester.path / "class"
    folder.mkdir()
    for name, bugs in {"ana": (), "beto": ("no_recompile",), "carla": ("aug_on_val",)}.items():
        folder.joinpath(f"{name}.py").write_text(student_source(*bugs), encoding="utf-8")

    def graded(*options: str) -> tuple[list[dict], list[str]]:
        results_dir = pytester.path / f"results{''.join(options)}"
        result = pytester.runpytest_subprocess("--homework", str(folder), "--results-dir", str(results_dir), *options)
        result.assert_outcomes(passed=1, failed=2)
        with (results_dir / "smoke" / "homework_class.csv").open(encoding="utf-8") as handle:
            rows = [
                {key: value for key, value in row.items() if key not in ("graded", "run")}
                for row in csv.DictReader(handle)
            ]
        # The feedback pages, by name only: a check's message may count what a random augmentation did, which
        # differs from run to run in any case ("6 of 10 images differ" serially, "4 of 10" on a worker, once).
        return rows, sorted(path.name for path in (results_dir / "smoke" / "feedback").iterdir())

    serial, parallel = graded(), graded("-n", "2")
    assert [row["student"] for row in serial[0]] == ["ana", "beto", "carla"] and serial[0][2]["problem"] == ""
    assert serial[1] == ["ana.md", "beto.md", "carla.md"]
    assert serial == parallel


def test_a_hostile_student_name_is_inert_in_the_class_table(tmp_path):
    """Student names went raw into homework_class.md (HTML) and .csv (a formula when opened in a spreadsheet)."""
    names = ("<script>alert(1)</script>", '=HYPERLINK("http://x")', "-ana")
    records = [{"student": name, "phase1": -0.5, "problem": ""} for name in names]
    csv_path, md_path, _ = classroom.write_class_table(tmp_path, "smoke", records, scoring.POINTS)
    markdown = md_path.read_text(encoding="utf-8")
    assert "<script>" not in markdown and "| &lt;script>alert(1)&lt;/script> | 0 | 70 | -0.500 |" in markdown
    with csv_path.open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"<script>alert(1)</script>", '\'=HYPERLINK("http://x")', "'-ana"}
    assert {row["phase1"] for row in rows.values()} == {"-0.5"}  # a number, even a negative one, stays a number
    again = [{"student": "-ana", "phase1": 0.5, "graded": "2026-12-08"}]
    classroom.write_class_table(tmp_path, "smoke", again, scoring.POINTS)  # read back and merged: still one -ana
    assert read_table(tmp_path, "smoke")["'-ana"]["phase1"] == "0.5" and len(read_table(tmp_path, "smoke")) == 3


def test_a_students_file_names_are_safe_distinct_and_short():
    """Names differing only in spaces vs underscores shared their feedback file; a valid 215-character file name
    crashed after the training, at writing its outcome files."""
    assert classroom.safe_name("ana") == "ana" and classroom.safe_name("student_correct") == "student_correct"
    spaced, underscored = classroom.safe_name("a b"), classroom.safe_name("a_b")
    assert spaced != underscored and spaced.startswith("a_b-") and underscored == "a_b"
    assert classroom.safe_name("ana/pipeline") != classroom.safe_name("bob/pipeline")
    assert "/" not in classroom.safe_name("ana/pipeline") and not classroom.safe_name("..x").startswith(".")
    long_a, long_b = "n" * 215, "n" * 214 + "m"
    assert len(classroom.safe_name(long_a)) <= 111 and classroom.safe_name(long_a) != classroom.safe_name(long_b)
    assert classroom.safe_name(long_a) == classroom.safe_name(long_a)


FORGER = '''
import json as _json, os as _os, subprocess as _subprocess, sys as _sys

_RESULTS, _PIDS = {results!r}, {pids!r}
_FORGE = {{"phase1": 1.0, "phase2": 1.0, "scratch": 0.0, "two_stage_accepted": True, "scratch_accepted": True,
          "problem": "", "scale": "smoke", "graded": "2999-01-01T00:00:00Z", **dict.fromkeys({checks!r}, "passed")}}
_HELPER = """
import glob, json, os, sys, time
results, pids, forge = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(pids, "a") as handle:
    handle.write(f"{{os.getpid()}}\\\\n")
while True:  # rewrite every record and the class table with a pass, for as long as it runs
    for path in glob.glob(os.path.join(results, "smoke", "homework", "*", "*.json")):
        with open(path, "w") as handle:
            json.dump(dict(forge, student=os.path.basename(path)[:-5]), handle)
    table = os.path.join(results, "smoke", "homework_class.csv")
    if os.path.exists(table):
        with open(table) as handle:
            text = handle.read()
        with open(table, "w") as handle:
            handle.write(text.replace("failed", "passed") + "mallory" + "," * 30 + "\\\\n")
    time.sleep(0.1)
"""
_run = _json.loads(open(_sys.argv[2]).read()).get("run_id", "unknown") if len(_sys.argv) > 2 else "unknown"
_folder = _os.path.join(_RESULTS, "smoke", "homework", _run)
_os.makedirs(_folder, exist_ok=True)
with open(_os.path.join(_folder, "mallory.json"), "w") as _handle:  # a student who does not exist
    _json.dump(dict(_FORGE, student="mallory", file=__file__), _handle)
_subprocess.Popen([_sys.executable, "-c", _HELPER, _RESULTS, _PIDS, _json.dumps(_FORGE)], start_new_session=True)
if _os.fork() == 0:  # a copy of the child, in its group
    with open(_PIDS, "a") as _handle:
        _handle.write(f"{{_os.getpid()}}\\n")
    import time as _time

    _time.sleep(600)
    _os._exit(0)
'''


@pytest.mark.cpu
def test_a_student_cannot_write_the_gradebook_nor_outlive_its_turn(pytester, student_source):
    """A student's process wrote the gradebook's records: it added a passing row for a student who does not exist,
    turned every row into a pass, and a helper it left running kept doing so after its turn; two files named
    pipeline.py in two students' folders were one row, and a valid 215-character file name crashed after training.
    Now only the grader writes, from what it measured, one row per file, and nothing the student started is left.
    Beside them a student whose call hangs where its timer cannot reach (ended by the grader past --call-timeout) and
    one whose process dies: the class still finishes, one row each. About 90 s: five tiny students at 32 px."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    results, pids, folder = pytester.path / "results", pytester.path / "pids.txt", pytester.path / "class"
    forger = FORGER.format(results=str(results), pids=str(pids), checks=list(CHECKS))
    long_name = "n" * 212 + ".py"
    students = {"ana/pipeline.py": student_source(), "bob/pipeline.py": student_source("no_recompile") + forger}
    students[f"carla/{long_name}"] = student_source()
    hang = "import signal, time; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM}); time.sleep(600)"
    students["dan/pipeline.py"] = student_source().replace(
        "def build_model(config):\n", f"def build_model(config):\n    {hang}\n", 1
    )
    students["eva/pipeline.py"] = student_source().replace(
        "def compile_stage1(model, base):\n", "def compile_stage1(model, base):\n    import os; os._exit(3)\n", 1
    )
    for name, source in students.items():
        folder.joinpath(name).parent.mkdir(parents=True, exist_ok=True)
        folder.joinpath(name).write_text(source, encoding="utf-8")
    given = [str(folder / name) for name in students]
    started_at = time.monotonic()
    result = pytester.runpytest(*[f"--homework={path}" for path in given], "--results-dir", str(results),
                                "--image-size", "32", "--call-timeout", "20")  # fmt: skip
    assert time.monotonic() - started_at < 600  # the hanging student took 20 s + the grace, not the child's hours
    result.assert_outcomes(passed=2, failed=3)
    rows = read_table(results, "smoke")
    assert set(rows) == {"ana/pipeline", "bob/pipeline", "n" * 212, "dan/pipeline", "eva/pipeline"}
    assert "build_model did not return within 20 s" in rows["dan/pipeline"]["problem"]
    assert "exit status 3" in rows["eva/pipeline"]["problem"]
    assert rows["bob/pipeline"]["recompiled_after_unfreezing"] == "failed"
    assert {row["phase1"] for row in rows.values()} != {"1.0"} and all(row["run"] for row in rows.values())
    feedback = sorted(path.name for path in (results / "smoke" / "feedback").iterdir())
    assert len(feedback) == 5 and all(len(name) < 120 for name in feedback)
    variants = {row["variant"] for row in read_rows(results / "smoke") if row["variant"].startswith("student:")}
    assert len(variants) == 3  # the two that stopped have no claim rows
    started = [int(line) for line in pids.read_text(encoding="utf-8").split()]
    assert len(started) == 4 and not any(alive(pid) for pid in started)  # a helper and a fork per child: two children
