"""The artefact store: trained weights and computed arrays on disk, keyed by everything that determines them.

A key is a hash of the parts a caller names (data, backbone, seed, recipe settings) plus a fingerprint of the code
that computes artefacts (`RECIPE_MODULES`), so a code change can never reuse a stale model. Every file is written
under a temporary name and renamed into place (a killed run leaves no half-written entry), with a SHA-256 sidecar
checked on every read: a torn or tampered entry counts as missing and is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

# The modules whose code decides what an artefact holds. tests/test_store.py checks that every harness module the
# lab and the recipes import is covered, so this list cannot silently fall behind the code.
RECIPE_MODULES = (
    "harness.lab",
    "harness.training",
    "harness.augment",
    "harness.differential_lr",
    "harness.measures",
    "harness.store",
    "harness.errors",
    "harness.paths",
    "harness.backbones",
    "harness.data",
)


def _module_files(module: ModuleType) -> list[Path]:
    path = Path(module.__file__ or "")
    return sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]


def code_fingerprint(module_names: tuple[str, ...] = RECIPE_MODULES) -> str:
    """A short hash of the source of the recipe modules (packages: every file in them)."""
    import importlib

    digest = hashlib.sha256()
    for name in module_names:
        for path in _module_files(importlib.import_module(name)):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class ArtefactStore:
    """Arrays (`.npz`) and Keras weights (`.weights.h5`) under `root`, each with an integrity sidecar."""

    def __init__(self, root: Path, fingerprint: str | None = None) -> None:
        self.root = Path(root)
        self.fingerprint = fingerprint or code_fingerprint()

    def key(self, **parts: object) -> str:
        """A short stable hash of everything that determines an artefact, the recipe's code included."""
        text = json.dumps({**parts, "code": self.fingerprint}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    # --- arrays ----------------------------------------------------------------------------------------------------
    def arrays(self, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """The stored arrays under `key`, or `build()`'s, stored on the way."""
        path = self.root / "features" / f"{key}.npz"
        if self._intact(path):
            try:
                with np.load(path) as stored:
                    return {name: stored[name] for name in stored.files}
            except (OSError, ValueError, EOFError):
                pass
        arrays = build()
        self._write(path, lambda partial: np.savez(partial, **arrays), suffix=".npz")
        return arrays

    # --- weights ---------------------------------------------------------------------------------------------------
    def load_weights(self, key: str, model) -> bool:
        """Load stored weights into `model`; False (and the entry removed) when absent, torn or stale."""
        path = self._weights_path(key)
        if not self._intact(path):
            return False
        try:
            model.load_weights(path)
        except (OSError, ValueError):
            self._remove(path)
            return False
        return True

    def save_weights(self, key: str, model) -> None:
        self._write(self._weights_path(key), model.save_weights, suffix=".weights.h5")

    # --- files -----------------------------------------------------------------------------------------------------
    def _weights_path(self, key: str) -> Path:
        return self.root / "models" / f"{key}.weights.h5"

    def _write(self, path: Path, write: Callable[[Path], object], *, suffix: str) -> None:
        """Write under a temporary name, record its hash, then rename both into place."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name.removesuffix(suffix)}.{os.getpid()}.partial{suffix}")
        write(partial)
        _sidecar(partial).write_text(sha256_of(partial), encoding="utf-8")
        partial.replace(path)
        _sidecar(partial).replace(_sidecar(path))

    def _intact(self, path: Path) -> bool:
        """The file exists and matches the hash recorded when it was written."""
        sidecar = _sidecar(path)
        if not (path.is_file() and sidecar.is_file()):
            return False
        if sidecar.read_text(encoding="utf-8").strip() == sha256_of(path):
            return True
        self._remove(path)
        return False

    @staticmethod
    def _remove(path: Path) -> None:
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
