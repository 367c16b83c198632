"""The child side of the sandbox (tl_claims/teaching/sandbox.py): what runs inside the process that imports student
code.

`python -m tl_claims.teaching.sandbox_child TASK ARGS.json` seals itself off the grader's data when the arguments
name folders to hide (tl_claims/teaching/seal.py: before anything else, in one thread), imports the student, runs the
task (`TASKS`: the checks; the homework's training and the checks; the scoring of the trained models) and writes one
JSON event per line (`Events`) for the parent to read;
`python -m tl_claims.teaching.sandbox_child serve` is the fork server's loop, which forks one such child per request.
Its own module because the parent never imports it: it is only ever started, by its dotted name.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from tl_claims.teaching import messages


class Events:
    """The child's writer: one flushed JSON line per event, written through a descriptor opened before student code."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def __call__(self, event: str, **fields: object) -> None:
        line = json.dumps({"event": event, **fields}, default=str) + "\n"
        os.write(self.fd, line.encode("utf-8"))


def child_checks(arguments: dict, emit: Events) -> None:
    """Load the student, build the pipeline once, run every check; each outcome an event."""
    from tl_claims.teaching import checks

    chosen, run_one = list(checks.CHECKS.items()), checks.run_one  # taken before the student's code runs
    if (student := loaded_student(arguments, emit)) is None:
        return
    if run_check_events(student, arguments, emit, chosen, run_one, stop_kind="problem") is not None:
        emit("done")


def run_check_events(
    student, arguments: dict, emit: Events, chosen: list, run_one, stop_kind: str, pipeline=None
) -> object | None:
    """The `chosen` checks on the student's pipeline (built here unless given), one `row` event each; the pipeline,
    or None (after a `stop_kind` event) when it could not be built."""
    from tl_claims.teaching.pipeline import Pipeline
    from tl_claims.teaching.student import probe_config

    if pipeline is None:
        emit("step", step="build")
        try:
            pipeline = Pipeline.build(student, probe_config(arguments["image_size"]))
        except Exception as error:
            emit(stop_kind, message=student.describe_error(error))
            return None
    for name, check in chosen:
        emit("step", step="check", check=name)
        status, message = run_one(check, pipeline, arguments["lang"])
        emit("row", check=name, status=status, message=message)
    return pipeline


def child_homework(arguments: dict, emit: Events) -> None:
    """Load the student and train its models on each seed's training and validation images (the parent's files in
    the turn's folder: no test image ever comes here); per seed a `trained` event, the weights saved in that folder
    for the scoring child. The child is not told where the results go: the parent scores and writes them.

    The checks that read what training trains run after the homework and take those facts from its first two phases
    (the same reading as the checks' own rehearsal, without tracing two more training steps); if the homework stops
    before, they rehearse."""

    from tl_claims.teaching import checks, homework

    chosen, run_one = list(checks.CHECKS.items()), checks.run_one  # taken before the student's code runs
    first = [(name, check) for name, check in chosen if name not in checks.REHEARSAL_CHECKS]
    later = [(name, check) for name, check in chosen if name in checks.REHEARSAL_CHECKS]
    work = Path(arguments["work"])
    settings = homework.Settings(**{**arguments["settings"], "seeds": tuple(arguments["settings"]["seeds"])})
    if (student := loaded_student(arguments, emit)) is None:
        return
    pipeline = run_check_events(student, arguments, emit, first, run_one, stop_kind="checks_problem")
    emit("step", step="train", scale=settings.name)
    rehearsal, problem = None, None
    try:
        for seed in settings.seeds:
            config = seed_config(arguments, seed, weights="imagenet")
            trained, facts = homework.train_seed(student, settings, config, work)
            rehearsal = rehearsal or facts
            emit("trained", backbone=student.backbone, **trained.fields())
    except Exception as error:
        problem = student.describe_error(error)
    if pipeline is not None:
        if rehearsal is not None:
            pipeline.use_rehearsal(rehearsal)
        run_check_events(student, arguments, emit, later, run_one, stop_kind="checks_problem", pipeline=pipeline)
    if problem is not None:
        emit("problem", message=problem)
        return
    emit("done")


def child_score(arguments: dict, emit: Events) -> None:
    """Load the student and score each model the training child saved: the test images (without their labels)
    through the student's validation pipeline; per seed a `scored` event with each phase's passes."""
    import numpy as np

    from tl_claims.teaching import homework

    work = Path(arguments["work"])
    if (student := loaded_student(arguments, emit)) is None:
        return
    emit("step", step="score")
    with np.load(homework.test_images_path(work)) as data:
        x_test = data["x_test"]
    try:
        for seed in arguments["settings"]["seeds"]:
            config = seed_config(arguments, seed, weights=None)
            emit("scored", seed=seed, phases=homework.score_seed(student, config, x_test, work))
    except Exception as error:
        emit("problem", message=student.describe_error(error))
        return
    emit("done")


def seed_config(arguments: dict, seed: int, weights: str | None):
    """One seed's `StudentConfig`: its training and validation images as the grader wrote them, the scale's sizes."""
    import numpy as np

    from tl_claims.teaching import homework
    from tl_claims.teaching.student import StudentConfig

    with np.load(homework.data_path(Path(arguments["work"]), seed)) as data:
        arrays = {name: data[name] for name in ("x_train", "y_train", "x_val", "y_val")}
    settings, class_names = arguments["settings"], tuple(arguments["class_names"])
    size, batch = settings["image_size"], settings["batch_size"]
    return StudentConfig(size, len(class_names), batch, weights, seed, **arrays, class_names=class_names)


def loaded_student(arguments: dict, emit: Events):
    """The student's file imported under the per-call limits (each call announced to the parent), or None after a
    `contract` event saying why it breaks the contract."""
    from tl_claims.teaching.student import ContractError, load_student

    emit("step", step="import")
    try:
        return load_student(
            arguments["path"], lang=arguments["lang"], time_limit=arguments["call_timeout"], announce=emit
        )
    except ContractError as error:
        emit("contract", message=str(error))
        return None


TASKS = {"checks": child_checks, "homework": child_homework, "score": child_score}


def main(argv: list[str]) -> int:
    task, arguments_path = argv
    arguments = json.loads(Path(arguments_path).read_text(encoding="utf-8"))
    emit = Events(arguments["events"])
    if "hidden" in arguments:  # first, while this process has one thread and before any student code
        from tl_claims.teaching.seal import seal

        emit("sealed", reason=seal(arguments["hidden"]))
    from tl_claims.core.quiet import quiet_tensorflow

    quiet_tensorflow()
    if arguments.get("threads"):  # before TensorFlow's runtime starts, and before any student code
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(arguments["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(arguments["threads"])
    messages.check_language(arguments["lang"])
    TASKS[task](arguments, emit)
    return 0


def exit_now(status: int) -> NoReturn:
    """Flush the student's prints to the output file (unless they broke the streams), then leave at once.

    Every event is written unbuffered and every result file closed: this skips the interpreter's teardown (about a
    second and a half with TensorFlow loaded), and any thread the student's code left running.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def serve() -> NoReturn:
    """The fork server's loop: import what every task imports, say ready, then per request line fork a child and
    answer its pid, then its exit status. Ends at the end of its input."""
    from tl_claims.core.quiet import quiet_tensorflow

    quiet_tensorflow()
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    from tl_claims.teaching import checks, homework  # noqa: F401

    answer({"ready": True})
    while (line := read_line(0)) is not None:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run_forked(request)
        answer({"pid": pid})
        _, status = os.waitpid(pid, 0)
        answer({"status": os.waitstatus_to_exitcode(status)})
    os._exit(0)


def answer(fields: dict) -> None:
    os.write(1, (json.dumps(fields) + "\n").encode("utf-8"))


def read_line(fd: int) -> bytes | None:
    """One request line from `fd`, read byte-wise so that nothing past it sits in a buffer a child would inherit."""
    line = bytearray()
    while (byte := os.read(fd, 1)) != b"\n":
        if not byte:
            return None
        line += byte
    return bytes(line)


def run_forked(request: dict) -> NoReturn:
    """In the forked child: its own session and streams, the requested environment, then the task, as a spawned
    child would run it (an uncaught exception prints its traceback and exits with status 1)."""
    status = 1
    try:
        os.setsid()
        stdin, output = os.open(os.devnull, os.O_RDONLY), os.open(request["output"], os.O_WRONLY | os.O_APPEND)
        for source, target in ((stdin, 0), (output, 1), (output, 2)):
            os.dup2(source, target)
        os.close(stdin)
        os.close(output)
        os.environ.clear()
        os.environ.update(request["environment"])
        sys.argv = [__file__, request["task"], request["arguments"]]
        status = main([request["task"], request["arguments"]])
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        exit_now(status)


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    exit_now(main(sys.argv[1:]))
