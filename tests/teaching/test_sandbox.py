"""Student code in a child process (tl_claims/teaching/sandbox.py): every way a student's file can end, hang or tamper
with the run is reported as one message and is never a pass. Each case is a row of docs/bad-input.md ("Student
code")."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tl_claims.core.paths import REPO_ROOT
from tl_claims.teaching import sandbox
from tl_claims.teaching.checks import CHECKS
from tl_claims.teaching.plugin import check_verdicts

STAGE1 = "def compile_stage1(model, base):\n"
BUILD_MODEL = "def build_model(config):\n"


@pytest.fixture(scope="module")
def fork_server():
    with sandbox.ForkServer() as server:
        yield server


@pytest.fixture(params=["spawned", "forked"])
def launcher(request, fork_server) -> sandbox.ForkServer | None:
    """What the way a child starts could change (its exit status, its output, its threads, the kill past the time
    limit) is checked for a spawned child and for one forked from the fork server."""
    if request.param == "forked" and not sandbox.ForkServer.available():
        pytest.skip("the fork server is offered on Linux only")
    return fork_server if request.param == "forked" else None


@pytest.fixture
def server(fork_server) -> sandbox.ForkServer | None:
    """What happens inside the child alike either way: a forked child where offered (seconds sooner)."""
    return fork_server if sandbox.ForkServer.available() else None


def run_checks_in_child(
    tmp_path: Path, source: str, server: sandbox.ForkServer | None, call_timeout: float = 60.0, seconds: float = 120
) -> sandbox.ChildReport:
    path = tmp_path / "student.py"
    path.write_text(source, encoding="utf-8")
    arguments = dict(path=str(path), lang="en", image_size=32, call_timeout=call_timeout)
    return sandbox.run_child("checks", arguments, seconds=seconds, server=server)


def with_line(source: str, where: str, line: str) -> str:
    """`source` with `line` as the first statement of the function defined at `where` (or after an import)."""
    assert where in source
    return source.replace(where, f"{where}    {line}\n" if where.startswith("def ") else f"{where}{line}\n", 1)


def outcomes(report: sandbox.ChildReport) -> dict[str, str]:
    return {name: outcome for name, (outcome, _) in check_verdicts(report, "en").items()}


def assert_one_problem(report: sandbox.ChildReport, phrase: str) -> str:
    """The first check carries the problem, the others are `not run` referring to it; nothing passes."""
    verdicts = check_verdicts(report, "en")
    first, *rest = verdicts.values()
    assert first[0] == "error" and phrase in first[1], verdicts
    assert all(outcome == "not run" for outcome, _ in rest), verdicts
    return first[1]


def test_an_endless_loop_in_build_model_is_stopped_by_the_time_limit(tmp_path, student_source, server):
    report = run_checks_in_child(tmp_path, with_line(student_source(), BUILD_MODEL, "while True: pass"), server, 3)
    message = assert_one_problem(report, "build_model did not return within 3 s")
    assert "(student.py, line" in message and "--call-timeout" in message


BLOCKED_FOREVER = "import signal, time; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM}); time.sleep(600)"


def test_a_call_the_timer_cannot_interrupt_is_ended_by_the_parent_past_its_limit(tmp_path, student_source, launcher):
    """The child's timer never fires (the student blocked its signal, as a hung TensorFlow op would keep it from
    running): the parent, told the call's limit, ends the child a grace period later, not at the child's overall
    limit, and the message names the call."""
    source = with_line(student_source(), BUILD_MODEL, BLOCKED_FOREVER)
    started = time.monotonic()
    report = run_checks_in_child(tmp_path, source, launcher, call_timeout=1, seconds=300)
    assert time.monotonic() - started < 1 + sandbox.CALL_GRACE + 30  # far below the 300 s of the whole child
    assert report.timed_out and report.overrun == {"function": "build_model", "seconds": 1.0}
    message = assert_one_problem(report, "build_model did not return within 1 s")
    assert "could not be interrupted" in message


def test_os_exit_in_a_student_function_is_a_crash_not_a_pass(tmp_path, student_source, launcher):
    report = run_checks_in_child(tmp_path, with_line(student_source(), STAGE1, "import os; os._exit(0)"), launcher)
    assert report.status == 0  # what used to end pytest with status 0 and no output
    assert_one_problem(report, "ended with exit status 0 before reporting")


def test_sys_exit_in_a_student_function_is_one_error_of_that_function(tmp_path, student_source, server):
    report = run_checks_in_child(tmp_path, with_line(student_source(), BUILD_MODEL, "import sys; sys.exit(3)"), server)
    assert_one_problem(report, "build_model called sys.exit(3)")


def test_sys_exit_at_import_is_a_contract_sentence(tmp_path, student_source, server):
    report = run_checks_in_child(
        tmp_path, with_line(student_source(), "import keras\n", "import sys; sys.exit(0)"), server
    )
    assert "could not import the student module" in report.contract and "SystemExit" in report.contract


def test_emptying_the_checks_registry_does_not_skip_the_checks(tmp_path, student_source, server):
    line = "import tl_claims.teaching.checks as _c; _c.CHECKS.clear()"
    report = run_checks_in_child(tmp_path, with_line(student_source("high_lr"), "import keras\n", line), server)
    assert set(report.rows) == set(CHECKS)
    assert outcomes(report)["finetune_lr_10x_lower"] == "failed"


def test_silencing_the_reports_is_a_failure(tmp_path, student_source, server):
    line = "import __main__; __main__.Events.__call__ = lambda *a, **k: None"  # the child's reporter
    report = run_checks_in_child(tmp_path, with_line(student_source(), "import keras\n", line), server)
    assert report.rows == {}
    assert_one_problem(report, "before reporting")


@pytest.fixture
def student_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    return pytester


def test_an_exception_in_build_model_is_one_readable_message_and_a_failing_exit_status(
    student_pytester, student_source
):
    source = with_line(student_source(), BUILD_MODEL, "raise RuntimeError('half-written model')")
    student_pytester.path.joinpath("tiny.py").write_text(source, encoding="utf-8")
    result = student_pytester.runpytest("--student", "tiny.py", "-rs")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1, skipped=len(CHECKS) - 1)
    output = result.stdout.str()
    assert output.count("RuntimeError: half-written model (tiny.py, line") == 1
    assert "Traceback" not in output


def test_a_file_that_is_not_python_is_a_usage_error(student_pytester):
    student_pytester.path.joinpath("notes.txt").write_text("my notes", encoding="utf-8")
    result = student_pytester.runpytest("--student", "notes.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --student notes.txt: neither a Python file nor a notebook*"])


def test_an_error_shared_by_several_checks_is_reported_once():
    names = list(CHECKS)
    rows = [{"event": "row", "check": name, "status": "passed", "message": ""} for name in names[:3]]
    rows += [{"event": "row", "check": name, "status": "error", "message": "RuntimeError: x (s.py, line 9)"}
             for name in names[3:]]  # fmt: skip
    report = sandbox.ChildReport([*rows, {"event": "done"}], 0, False, 60.0)
    verdicts = check_verdicts(report, "en")
    assert verdicts[names[3]] == ("error", "RuntimeError: x (s.py, line 9)")
    assert all(verdicts[name][0] == "not run" and names[3] in verdicts[name][1] for name in names[4:])


def test_the_child_runs_tensorflow_with_this_processs_thread_count(tmp_path, student_source, launcher, monkeypatch):
    """Under pytest-xdist each worker has its share of the cores: a child taking all of them would oversubscribe."""
    seen = tmp_path / "threads.txt"
    threads = "tf.config.threading.get_intra_op_parallelism_threads()"
    line = f"import tensorflow as tf; open({str(seen)!r}, 'w').write(str({threads}))"
    monkeypatch.setattr(sandbox, "tensorflow_threads", lambda: 1)
    report = run_checks_in_child(tmp_path, with_line(student_source(), BUILD_MODEL, line), launcher)
    assert report.finished and seen.read_text() == "1"


def test_a_finished_child_exits_at_once_with_its_prints_even_if_a_student_thread_still_runs(
    tmp_path, student_source, launcher
):
    """The child skips the interpreter's teardown once it has reported: a thread the student left running neither
    holds it until the time limit nor loses what the student printed."""
    line = "import threading, time; threading.Thread(target=time.sleep, args=(3600,)).start(); print('hola', end='')"
    report = run_checks_in_child(tmp_path, with_line(student_source(), BUILD_MODEL, line), launcher)
    assert report.finished and not report.timed_out and report.status == 0
    assert set(outcomes(report).values()) == {"passed"}
    assert "hola" in report.output


def test_a_child_past_the_parents_limit_is_killed_and_named_by_its_step(tmp_path, student_source, launcher):
    """A student who turns the per-call timer off is still stopped: the parent kills the child's process group."""
    line = "import signal, time; signal.signal(signal.SIGALRM, signal.SIG_IGN); time.sleep(3600)"
    seconds = 3 if launcher else 10  # long enough to reach build_model: a spawned child imports TensorFlow first
    report = run_checks_in_child(tmp_path, with_line(student_source(), BUILD_MODEL, line), launcher, seconds=seconds)
    assert report.timed_out and report.status == -9
    assert report.last_step("en") == "the building of the pipeline (build_datasets, build_model, compile_stage1)"
    assert f"during {report.last_step('en')}" in report.problem("en") and f"{seconds} s" in report.problem("en")
    after = run_checks_in_child(tmp_path, student_source(), launcher)  # the fork server outlives a killed child
    assert after.finished and set(outcomes(after).values()) == {"passed"}


@pytest.mark.skipif(not sandbox.ForkServer.available(), reason="the fork server is offered on Linux only")
def test_a_forked_child_sees_the_parents_environment_at_its_own_start(tmp_path, student_source, monkeypatch):
    """One server serves every child asked for under the environment it imported with; a changed variable gets a
    new server (imports read the environment: HOME, KERAS_HOME), and a per-test variable reaches the child too."""
    seen = tmp_path / "seen.txt"
    line = f"import os; open({str(seen)!r}, 'w').write(f\"{{os.getppid()}} {{os.environ['TL_PROBE']}}\")"
    source = with_line(student_source(), BUILD_MODEL, line)
    with sandbox.ForkServer() as server:
        parents = []
        for value in ("a", "a", "b"):
            monkeypatch.setenv("TL_PROBE", value)
            monkeypatch.setenv("PYTEST_CURRENT_TEST", f"probe {len(parents)}")  # changes at every test phase
            assert run_checks_in_child(tmp_path, source, server).finished
            parent, probe = seen.read_text().split()
            assert probe == value
            parents.append(parent)
    assert parents[0] == parents[1] != parents[2]


def test_where_the_fork_server_cannot_start_the_child_is_spawned(tmp_path, student_source, monkeypatch):
    seen = tmp_path / "parent.txt"
    source = with_line(student_source(), BUILD_MODEL, f"import os; open({str(seen)!r}, 'w').write(str(os.getppid()))")
    monkeypatch.setattr(sandbox, "SERVER_ARGUMENTS", ("-c", "import sys; sys.exit(1)"))  # ends before it is ready
    with sandbox.ForkServer() as server:
        report = run_checks_in_child(tmp_path, source, server)
    assert report.finished and set(outcomes(report).values()) == {"passed"}
    assert seen.read_text() == str(os.getpid())  # this process started the child itself


def started_pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text(encoding="utf-8").split()] if path.is_file() else []


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead and waiting for its parent to read its status, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def spawning_line(pids: Path) -> str:
    """A student line that leaves a helper in a session of its own and a forked copy of itself, both sleeping."""
    helper = f"import os, time; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(600)"
    return (
        f"import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {helper!r}], "
        f"start_new_session=True); pid = os.fork(); "
        f"(open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'), time.sleep(600), os._exit(0)) if pid == 0 else None"
    )


def test_nothing_a_student_starts_outlives_its_turn(tmp_path, student_source, launcher):
    """A helper started in a session of its own and a forked copy of the child kept running after grading."""
    pids = tmp_path / "pids.txt"
    line = spawning_line(pids) + "; time.sleep(1)"  # both have written their pids by the end of build_model
    report = run_checks_in_child(tmp_path, with_line(student_source(), BUILD_MODEL, line), launcher)
    assert report.finished
    started = started_pids(pids)  # two per call of build_model (the checks build the pipeline more than once)
    assert len(started) >= 2 and not any(alive(pid) for pid in started)


@pytest.mark.cpu
def test_a_terminated_grader_leaves_no_student_process_nor_temporary_folder(tmp_path, student_source):
    """SIGTERM to pytest while a student's function hangs left the child (and what it started) running, and its
    temporary folder behind. About 15 s."""
    pids, temporary = tmp_path / "pids.txt", tmp_path / "tmp"
    temporary.mkdir()
    line = spawning_line(pids) + f"; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(600)"
    student = tmp_path / "hangs.py"
    student.write_text(with_line(student_source(), BUILD_MODEL, line), encoding="utf-8")
    tmp_path.joinpath("conftest.py").write_text(
        'pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]\n', encoding="utf-8"
    )
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--homework", str(student), "--image-size",
               "32", "--results-dir", str(tmp_path / "results")]  # fmt: skip
    environment = {**os.environ, "TMPDIR": str(temporary), "PYTHONPATH": str(REPO_ROOT)}
    grader = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 180
    while len(started_pids(pids)) < 3 and time.monotonic() < deadline and grader.poll() is None:
        time.sleep(0.2)
    assert len(started_pids(pids)) == 3, "the student never reached build_model"
    grader.send_signal(signal.SIGTERM)
    assert grader.wait(timeout=60) != 0
    assert not any(alive(pid) for pid in started_pids(pids))
    assert not list(temporary.glob("tl-claims-student-*")) and not list(temporary.glob("*.pickle"))
