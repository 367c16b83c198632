"""Student code runs in a child process: nothing it does (os._exit, sys.exit, a crash, an endless loop, emptying the
harness's registries) can end the grader or turn into a pass.

The parent never imports the student's file. It starts `python -m tl_claims.teaching.sandbox_child TASK ARGS.json`,
which imports the student, runs the task and writes one JSON event per line to a file the parent reads:

    {"event": "sealed", "reason": ...}           the child sealed itself off the data ("": it holds; seal.py)
    {"event": "contract", "message": ...}        the module breaks the contract (the session's usage error)
    {"event": "step", "step": ..., ...}          what the child is about to run (named if the child dies in it): a
                                                  step_* key of messages.TEXTS and its fields, worded in the parent
    {"event": "row", "check": ..., "status": ..., "message": ...}     one teaching check's outcome
    {"event": "problem", "message": ...}          a failure that stops the task (e.g. build_model raised)
    {"event": "checks_problem", "message": ...}   the checks could not build the pipeline (the homework goes on)
    {"event": "trained", "seed": ..., ...}        the homework's models of one seed trained: budgets, base shift
    {"event": "scored", "seed": ..., "phases": ...}   their predictions on the test images, pass by pass
    {"event": "done"}                             the task ran to its end
    {"event": "call", "function": ..., "seconds": ...}   a student call starts, with its time limit
    {"event": "call_end", "function": ...}              ... and ends

The parent judges completeness against its own list of checks, so a child that reports fewer never passes. Each
student function call has a time limit (`student.time_limit`), a timer in the child; an operation the timer cannot
interrupt (a blocked TensorFlow op, a signal the student's code blocked) is ended by the parent, which watches the
announced calls (`Watch`) and kills the child's process group `CALL_GRACE` seconds past the call's limit. The parent
also bounds the whole child the same way.

Nothing the student starts outlives its turn: the child leads a session of its own, and when the turn ends
(finished, timed out, or the grader interrupted: Ctrl-C, or SIGTERM, which the plugin turns into an interrupt) its
process group is killed, and so is every process that still carries the turn's tag in its environment
(`TAG_VARIABLE`: a helper that started a session of its own, then ran a program). Where the arguments name folders
to hide, the child seals itself off them and off TCP before any student code (tl_claims/teaching/seal.py): the
homework's children cannot read the data. Otherwise this is isolation against accidents and careless code in a
class, not a security boundary: a student who sets out to forge the event file can (docs/teachers.md, "What a
student can and cannot do").

On Linux a class is graded through a `ForkServer`: one process imports TensorFlow, Keras and the harness once and
forks a child per student, which saves each child the imports (about 4 s). A forked child is isolated the same way:
its own session, its own output file, the parent's time limit, and its exit status reported by the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tl_claims.teaching import messages

DEFAULT_CALL_TIMEOUT = 300.0  # seconds per student function call
CHECK_CALLS = 12  # student calls in one check run (import, datasets, model x3, compiles x4, ...): bounds the child
STARTUP_SECONDS = 120.0  # TensorFlow's import and the base's first trace, on a slow shared machine
OUTPUT_TAIL = 1500  # characters of the child's own output quoted when it dies
SERVER_ARGUMENTS = ("-m", "tl_claims.teaching.sandbox_child", "serve")
TAG_VARIABLE = "TL_CLAIMS_STUDENT_TURN"  # a random tag per child, in its environment and its descendants'
VOLATILE = frozenset({"PYTEST_CURRENT_TEST", TAG_VARIABLE})  # change at every test phase / turn; no import reads them
CALL_GRACE = 5.0  # seconds past a call's own limit before the parent ends it (the child's timer has had its turn)


@dataclass
class ChildReport:
    """What a child reported: the events in order, its exit status, and whether it was killed for time."""

    events: list[dict]
    status: int | None
    timed_out: bool
    seconds_limit: float
    output: str = ""
    overrun: dict | None = None  # the student call the parent ended past its limit (its `call` event)
    rows: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = {event["check"]: event for event in self.events if event["event"] == "row"}

    def first(self, kind: str) -> dict | None:
        return next((event for event in self.events if event["event"] == kind), None)

    @property
    def contract(self) -> str | None:
        event = self.first("contract")
        return event["message"] if event else None

    @property
    def finished(self) -> bool:
        return self.first("done") is not None

    def checks_problem(self, lang: str) -> str | None:
        """Why the checks did not all run: their own stop, else the task's."""
        event = self.first("checks_problem")
        return event["message"] if event else self.problem(lang)

    def last_step(self, lang: str) -> str:
        """The last step the child announced, in `lang` (start-up when none)."""
        steps = [event for event in self.events if event["event"] == "step"]
        event = steps[-1] if steps else {"step": "startup"}
        fields = {key: value for key, value in event.items() if key not in ("event", "step")}
        try:
            return messages.text(lang, f"step_{event['step']}", **fields)
        except (KeyError, IndexError, ValueError):  # not a step this harness announces
            return str(event["step"])

    def problem(self, lang: str) -> str | None:
        """The one message that explains why the task did not finish (None when it did)."""
        if (event := self.first("problem")) is not None:
            return event["message"]
        if self.finished:
            return None
        if self.overrun is not None:
            return messages.text(
                lang, "child_call_timeout", name=self.overrun["function"], seconds=self.overrun["seconds"]
            )
        if self.timed_out:
            return messages.text(lang, "child_timeout", step=self.last_step(lang), seconds=self.seconds_limit)
        tail = self.output.strip()[-OUTPUT_TAIL:]
        output = messages.text(lang, "last_output", tail=tail) if tail else ""
        return messages.text(
            lang, "child_crashed", step=self.last_step(lang), status=self.status, output=output
        ).strip()


def run_child(
    task: str,
    arguments: dict,
    *,
    seconds: float,
    on_event: Callable[[dict], None] | None = None,
    server: ForkServer | None = None,
) -> ChildReport:
    """Run `task` in a child process; return its `ChildReport`. `on_event` sees each event as it arrives. With a
    `server` the child is forked from it (a spawned child when the server cannot start)."""
    tag = secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="tl-claims-student-") as folder, ending_turn(tag):
        events_path, output_path = Path(folder) / "events.jsonl", Path(folder) / "output.txt"
        events_path.touch()
        output_path.touch()
        arguments_path = Path(folder) / "arguments.json"
        arguments = {**arguments, "events": str(events_path), "threads": tensorflow_threads()}
        arguments_path.write_text(json.dumps(arguments), encoding="utf-8")
        paths = ChildPaths(arguments_path, events_path, output_path, tag)
        watch = Watch(seconds, on_event)
        ended = server.run(task, paths, watch) if server is not None else None
        if ended is None:  # no server, or it could not start: a fresh interpreter, with the whole time again
            watch = Watch(seconds, on_event)
            ended = spawn(task, paths, watch)
        status, timed_out = ended
        events = read_events(events_path)
        text = output_path.read_text(encoding="utf-8", errors="replace")
    return ChildReport(events, status, timed_out, seconds, text, overrun=watch.overrun)


class Watch:
    """The parent's bounds on a child, as its events tell them: the whole turn's deadline, and the deadline of the
    student call under way (its limit plus `CALL_GRACE`). Passes each new event on to `on_event`."""

    def __init__(self, seconds: float, on_event: Callable[[dict], None] | None) -> None:
        self.deadline, self.on_event = time.monotonic() + seconds, on_event
        self.seen = 0
        self.calls: list[tuple[dict, float]] = []  # open calls, innermost last, each with its deadline
        self.overrun: dict | None = None

    def forward(self, events_path: Path) -> None:
        """Read the events that came since the last look: track the calls, pass every event on."""
        events = read_events(events_path)
        for event in events[self.seen :]:
            self._track(event)
            if self.on_event is not None:
                self.on_event(event)
        self.seen = len(events)

    def expired(self) -> bool:
        """Past the turn's deadline, or past the open call's (then `overrun` names the call)."""
        now = time.monotonic()
        if self.calls and now > self.calls[-1][1]:
            self.overrun = self.calls[-1][0]
            return True
        return now > self.deadline

    def _track(self, event: dict) -> None:
        if event["event"] == "call":
            with contextlib.suppress(KeyError, TypeError, ValueError):
                seconds = float(event["seconds"])
                call = {"function": str(event["function"]), "seconds": seconds}
                self.calls.append((call, time.monotonic() + seconds + CALL_GRACE))
        elif event["event"] == "call_end" and self.calls:
            self.calls.pop()


@dataclass(frozen=True)
class ChildPaths:
    arguments: Path
    events: Path
    output: Path
    tag: str  # TAG_VARIABLE's value in the child's environment


def spawn(task: str, paths: ChildPaths, watch: Watch) -> tuple[int | None, bool]:
    """A fresh interpreter runs the task (`python -m tl_claims.teaching.sandbox_child TASK ARGS.json`)."""
    command = [sys.executable, "-m", "tl_claims.teaching.sandbox_child", task, str(paths.arguments)]
    with paths.output.open("wb") as output:
        child = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=child_environment(paths.tag), start_new_session=True,
        )  # fmt: skip
        try:
            return wait(child, paths.events, watch)
        finally:
            kill_group(child.pid)
            child.wait()
            end_turn(paths.tag, child.pid)


def tensorflow_threads() -> int:
    """This process's TensorFlow thread count, for the child to use the same (0: TensorFlow's default). Under
    pytest-xdist each worker has its share of the cores (tl_claims/plugin/session.py); a child taking all of them would
    make the workers fight over the cores."""
    if "tensorflow" not in sys.modules:
        return 0
    return sys.modules["tensorflow"].config.threading.get_intra_op_parallelism_threads()


def child_environment(tag: str | None = None) -> dict[str, str]:
    """This process's environment, with this checkout's tl_claims first on the path (the child imports the same),
    and the turn's tag (none for the fork server: it outlives the turns)."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    environment = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
    environment.pop(TAG_VARIABLE, None)
    return {**environment, TAG_VARIABLE: tag} if tag else environment


def wait(child: subprocess.Popen, events_path: Path, watch: Watch) -> tuple[int | None, bool]:
    """Wait for the child, passing new events on; past the watch's deadlines kill its whole process group."""
    while True:
        try:
            status = child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            status = None
        watch.forward(events_path)
        if status is not None:
            return status, False
        if watch.expired():
            kill_group(child.pid)
            return child.wait(), True


def kill_group(pid: int, leader_gone: bool = False) -> None:
    """Kill the child's process group (the child leads it), or the child alone if it has not made one yet (not once
    it is reaped: its pid may be another process's by then; a group's id is not reused while the group lives)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            if not leader_gone:
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def ending_turn(tag: str) -> Iterator[None]:
    """However the turn ends (the child never started, or the grader was interrupted), `end_turn`."""
    try:
        yield
    finally:
        end_turn(tag)


def end_turn(tag: str, group: int | None = None) -> None:
    """Kill what is left of a turn: the child's process group (once the child is reaped) and every process whose
    environment carries the turn's tag; then wait, a few seconds at most, until they have died (a killed process
    with a large memory takes a moment to go)."""
    if group is not None:
        kill_group(group, leader_gone=True)
    left = turn_processes(tag, group)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if state(pid) not in ("", "Z")]


def turn_processes(tag: str, group: int | None) -> list[int]:
    """The processes (Linux: read from /proc) in the child's group or with the turn's tag in their environment."""
    needle, found = f"{TAG_VARIABLE}={tag}".encode(), []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and (
                int(fields[2]) == group or needle in (entry / "environ").read_bytes().split(b"\0")
            ):
                found.append(int(entry.name))
    return found


def state(pid: int) -> str:
    """A process's state letter (Z: dead, its status not yet read), "" when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def read_events(path: Path) -> list[dict]:
    """Complete JSON lines only (a line cut short by a dying child is dropped)."""
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
    return events


class ForkServer:
    """A process that imports TensorFlow, Keras and the harness once, then forks one child per task (Linux only).

    The server runs no TensorFlow op, so each child still sets its thread counts before TensorFlow's runtime starts.
    Module imports read the environment and the working directory (HOME, KERAS_HOME, the path), so the server serves
    only tasks asked for under the ones it started with; under others it is replaced. `run` returns None when no
    server could be started: the caller spawns the child instead. Close it when done (`close`, or `with`).
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._key: tuple | None = None
        self._buffer = b""

    @staticmethod
    def available() -> bool:
        """Linux: forking after these imports is safe there (macOS' system libraries are not fork-safe)."""
        return sys.platform.startswith("linux") and hasattr(os, "fork")

    def run(self, task: str, paths: ChildPaths, watch: Watch) -> tuple[int | None, bool] | None:
        pid = self._fork(task, paths, child_environment(paths.tag))
        if pid is None:
            return None
        try:
            return self._wait(pid, paths, watch)
        except BaseException:  # interrupted: the child goes now, and the server with its answer still to come
            kill_group(pid)
            self.close()
            raise
        finally:
            end_turn(paths.tag, pid)

    def _wait(self, pid: int, paths: ChildPaths, watch: Watch) -> tuple[int | None, bool]:
        while True:
            try:
                answer = self._answer(0.5)
            except EOFError:  # the server died under the child: stop the child, report no status
                kill_group(pid)
                self.close()
                return None, False
            watch.forward(paths.events)
            if answer is not None and "status" in answer:
                return answer["status"], False
            if watch.expired():
                kill_group(pid)
                return self._status_after_kill(), True

    def close(self) -> None:
        process, self._process, self._key, self._buffer = self._process, None, None, b""
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()  # the server's loop ends at the end of its input
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _fork(self, task: str, paths: ChildPaths, environment: dict[str, str]) -> int | None:
        key = (sys.executable, os.getcwd(), sorted(item for item in environment.items() if item[0] not in VOLATILE))
        if self._key != key:
            self.close()
            if not self._start(environment, key):
                return None
        request = dict(task=task, arguments=str(paths.arguments), output=str(paths.output), environment=environment)
        try:
            self._process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self._process.stdin.flush()
            answer = self._answer(STARTUP_SECONDS)
        except (OSError, EOFError):
            answer = None
        if not answer or "pid" not in answer:
            self.close()
            return None
        return answer["pid"]

    def _start(self, environment: dict[str, str], key: tuple) -> bool:
        command = [sys.executable, *SERVER_ARGUMENTS]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={name: value for name, value in environment.items() if name != TAG_VARIABLE}, start_new_session=True,
        )  # fmt: skip
        self._key = key
        try:
            ready = self._answer(STARTUP_SECONDS)
        except EOFError:
            ready = None
        if not ready or not ready.get("ready"):
            self.close()
            return False
        return True

    def _answer(self, timeout: float) -> dict | None:
        """The server's next JSON line; None if none came within `timeout`; EOFError when the server is gone."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                with contextlib.suppress(ValueError):
                    answer = json.loads(line)
                    if isinstance(answer, dict):
                        return answer
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self._process.stdout], [], [], left)
            if readable:
                chunk = os.read(self._process.stdout.fileno(), 65536)
                if not chunk:
                    raise EOFError("the fork server ended")
                self._buffer += chunk

    def _status_after_kill(self) -> int | None:
        with contextlib.suppress(EOFError):
            answer = self._answer(STARTUP_SECONDS)
            if answer is not None and "status" in answer:
                return answer["status"]
        self.close()
        return None
