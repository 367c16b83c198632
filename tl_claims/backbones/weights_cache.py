"""The on-disk cache of converted weights, shared by every backbone whose weights are converted from another format.

A conversion (e.g. a PyTorch .pth to Keras-layout arrays) runs once per source file; its result is an entry of the
artefact store (`tl_claims.core.store`: atomic writes, a SHA-256 checked on every read) under
`<cache>/backbones/<name>-<first 16 hex of the source's SHA-256>-v<converter version>-checked.npz`. An entry that
fails its check is reported in one line, deleted and rebuilt, never trusted; a cache that cannot be written costs
speed, not correctness.
Within a process the arrays are also kept in memory, keyed by (name, source hash, cache directory).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tl_claims.backbones.spec import WeightsUnavailableError
from tl_claims.core.paths import default_cache_dir
from tl_claims.core.store import ArtefactStore, sha256_of

log = logging.getLogger(__name__)

CACHE_KIND = "backbones"
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


def cache_key(name: str, source_sha256: str, version: int) -> str:
    """The store key of backbone `name`'s arrays converted from a source file (by hash) with a converter version
    (`-checked`: the store's format, so an older checkout sharing the cache never mistakes it for its own)."""
    return f"{name}-{source_sha256[:16]}-v{version}-checked"


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
        store = ArtefactStore(cache_dir, fingerprint="by-source-hash")  # the key names source and converter

        def build() -> dict[str, np.ndarray]:
            log.info("%s: converting %s (first use; cached under %s)", name, source, cache_dir / CACHE_KIND)
            return flatten(convert(source))

        flat = store.arrays(cache_key(name, source_sha256, version), build, kind=CACHE_KIND)
        _WEIGHTS_IN_MEMORY[memory_key] = unflatten(flat)
    return _WEIGHTS_IN_MEMORY[memory_key]


def flatten(converted: Converted) -> dict[str, np.ndarray]:
    return {f"{layer}/{index}": w for layer, weights in converted.items() for index, w in enumerate(weights)}


def unflatten(flat: dict[str, np.ndarray]) -> Converted:
    converted: Converted = {}
    for key in sorted(flat, key=lambda k: (k.rsplit("/", 1)[0], int(k.rsplit("/", 1)[1]))):
        converted.setdefault(key.rsplit("/", 1)[0], []).append(flat[key])
    return converted
