"""Read a PyTorch state dict saved in the *legacy* (pre-1.6, non-zip) format with numpy alone.

Why: the only offline ImageNet weights we have for EfficientNet-Lite0 ship as such a file, and we want neither torch
as a dependency nor `pickle.load` on a downloaded file (a pickle can run any code it names).

The format is five pickles in a row -- magic number, protocol version, sys-info, the state dict (whose tensors refer
to storages by persistent id), the list of storage keys -- followed by each storage, in that list's order, as an
8-byte little-endian element count and the raw little-endian data, and nothing after the last storage.

The file is untrusted, so the reader promises three things for *any* input (`tests/backbones/test_torch_legacy.py`
fuzzes them):

- nothing runs and nothing shared changes: `find_class` resolves only the few globals a state dict needs, each to a
  *fresh* stand-in without attributes (pickle's BUILD opcode cannot poison a later read); any other global is refused
  with `UnsafePickleError` before it is called;
- bounded work: every pickle is pre-scanned opcode by opcode (`pickletools.genops`, no objects built) and refused if
  its objects nest deeper than `MAX_NESTING` or, with shared sub-objects counted at every use, exceed
  `MAX_EXPANDED_NODES` (so hashing or comparing them is cheap); element counts are bounded by the bytes present, a
  zero stride is allowed only along a dimension of size 1, a tensor never holds more elements than its storage and
  all tensors together never more than `MAX_OUTPUT_FACTOR` times the file; untrusted values are never `repr`-ed
  whole;
- one kind of failure: every problem is a `TorchFileFormatError` (`UnsafePickleError` is one) naming the byte offset.
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
import pickletools
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tl_claims.core.errors import HarnessError

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
ZIP_SIGNATURE = b"PK\x03\x04"
MAX_NESTING = 64  # a real state dict nests 5 deep (dict > tensor call > args > storage pid)
MAX_EXPANDED_NODES = 1_000_000  # the Lite0 file's state dict is ~25,000 objects counted this way
MAX_DIMENSIONS = 32
MAX_OUTPUT_FACTOR = 4  # tensors may share a storage (tied weights), but never add up to more than 4x the file
MAX_KEY_LENGTH = 64


class TorchFileFormatError(HarnessError, ValueError):
    """The file is not a well-formed legacy PyTorch state dict (the message names the byte offset)."""


class UnsafePickleError(TorchFileFormatError):
    """The file names a global outside the state-dict allow-list: refused, nothing was executed."""


class _Malformed(Exception):
    """Raised inside the stand-ins and the pre-scan; the reader turns it into a TorchFileFormatError that names the
    byte offset (`offset`, else where the stream stands)."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


# ------------------------------------------------------------------------------------------------ the stand-ins
# Each lookup returns a new instance of a class without attributes (`__slots__ = ()`): pickle's BUILD opcode can
# neither change it nor reach anything shared through it, and NEWOBJ refuses it (not a type).

STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


def storage_dtype(torch_name: str) -> np.dtype:
    """The little-endian dtype of a storage type, from the immutable table (never from a stand-in)."""
    return np.dtype(STORAGE_DTYPES[torch_name]).newbyteorder("<")


class _StorageToken:
    """Stand-in for `torch.FloatStorage` & co.; the subclass (unreachable from a pickle) names the type."""

    __slots__ = ()
    torch_name = ""


_STORAGE_TOKENS = {
    name: type(f"_{name}Token", (_StorageToken,), {"__slots__": (), "torch_name": name}) for name in STORAGE_DTYPES
}


class _NewOrderedDict:
    """Stand-in for `collections.OrderedDict`: calling it makes a new, empty (or copied) OrderedDict."""

    __slots__ = ()

    def __call__(self, *args: object) -> collections.OrderedDict:
        if len(args) > 1:
            raise _Malformed("OrderedDict called with more than one argument")
        return collections.OrderedDict(*args)  # type: ignore[arg-type]


class _RebuildTensor:
    """Stand-in for `torch._utils._rebuild_tensor(_v2)`; extra args (requires_grad, hooks, metadata) are dropped."""

    __slots__ = ()

    def __call__(self, storage=None, storage_offset=None, size=None, stride=None, *_ignored) -> TensorRef:
        if not isinstance(storage, StorageRef):
            raise _Malformed(f"a tensor refers to {describe(storage)}, not to a storage")
        return TensorRef(storage, _small_int(storage_offset, "offset"), _dims(size, "size"), _dims(stride, "stride"))


STAND_INS: dict[tuple[str, str], type] = {
    ("collections", "OrderedDict"): _NewOrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _RebuildTensor,
    ("torch._utils", "_rebuild_tensor"): _RebuildTensor,
    **{("torch", name): token for name, token in _STORAGE_TOKENS.items()},
}


@dataclass(frozen=True, slots=True)
class StorageRef:
    """What a persistent id resolves to: a storage not yet read from the tail of the file."""

    key: str
    torch_name: str
    numel: int

    @property
    def dtype(self) -> np.dtype:
        return storage_dtype(self.torch_name)


@dataclass(frozen=True, slots=True)
class TensorRef:
    """A tensor as the pickle describes it: a strided view into a storage."""

    storage: StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def describe(value: object) -> str:
    """A bounded description of an untrusted value (its type, and a short prefix for strings and small ints)."""
    if isinstance(value, str):
        return f"the string {value[:40]!r}{'...' if len(value) > 40 else ''}"
    if type(value) is int:
        return f"the integer {value}" if value.bit_length() <= 64 else f"a {value.bit_length()}-bit integer"
    return f"a {type(value).__name__}"


def _small_int(value: object, what: str) -> int:
    """An int of bounded size (its sign is checked with the tensor's name, in `materialize`)."""
    if type(value) is not int or not -(2**62) < value < 2**62:
        raise _Malformed(f"tensor {what} is {describe(value)}, not an integer")
    return value


def _dims(values: object, what: str) -> tuple[int, ...]:
    if type(values) not in (tuple, list) or len(values) > MAX_DIMENSIONS:  # type: ignore[arg-type]
        raise _Malformed(f"tensor {what} is {describe(values)}, not a tuple of at most {MAX_DIMENSIONS} integers")
    return tuple(_small_int(value, what) for value in values)  # type: ignore[union-attr]


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can build dicts, tuples, numbers, strings and fresh stand-ins -- nothing else."""

    def __init__(self, file: io.BytesIO, source: str, storage_bytes_left: int):
        super().__init__(file)
        self.stream, self.source, self.storage_bytes_left = file, source, storage_bytes_left

    def find_class(self, module: str, name: str):
        stand_in = STAND_INS.get((module, name))
        if stand_in is None:
            raise UnsafePickleError(
                f"{self.source}: refuses to load global '{module[:100]}.{name[:100]}' (near byte "
                f"{self.stream.tell()}) -- a PyTorch state dict never needs it, so the file is corrupt or crafted "
                "to run code. Nothing from it was executed; use a trusted weights file."
            )
        return stand_in()

    def persistent_load(self, pid):
        if not (type(pid) is tuple and len(pid) >= 5 and pid[0] == "storage"):
            raise _Malformed(f"unexpected persistent id ({describe(pid)})")
        _, token, key, _location, numel = pid[:5]
        if not isinstance(token, _StorageToken):
            raise _Malformed(f"storage of unknown type ({describe(token)})")
        if type(key) is not str or not 0 < len(key) <= MAX_KEY_LENGTH:
            raise _Malformed(f"storage key is {describe(key)}, not a short string")
        dtype = storage_dtype(token.torch_name)
        if type(numel) is not int or not 0 <= numel * dtype.itemsize <= self.storage_bytes_left:
            raise _Malformed(f"storage {key!r} claims {describe(numel)} elements; the file is not that long")
        return StorageRef(key, token.torch_name, numel)


# ------------------------------------------------------------------------------------------------ the pre-scan


class _Node:
    """What the pre-scan knows of a stack item: how deep it nests and how many objects it expands to."""

    __slots__ = ("depth", "size")

    def __init__(self, depth: int = 0, size: int = 1) -> None:
        self.depth, self.size = depth, size

    def absorb(self, items: list[_Node]) -> _Node:
        """This container now also holds `items`."""
        for item in items:
            self.depth = max(self.depth, item.depth + 1)
            self.size = min(self.size + item.size, MAX_EXPANDED_NODES + 1)
        return self


_MARK = object()
_CONTAINER_OF_MARKED = {"TUPLE", "LIST", "DICT", "FROZENSET", "OBJ", "INST"}
_ADD_MARKED = {"APPENDS", "SETITEMS", "ADDITEMS"}
_POPS = {"TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3, "REDUCE": 2, "NEWOBJ": 2, "NEWOBJ_EX": 3, "STACK_GLOBAL": 2}
_MEMO_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_MEMO_GETS = {"GET", "BINGET", "LONG_BINGET"}
_NO_EFFECT = {"PROTO", "FRAME", "STOP", "READONLY_BUFFER"}


def prescan(stream: io.BytesIO) -> int:
    """Walk one pickle's opcodes without building anything (bounded work: linear in its bytes); raise `_Malformed`
    with the offset when it is malformed or its objects would nest deeper than MAX_NESTING or expand to more than
    MAX_EXPANDED_NODES. Leaves the stream where it was; returns the offset after STOP."""
    start = stream.tell()
    stack: list = []
    memo: dict = {}
    position = start
    try:
        for count, (opcode, argument, position) in enumerate(pickletools.genops(stream)):
            # pickle's C unpickler sizes its memo table by the largest index put: one 5-byte LONG_BINPUT of 2**31
            # would allocate 16 GiB. A pickler numbers memo entries as it goes, so no index exceeds the opcodes before.
            if opcode.name in _MEMO_PUTS and not 0 <= argument <= count:
                raise _Malformed(f"pickle memo index {argument} is beyond the {count} opcodes before it", position)
            _simulate(opcode.name, argument, stack, memo)
            top = stack[-1] if stack else None
            if isinstance(top, _Node) and (top.depth > MAX_NESTING or top.size > MAX_EXPANDED_NODES):
                raise _Malformed(
                    f"pickle objects nest deeper than {MAX_NESTING} or expand to more than {MAX_EXPANDED_NODES} "
                    "objects",
                    position,
                )
    except ValueError as error:  # genops: unknown opcode, truncated argument, undecodable text
        raise _Malformed(f"malformed pickle ({str(error)[:120]})", stream.tell()) from None
    except (IndexError, KeyError, AttributeError):  # stack underflow, a mark used as an object, unknown memo key
        raise _Malformed("malformed pickle (its stack or memo does not add up)", position) from None
    end = stream.tell()
    stream.seek(start)
    return end


def _simulate(name: str, argument: object, stack: list, memo: dict) -> None:
    """One opcode's effect on a stack of `_Node`s and marks, as pickle's own machine does it (an opcode never
    reaches below the last mark)."""
    if name in _NO_EFFECT:
        return
    if name in _MEMO_PUTS:
        memo[argument] = _top(stack)
    elif name == "MEMOIZE":
        memo[len(memo)] = _top(stack)
    elif name == "MARK":
        stack.append(_MARK)
    elif name in _CONTAINER_OF_MARKED:
        stack.append(_Node().absorb(_pop_to_mark(stack)))
    elif name in _ADD_MARKED:
        items = _pop_to_mark(stack)
        _top(stack).absorb(items)
    elif name in ("APPEND", "BUILD"):
        item = _pop(stack)
        _top(stack).absorb([item])
    elif name == "SETITEM":
        items = [_pop(stack), _pop(stack)]
        _top(stack).absorb(items)
    elif name in _POPS:
        stack.append(_Node().absorb([_pop(stack) for _ in range(_POPS[name])]))
    elif name == "BINPERSID":
        stack.append(_Node().absorb([_pop(stack)]))
    elif name in _MEMO_GETS:
        stack.append(memo[argument])
    elif name in ("POP", "POP_MARK"):
        _pop_to_mark(stack) if name == "POP_MARK" or stack[-1] is _MARK else stack.pop()
    elif name == "DUP":
        stack.append(_top(stack))
    else:  # atoms, empty containers, GLOBAL, PERSID, EXT*, buffers: one new object
        stack.append(_Node())


def _top(stack: list) -> _Node:
    if stack[-1] is _MARK:
        raise IndexError("a mark where an object belongs")
    return stack[-1]


def _pop(stack: list) -> _Node:
    item = _top(stack)
    stack.pop()
    return item


def _pop_to_mark(stack: list) -> list:
    items = []
    while (item := stack.pop()) is not _MARK:
        items.append(item)
    return items


# ------------------------------------------------------------------------------------------------ reading


def read_state_dict(path: str | os.PathLike) -> collections.OrderedDict[str, np.ndarray]:
    """Return the state dict in `path` as name -> numpy array (a copy, in the tensor's shape)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TorchFileFormatError(f"{path}: no such weights file") from None
    return read_state_dict_bytes(data, str(path))


def read_state_dict_bytes(data: bytes, source: str = "<bytes>") -> collections.OrderedDict[str, np.ndarray]:
    """`read_state_dict` on the file's bytes; `source` names it in messages."""
    return _Reader(data, source).read()


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.source = data, source
        self.stream = io.BytesIO(data)
        self.storage_offsets: dict[str, int] = {}  # storage key -> where its data starts in the file

    def fail(self, message: str, offset: int) -> TorchFileFormatError:
        return TorchFileFormatError(f"{self.source}: {message} (at byte {offset})")

    def read(self) -> collections.OrderedDict[str, np.ndarray]:
        self.check_header()
        state_dict = self.load_one()
        keys_offset = self.stream.tell()
        storage_keys = self.load_one()
        if not isinstance(state_dict, dict) or type(storage_keys) is not list:
            raise self.fail("expected a state dict and a list of storage keys", keys_offset)
        refs = self.tensor_refs(state_dict)
        storages = self.read_storages(refs, storage_keys)
        self.check_output_size(refs, storages)
        return collections.OrderedDict(
            (name, self.materialize(ref, storages[ref.storage.key], name)) for name, ref in refs.items()
        )

    def load_one(self):
        start = self.stream.tell()
        try:
            prescan(self.stream)
            return RestrictedUnpickler(self.stream, self.source, len(self.data) - start).load()
        except TorchFileFormatError:
            raise
        except _Malformed as problem:
            offset = problem.offset if problem.offset is not None else self.stream.tell()
            raise self.fail(str(problem), offset) from None
        except Exception as error:  # anything pickle raises: report the file and offset, never the values
            detail = type(error).__name__ if isinstance(error, LookupError) else f"{type(error).__name__}: {error}"
            raise self.fail(f"unreadable pickle ({detail[:200]})", self.stream.tell()) from None

    def check_header(self) -> None:
        if self.data[:4] == ZIP_SIGNATURE:
            raise self.fail(
                "this is PyTorch's zip format; only the legacy format is supported "
                "(re-save it with torch.save(..., _use_new_zipfile_serialization=False))",
                0,
            )
        magic = self.load_one()
        if type(magic) is not int or magic != LEGACY_MAGIC_NUMBER:
            raise self.fail("not a legacy PyTorch file (wrong magic number)", 0)
        offset = self.stream.tell()
        protocol = self.load_one()
        if type(protocol) is not int or protocol != LEGACY_PROTOCOL_VERSION:
            raise self.fail(f"unsupported legacy protocol version ({describe(protocol)})", offset)
        offset = self.stream.tell()
        sys_info = self.load_one()
        if type(sys_info) is not dict or sys_info.get("little_endian") is not True:
            raise self.fail("only little-endian files are supported", offset)

    def tensor_refs(self, state_dict: dict) -> dict[str, TensorRef]:
        offset = self.stream.tell()
        for name, ref in state_dict.items():
            if type(name) is not str:
                raise self.fail(f"a state-dict key is {describe(name)}, not a name", offset)
            if not isinstance(ref, TensorRef):
                raise self.fail(f"entry {name[:80]!r} is {describe(ref)}, not a tensor", offset)
        return dict(state_dict)

    def read_storages(self, refs: dict[str, TensorRef], keys: list) -> dict[str, np.ndarray]:
        """Read every storage in `keys` order; its dtype and length must match what the tensors declared."""
        declared: dict[str, StorageRef] = {}
        for name, ref in refs.items():
            if declared.setdefault(ref.storage.key, ref.storage) != ref.storage:
                raise self.fail(f"tensor {name[:80]!r} disagrees with another on its storage's type", 0)
        position = self.stream.tell()
        storages: dict[str, np.ndarray] = {}
        for key in keys:
            if type(key) is not str or key not in declared or key in storages:
                raise self.fail(f"storage key {describe(key)} is not used by any tensor, or listed twice", position)
            storages[key], position = self.read_storage(declared[key], position)
        missing = sorted(set(declared) - set(storages))
        if missing:
            raise self.fail(f"tensors refer to storage {missing[0][:40]!r}, which the file does not hold", position)
        if position != len(self.data):
            raise self.fail(f"{len(self.data) - position} bytes of trailing junk after the last storage", position)
        return storages

    def read_storage(self, declared: StorageRef, position: int) -> tuple[np.ndarray, int]:
        if position + 8 > len(self.data):
            raise self.fail(f"storage {declared.key!r} runs past the end of the file (truncated?)", position)
        (numel,) = struct.unpack_from("<q", self.data, position)
        if numel != declared.numel:
            raise self.fail(
                f"storage {declared.key!r} holds {numel} elements, its tensors declared {declared.numel}", position
            )
        start, nbytes = position + 8, numel * declared.dtype.itemsize
        if start + nbytes > len(self.data):
            raise self.fail(f"storage {declared.key!r} runs past the end of the file (truncated?)", position)
        storage = np.frombuffer(self.data, dtype=declared.dtype, count=numel, offset=start)
        self.storage_offsets[declared.key] = start
        return storage, start + nbytes

    def check_output_size(self, refs: dict[str, TensorRef], storages: dict[str, np.ndarray]) -> None:
        """Each tensor's layout checks out against its storage, and all of them together stay bounded."""
        for name, ref in refs.items():
            self.check_layout(ref, storages[ref.storage.key], name)
        total = sum(math.prod(ref.shape) * ref.storage.dtype.itemsize for ref in refs.values())
        if total > MAX_OUTPUT_FACTOR * len(self.data):
            raise self.fail(f"its tensors would need {total} bytes, more than {MAX_OUTPUT_FACTOR}x the file's size", 0)

    def check_layout(self, ref: TensorRef, storage: np.ndarray, name: str) -> None:
        """The strided view stays inside its storage, repeats no element and holds no more than the storage."""
        where = self.storage_offsets[ref.storage.key]
        label = f"tensor {name[:80]!r}"
        if len(ref.shape) != len(ref.stride) or min((ref.offset, *ref.shape, *ref.stride)) < 0:
            raise self.fail(f"{label} has an invalid shape, stride or offset", where)
        if max(ref.shape, default=0) >= 2**31:  # even an empty tensor: numpy cannot lay such a dimension out
            raise self.fail(f"{label} has a dimension of 2**31 elements or more", where)
        if 0 in ref.shape:
            return
        if any(s == 0 and n > 1 for n, s in zip(ref.shape, ref.stride)):
            raise self.fail(f"{label} repeats one element along a dimension (zero stride)", where)
        if math.prod(ref.shape) > storage.size:
            raise self.fail(f"{label} has more elements than its storage holds", where)
        if ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride)) >= storage.size:
            raise self.fail(f"{label} reaches outside its storage", where)

    def materialize(self, ref: TensorRef, storage: np.ndarray, name: str) -> np.ndarray:
        """Copy the strided view a TensorRef describes out of its storage (its layout already checked)."""
        dtype = storage.dtype.newbyteorder("=")
        if 0 in ref.shape:
            return np.zeros(ref.shape, dtype=dtype)
        strides = tuple(s * storage.itemsize for s in ref.stride)
        try:
            view = np.lib.stride_tricks.as_strided(
                storage[ref.offset :], shape=ref.shape, strides=strides, writeable=False
            )
            return np.array(view, dtype=dtype, order="C")
        except (ValueError, OverflowError, MemoryError) as error:  # sizes numpy cannot represent
            raise self.fail(f"tensor {name[:80]!r} cannot be laid out ({type(error).__name__})", 0) from None
