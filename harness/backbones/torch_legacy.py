"""Read a PyTorch state dict saved in the *legacy* (pre-1.6, non-zip) format with numpy alone.

Why: the only offline ImageNet weights we have for EfficientNet-Lite0 ship as such a file, and we want neither torch
as a dependency nor `pickle.load` on a downloaded file (a pickle can run any code it names).

The format is five pickles in a row -- magic number, protocol version, sys-info, the state dict (whose tensors refer
to storages by persistent id), the list of storage keys -- followed by each storage, in that list's order, as an
8-byte little-endian element count and the raw little-endian data.

The unpickler is restricted: `find_class` resolves only the few globals a state dict needs, each to a harmless
stand-in defined here (torch is never imported); any other global is refused with `UnsafePickleError` before it is
called, so a crafted file cannot run code.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import HarnessError

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
ZIP_SIGNATURE = b"PK\x03\x04"


class UnsafePickleError(HarnessError):
    """The file names a global outside the state-dict allow-list: refused, nothing was executed."""


class TorchFileFormatError(HarnessError, ValueError):
    """The file is not a well-formed legacy PyTorch state dict."""


@dataclass(frozen=True)
class StorageType:
    """Stand-in for `torch.FloatStorage` & co.: only the element dtype matters to us."""

    torch_name: str
    dtype: np.dtype


@dataclass(frozen=True)
class StorageRef:
    """What a persistent id resolves to: a storage not yet read from the tail of the file."""

    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True)
class TensorRef:
    """A tensor as the pickle describes it: a strided view into a storage."""

    storage: StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


STORAGE_TYPES = {
    name: StorageType(name, np.dtype(dtype).newbyteorder("<"))
    for name, dtype in {
        "FloatStorage": np.float32,
        "DoubleStorage": np.float64,
        "HalfStorage": np.float16,
        "LongStorage": np.int64,
        "IntStorage": np.int32,
        "ShortStorage": np.int16,
        "CharStorage": np.int8,
        "ByteStorage": np.uint8,
        "BoolStorage": np.bool_,
    }.items()
}


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored) -> TensorRef:
    """Stand-in for `torch._utils._rebuild_tensor(_v2)`; extra args (requires_grad, hooks, metadata) are dropped."""
    if not isinstance(storage, StorageRef):
        raise TorchFileFormatError(f"a tensor refers to {type(storage).__name__}, not to a storage")
    return TensorRef(storage, int(storage_offset), tuple(int(n) for n in size), tuple(int(s) for s in stride))


def _allowed_globals() -> dict[tuple[str, str], object]:
    allowed: dict[tuple[str, str], object] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    }
    allowed.update({("torch", name): storage_type for name, storage_type in STORAGE_TYPES.items()})
    return allowed


ALLOWED_GLOBALS = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can build dicts, tuples, numbers, strings and our stand-ins -- nothing else."""

    def __init__(self, file: io.BufferedIOBase, source: Path):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refuses to load global '{module}.{name}' -- a PyTorch state dict never needs it, "
                "so the file is corrupt or crafted to run code. Nothing from it was executed; "
                "use a trusted weights file."
            ) from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise TorchFileFormatError(f"{self.source}: unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid[:5]
        if not isinstance(storage_type, StorageType):
            raise TorchFileFormatError(f"{self.source}: storage of unknown type {storage_type!r:.80}")
        return StorageRef(str(key), storage_type.dtype, int(numel))


def read_state_dict(path: str | os.PathLike) -> collections.OrderedDict[str, np.ndarray]:
    """Return the state dict in `path` as name -> numpy array (a copy, in the tensor's shape)."""
    path = Path(path)
    stream = io.BytesIO(_read_bytes(path))
    _check_header(stream, path)
    state_dict = _load_one(stream, path)
    storage_keys = _load_one(stream, path)
    if not isinstance(state_dict, dict) or not isinstance(storage_keys, list):
        raise TorchFileFormatError(f"{path}: expected a state dict and a list of storage keys")
    storages = _read_storages(stream, path, state_dict, storage_keys)
    return collections.OrderedDict((name, _materialize(ref, storages, path, name)) for name, ref in state_dict.items())


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TorchFileFormatError(f"{path}: no such weights file") from None


def _load_one(stream: io.BytesIO, path: Path):
    try:
        return RestrictedUnpickler(stream, path).load()
    except HarnessError:
        raise
    except Exception as error:  # truncated or garbled pickle: report the file, not pickle's internals
        raise TorchFileFormatError(f"{path}: unreadable pickle at byte {stream.tell()} ({error})") from None


def _check_header(stream: io.BytesIO, path: Path) -> None:
    if stream.getbuffer()[:4] == ZIP_SIGNATURE:
        raise TorchFileFormatError(
            f"{path}: this is PyTorch's zip format; only the legacy format is supported "
            "(re-save it with torch.save(..., _use_new_zipfile_serialization=False))"
        )
    if _load_one(stream, path) != LEGACY_MAGIC_NUMBER:
        raise TorchFileFormatError(f"{path}: not a legacy PyTorch file (wrong magic number)")
    protocol = _load_one(stream, path)
    if protocol != LEGACY_PROTOCOL_VERSION:
        raise TorchFileFormatError(f"{path}: unsupported legacy protocol version {protocol!r}")
    sys_info = _load_one(stream, path)
    if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
        raise TorchFileFormatError(f"{path}: only little-endian files are supported")


def _read_storages(stream: io.BytesIO, path: Path, state_dict: dict, keys: list) -> dict[str, np.ndarray]:
    """Read every storage in `keys` order; its dtype comes from the tensors that use it."""
    dtypes = {ref.storage.key: ref.storage.dtype for ref in state_dict.values() if isinstance(ref, TensorRef)}
    data = stream.getbuffer()
    position = stream.tell()
    storages = {}
    for key in keys:
        if key not in dtypes:
            raise TorchFileFormatError(f"{path}: storage {key!r} is not used by any tensor")
        (numel,) = struct.unpack_from("<q", data, position)
        position += 8
        nbytes = numel * dtypes[key].itemsize
        if numel < 0 or position + nbytes > len(data):
            raise TorchFileFormatError(f"{path}: storage {key!r} runs past the end of the file (truncated?)")
        storages[key] = np.frombuffer(data, dtype=dtypes[key], count=numel, offset=position)
        position += nbytes
    return storages


def _materialize(ref, storages: dict[str, np.ndarray], path: Path, name: str) -> np.ndarray:
    """Copy the strided view a TensorRef describes out of its storage, after checking it stays in bounds."""
    if not isinstance(ref, TensorRef):
        raise TorchFileFormatError(f"{path}: entry {name!r} is not a tensor")
    storage = storages.get(ref.storage.key)
    if storage is None:
        raise TorchFileFormatError(f"{path}: tensor {name!r} refers to a missing storage")
    if any(n < 0 for n in ref.shape) or any(s < 0 for s in ref.stride) or len(ref.shape) != len(ref.stride):
        raise TorchFileFormatError(f"{path}: tensor {name!r} has an invalid shape or stride")
    if 0 in ref.shape:
        return np.zeros(ref.shape, dtype=storage.dtype)
    last_element = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride))
    if ref.offset < 0 or last_element >= storage.size:
        raise TorchFileFormatError(f"{path}: tensor {name!r} reaches outside its storage")
    strides = tuple(s * storage.itemsize for s in ref.stride)
    view = np.lib.stride_tricks.as_strided(storage[ref.offset :], shape=ref.shape, strides=strides, writeable=False)
    return np.array(view, dtype=storage.dtype.newbyteorder("="), order="C")
