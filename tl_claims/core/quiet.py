"""Quiet TensorFlow start-up: the one place that sets TensorFlow's log level and hides its import-time C++ lines.

TensorFlow 2.21 prints, while `import tensorflow` loads its shared libraries, absl's "All log messages before
absl::InitializeLog() is called are written to STDERR" and an I-level oneDNN notice, once per library and whatever
`TF_CPP_MIN_LOG_LEVEL` says; after the import, `TF_CPP_MIN_LOG_LEVEL` is honoured. The full `tensorflow` package
(the one tl-claims installs, CUDA-capable) also logs an ERROR-level "failed call to cuInit" on every machine without
a GPU, so ERROR lines are noise too; real failures still reach the user as Python exceptions. So `quiet_tensorflow()`:

- sets `TF_CPP_MIN_LOG_LEVEL=3` (hide INFO, WARNING and ERROR) unless the user set it;
- wraps the first `import tensorflow` (by anyone: harness, keras, a student's file) so that what the C++ side writes
  to file descriptor 2 during that import is filtered: log records below the level and absl's pre-init notice are
  dropped, anything else (a Python warning, another library's line) is written back to stderr.

Asking for the lines: set `TF_CPP_MIN_LOG_LEVEL` yourself; the filter follows it (0 keeps every line, 1 drops INFO,
2 drops WARNING too).
It is called when tl-claims is activated (`python -m tl_claims`, the claims plugin, `--student` / `--homework`), never
on a bare `import tl_claims`, so installing the pytest plugin changes nothing in other projects.
"""

from __future__ import annotations

import importlib.abc
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
DEFAULT_LEVEL = "3"
ABSL_PREINIT = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# absl / glog line prefix: severity letter, MMDD, time (absl prints 00:00:<epoch>.<us> before InitializeLog), thread
# id, file:line]. A line without it continues the record above it (cpu_feature_guard's second line).
LOG_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [^ \]]+:\d+\] ")
SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def quiet_tensorflow() -> None:
    """Set the log level (unless the user did) and filter the first TensorFlow import; safe to call repeatedly."""
    os.environ.setdefault(LEVEL_VARIABLE, DEFAULT_LEVEL)
    if "tensorflow" in sys.modules or any(isinstance(finder, _QuietFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietFinder())


def filter_log_lines(text: str, level: int) -> str:
    """`text` without absl's pre-init notice and without log records below `level` (continuation lines included)."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        record = LOG_LINE.match(line)
        if line.rstrip("\r\n") == ABSL_PREINIT:
            dropping = level > 0
        elif record:
            dropping = SEVERITY[record.group(1)] < level
        if not dropping:
            kept.append(line)
    return "".join(kept)


@contextmanager
def filtered_stderr(level: int) -> Iterator[None]:
    """Collect what is written to file descriptor 2 inside the block; write back what `filter_log_lines` keeps."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = filter_log_lines(capture.read().decode("utf-8", errors="replace"), level)
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def _level() -> int:
    try:
        return int(os.environ.get(LEVEL_VARIABLE, DEFAULT_LEVEL))
    except ValueError:
        return int(DEFAULT_LEVEL)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: hands out the real spec of `tensorflow` with a loader that filters its import."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find and finder is not self else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


class _QuietLoader(importlib.abc.Loader):
    """The real loader, with `exec_module` (where TensorFlow loads its C++ libraries) inside `filtered_stderr`."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _QuietFinder)]  # one-shot
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        with filtered_stderr(_level()):
            self._loader.exec_module(module)

    def __getattr__(self, name: str):
        return getattr(self._loader, name)
