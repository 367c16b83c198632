"""`pytest --student` end to end, in a fresh pytest session (pytester), on the tiny student
(fixtures/tiny_student.py), which keeps these fast. `pytest --homework` on the real examples: test_classroom.py.
"""

import os

import pytest
from test_checks import EXAMPLE_BUGS

from tl_claims.core.paths import REPO_ROOT
from tl_claims.teaching.plugin import homework_files, student_keys


@pytest.fixture
def student_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    return pytester


@pytest.fixture
def write_student(student_source):
    """A factory: the tiny student with the given bugs written into a pytester folder; returns its file name."""

    def write(pytester: pytest.Pytester, *bugs: str, name: str = "tiny") -> str:
        pytester.path.joinpath(f"{name}.py").write_text(student_source(*bugs), encoding="utf-8")
        return f"{name}.py"

    return write


def test_student_option_runs_one_test_per_check_and_nothing_else(student_pytester, write_student):
    student_pytester.makepyfile(test_unrelated="def test_unrelated(): pass")
    result = student_pytester.runpytest("--student", write_student(student_pytester), "-v")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["tiny.py::test_check?preprocessing_matches_backbone? PASSED*"])
    result.stdout.no_fnmatch_line("*test_unrelated*")


def test_a_buggy_pipeline_fails_its_check_with_the_four_part_message_and_no_traceback(student_pytester, write_student):
    result = student_pytester.runpytest("--student", write_student(student_pytester, "no_recompile"))
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*[[]recompiled_after_unfreezing[]] stage 2 does not train the base",
            "*seen:*moved none of the base's weights.",
            "*rule:*",
            "*why:*",
            "*fix:*Call model.compile(*",
        ]
    )
    result.stdout.no_fnmatch_line("*tl_claims/teaching/checks.py:*")


@pytest.mark.cpu
def test_lang_es_gives_spanish_messages(student_pytester, write_student):
    """In the fast suite the same student, language and lines are asserted through the installed entry point
    (test_entry_point.py, in a foreign folder); this in-process run repeats it with `-m cpu`."""
    result = student_pytester.runpytest("--student", write_student(student_pytester, "high_lr"), "--lang", "es")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["*la tasa de aprendizaje del fine-tuning es demasiado alta", "*arreglo:*Adam(1e-5)*"])


def test_a_misspelled_function_stops_the_session_with_one_sentence(student_pytester, student_source):
    path = student_pytester.path / "tiny.py"
    path.write_text(student_source().replace("def build_datasets(", "def build_dataset("))
    result = student_pytester.runpytest("--student", "tiny.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --student tiny.py: build_datasets is missing from tiny*Did you mean to name "
            "'build_dataset' 'build_datasets'?*"
        ]
    )
    assert "Traceback" not in result.stderr.str()


def test_a_missing_file_is_a_usage_error(student_pytester):
    result = student_pytester.runpytest("--homework", "nowhere.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --homework nowhere.py: no such file*"])


def test_paths_given_on_the_command_line_still_run(student_pytester, write_student):
    student_pytester.makepyfile(test_mine="def test_mine(): pass")
    result = student_pytester.runpytest("--student", write_student(student_pytester), "test_mine.py")
    result.assert_outcomes(passed=8)


def test_parametrize_with_checks_in_a_students_own_test_file(student_pytester, write_student):
    write_student(student_pytester, "aug_on_val")
    student_pytester.makepyfile(
        test_mine="""
        import tiny
        from tl_claims.teaching.checks import parametrize_with_checks

        @parametrize_with_checks(tiny)
        def test_tiny(check):
            check()
    """
    )
    result = student_pytester.runpytest("test_mine.py", "-v")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_tiny?augmentation_absent_from_val? FAILED*", "*CheckFailure: [[]augmentation_absent_from_val[]]*"]
    )


OPTIONS_ECHO = """
pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]
VALUED = ("--results-dir", "--cache-dir", "--seeds", "--image-size", "--n-train", "--backbone", "--dataset", "--lang",
          "--call-timeout")


def pytest_report_header(config):
    return "options: " + repr({name: config.getoption(name) for name in VALUED})
"""


def test_options_given_with_a_space_behave_like_the_equals_form(pytester, tmp_path_factory, student_source):
    """Like this repository: an ini, a conftest.py that lists plugins, the student plugin loaded before the command
    line is parsed (as its entry point is). Paths outside the project (`--results-dir /elsewhere`) once read as test
    paths when pytest chose the initial conftests, so the conftest came late and collection failed."""
    pytester.makeini("[pytest]\n")
    pytester.makeconftest(OPTIONS_ECHO)
    pytester.path.joinpath("tiny.py").write_text(student_source(), encoding="utf-8")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    values = {
        "--homework": "tiny.py",
        "--results-dir": str(elsewhere / "results"),
        "--cache-dir": str(elsewhere),
        "--seeds": "2",
        "--image-size": "32",
        "--n-train": "4",
        "--backbone": "efficientnet_lite0",
        "--dataset": "synthetic:objects",
        "--lang": "es",
        "--call-timeout": "60",
    }
    (elsewhere / "results").mkdir()
    spaced = [part for option, value in values.items() for part in (option, value)]
    joined = [f"{option}={value}" for option, value in values.items()]

    def run(arguments: list[str]) -> list[str]:
        result = pytester.runpytest("-p", "tl_claims.teaching.plugin", "--collect-only", *arguments)
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
        return [line for line in result.outlines if line.lstrip().startswith(("rootdir:", "options:", "<"))]

    seen = run(spaced)
    assert seen == run(joined)
    (options,) = [line for line in seen if line.startswith("options:")]
    assert f"'--results-dir': '{elsewhere / 'results'}'" in options and "'--call-timeout': 60.0" in options
    assert "    <Function test_homework[smoke]>" in seen


def test_a_class_folder_holds_its_py_files_and_notebooks_and_nothing_else(tmp_path):
    """Notebooks beside .py files; helpers (_x, test_x), other files and subfolders are not students. The examples
    folder is a class of its own: the Colab notebook, a runner rather than a pipeline, sits in a subfolder."""
    for name in ("ana.py", "beto.ipynb", "_helpers.py", "test_mine.py", "notes.txt", "sub/carla.py"):
        tmp_path.joinpath(name).parent.mkdir(exist_ok=True)
        tmp_path.joinpath(name).write_text("", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.py")  # opening it would wait for a writer: it stopped the class
    assert [path.name for path in homework_files([str(tmp_path)], "en")] == ["ana.py", "beto.ipynb"]
    assert {path.stem for path in homework_files([str(REPO_ROOT / "examples")], "en")} == set(EXAMPLE_BUGS)


def test_each_student_file_is_a_student_of_its_own(tmp_path):
    """Two files of the same name in two folders, or names that differ in spaces and underscores, were one row."""
    names = ("ana/pipeline.py", "bob/pipeline.py", "a b.py", "a_b.py", "carla.py", "carla.ipynb", "dora.py")
    paths = [tmp_path / name for name in names]
    keys = student_keys(paths)
    assert [keys[path.resolve()] for path in paths] == [
        "ana/pipeline",
        "bob/pipeline",
        "a b",
        "a_b",
        "carla.py",
        "carla.ipynb",
        "dora",
    ]
    assert student_keys(paths) == keys  # stable


def test_a_student_keeps_the_name_the_gradebook_gave_whatever_is_graded_with_it(tmp_path):
    """Named by the files graded together, `bob/pipeline` graded alone became `pipeline`, a second row for him;
    and a new `dora/x.py` took the name `x` that `carla/x.py` had been given."""
    known = student_keys([tmp_path / "ana/pipeline.py", tmp_path / "bob/pipeline.py", tmp_path / "carla/x.py"])
    assert student_keys([tmp_path / "bob/pipeline.py"], known) == {
        (tmp_path / "bob/pipeline.py").resolve(): "bob/pipeline"
    }
    keys = student_keys([tmp_path / "dora/x.py", tmp_path / "eva/y.py"], known)
    assert keys == {(tmp_path / "dora/x.py").resolve(): "dora/x", (tmp_path / "eva/y.py").resolve(): "y"}
    assert not set(keys.values()) & set(known.values())
