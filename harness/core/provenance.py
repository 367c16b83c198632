"""Where, when and with what a row was measured, as separate fields (like pytest-benchmark's machine_info and
commit_info), stamped on the row when its test finishes rather than when the table is assembled.

Everything here is read from the running process and the checkout; nothing is configured.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import replace
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from harness import __version__

if TYPE_CHECKING:
    from harness.results.row import Row

# library -> the distributions that install it (TensorFlow ships under several names)
LIBRARIES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"),
    "keras": ("keras",),
    "numpy": ("numpy",),
    "scipy": ("scipy",),
    "pandas": ("pandas",),
    "tensorflow-datasets": ("tensorflow-datasets",),
    "matplotlib": ("matplotlib",),
}


def now() -> str:
    """The local time in ISO 8601 with its UTC offset, e.g. 2026-12-02T14:21:47+00:00."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def commit_info(checkout: Path) -> dict:
    """{"id": short commit or "unknown", "dirty": uncommitted changes to tracked files, or None when unknown}."""
    return _commit_info(checkout, _git(checkout, "rev-parse", "--short", "HEAD"))


def _commit_info(checkout: Path, commit: str | None) -> dict:
    status = _git(checkout, "status", "--porcelain", "--untracked-files=no") if commit else None
    return {"id": commit or "unknown", "dirty": None if status is None else bool(status.strip())}


def head_commit(checkout: Path) -> str:
    """The checkout's short commit, or "unknown": read once per process and checkout (a row's default and its
    stamp share it), since a process measures with the code it loaded when it started."""
    return _head(checkout) or "unknown"


@cache
def _head(checkout: Path) -> str | None:
    return _git(checkout, "rev-parse", "--short", "HEAD")


def _git(checkout: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def library_versions(libraries: dict[str, tuple[str, ...]] | None = None) -> dict:
    """Installed versions of the libraries that decide what is measured (read from package metadata); a library
    that is not installed is left out."""
    versions = {}
    for name, distributions in (LIBRARIES if libraries is None else libraries).items():
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def machine_info(gpus: list[str] | None = None) -> dict:
    """The host as separate fields; `gpus` as TensorFlow lists them (the caller has TensorFlow loaded)."""
    return {
        "node": platform.node(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "gpus": list(gpus or []),
    }


def visible_gpus() -> list[str]:
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]


def stamp(row: Row, *, node_id: str, started_at: str, checkout: Path, gpus: list[str] | None = None) -> Row:
    """The row with its provenance: test node id, start and end times, tool version, commit and dirty flag,
    library versions, machine."""
    commit = _commit_info(checkout, _head(checkout))  # the dirty flag is read per row: files change during a run
    return replace(
        row,
        node_id=node_id,
        started_at=started_at,
        finished_at=now(),
        tool_version=__version__,
        git_commit=commit["id"],
        git_dirty=commit["dirty"],
        versions=library_versions(),
        machine=machine_info(gpus),
    )
