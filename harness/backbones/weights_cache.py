"""The on-disk cache of converted weights, shared by every backbone whose weights are converted from another format.

A conversion (e.g. a PyTorch .pth to Keras-layout arrays) runs once per source file; its result is stored under
`<cache>/backbones/<name>-<first 16 hex of the source's SHA-256>-v<converter version>.npz`, with a sidecar JSON that
records the source hash, the converter version, the tensor count and the .npz's own SHA-256. A cache that fails any
of those checks is logged and rebuilt, never trusted; a cache that cannot be written costs speed, not correctness.
Within a process the arrays are also kept in memory, keyed by (name, source hash, cache directory).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.backbones.spec import WeightsUnavailableError
from harness.paths import default_cache_dir
from harness.store import sha256_of

log = logging.getLogger(__name__)

Converted = dict[str, list[np.ndarray]]  # Keras layer name -> its weights in `layer.set_weights` order

_SHA256_BY_FILE_STATE: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> hash: hash each file once
_WEIGHTS_IN_MEMORY: dict[tuple[str, str, int, str], Converted] = {}  # (name, source hash, version, cache dir)


def forget_in_memory_weights() -> None:
    """Drop this process's copies so the next load goes to the disk cache (tests of cache checks need this)."""
    _SHA256_BY_FILE_STATE.clear()
    _WEIGHTS_IN_MEMORY.clear()


def _source_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256_BY_FILE_STATE:
        _SHA256_BY_FILE_STATE[key] = sha256_of(path)
    return _SHA256_BY_FILE_STATE[key]


def cache_paths(name: str, source_sha256: str, version: int, cache_dir: Path) -> tuple[Path, Path]:
    """(arrays .npz, sidecar .json) for backbone `name`, a source hash and a converter version."""
    stem = cache_dir / "backbones" / f"{name}-{source_sha256[:16]}-v{version}"
    return stem.with_suffix(".npz"), stem.with_suffix(".json")


def converted_weights(
    source: str | os.PathLike,
    *,
    name: str,
    version: int,
    convert: Callable[[Path], Converted],
    cache_dir: str | os.PathLike | None = None,
) -> Converted:
    """`convert(source)` for backbone `name`: from memory or the disk cache when it checks out, else converted and
    cached. `version` is the converter's: bump it when the conversion changes, and old caches count as stale."""
    source = Path(source)
    if not source.is_file():
        raise WeightsUnavailableError(f"{name}: weights file {source} does not exist; pass an existing .pth file")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    source_sha256 = _source_sha256(source)
    memory_key = (name, source_sha256, version, str(cache_dir))
    if memory_key not in _WEIGHTS_IN_MEMORY:
        paths = cache_paths(name, source_sha256, version, cache_dir)
        _WEIGHTS_IN_MEMORY[memory_key] = _cached_or_converted(name, version, source, source_sha256, paths, convert)
    return _WEIGHTS_IN_MEMORY[memory_key]


def _cached_or_converted(
    name: str, version: int, source: Path, source_sha256: str, paths: tuple[Path, Path], convert
) -> Converted:
    try:
        return _read_cache(paths, source_sha256, version)
    except FileNotFoundError:
        log.info("%s: converting %s (first use; cached under %s)", name, source, paths[0].parent)
    except Exception as problem:  # any unreadable or mismatching cache is rebuilt, never trusted
        log.warning("%s: weights cache for %s is %s; rebuilding it", name, source.name, problem)
    converted = convert(source)
    try:
        _write_cache(converted, paths, source, source_sha256, version)
    except OSError as problem:  # a read-only or full disk costs speed, not correctness
        log.warning(
            "%s: could not write the weights cache under %s (%s); converting on every load",
            name,
            paths[0].parent.parent,
            problem,
        )
    return converted


def _flat_key(layer_name: str, index: int) -> str:
    return f"{layer_name}/{index}"


def _write_cache(converted: Converted, paths: tuple[Path, Path], source: Path, source_sha256: str, version: int):
    """Write arrays then sidecar, each atomically (parallel test workers may race; the last writer wins)."""
    arrays_path, sidecar_path = paths
    arrays_path.parent.mkdir(parents=True, exist_ok=True)
    flat = {_flat_key(name, i): w for name, weights in converted.items() for i, w in enumerate(weights)}
    with _atomic_path(arrays_path) as temporary, open(temporary, "wb") as file:
        np.savez(file, **flat)
    sidecar = {
        "source": str(source),
        "source_sha256": source_sha256,
        "converter_version": version,
        "tensor_count": len(flat),
        "cache_sha256": sha256_of(arrays_path),
    }
    with _atomic_path(sidecar_path) as temporary:
        temporary.write_text(json.dumps(sidecar, indent=2))


@contextlib.contextmanager
def _atomic_path(final: Path):
    descriptor, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.")
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def _read_cache(paths: tuple[Path, Path], source_sha256: str, version: int) -> Converted:
    """The cached arrays, or an exception saying why the cache cannot be trusted (FileNotFoundError: none yet)."""
    arrays_path, sidecar_path = paths
    if not arrays_path.exists() or not sidecar_path.exists():
        raise FileNotFoundError("no cache yet")
    sidecar = json.loads(sidecar_path.read_text())
    expected = {"source_sha256": source_sha256, "converter_version": version}
    if any(sidecar.get(key) != value for key, value in expected.items()):
        raise ValueError("stale (source hash or converter version differ)")
    if sidecar.get("cache_sha256") != sha256_of(arrays_path):
        raise ValueError("corrupt (file hash differs from its sidecar)")
    with np.load(arrays_path, allow_pickle=False) as archive:
        flat = {key: archive[key] for key in archive.files}
    if len(flat) != sidecar.get("tensor_count"):
        raise ValueError(f"incomplete ({len(flat)} tensors, sidecar says {sidecar.get('tensor_count')})")
    converted: Converted = {}
    for key in sorted(flat, key=lambda k: (k.rsplit("/", 1)[0], int(k.rsplit("/", 1)[1]))):
        converted.setdefault(key.rsplit("/", 1)[0], []).append(flat[key])
    return converted
