"""pytest options for students: `--student PATH` runs the teaching checks, `--homework PATH` runs the grader.

    pytest --student examples/student_bn_updating.py            # one test per check, failures explain the fix
    pytest --student my_pipeline.py --lang es                   # the messages in Spanish
    pytest --homework my_pipeline.py                            # smoke scale: runs and writes rows, no verdict
    pytest --homework my_pipeline.py -m cpu                     # cpu scale: the lesson's acceptance criteria

The student module is loaded and its contract validated at start-up, so a missing or misspelled function stops the
session with one sentence. The student's file then becomes the collected test module, but its tests are those of
student_tests.py (`StudentTests`): ids read `my_pipeline.py::test_check[preprocessing_matches_backbone]`, and
conftest files are the student's own, wherever the file lives. Without explicit paths the session runs just these
tests; with paths, they are added.
The homework rows go to the results table through the main plugin's session (harness/plugin.py): same results
directory, run id and scale options (--image-size, --seeds, --n-train, --dataset).

Installed, this module is a `pytest11` entry point named after itself, so it is loaded in every pytest run of the
environment, and it keeps out of other projects' way: until `--student` or `--homework` is given it registers only
those two options and imports nothing but pytest and the message tables. Given one of them, it activates tl-claims:
TensorFlow's start-up lines are quieted, the claims plugin (harness/plugin.py, with its options, markers and results
session) is loaded, and `--lang` is registered. The claims plugin is never an entry point: without these options it
runs only where this repository's conftest.py (or `-p harness.plugin`) loads it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from harness.teaching import messages

CLAIMS_PLUGIN = "harness.plugin"
TESTS_MODULE = "harness.teaching.student_tests"
TARGETS = {"student": "test_check", "homework": "test_homework"}
CHECK_IMAGE_SIZE = 32  # the checks look at structure and behaviour, not accuracy: the smallest size the bases take
STUDENTS = pytest.StashKey[dict]()  # option -> Student
REPLACED = pytest.StashKey[bool]()
ACTIVE = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("tl-claims", "tl-claims: verify the transfer-learning lesson's claims")
    group.addoption(
        "--student",
        metavar="PATH",
        default=None,
        help="run the teaching checks on a student pipeline, --lang es for Spanish messages (the "
        "contract: python -m harness docs contract)",
    )
    group.addoption(
        "--homework",
        metavar="PATH",
        default=None,
        help="grade a student pipeline: phase 1, phase 2 and from-scratch accuracy into the results "
        "table; smoke scale by default, -m cpu / -m gpu for the acceptance criteria",
    )
    config = pluginmanager.get_plugin("pytestconfig")
    if config is not None and requested(config.invocation_params.args):
        add_active_options(parser)


def requested(args) -> bool:
    """Whether command-line arguments name --student or --homework."""
    return any(str(arg).split("=", 1)[0] in ("--student", "--homework") for arg in args)


def add_active_options(parser: pytest.Parser) -> None:
    """Options that exist only while tl-claims is active, so they never collide with another project's."""
    group = parser.getgroup("tl-claims")
    if not any("--lang" in option.names() for option in group.options):
        group.addoption(
            "--lang",
            choices=messages.LANGUAGES,
            default="en",
            help="language of the check and grader messages (default: en)",
        )


def activate(config: pytest.Config) -> None:
    """--student / --homework given: quiet TensorFlow, check it is there, load the claims plugin (once)."""
    if config.stash.get(ACTIVE, False):
        return
    config.stash[ACTIVE] = True
    from harness.install_check import TensorFlowMissingError, require_tensorflow
    from harness.quiet import quiet_tensorflow

    quiet_tensorflow()
    try:
        require_tensorflow()
    except TensorFlowMissingError as error:
        raise pytest.UsageError(str(error)) from None
    config.pluginmanager.import_plugin(CLAIMS_PLUGIN)
    for module in ("keras", "tensorflow"):  # their DeprecationWarnings are not the student's; -W brings them back
        config.addinivalue_line("filterwarnings", f"ignore::DeprecationWarning:{module}")


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Activation before the full parse, so the claims plugin's options (--image-size, --seeds, ...) parse too."""
    namespace = early_config.known_args_namespace
    if any(getattr(namespace, option, None) is not None for option in TARGETS):
        add_active_options(parser)
        activate(early_config)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STUDENTS] = {}
    for option in TARGETS:
        path = config.getoption(f"--{option}")
        if path is not None:
            activate(config)  # done already unless this plugin came in by a conftest.py
            config.stash[STUDENTS][option] = load(option, Path(path), config.getoption("--lang", "en"))
            add_to_collection(config, path)


def load(option: str, path: Path, lang: str):
    """The validated student, or a usage error that says what to change."""
    from harness.teaching.student import ContractError, load_student

    if not path.is_file():
        raise pytest.UsageError(f"--{option} {path}: {messages.text(lang, 'contract_no_file')}")
    try:
        return load_student(path, lang=lang)
    except ContractError as error:
        raise pytest.UsageError(f"--{option} {path}: {error}") from None


def add_to_collection(config: pytest.Config, path: str) -> None:
    """Paths given on the command line are kept; the default (testpaths / current folder) is replaced."""
    if config.args_source != pytest.Config.ArgsSource.ARGS and not config.stash.get(REPLACED, False):
        config.args[:] = []
        config.stash[REPLACED] = True
    if path not in config.args:
        config.args.append(path)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector):
    """The student's file is collected as `StudentTests`, not imported as a test module."""
    students = parent.config.stash.get(STUDENTS, {})
    if any(Path(student.module.__file__).resolve() == module_path.resolve() for student in students.values()):
        return StudentTests.from_parent(parent, path=module_path)
    return None


class StudentTests(pytest.Module):
    """A student's file as a node whose tests come from student_tests.py, for the options that name it."""

    def _getobj(self):
        return importlib.import_module(TESTS_MODULE)

    def collect(self):
        students = self.config.stash[STUDENTS]
        wanted = {
            TARGETS[option]
            for option, student in students.items()
            if Path(student.module.__file__).resolve() == self.path.resolve()
        }
        return [node for node in super().collect() if getattr(node, "originalname", node.name) in wanted]


@pytest.fixture
def grade_homework(request: pytest.FixtureRequest):
    """Grade a student at a scale, record the rows, and at cpu/gpu scale fail unless the acceptance criteria hold."""
    from harness.plugin import SESSION_KEY, skip_gpu_scale_without_gpu

    session = request.config.stash[SESSION_KEY]
    lang = request.config.getoption("--lang", "en")

    def grade(student, scale_name: str):
        from harness import results
        from harness.backbones import WeightsUnavailableError
        from harness.teaching import homework

        skip_gpu_scale_without_gpu(scale_name)
        try:
            result = homework.grade(
                student,
                session.scale(scale_name),
                cache_dir=session.cache_dir,
                run_id=session.run_id,
                progress=lambda line: session.progress(scale_name, line),
            )
        except WeightsUnavailableError as error:
            pytest.skip(f"homework[{student.name}] at {scale_name} scale: {error}")
        for row, outcomes in zip(result.rows, result.outcomes, strict=True):
            results.append_row(session.results_dir, row, session.worker)
            results.append_outcomes(session.results_dir, row, outcomes)
        session.progress(scale_name, result.summary(lang))
        if scale_name == "smoke":
            assert result.all_finite(), f"accuracies outside [0, 1]: {[row.per_seed for row in result.rows]}"
        elif problems := result.failures(lang):
            pytest.fail("\n".join([result.summary(lang), *problems]), pytrace=False)
        return result

    return grade
