"""The student contract: what a student's pipeline module provides, so checks and the grader can drive it.

    BACKBONE = "efficientnet_lite0"                 # a name from tl_claims.backbones.names()
    def build_datasets(config) -> (train, val)      # tf.data.Dataset of (images, labels) batches
    def build_model(config) -> (model, base)        # the classifier and the pretrained base inside it, base frozen
    def compile_stage1(model, base) -> None         # compile for the head warm-up
    def unfreeze_and_compile_stage2(model, base) -> None   # unfreeze (part of) the base and compile for fine-tuning

The harness owns the data and the sizes: it hands every function a `StudentConfig` (images as uint8 RGB 0-255,
image size, number of classes, batch size, which weights), so the same pipeline runs at 32 px in the checks and at
96 or 224 px in the grader. Full text: `python -m tl_claims docs contract`.

A broken contract (a missing or misspelled function, a wrong signature, an unknown backbone, a wrong return value)
raises `ContractError` with one sentence that says what to change, never a traceback from deep inside the harness.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import linecache
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from tl_claims.core.errors import HarnessError
from tl_claims.teaching import messages
from tl_claims.teaching.ipynb import Notebook, NotebookError, is_notebook, read_notebook

# name -> number of positional arguments it is called with (None for a constant); what each must be is the
# messages' needs_<name> text, in the student's language
CONTRACT: dict[str, int | None] = {
    "BACKBONE": None,
    "build_datasets": 1,
    "build_model": 1,
    "compile_stage1": 2,
    "unfreeze_and_compile_stage2": 2,
}
SOURCE_SUFFIXES = (".py", ".ipynb")  # a module, or a notebook whose code cells are the module
NOTEBOOK_ATTRIBUTE = "__tl_claims_notebook__"  # on a notebook's module: its `Notebook`, to map lines to cells


class ContractError(HarnessError, TypeError):
    """The student module does not implement the contract; the message says what to change."""


class StudentTimeout(HarnessError):
    """A student function did not return within the time limit per call."""


class StudentExit(HarnessError):
    """A student function called sys.exit: reported as an error of that function, never as the end of the run."""


Announce = Callable[..., None]  # announce(event, **fields): what the sandbox's child writes for its parent


@contextmanager
def time_limit(
    seconds: float | None, function: str, lang: str = "en", announce: Announce | None = None
) -> Iterator[None]:
    """Raise `StudentTimeout` in the block after `seconds` (a timer signal; only in the main thread, POSIX).

    Python code (an endless loop) is interrupted at once; a long TensorFlow op at its end. An operation that never
    returns (a blocked op, a signal the student's code blocked) is not: `announce` tells the process around the
    student (tl_claims/teaching/sandbox.py) when the call starts and ends, and that process ends the call past its
    limit. Where no timer signal is available, that process's bound is the only one.
    """
    if announce is not None and seconds:
        announce("call", function=function, seconds=seconds)
    try:
        with _timer(seconds, function, lang):
            yield
    finally:
        if announce is not None and seconds:
            announce("call_end", function=function)


@contextmanager
def _timer(seconds: float | None, function: str, lang: str) -> Iterator[None]:
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise StudentTimeout(messages.text(lang, "student_timeout", name=function, seconds=seconds))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True, eq=False)
class StudentConfig:
    """Everything a student's functions may read. Images are uint8 RGB 0-255, labels int32 in [0, num_classes)."""

    image_size: int
    num_classes: int
    batch_size: int
    weights: str | None  # pass to the base: "imagenet" (grader) or None (checks: structure, not accuracy)
    seed: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...] = field(default=())


def probe_config(
    image_size: int = 32, *, num_classes: int = 5, per_class: int = 2, batch_size: int = 8, seed: int = 0
) -> StudentConfig:
    """Tiny random data for the checks: they look at what the pipeline does to images, not at what it learns."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        images = rng.integers(0, 256, (n, image_size, image_size, 3), dtype=np.uint8)
        images[:, 0, 0], images[:, -1, -1] = 0, 255  # every image spans the full 0-255 range, and none is constant
        return images, np.arange(n, dtype=np.int32) % num_classes

    x_train, y_train = split(num_classes * per_class)
    x_val, y_val = split(num_classes * per_class)
    return StudentConfig(
        image_size,
        num_classes,
        batch_size,
        None,
        seed,
        x_train,
        y_train,
        x_val,
        y_val,
        tuple(f"class_{index}" for index in range(num_classes)),
    )


@dataclass(frozen=True)
class Student:
    """A validated student pipeline: the contract's functions, wrapped so that wrong return values are explained."""

    name: str
    backbone: str
    module: Any = field(repr=False)
    lang: str = "en"
    time_limit: float | None = None  # seconds per call of a student function (None: no limit)
    announce: Announce | None = field(default=None, repr=False)  # each call's start and end, for the sandbox

    def call(self, function: str, *args: object) -> Any:
        """Call one of the student's functions under the time limit; a `sys.exit` in it is an error, not an exit."""
        with time_limit(self.time_limit, function, self.lang, self.announce):
            try:
                return getattr(self.module, function)(*args)
            except SystemExit as error:
                raise StudentExit(messages.text(self.lang, "student_exit", name=function, code=error.code)) from error

    def build_datasets(self, config: StudentConfig):
        import tensorflow as tf

        result = self.call("build_datasets", config)
        if not (
            isinstance(result, tuple | list)
            and len(result) == 2
            and all(isinstance(item, tf.data.Dataset) for item in result)
        ):
            self._wrong_return("build_datasets", "returns_datasets", result)
        for dataset in result:
            if not (isinstance(dataset.element_spec, tuple) and len(dataset.element_spec) >= 2):
                raise ContractError(
                    messages.text(
                        self.lang,
                        "contract_elements",
                        name="build_datasets",
                        module=self.name,
                        got=dataset.element_spec,
                    )
                )
        return tuple(result)

    def build_model(self, config: StudentConfig):
        import keras

        result = self.call("build_model", config)
        if not (
            isinstance(result, tuple | list)
            and len(result) == 2
            and all(isinstance(item, keras.Model) for item in result)
        ):
            self._wrong_return("build_model", "returns_model", result)
        model, base = result
        if not contains_layer(model, base):
            raise ContractError(messages.text(self.lang, "contract_base_outside"))
        return model, base

    def compile_stage1(self, model, base) -> None:
        self.call("compile_stage1", model, base)

    def unfreeze_and_compile_stage2(self, model, base) -> None:
        self.call("unfreeze_and_compile_stage2", model, base)

    def describe_error(self, error: Exception) -> str:
        """`Type: message (file, line N)`, the line being the innermost one in the student's file when known."""
        path = getattr(self.module, "__file__", None)
        if not path:
            return f"{type(error).__name__}: {error}"
        return error_where(error, Path(path), self.lang, getattr(self.module, NOTEBOOK_ATTRIBUTE, None))

    def _wrong_return(self, name: str, needs_key: str, got: object) -> None:
        needs = messages.text(self.lang, needs_key)
        raise ContractError(
            messages.text(
                self.lang, "contract_returns", name=name, module=self.name, needs=needs, got=describe(got, self.lang)
            )
        )


def contains_layer(model, target) -> bool:
    """Is `target` a layer somewhere inside `model` (nested models included)?"""
    pending = list(getattr(model, "layers", []))
    while pending:
        layer = pending.pop()
        if layer is target:
            return True
        pending.extend(getattr(layer, "layers", []))
    return False


def describe(value: object, lang: str = "en") -> str:
    """What a student's function returned, by type: `a tuple of 2: (Model, NoneType)`."""
    kind = type(value).__name__
    if isinstance(value, tuple | list):
        items = ", ".join(type(item).__name__ for item in value)
        return messages.text(lang, "got_sequence", kind=kind, n=len(value), items=items)
    return messages.text(lang, "got_value", kind=kind)


def load_student(
    source: str | Path | ModuleType | object,
    *,
    lang: str = "en",
    time_limit: float | None = None,
    announce: Announce | None = None,
) -> Student:
    """A Student from a file path, an imported module, or any object with the contract's attributes.

    `time_limit` bounds the import and every later call of the student's functions (seconds each); `announce`
    (the sandbox child's event writer) is told when each of them starts and ends."""
    messages.check_language(lang)
    if isinstance(source, str | Path):
        module = import_file(Path(source), lang, time_limit, announce)
        name = Path(source).stem
    else:
        module = source
        name = getattr(source, "__name__", type(source).__name__)
    validate(module, name, lang)
    return Student(
        name=name, backbone=module.BACKBONE, module=module, lang=lang, time_limit=time_limit, announce=announce
    )


def import_file(path: Path, lang: str, seconds: float | None = None, announce: Announce | None = None) -> ModuleType:
    """Import a student's file (a .py, or a notebook's code cells: tl_claims/teaching/ipynb.py) under its own
    module name; an error in it (a `sys.exit` too, or running past the time limit) becomes one line with its
    location."""
    if not path.is_file():
        raise ContractError(f"{path}: {messages.text(lang, 'contract_no_file')}")
    if path.suffix not in SOURCE_SUFFIXES:
        raise ContractError(f"{path}: {messages.text(lang, 'contract_not_python')}")
    module_name = f"tl_claims_student_{path.stem}"
    notebook = None
    if is_notebook(path):
        try:
            notebook = read_notebook(path)
        except NotebookError as error:
            raise ContractError(f"{path}: {messages.text(lang, error.key, **error.values)}") from None
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(module_name, None, origin=str(path)))
        module.__file__ = str(path)
        setattr(module, NOTEBOOK_ATTRIBUTE, notebook)
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with time_limit(seconds, "import", lang, announce):
            if notebook is None:
                module.__spec__.loader.exec_module(module)
            else:
                exec(compile_notebook(notebook), module.__dict__)  # the student's code, in the child process
    except (Exception, SystemExit) as error:
        sys.modules.pop(module_name, None)
        where = error_where(error, path, lang, notebook)
        raise ContractError(messages.text(lang, "contract_import", path=path, error=where)) from None
    return module


def compile_notebook(notebook: Notebook):
    """The notebook's module code, compiled under the notebook's path; its text is put in `linecache` so that
    tracebacks and `inspect.getsource` show the student's lines."""
    filename = str(notebook.path)
    lines = notebook.source.splitlines(keepends=True)
    linecache.cache[filename] = (len(notebook.source), None, lines, filename)  # mtime None: never re-read from disk
    return compile(notebook.source, filename, "exec")


def error_where(error: BaseException, path: Path, lang: str = "en", notebook: Notebook | None = None) -> str:
    """`Type: message (file, line N)`, pointing at the innermost frame in the student's file; in a notebook
    `(file, cell C, line N)`."""
    chain = [error, *([error.__cause__] if error.__cause__ is not None else [])]
    frames = [
        frame for link in chain for frame in traceback.extract_tb(link.__traceback__) if Path(frame.filename) == path
    ]
    line = getattr(error, "lineno", None) or (frames[-1].lineno if frames else None)
    text = error.msg if isinstance(error, SyntaxError) else error  # its str names the module's line, not the cell's
    return f"{type(error).__name__}: {text}{location(path, line, lang, notebook)}"


def location(path: Path, line: int | None, lang: str, notebook: Notebook | None = None) -> str:
    """` (file, line N)`, or ` (file, cell C, line N)` for a notebook's module line; "" without a line."""
    if not line:
        return ""
    origin = notebook.origin(line) if notebook is not None else None
    if origin is not None:
        return " (" + messages.text(lang, "at_cell", file=path.name, cell=origin[0], line=origin[1]) + ")"
    return " (" + messages.text(lang, "at_line", file=path.name, line=line) + ")"


def validate(module: object, name: str, lang: str) -> None:
    """Every contract name present, callable with the right arguments; BACKBONE a registered name."""
    from tl_claims import backbones

    for attribute, n_args in CONTRACT.items():
        needs = messages.text(lang, f"needs_{attribute}")
        if not hasattr(module, attribute):
            raise ContractError(missing_message(module, name, attribute, needs, lang))
        value = getattr(module, attribute)
        if n_args is None:
            continue
        if not callable(value):
            raise ContractError(
                messages.text(
                    lang, "contract_not_callable", name=attribute, module=name, needs=needs, kind=type(value).__name__
                )
            )
        if not accepts(value, n_args):
            raise ContractError(
                messages.text(
                    lang,
                    "contract_signature",
                    name=attribute,
                    module=name,
                    needs=needs,
                    signature=signature_text(value),
                )
            )
    if module.BACKBONE not in backbones.names():
        raise ContractError(
            messages.text(
                lang, "contract_backbone", value=module.BACKBONE, module=name, choices=", ".join(backbones.names())
            )
        )


def missing_message(module: object, name: str, attribute: str, needs: str, lang: str) -> str:
    """Names a close match when there is one: a misspelled function is the usual cause."""
    public = [key for key in dir(module) if not key.startswith("_")]
    close = difflib.get_close_matches(attribute, public, n=1, cutoff=0.75)
    suggestion = messages.text(lang, "contract_suggestion", found=close[0], name=attribute) if close else ""
    return messages.text(lang, "contract_missing", name=attribute, module=name, needs=needs, suggestion=suggestion)


def accepts(function: Callable, n_args: int) -> bool:
    try:
        inspect.signature(function).bind(*range(n_args))
    except TypeError:
        return False
    except ValueError:  # builtins without a signature: let the call decide
        return True
    return True


def signature_text(function: Callable) -> str:
    try:
        return str(inspect.signature(function))
    except ValueError:
        return "(...)"
