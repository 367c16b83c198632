"""Student code runs in a child process: nothing it does (os._exit, sys.exit, a crash, an endless loop, emptying the
harness's registries) can end the grader or turn into a pass.

The parent never imports the student's file. It starts `python -m harness.teaching.sandbox TASK ARGS.json`, which
imports the student, runs the task and writes one JSON event per line to a file the parent reads:

    {"event": "contract", "message": ...}        the module breaks the contract (the session's usage error)
    {"event": "step", "step": ...}               what the child is about to run (named if the child dies in it)
    {"event": "row", "check": ..., "status": ..., "message": ...}     one teaching check's outcome
    {"event": "problem", "message": ...}          a failure that stops the task (e.g. build_model raised)
    {"event": "checks_problem", "message": ...}   the checks could not build the pipeline (the homework goes on)
    {"event": "progress", "line": ...}            a homework progress line
    {"event": "result", ...}                      the homework's numbers
    {"event": "done"}                             the task ran to its end

The parent judges completeness against its own list of checks, so a child that reports fewer never passes. Each
student function call has a time limit (`student.time_limit`); the parent also bounds the whole child and kills its
process group past that bound. This is isolation against accidents and careless code in a class, not a security
boundary: a student who sets out to forge the event file can.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.teaching import messages

DEFAULT_CALL_TIMEOUT = 300.0  # seconds per student function call
CHECK_CALLS = 12  # student calls in one check run (import, datasets, model x3, compiles x4, ...): bounds the child
STARTUP_SECONDS = 120.0  # TensorFlow's import and the base's first trace, on a slow shared machine
OUTPUT_TAIL = 1500  # characters of the child's own output quoted when it dies


@dataclass
class ChildReport:
    """What a child reported: the events in order, its exit status, and whether it was killed for time."""

    events: list[dict]
    status: int | None
    timed_out: bool
    seconds_limit: float
    output: str = ""
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

    def last_step(self) -> str:
        steps = [event["step"] for event in self.events if event["event"] == "step"]
        return steps[-1] if steps else "start-up"

    def problem(self, lang: str) -> str | None:
        """The one message that explains why the task did not finish (None when it did)."""
        if (event := self.first("problem")) is not None:
            return event["message"]
        if self.finished:
            return None
        if self.timed_out:
            return messages.text(lang, "child_timeout", step=self.last_step(), seconds=self.seconds_limit)
        tail = self.output.strip()[-OUTPUT_TAIL:]
        output = messages.text(lang, "last_output", tail=tail) if tail else ""
        return messages.text(lang, "child_crashed", step=self.last_step(), status=self.status, output=output).strip()


def run_child(task: str, arguments: dict, *, seconds: float, on_event: Callable[[dict], None] | None = None):
    """Run `task` in a child process; return its `ChildReport`. `on_event` sees each event as it arrives."""
    with tempfile.TemporaryDirectory(prefix="tl-claims-student-") as folder:
        events_path, output_path = Path(folder) / "events.jsonl", Path(folder) / "output.txt"
        events_path.touch()
        arguments_path = Path(folder) / "arguments.json"
        arguments = {**arguments, "events": str(events_path), "threads": tensorflow_threads()}
        arguments_path.write_text(json.dumps(arguments), encoding="utf-8")
        command = [sys.executable, "-m", "harness.teaching.sandbox", task, str(arguments_path)]
        with output_path.open("wb") as output:
            child = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=child_environment(),
                start_new_session=True,
            )  # fmt: skip
            status, timed_out = wait(child, events_path, seconds, on_event)
        events = read_events(events_path)
        text = output_path.read_text(encoding="utf-8", errors="replace")
    return ChildReport(events, status, timed_out, seconds, text)


def tensorflow_threads() -> int:
    """This process's TensorFlow thread count, for the child to use the same (0: TensorFlow's default). Under
    pytest-xdist each worker has its share of the cores (harness/plugin.py); a child taking all of them would make
    the workers fight over the cores."""
    if "tensorflow" not in sys.modules:
        return 0
    return sys.modules["tensorflow"].config.threading.get_intra_op_parallelism_threads()


def child_environment() -> dict[str, str]:
    """This process's environment, with this checkout's harness first on the path (the child imports the same)."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def wait(child: subprocess.Popen, events_path: Path, seconds: float, on_event) -> tuple[int | None, bool]:
    """Wait for the child, passing new events on; past `seconds` kill its whole process group."""
    deadline, seen = time.monotonic() + seconds, 0
    while True:
        try:
            status = child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            status = None
        seen = forward(events_path, seen, on_event)
        if status is not None:
            return status, False
        if time.monotonic() > deadline:
            kill_group(child)
            return child.wait(), True


def forward(events_path: Path, seen: int, on_event) -> int:
    events = read_events(events_path)
    if on_event is not None:
        for event in events[seen:]:
            on_event(event)
    return len(events)


def kill_group(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


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


# ---------------------------------------------------------------------------------------------- the child side


class Events:
    """The child's writer: one flushed JSON line per event, written through a descriptor opened before student code."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def __call__(self, event: str, **fields: object) -> None:
        line = json.dumps({"event": event, **fields}, default=str) + "\n"
        os.write(self.fd, line.encode("utf-8"))


def child_checks(arguments: dict, emit: Events) -> None:
    """Load the student, build the pipeline once, run every check; each outcome an event."""
    from harness.teaching import checks
    from harness.teaching.student import ContractError, load_student

    chosen, run_one = list(checks.CHECKS.items()), checks.run_one  # taken before the student's code runs
    emit("step", step="import")
    try:
        student = load_student(arguments["path"], lang=arguments["lang"], time_limit=arguments["call_timeout"])
    except ContractError as error:
        emit("contract", message=str(error))
        return
    if run_check_events(student, arguments, emit, chosen, run_one, stop_kind="problem"):
        emit("done")


def run_check_events(student, arguments: dict, emit: Events, chosen: list, run_one, stop_kind: str) -> bool:
    """Every check on the student's pipeline, one `row` event each; False (after a `stop_kind` event) when the
    pipeline could not be built."""
    from harness.teaching import checks
    from harness.teaching.student import probe_config

    emit("step", step="build the pipeline (build_datasets, build_model, compile_stage1)")
    try:
        pipeline = checks.Pipeline.build(student, probe_config(arguments["image_size"]))
    except Exception as error:
        emit(stop_kind, message=student.describe_error(error))
        return False
    for name, check in chosen:
        emit("step", step=f"check {name}")
        status, message = run_one(check, pipeline, arguments["lang"])
        emit("row", check=name, status=status, message=message)
    return True


def child_homework(arguments: dict, emit: Events) -> None:
    """Load the student and grade it at the given scale; rows go to the results folder, numbers to the parent."""
    import pickle

    from harness import results
    from harness.teaching import checks, homework
    from harness.teaching.student import ContractError, load_student

    chosen, run_one = list(checks.CHECKS.items()), checks.run_one  # taken before the student's code runs
    lang = arguments["lang"]
    emit("step", step="import")
    try:
        student = load_student(arguments["path"], lang=lang, time_limit=arguments["call_timeout"])
    except ContractError as error:
        emit("contract", message=str(error))
        return
    scale = pickle.loads(Path(arguments["scale"]).read_bytes())  # written by the parent, never by student code
    run_check_events(student, arguments, emit, chosen, run_one, stop_kind="checks_problem")
    emit("step", step=f"homework at {scale.name} scale")
    try:
        result = homework.grade(
            student,
            scale,
            cache_dir=Path(arguments["cache_dir"]),
            run_id=arguments["run_id"],
            progress=lambda line: emit("progress", line=line),
        )
    except Exception as error:
        emit("problem", message=student.describe_error(error))
        return
    for row, outcomes in zip(result.rows, result.outcomes, strict=True):
        results.append_row(Path(arguments["results_dir"]), row, arguments["worker"])
        results.append_outcomes(Path(arguments["results_dir"]), row, outcomes)
    emit("result", **homework.result_fields(result, lang))
    emit("done")


TASKS = {"checks": child_checks, "homework": child_homework}


def main(argv: list[str]) -> int:
    task, arguments_path = argv
    arguments = json.loads(Path(arguments_path).read_text(encoding="utf-8"))
    emit = Events(arguments["events"])
    from harness.quiet import quiet_tensorflow

    quiet_tensorflow()
    if arguments.get("threads"):  # before TensorFlow's runtime starts, and before any student code
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(arguments["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(arguments["threads"])
    messages.check_language(arguments["lang"])
    TASKS[task](arguments, emit)
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    for stream in (sys.stdout, sys.stderr):  # the student's prints reach the output file (unless they broke it)
        with contextlib.suppress(Exception):
            stream.flush()
    # Every event is written unbuffered and every result file closed: skip the interpreter's teardown (about a second
    # and a half with TensorFlow loaded), and any thread the student's code left running.
    os._exit(status)
