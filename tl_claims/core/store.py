"""The artefact store: every cache's files on disk -- converted weights, generated images, frozen-base features,
trained models, normalised folder copies -- written and checked one way.

- Keys: a hash of the parts a caller names (data, backbone, seed, recipe settings) plus a fingerprint of the code
  that computes artefacts (`RECIPE_MODULES`), so a code change can never reuse a stale model. No key holds the
  cache's own location: a moved or copied cache is reused as it is.
- Writes are atomic: a file is written under a temporary name in its folder (`.NAME.HOST.PID.RANDOM.tmp`), its
  SHA-256 goes to a sidecar `NAME.sha256` (renamed into place first), then the file is renamed into place. A killed
  writer leaves only a temporary, which `sweep_stale` removes (its process is gone, or it is over an hour old).
- Reads are checked: the file's hash must match its sidecar. A mismatch is reported in one line (logger
  `tl_claims.core.store`), the entry deleted and rebuilt by the caller; a file without a sidecar counts as absent.
- Modes follow the umask (0644 files and 0755 folders under the usual 022), so a group can share a cache.
- A cache that cannot be written costs speed, not correctness: the failure is logged and the artefact returned.
- Processes sharing a cache (pytest-xdist workers, two runs at once) build each artefact once: `building(key)`
  holds an exclusive lock on `<root>/locks/<key>.lock` while one of them builds it, and the other waits, then reads
  it. The operating system drops the lock when its holder dies, so a killed run never leaves others waiting.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# The modules whose code decides what an artefact holds. tests/test_store.py checks that every harness module the
# lab and the recipes import is covered, so this list cannot silently fall behind the code.
RECIPE_MODULES = (
    "tl_claims.recipe.lab",
    "tl_claims.recipe.options",
    "tl_claims.recipe.training",
    "tl_claims.recipe.architecture",
    "tl_claims.recipe.evaluation",
    "tl_claims.recipe.tf_tracing",
    "tl_claims.data.augment",
    "tl_claims.recipe.optimizers",
    "tl_claims.recipe.measures",
    "tl_claims.core.store",
    "tl_claims.core.backend",
    "tl_claims.core.install_check",
    "tl_claims.core.errors",
    "tl_claims.core.paths",
    "tl_claims.backbones",
    "tl_claims.data",
)
SIDECAR_SUFFIX = ".sha256"
TEMPORARY_SUFFIX = ".tmp"
STALE_AFTER_SECONDS = 3600.0  # a temporary this old is abandoned whoever wrote it (no write takes an hour)
LEGACY_TEMPORARY_PATTERNS = ("*.partial.*", "*.part", "*.tmp-*", ".*.npz.*", ".*.json.*")  # earlier versions' names
_TEMPORARY_NAME = re.compile(r"^\.(?P<head>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp(\.[^.]+)*$")


def _module_files(name: str) -> list[Path]:
    """The source files of a module (packages: every file in them), found without running the module: a module that
    only one Keras backend imports (the TensorFlow tracing) is hashed on every backend, never imported there."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    path = Path(spec.origin if spec is not None and spec.origin else "")
    return sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]


def code_fingerprint(module_names: tuple[str, ...] = RECIPE_MODULES) -> str:
    """A short hash of the source of the recipe modules (packages: every file in them)."""
    digest = hashlib.sha256()
    for name in module_names:
        for path in _module_files(name):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class ArtefactStore:
    """Arrays (`.npz`) and Keras weights (`.weights.h5`) under `root`, each with an integrity sidecar."""

    def __init__(self, root: str | os.PathLike, fingerprint: str | None = None) -> None:
        self.root = Path(root)
        self._fingerprint = fingerprint
        sweep_stale_once(self.root)

    @property
    def fingerprint(self) -> str:
        """The recipe's code fingerprint, computed on first use (a store that only reads by explicit key never
        needs it)."""
        if self._fingerprint is None:
            self._fingerprint = code_fingerprint()
        return self._fingerprint

    def key(self, **parts: object) -> str:
        """A short stable hash of everything that determines an artefact, the recipe's code included."""
        text = json.dumps({**parts, "code": self.fingerprint}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    # --- arrays ----------------------------------------------------------------------------------------------------
    def arrays(
        self,
        key: str,
        build: Callable[[], dict[str, np.ndarray]],
        *,
        kind: str = "features",
        names: Collection[str] = (),
    ) -> dict[str, np.ndarray]:
        """The stored arrays under `<root>/<kind>/<key>.npz`, or `build()`'s, stored on the way. An entry that fails
        its hash, cannot be read or lacks one of `names` is reported, deleted and rebuilt."""
        path = self.root / kind / f"{key}.npz"
        with self.building(key):
            stored = self._read_arrays(path, names)
            if stored is not None:
                return stored
            arrays = build()
            write_checked(path, lambda partial: _save_npz(partial, arrays))
            return arrays

    def _read_arrays(self, path: Path, names: Collection[str]) -> dict[str, np.ndarray] | None:
        if not verified(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError, KeyError) as error:
            report_corrupt(path, f"unreadable ({type(error).__name__})")
            return None
        missing = sorted(set(names) - set(arrays))
        if missing:
            report_corrupt(path, f"lacks {', '.join(missing)}")
            return None
        return arrays

    # --- weights ---------------------------------------------------------------------------------------------------
    def load_weights(self, key: str, model) -> bool:
        """Load stored weights into `model`; False (and the entry removed) when absent, torn or stale."""
        path = self._weights_path(key)
        if not verified(path):
            return False
        try:
            model.load_weights(path)
        except (OSError, ValueError, KeyError) as error:
            report_corrupt(path, f"unreadable ({type(error).__name__})")
            return False
        return True

    def save_weights(self, key: str, model) -> None:
        write_checked(self._weights_path(key), model.save_weights, suffix=".weights.h5")

    def _weights_path(self, key: str) -> Path:
        return self.root / "models" / f"{key}.weights.h5"

    @contextlib.contextmanager
    def building(self, key: str) -> Iterator[None]:
        """Hold `key`'s lock while this process looks for the artefact and builds it if absent; another process
        asking for the same key waits here. Without a lock (no `fcntl`, as on Windows, or a cache that cannot be
        written) two processes may build the same artefact: only time is lost, the writes stay atomic."""
        with _exclusive(self.root / "locks" / f"{key}.lock"):
            yield


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:  # a file object: np.savez would otherwise append ".npz" to the temporary name
        np.savez(handle, **arrays)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- files


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` for the duration of the block (blocking); none where it cannot be had."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; duplicated work at worst
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - closed below, after the lock is released
    except OSError as error:
        log.warning("could not lock %s (%s); building without a lock", path, error)
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def temporary_path(final: Path, suffix: str = "") -> Path:
    """A unique hidden name next to `final` that says who writes it (host, process), so a sweep can tell when it is
    stale. `suffix` for writers that insist on one (Keras: `.weights.h5`); never an image extension, so a loader
    listing the folder meanwhile skips it."""
    writer = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    return final.with_name(f".{final.name}.{writer}{TEMPORARY_SUFFIX}{suffix}")


@contextlib.contextmanager
def temporary(final: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path next to `final`, removed afterwards unless the caller renamed it into place."""
    partial = temporary_path(final, suffix)
    try:
        yield partial
    finally:
        if partial.is_dir() and not partial.is_symlink():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)


def write_checked(path: Path, write: Callable[[Path], object], *, suffix: str = "", required: bool = False) -> bool:
    """Write `path` atomically with its hash sidecar (`write(temporary)` makes the file). False, logged, when the
    cache cannot be written: the caller keeps its artefact, only the next run pays for it again (`required`: the
    OSError is raised instead, for entries a later step reads from disk)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary(path, suffix) as partial, temporary(sidecar_of(path)) as partial_sidecar:
            write(partial)
            partial_sidecar.write_text(sha256_of(partial) + "\n", encoding="utf-8")
            partial_sidecar.replace(sidecar_of(path))
            partial.replace(path)
    except OSError as error:
        if required:
            raise
        log.warning("could not write the cache entry %s (%s); it will be computed again next time", path, error)
        return False
    return True


def write_bytes_checked(path: Path, data: bytes) -> None:
    """`write_checked` for bytes in memory that a later step reads from disk (generated images): OSError raised."""
    write_checked(path, lambda partial: partial.write_bytes(data), required=True)


def adopt(path: Path) -> None:
    """Record the hash of a file written without one (by an earlier version), after the caller checked it."""
    with temporary(sidecar_of(path)) as partial:
        partial.write_text(sha256_of(path) + "\n", encoding="utf-8")
        partial.replace(sidecar_of(path))


def verified(path: Path) -> bool:
    """The file and its sidecar exist and the file's hash matches; a mismatch is reported and the entry removed."""
    sidecar = sidecar_of(path)
    if not (path.is_file() and sidecar.is_file()):
        return False
    try:
        recorded = sidecar.read_bytes().decode("ascii", errors="replace").strip()
        actual = sha256_of(path)
    except OSError:
        return False
    if recorded == actual:
        return True
    report_corrupt(path, "its content does not match the hash written with it")
    return False


def report_corrupt(path: Path, why: str) -> None:
    """One line for a corrupt entry, then it is deleted (the caller rebuilds it)."""
    log.warning("cache entry %s is corrupt (%s); deleted, rebuilding it", path, why)
    remove_entry(path)


def remove_entry(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
        sidecar_of(path).unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------- stale temporaries

_SWEPT: set[str] = set()


def sweep_stale_once(root: Path) -> None:
    """`sweep_stale(root)` once per process and cache root."""
    if str(root) not in _SWEPT:
        _SWEPT.add(str(root))
        sweep_stale(root)


def sweep_stale(root: Path, now: float | None = None) -> list[Path]:
    """Remove temporaries of killed writes under `root`: ours when the writing process is gone (same host) or the
    file is over STALE_AFTER_SECONDS old, earlier versions' names when that old. Returns what was removed."""
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    candidates = set(root.rglob(f".*{TEMPORARY_SUFFIX}*"))
    for pattern in LEGACY_TEMPORARY_PATTERNS:
        candidates.update(root.rglob(pattern))
    for path in sorted(candidates):
        if _is_stale(path, now):
            with contextlib.suppress(OSError):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
                removed.append(path)
    return removed


def _is_stale(path: Path, now: float) -> bool:
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    if age > STALE_AFTER_SECONDS:
        return True
    writer = _writer_of(path.name)
    return writer is not None and writer[0] == socket.gethostname() and not _process_alive(writer[1])


def _writer_of(name: str) -> tuple[str, int] | None:
    """(host, pid) from `.NAME.HOST.PID.RANDOM.tmp[SUFFIX]` written on this host, else None."""
    match = _TEMPORARY_NAME.match(name)
    host = socket.gethostname()
    if match is None or not match["head"].endswith("." + host):
        return None
    return host, int(match["pid"])


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True
