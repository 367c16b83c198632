"""pytest options for students: `--student PATH` runs the teaching checks, `--homework PATH` runs the grader.

    pytest --student examples/student_bn_updating.py            # one test per check, failures explain the fix
    pytest --student my_pipeline.py --lang es                   # the messages in Spanish (or TL_CLAIMS_LANG=es)
    pytest --homework my_pipeline.py                            # smoke scale: the checks graded, not accuracy
    pytest --homework class/ -m cpu                             # every .py and .ipynb in class/, cpu scale

Student code never runs in this process (tl_claims/teaching/sandbox.py): `--student` runs the checks in a child
process at start-up (a broken contract stops the session with one sentence, a usage error), and each `--homework`
student is graded, checks included, in a child of its own while its test runs, so one failing student never stops
the others (on Linux the children are forked from one server process that has imported TensorFlow once). Each call
of a student function has a time limit (--call-timeout, default 300 s). The student's file (a .py, or a notebook
whose code cells the child runs: tl_claims/teaching/ipynb.py) becomes the collected test module, but its tests
are those of student_tests.py (`StudentTests`): ids read `my_pipeline.py::test_check[preprocessing_matches_backbone]`,
and conftest files are the student's own, wherever the file lives. Without explicit paths the session runs just
these tests; with paths, they are added.
The homework rows go to the results table through the main plugin's session (tl_claims/plugin/session.py): same results
directory, run id and scale options (--image-size, --seeds, --n-train, --dataset); the gradebook
(tl_claims/teaching/classroom.py) to results/<scale>/homework_class.{csv,md}, each student's feedback
(tl_claims/teaching/feedback.py) to results/<scale>/feedback/<student>.md. A failed teaching check fails the student
at every scale; the acceptance criteria only at cpu and gpu scale. Points per check and criterion: the
`tl_claims_points` ini option over the defaults of tl_claims/teaching/scoring.py.

The language: --lang, else the TL_CLAIMS_LANG environment variable, else the `tl_claims_lang` ini option, else en.

Installed, this module is a `pytest11` entry point named after itself, so it is loaded in every pytest run of the
environment, and it keeps out of other projects' way: until `--student` or `--homework` is given it registers only
those two options and imports nothing but pytest and the message tables. Given one of them, it activates tl-claims:
TensorFlow's start-up lines are quieted, the claims plugin (tl_claims/plugin/hooks.py, with its options, markers and
results session) is loaded, and `--lang` is registered. The claims plugin is never an entry point: without these
options it runs only where this repository's conftest.py (or `-p tl_claims.plugin.hooks`) loads it.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from collections import Counter
from pathlib import Path

import pytest

from tl_claims.teaching import messages

CLAIMS_PLUGIN = "tl_claims.plugin.hooks"
TESTS_MODULE = "tl_claims.teaching.student_tests"
NOTEBOOK_SUFFIX = ".ipynb"  # tl_claims/teaching/ipynb.py reads it; the plugin itself imports no more than pytest
SOURCE_SUFFIXES = (".py", NOTEBOOK_SUFFIX)
TARGETS = {"student": "test_check", "homework": "test_homework"}
CHECK_IMAGE_SIZE = 32  # the checks look at structure and behaviour, not accuracy: the smallest size the bases take
LANG_VARIABLE = "TL_CLAIMS_LANG"
LANG_INI = "tl_claims_lang"
TIMEOUT_VARIABLE = "TL_CLAIMS_CALL_TIMEOUT"
HOMEWORK_SECONDS = 6 * 3600.0  # the bound on one student's whole grading (fit runs in the child, outside any call)
STUDENTS = pytest.StashKey[dict]()  # option -> {resolved path: Path}
STUDENT_KEYS = pytest.StashKey[dict]()  # resolved path -> the student's name: its path within the class folder
RECORDS = pytest.StashKey[list]()  # this run's gradebook records, as the graders reported them (controller)
EARLIER = pytest.StashKey[dict]()  # scale -> the gradebook's rows before any student code ran (controller)
RECORD_PROPERTY = "tl_claims_homework_record"  # the user property a homework test's record travels in
SIGTERM_BEFORE = pytest.StashKey[object]()  # the SIGTERM handler before grading's
CHECK_REPORT = pytest.StashKey[object]()  # the --student child's ChildReport
PROGRESS = pytest.StashKey[dict]()  # scale -> classroom.Progress
POINTS = pytest.StashKey[dict]()  # item -> points (scoring.POINTS with the ini option's overrides)
POINTS_INI = "tl_claims_points"  # scoring.POINTS_INI, named here so that registering it imports nothing
LESSON_LITERALS = pytest.StashKey[dict]()  # (scale, backbone) -> the homework's lesson-literal row, or None
FORK_SERVER = pytest.StashKey[object]()  # the homework children's sandbox.ForkServer, closed at unconfigure
REPLACED = pytest.StashKey[bool]()
ACTIVE = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("tl-claims", "tl-claims: verify the transfer-learning lesson's claims")
    group.addoption(
        "--student",
        metavar="PATH",
        default=None,
        help="run the teaching checks on a student pipeline, --lang es for Spanish messages (the "
        "contract: python -m tl_claims docs contract)",
    )
    group.addoption(
        "--homework",
        metavar="PATH",
        action="append",
        default=None,
        help="grade student pipelines (a .py file, a notebook (.ipynb) or a folder of them; repeat for several): "
        "phase 1, phase 2 and from-scratch accuracy and the teaching checks into a class table; smoke scale by "
        "default, -m cpu / -m gpu for the acceptance criteria",
    )
    parser.addini(LANG_INI, "tl-claims: language of the student messages (en or es)", default="")
    parser.addini(
        POINTS_INI,
        "tl-claims: points per teaching check or acceptance criterion, `name = points` a line (defaults: "
        "tl_claims/teaching/scoring.py)",
        type="linelist",
        default=[],
    )
    config = pluginmanager.get_plugin("pytestconfig")
    if config is not None and requested(config.invocation_params.args):
        add_active_options(parser)
        # The claims plugin's options (--results-dir, --seeds, ...) now, not at activation: pytest chooses the initial
        # conftests from the arguments it cannot place yet, so `--results-dir /elsewhere` would be taken for a test
        # path and this project's conftest.py loaded only during collection, where its `pytest_plugins` is an error.
        pluginmanager.import_plugin(CLAIMS_PLUGIN)


def requested(args) -> bool:
    """Whether command-line arguments name --student or --homework."""
    return any(str(arg).split("=", 1)[0] in ("--student", "--homework") for arg in args)


def add_active_options(parser: pytest.Parser) -> None:
    """Options that exist only while tl-claims is active, so they never collide with another project's."""
    group = parser.getgroup("tl-claims")
    if any("--lang" in option.names() for option in group.options):
        return
    group.addoption(
        "--lang",
        choices=messages.LANGUAGES,
        default=None,
        help=f"language of the check and grader messages (default: ${LANG_VARIABLE}, the {LANG_INI} ini option, en)",
    )
    group.addoption(
        "--call-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"time limit per call of a student function (default: ${TIMEOUT_VARIABLE} or 300)",
    )


def lang_of(config: pytest.Config) -> str:
    """--lang, else $TL_CLAIMS_LANG, else the tl_claims_lang ini option, else English."""
    chosen = (
        config.getoption("--lang", None) or os.environ.get(LANG_VARIABLE) or config.getini(LANG_INI) or "en"
    ).strip()
    if chosen not in messages.LANGUAGES:
        choices = ", ".join(messages.LANGUAGES)
        raise pytest.UsageError(f"language {chosen!r} (from ${LANG_VARIABLE} or {LANG_INI}): use one of {choices}")
    return chosen


def call_timeout(config: pytest.Config) -> float:
    from tl_claims.teaching.sandbox import DEFAULT_CALL_TIMEOUT

    value = config.getoption("--call-timeout", None) or os.environ.get(TIMEOUT_VARIABLE) or DEFAULT_CALL_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise pytest.UsageError(f"${TIMEOUT_VARIABLE}={value!r}: give a number of seconds") from None
    if not 0 < seconds <= 24 * 3600:
        raise pytest.UsageError(f"--call-timeout {seconds:g}: give a number of seconds between 0 and 86400")
    return seconds


def activate(config: pytest.Config) -> None:
    """--student / --homework given: quiet TensorFlow, check it is there, load the claims plugin (once)."""
    if config.stash.get(ACTIVE, False):
        return
    config.stash[ACTIVE] = True
    from tl_claims.core.install_check import TensorFlowMissingError, require_tensorflow
    from tl_claims.core.quiet import quiet_tensorflow

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
    student = config.getoption("--student")
    homework = config.getoption("--homework")
    if student is None and not homework:
        return
    activate(config)  # done already unless this plugin came in by a conftest.py
    interrupt_on_sigterm(config)
    lang = lang_of(config)
    if student is not None:
        path = student_file("student", Path(student), lang)
        config.stash[STUDENTS]["student"] = {path.resolve(): path}
        config.stash[CHECK_REPORT] = run_checks_in_child(config, path, lang)
        add_to_collection(config, str(path))
    if homework:
        config.stash[POINTS] = points_of(config)
        paths = homework_files(homework, lang)
        config.stash[STUDENTS]["homework"] = {path.resolve(): path for path in paths}
        config.stash[RECORDS] = []
        config.pluginmanager.register(RecordKeeper(config.stash[RECORDS]))
        for path in paths:
            add_to_collection(config, str(path))


def points_of(config: pytest.Config) -> dict[str, float]:
    """The points table: the defaults with the ini option's lines; a wrong line is a usage error."""
    from tl_claims.teaching import scoring

    try:
        return scoring.points_with(config.getini(POINTS_INI))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def student_file(option: str, path: Path, lang: str) -> Path:
    """An existing .py or .ipynb file, or a usage error that says what to give."""
    if not path.is_file():
        raise pytest.UsageError(f"--{option} {path}: {messages.text(lang, 'contract_no_file')}")
    if path.suffix not in SOURCE_SUFFIXES:
        raise pytest.UsageError(f"--{option} {path}: {messages.text(lang, 'contract_not_python')}")
    return path


def interrupt_on_sigterm(config: pytest.Config) -> None:
    """SIGTERM stops the grading as Ctrl-C does, so that the student's processes and the temporary folders go too
    (tl_claims/teaching/sandbox.py ends a turn however it ends); pytest's default would leave them behind."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        config.stash[SIGTERM_BEFORE] = signal.signal(signal.SIGTERM, raise_interrupt)


def raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def homework_files(given: list[str], lang: str) -> list[Path]:
    """Every .py or .ipynb file named or inside a named folder (not recursive: a subfolder holds helpers or runners;
    a class in one folder per student is `--homework class/*/`); files starting with _ or test_ skipped, and
    anything that is not a file (a pipe named .py)."""
    paths: list[Path] = []
    for item in map(Path, given):
        if item.is_dir():
            found = sorted(
                p
                for p in item.iterdir()
                if p.suffix in SOURCE_SUFFIXES and p.is_file() and not p.name.startswith(("_", "test_"))
            )
            if not found:
                raise pytest.UsageError(f"--homework {item}: {messages.text(lang, 'homework_empty_folder')}")
            paths.extend(found)
        else:
            paths.append(student_file("homework", item, lang))
    unique = {path.resolve(): path for path in paths}
    return list(unique.values())


def student_keys(paths: list[Path], known: dict[Path, str] | None = None) -> dict[Path, str]:
    """resolved path -> the student's name: the file's name without its suffix, or as many of its folders as it
    takes to tell it from the other students' files (`ana/pipeline`, `bob/pipeline`; the suffix kept where two
    files differ only there). A file the gradebooks already name (`known`: resolved path -> name) keeps its name,
    and a new one is told apart from those too: grading one student alone, or the class again, names everyone as
    before, and two files never share a name."""
    known = known or {}
    resolved = [path.resolve() for path in paths]
    keys = {path: known[path] for path in resolved if path in known}
    fresh = [path for path in resolved if path not in keys]
    everyone = fresh + [path for path in known if path not in keys]
    taken = set(known.values())
    for depth in range(1, max((len(path.parts) for path in everyone), default=0) + 1):
        for with_suffix in (False, True):
            tails = {path: tail(path, depth, with_suffix) for path in everyone}
            counts = Counter(tails.values())
            for path in fresh:
                if path not in keys and counts[tails[path]] == 1 and tails[path] not in taken:
                    keys[path] = tails[path]
    return keys


def known_students(gradebooks: dict[str, list[dict[str, str]]]) -> dict[Path, str]:
    """resolved path -> the name the results folder's gradebooks gave that file (any scale)."""
    return {Path(row["file"]): row["student"] for rows in gradebooks.values() for row in rows if row.get("file")}


def tail(path: Path, depth: int, with_suffix: bool) -> str:
    name = "/".join((path if with_suffix else path.with_suffix("")).parts[-depth:])
    return name.lstrip("/")


def run_checks_in_child(config: pytest.Config, path: Path, lang: str):
    """The teaching checks on the student's file, in a child process; a broken contract is a usage error."""
    from tl_claims.teaching import sandbox

    seconds = call_timeout(config)
    arguments = dict(
        path=str(path),
        lang=lang,
        image_size=config.getoption("--image-size") or CHECK_IMAGE_SIZE,
        call_timeout=seconds,
    )
    limit = seconds * sandbox.CHECK_CALLS + sandbox.STARTUP_SECONDS * len(messages.CHECK_NAMES) / 3
    report = sandbox.run_child("checks", arguments, seconds=limit)
    if report.contract is not None:
        raise pytest.UsageError(f"--student {path}: {report.contract}")
    return report


def add_to_collection(config: pytest.Config, path: str) -> None:
    """Paths given on the command line are kept; the default (testpaths / current folder) is replaced."""
    if config.args_source != pytest.Config.ArgsSource.ARGS and not config.stash.get(REPLACED, False):
        config.args[:] = []
        config.stash[REPLACED] = True
    if path not in config.args:
        config.args.append(path)


def options_naming(config: pytest.Config, module_path: Path) -> set[str]:
    resolved = module_path.resolve()
    return {option for option, paths in config.stash.get(STUDENTS, {}).items() if resolved in paths}


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector):
    """A student's file is collected as `StudentTests`, never imported as a test module."""
    if options_naming(parent.config, module_path):
        return StudentTests.from_parent(parent, path=module_path)
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """A student's notebook too (pytest offers only .py files to `pytest_pycollect_makemodule`)."""
    if file_path.suffix == NOTEBOOK_SUFFIX and options_naming(parent.config, file_path):
        return StudentTests.from_parent(parent, path=file_path)
    return None


class StudentTests(pytest.Module):
    """A student's file as a node whose tests come from student_tests.py, for the options that name it."""

    def _getobj(self):
        return importlib.import_module(TESTS_MODULE)

    def collect(self):
        wanted = {TARGETS[option] for option in options_naming(self.config, self.path)}
        return [node for node in super().collect() if getattr(node, "originalname", node.name) in wanted]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How many students each scale grades, for the progress lines' estimate of the time left."""
    if not config.stash.get(STUDENTS, {}).get("homework"):
        return  # not grading: nothing to count, nothing to import (other projects' runs stay light)
    from tl_claims.teaching.classroom import Progress

    counts: dict[str, int] = {}
    for item in items:
        if getattr(item, "originalname", "") == "test_homework" and hasattr(item, "callspec"):
            scale = item.callspec.params["scale_name"]
            counts[scale] = counts.get(scale, 0) + 1
    config.stash[PROGRESS] = {scale: Progress(count) for scale, count in counts.items()}


@pytest.fixture
def grade_homework(request: pytest.FixtureRequest):
    """Grade a student's file at a scale in a child (checks included), record its rows, its gradebook row and its
    feedback, and fail unless every check holds and, at cpu / gpu scale, the acceptance criteria too
    (tl_claims/teaching/grading.py)."""
    from tl_claims.plugin.session import SESSION_KEY, skip_gpu_scale_without_gpu

    session = request.config.stash[SESSION_KEY]
    lang = lang_of(request.config)

    def grade(path: Path, scale_name: str) -> dict:
        from tl_claims.teaching.grading import grade_in_child

        skip_gpu_scale_without_gpu(scale_name)
        student = request.config.stash[STUDENT_KEYS][path.resolve()]
        keep = lambda record: request.node.user_properties.append((RECORD_PROPERTY, record))  # noqa: E731
        return grade_in_child(request.config, session, path, student, scale_name, lang, keep)

    return grade


def fork_server(config: pytest.Config):
    """The session's fork server for homework children (None where forking is not offered: they are spawned)."""
    from tl_claims.teaching import sandbox

    if not sandbox.ForkServer.available():
        return None
    if FORK_SERVER not in config.stash:
        config.stash[FORK_SERVER] = sandbox.ForkServer()
    return config.stash[FORK_SERVER]


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(FORK_SERVER, None)
    if server is not None:
        server.close()
    if SIGTERM_BEFORE in config.stash:
        signal.signal(signal.SIGTERM, config.stash[SIGTERM_BEFORE])


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before any student's code runs: each process names the students, keeping the names the earlier gradebooks
    gave; the controller keeps those gradebooks."""
    config = session.config
    students = config.stash.get(STUDENTS, {}).get("homework")
    if not students:
        return
    from tl_claims.plugin.session import SESSION_KEY
    from tl_claims.teaching import classroom

    earlier = classroom.earlier_gradebooks(config.stash[SESSION_KEY].results_dir)
    config.stash[STUDENT_KEYS] = student_keys(list(students.values()), known_students(earlier))
    if not hasattr(config, "workerinput"):
        config.stash[EARLIER] = earlier


class RecordKeeper:
    """Keeps each graded student's record from its test's report (under xdist, the controller sees the workers')."""

    def __init__(self, records: list[dict]) -> None:
        self.records = records

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.records.extend(value for name, value in report.user_properties if name == RECORD_PROPERTY)


def check_verdicts(report, lang: str) -> dict[str, tuple[str, str]]:
    """Every check of this harness (not the child's list) -> (outcome, message), one message per problem.

    outcome: passed / failed / error, or `not run`. An error repeated by later checks (they share one rehearsal)
    is reported once; a check the child never reported is a failure - the first one carries the reason (the child
    died, timed out, the pipeline could not be built, or the student's code changed the harness), the rest refer
    to it.
    """
    verdicts: dict[str, tuple[str, str]] = {}
    errors: dict[str, str] = {}
    problem = report.checks_problem(lang) or messages.text(lang, "child_missing")
    reported_in = None
    for name in messages.CHECK_NAMES:
        row = report.rows.get(name)
        if row is None:
            later = messages.text(lang, "not_run_after", check=reported_in)
            verdicts[name] = ("not run", later) if reported_in else ("error", problem)
            reported_in = reported_in or name
        elif row["status"] == "error" and row["message"] in errors:
            verdicts[name] = ("not run", messages.text(lang, "same_error", check=errors[row["message"]]))
        else:
            if row["status"] == "error":
                errors[row["message"]] = name
            verdicts[name] = (row["status"], row["message"])
    return verdicts


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller merges this run's records into each scale's gradebook."""
    config = session.config
    if hasattr(config, "workerinput") or not config.stash.get(STUDENTS, {}).get("homework"):
        return
    from tl_claims.plugin.session import SESSION_KEY
    from tl_claims.teaching import classroom

    claims_session = config.stash.get(SESSION_KEY, None)
    if claims_session is None:
        return
    written, earlier = [], config.stash.get(EARLIER, {})
    for scale_name in sorted({record["scale"] for record in config.stash[RECORDS]}):
        records = [record for record in config.stash[RECORDS] if record["scale"] == scale_name]
        table = classroom.write_class_table(
            claims_session.results_dir, scale_name, records, config.stash[POINTS], earlier.get(scale_name, [])
        )
        if table:
            written.append(table)
    config.stash[CLASS_TABLES] = written


CLASS_TABLES = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    students = {path for paths in config.stash.get(STUDENTS, {}).values() for path in paths.values()}
    if any(path.suffix == NOTEBOOK_SUFFIX for path in students):
        from tl_claims.teaching.ipynb import skipped_notes

        for line in skipped_notes(sorted(students), lang_of(config)):
            terminalreporter.write_line(line)
    for _, md_path, summary in config.stash.get(CLASS_TABLES, []):
        terminalreporter.write_line(f"class table: {md_path} (and .csv); feedback: {md_path.parent / 'feedback'}/")
        for line in summary:
            terminalreporter.write_line(line)
