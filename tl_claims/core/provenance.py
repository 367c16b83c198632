"""Where, when and with what a row was measured, as separate fields (like pytest-benchmark's machine_info and
commit_info), stamped on the row when its test finishes rather than when the table is assembled.

Everything here is read from the running process and the checkout; nothing is configured.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path

# library -> the distributions that install it (TensorFlow ships under several names)
LIBRARIES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"),
    "keras": ("keras",),
    "jax": ("jax",),  # the other Keras backends, where installed (the row's `backend` says which one measured)
    "jaxlib": ("jaxlib",),
    "torch": ("torch",),
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


def process_commit(checkout: Path) -> dict:
    """The commit this process measures with (read once) and the dirty flag read now: files change during a run."""
    return _commit_info(checkout, _head(checkout))


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
    """The host as separate fields; `gpus` as the Keras backend lists them (`tl_claims.core.backend.visible_gpus`)."""
    return {
        "node": platform.node(),
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "gpus": list(gpus or []),
    }


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, e.g. "AMD EPYC 7B13": Linux's /proc/cpuinfo ("model name"), else what the platform
    says (macOS and Windows fill `platform.processor()`; on Linux it is often empty), else "unknown CPU"."""
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or "unknown CPU"


def machine_line() -> str:
    """The machine in one line for a report's header: CPU model, architecture, cores, system."""
    return f"{cpu_model()} ({platform.machine()}), {os.cpu_count()} CPU(s), {platform.platform()}"
