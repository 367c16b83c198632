"""The numpy-only reader of legacy PyTorch files: faithful on real and hand-made files, and safe on crafted ones."""

import os
import pickle
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tl_claims.backbones import lite0
from tl_claims.backbones.torch_legacy import (
    LEGACY_MAGIC_NUMBER,
    LEGACY_PROTOCOL_VERSION,
    MAX_OUTPUT_FACTOR,
    STORAGE_DTYPES,
    RestrictedUnpickler,
    TorchFileFormatError,
    UnsafePickleError,
    read_state_dict,
    read_state_dict_bytes,
)
from tl_claims.core.errors import HarnessError

# ------------------------------------------------------------- a tiny writer of the legacy format, opcodes by hand
# (pickle.dumps cannot name torch globals without torch installed, so the state-dict pickle is spelled out)


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _text(value: str) -> bytes:
    encoded = value.encode()
    return b"X" + struct.pack("<I", len(encoded)) + encoded


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _tensor(storage_type: str, key: str, numel: int, offset: int, shape, stride) -> bytes:
    storage = _tuple(_text("storage"), _global("torch", storage_type), _text(key), _text("cpu"), _int(numel), b"N")
    hooks = _global("collections", "OrderedDict") + b")R"
    size, strides = _tuple(*map(_int, shape)), _tuple(*map(_int, stride))
    arguments = _tuple(storage + b"Q", _int(offset), size, strides, b"\x89", hooks)
    return _global("torch._utils", "_rebuild_tensor_v2") + arguments + b"R"


def _header() -> bytes:
    sys_info = {"protocol_version": LEGACY_PROTOCOL_VERSION, "little_endian": True, "type_sizes": {"int": 4}}
    pickles = (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION, sys_info)
    return b"".join(pickle.dumps(value, protocol=2) for value in pickles)


STORAGE_TYPE = {np.dtype(np.float32): "FloatStorage", np.dtype(np.int64): "LongStorage"}


def write_legacy(path, tensors: dict, storages: dict[str, np.ndarray]) -> None:
    """tensors: name -> (storage key, offset, shape, stride) over `storages` (key -> 1-D array)."""
    entries = b""
    for name, (key, offset, shape, stride) in tensors.items():
        data = storages[key]
        entries += _text(name) + _tensor(STORAGE_TYPE[data.dtype], key, data.size, offset, shape, stride)
    state_dict = b"\x80\x02" + _global("collections", "OrderedDict") + b")R(" + entries + b"u."
    body = b"".join(
        struct.pack("<q", data.size) + data.astype(data.dtype.newbyteorder("<")).tobytes() for data in storages.values()
    )
    path.write_bytes(_header() + state_dict + pickle.dumps(list(storages), protocol=2) + body)


# ------------------------------------------------------------------------------------------------------- reading


def test_reads_the_installed_lite0_file():
    state = read_state_dict(lite0.installed_weights_path())
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3) and state["_conv_stem.weight"].dtype == np.float32
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_bn0.num_batches_tracked"].dtype == np.int64
    weights = [value for key, value in state.items() if not key.endswith("num_batches_tracked")]
    assert sum(value.size for value in weights) == 4_694_024
    assert all(np.isfinite(value).all() for value in weights)


def test_reads_contiguous_strided_and_offset_views_of_shared_storages(tmp_path):
    floats = np.arange(24, dtype=np.float32)
    longs = np.array([7, -3], dtype=np.int64)
    path = tmp_path / "tiny.pth"
    write_legacy(
        path,
        {
            "matrix": ("0", 0, (4, 6), (6, 1)),
            "transposed": ("0", 0, (6, 4), (1, 6)),
            "tail": ("0", 20, (2, 2), (2, 1)),
            "scalar": ("1", 1, (), ()),
        },
        {"0": floats, "1": longs},
    )
    state = read_state_dict(path)
    np.testing.assert_array_equal(state["matrix"], floats.reshape(4, 6))
    np.testing.assert_array_equal(state["transposed"], floats.reshape(4, 6).T)
    np.testing.assert_array_equal(state["tail"], floats[20:].reshape(2, 2))
    assert state["scalar"] == -3 and state["scalar"].dtype == np.int64
    assert list(state) == ["matrix", "transposed", "tail", "scalar"]


@settings(max_examples=25, deadline=None, database=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), permute=st.randoms(use_true_random=False))
def test_any_permuted_layout_reads_back_as_the_same_array(tmp_path_factory, shape, permute):
    """Whatever dimension order the storage uses (PyTorch files often hold channels-last data), values survive."""
    array = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    order = list(range(len(shape)))
    permute.shuffle(order)
    stored = np.ascontiguousarray(array.transpose(order))  # the storage's memory layout
    element_strides = [s // 4 for s in stored.strides]
    stride = [element_strides[order.index(axis)] for axis in range(len(shape))]
    path = tmp_path_factory.mktemp("perm") / "t.pth"
    write_legacy(path, {"t": ("0", 0, tuple(shape), tuple(stride))}, {"0": stored.ravel()})
    np.testing.assert_array_equal(read_state_dict(path)["t"], array)


# ---------------------------------------------------------------------------------------------------- refusing


class RunsShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvaluatesCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize(
    "payload, global_name",
    [(RunsShellCommand, f"{os.system.__module__}.system"), (EvaluatesCode, "builtins.eval")],
    ids=["os.system", "builtins.eval"],
)
@pytest.mark.parametrize("position", ["state_dict", "magic_number"])
def test_a_crafted_pickle_is_refused_and_nothing_runs(tmp_path, payload, global_name, position):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(payload(marker), protocol=4)  # STACK_GLOBAL; GLOBAL is covered below
    path = tmp_path / "crafted.pth"
    path.write_bytes(_header() + evil + pickle.dumps([], protocol=2) if position == "state_dict" else evil)
    with pytest.raises(UnsafePickleError) as raised:
        read_state_dict(path)
    message = str(raised.value)
    assert f"'{global_name}'" in message and str(path) in message and "Nothing from it was executed" in message
    assert isinstance(raised.value, HarnessError)
    assert not marker.exists()


def test_a_reduce_on_an_allowed_global_cannot_reach_arbitrary_callables(tmp_path):
    """The allow-list is exact: another name in an allowed module (torch.load, collections.namedtuple) is refused."""
    path = tmp_path / "sneaky.pth"
    call_namedtuple = _global("collections", "namedtuple") + _tuple(_text("x"), _text("a")) + b"R."
    path.write_bytes(_header() + b"\x80\x02" + call_namedtuple)
    with pytest.raises(UnsafePickleError, match=r"collections.namedtuple"):
        read_state_dict(path)


@pytest.mark.parametrize(
    "offset, shape, stride",
    [(0, (5, 5), (5, 1)), (22, (2, 2), (2, 1)), (0, (3,), (-1,)), (-1, (1,), (1,))],
    ids=["too-big", "offset-past-end", "negative-stride", "negative-offset"],
)
def test_a_view_outside_its_storage_is_rejected_not_read(tmp_path, offset, shape, stride):
    path = tmp_path / "oob.pth"
    write_legacy(path, {"t": ("0", offset, shape, stride)}, {"0": np.zeros(24, dtype=np.float32)})
    with pytest.raises(TorchFileFormatError, match="'t'"):
        read_state_dict(path)


def test_truncated_zip_and_foreign_files_get_clear_errors(tmp_path):
    good = tmp_path / "good.pth"
    write_legacy(good, {"t": ("0", 0, (4,), (1,))}, {"0": np.ones(4, dtype=np.float32)})
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:-3])
    with pytest.raises(TorchFileFormatError, match="past the end"):
        read_state_dict(truncated)
    zipped = tmp_path / "new.pth"
    zipped.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(TorchFileFormatError, match="zip format"):
        read_state_dict(zipped)
    other = tmp_path / "other.pth"
    other.write_bytes(pickle.dumps({"hello": 1}, protocol=2))
    with pytest.raises(TorchFileFormatError, match="magic number"):
        read_state_dict(other)
    with pytest.raises(TorchFileFormatError, match="no such weights file"):
        read_state_dict(tmp_path / "absent.pth")


# ------------------------------------------------------------------------ crafted files from the hardening probes
# Each reproduces a file that broke the reader before: the reader must refuse it with its own error, naming the
# byte offset, quickly and without touching anything a later read depends on.

STATE_DICT_PROTO = b"\x80\x02"


def crafted(pickled_state_dict: bytes, keys: list | None = None, tail: bytes = b"") -> bytes:
    return _header() + STATE_DICT_PROTO + pickled_state_dict + pickle.dumps(keys or [], protocol=2) + tail


def tiny_file_bytes() -> bytes:
    """A genuine two-tensor file, its reference arrays compared bit for bit after every refused file."""
    entries = _text("w") + _tensor("FloatStorage", "0", 6, 0, (2, 3), (3, 1))
    entries += _text("n") + _tensor("LongStorage", "1", 1, 0, (), ())
    state = _global("collections", "OrderedDict") + b")R(" + entries + b"u."
    floats = np.arange(6, dtype="<f4").tobytes()
    body = struct.pack("<q", 6) + floats + struct.pack("<q", 1) + np.array([42], dtype="<i8").tobytes()
    return crafted(state, ["0", "1"], body)


TINY_REFERENCE = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(42, dtype=np.int64)}


def assert_genuine_reads_unchanged() -> None:
    state = read_state_dict_bytes(tiny_file_bytes(), "tiny")
    assert list(state) == list(TINY_REFERENCE)
    for name, expected in TINY_REFERENCE.items():
        assert state[name].dtype == expected.dtype and state[name].tobytes() == expected.tobytes()


def poisoning_pickle() -> bytes:
    """BUILD on every stand-in: give FloatStorage the IntStorage stand-in as its `dtype` (numpy reads a `.dtype`
    attribute, so the old shared stand-in then made every float32 file read as int32), then fail."""
    attempts = b""
    for module, name in [
        ("torch", "FloatStorage"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("collections", "OrderedDict"),
    ]:
        state = b"}" + _text("dtype") + _global("torch", "IntStorage") + b"s"
        slot_state = b"N}" + _text("torch_name") + _text("IntStorage") + b"s\x86"
        attempts += b"(" + _global(module, name) + state + b"b" + _global(module, name) + slot_state + b"b0"
    return attempts + b"N."


def lite0_digest(state) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name, array in state.items():
        digest.update(name.encode() + str(array.dtype).encode() + str(array.shape).encode() + array.tobytes())
    return digest.hexdigest()


def test_a_refused_file_cannot_poison_the_next_read_of_the_real_weights(tmp_path):
    before = lite0_digest(read_state_dict(lite0.installed_weights_path()))
    for payload in (poisoning_pickle(), poisoning_pickle()[: len(poisoning_pickle()) // 2]):
        with pytest.raises(TorchFileFormatError):
            read_state_dict_bytes(crafted(payload), "poison.pth")
    assert_genuine_reads_unchanged()
    assert lite0_digest(read_state_dict(lite0.installed_weights_path())) == before


def test_every_global_lookup_gets_a_fresh_stand_in_without_attributes():
    import io as io_module

    unpickler = RestrictedUnpickler(io_module.BytesIO(b""), "x", 0)
    first, second = unpickler.find_class("torch", "FloatStorage"), unpickler.find_class("torch", "FloatStorage")
    assert first is not second
    for stand_in in (first, unpickler.find_class("collections", "OrderedDict")):
        assert not hasattr(stand_in, "__dict__")
        with pytest.raises(AttributeError):
            stand_in.dtype = np.dtype(np.int32)


def run_bounded(data: bytes, *, seconds: float = 5.0, peak_bytes: int | None = None):
    """read_state_dict_bytes(data) -> the result or the error, asserting bounds on the reader's CPU time and on
    allocations. CPU time of this thread only: not wall time (the machine may be busy), and not the process's (after
    a claim has run, TensorFlow's idle thread pools add their own seconds to `process_time`)."""
    import time
    import tracemalloc

    peak_bytes = peak_bytes or (MAX_OUTPUT_FACTOR + 1) * len(data) + (16 << 20)
    tracemalloc.start()
    started = time.thread_time()
    try:
        outcome = read_state_dict_bytes(data, "fuzzed.pth")
    except TorchFileFormatError as error:
        outcome = error
    finally:
        elapsed = time.thread_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s of CPU"
    assert peak < peak_bytes, f"allocated {peak} bytes for a {len(data)}-byte file"
    return outcome


def test_a_zero_stride_bomb_is_refused_without_allocating():
    """352 bytes that asked for 1 GiB: one float repeated 2**28 times along a zero stride."""
    state = _global("collections", "OrderedDict") + b")R(" + _text("bomb")
    state += _tensor("FloatStorage", "0", 1, 0, (2**28,), (0,)) + b"u."
    outcome = run_bounded(crafted(state, ["0"], struct.pack("<q", 1) + b"\0" * 4))
    assert isinstance(outcome, TorchFileFormatError) and "zero stride" in str(outcome) and "at byte" in str(outcome)


def test_a_memo_index_bomb_is_refused_before_the_unpickler_sizes_its_memo():
    """LONG_BINPUT (r) with a huge index makes the C unpickler grow its memo table to that size: the fuzzer found a
    bit flip in the Lite0 file that allocated 111 MB this way; 2**31 would ask for 16 GiB."""
    state = _global("collections", "OrderedDict") + b")R" + b"r" + struct.pack("<I", 2**31) + b"."
    outcome = run_bounded(crafted(state))
    assert isinstance(outcome, TorchFileFormatError) and "memo index 2147483648" in str(outcome)
    assert "at byte" in str(outcome)


def test_overlapping_strides_cannot_make_more_elements_than_the_storage_holds():
    state = _global("collections", "OrderedDict") + b")R(" + _text("grid")
    state += _tensor("FloatStorage", "0", 8, 0, (4, 4), (1, 1)) + b"u."
    outcome = run_bounded(crafted(state, ["0"], struct.pack("<q", 8) + b"\0" * 32))
    assert isinstance(outcome, TorchFileFormatError) and "more elements than its storage" in str(outcome)


def nested_pair_dag(depth: int) -> bytes:
    """x0 = None; x(k+1) = (xk, xk) through the memo: 3 bytes per level, 2**depth objects when expanded."""
    pair_of_previous = (b"h%ch%c\x86q%c" % (k, k, k + 1) for k in range(depth))  # BINGET k twice, TUPLE2, BINPUT
    return b"Nq\x00" + b"".join(pair_of_previous)


def test_a_dag_of_nested_pairs_is_refused_before_anything_expands_it():
    """306 bytes whose persistent id, printed in an error message, took 47 s and 1 GB before MemoryError."""
    payload = _text("storage") + b"(" + nested_pair_dag(90) + b"tQ."  # BINPERSID on a DAG of 2**90 nodes
    outcome = run_bounded(crafted(payload), seconds=3.0)
    assert isinstance(outcome, TorchFileFormatError) and len(str(outcome)) < 400
    assert "expand to more than" in str(outcome) and "at byte" in str(outcome)


def test_a_dag_as_a_dict_key_is_refused_before_it_is_hashed():
    payload = b"}" + nested_pair_dag(90) + _int(1) + b"s."
    outcome = run_bounded(crafted(payload), seconds=3.0)
    assert isinstance(outcome, TorchFileFormatError)


@pytest.mark.parametrize("nesting", ["lists", "tuples", "dicts"])
def test_deep_nesting_is_refused_not_a_recursion_error(nesting):
    opener, closer = {"lists": (b"]", b"a"), "tuples": (b"(", b"t"), "dicts": (b"}" + _text("k"), b"s")}[nesting]
    payload = (b"]" if nesting == "lists" else b"") + opener * 20_000 + b"N" * (nesting != "lists") + closer * 20_000
    outcome = run_bounded(crafted(payload + b"."))
    assert isinstance(outcome, TorchFileFormatError) and "nest deeper than" in str(outcome)


def test_truncation_at_a_storage_boundary_is_a_format_error():
    """Cut right after the first storage (the second's count missing) or inside the count: once a struct.error."""
    data = tiny_file_bytes()
    first_storage_end = len(data) - 16
    for cut in (first_storage_end, first_storage_end + 3):
        outcome = run_bounded(data[:cut])
        assert isinstance(outcome, TorchFileFormatError) and "past the end" in str(outcome)
        assert f"at byte {first_storage_end}" in str(outcome)


def test_trailing_junk_after_the_last_storage_is_refused():
    outcome = run_bounded(tiny_file_bytes() + b"\0")
    assert isinstance(outcome, TorchFileFormatError) and "trailing junk" in str(outcome)


@pytest.mark.parametrize("where", ["storage_keys", "state_dict_key", "storage_key_in_pid"])
def test_an_unhashable_key_is_a_format_error(where):
    entries = _text("w") + _tensor("FloatStorage", "0", 6, 0, (2, 3), (3, 1))
    keys: list = ["0"]
    if where == "storage_keys":
        keys = [["0"]]
    elif where == "state_dict_key":
        entries = b"]" + _tensor("FloatStorage", "0", 6, 0, (2, 3), (3, 1))
    else:
        entries = entries.replace(_text("0"), b"]", 1)
    state = _global("collections", "OrderedDict") + b")R(" + entries + b"u."
    outcome = run_bounded(crafted(state, keys, struct.pack("<q", 6) + b"\0" * 24))
    assert isinstance(outcome, TorchFileFormatError) and "at byte" in str(outcome)


# ----------------------------------------------------------------------------------------------------- fuzzing
# Random and mutated pickles: only the reader's own error or a well-formed result, within fixed time and memory,
# and a refused file never changes the next genuine read. `make test` runs FUZZ_EXAMPLES (a few seconds); set
# TL_CLAIMS_FUZZ_EXAMPLES for more, and `pytest -m cpu` runs FUZZ_EXAMPLES_CPU.

FUZZ_EXAMPLES = int(os.environ.get("TL_CLAIMS_FUZZ_EXAMPLES", "120"))
FUZZ_EXAMPLES_CPU = 3000
LITE0_PICKLES_END = 47_176  # the real file's five pickles end here; its storages follow


def _lite0_bytes() -> bytes:
    return lite0.installed_weights_path().read_bytes()


def mutate(data: bytes, edits: list[tuple[str, float, int]], limit: int) -> bytes:
    """Apply edits (kind, where as a fraction of `limit`, a byte) to `data`."""
    mutable = bytearray(data)
    for kind, fraction, value in edits:
        at = min(int(fraction * min(limit, len(mutable))), max(len(mutable) - 1, 0))
        if kind == "flip" and mutable:
            mutable[at] ^= value or 1
        elif kind == "set" and mutable:
            mutable[at] = value
        elif kind == "insert":
            mutable[at:at] = bytes([value]) * (1 + value % 4)
        elif kind == "delete":
            del mutable[at : at + 1 + value % 8]
        elif kind == "truncate":
            del mutable[at:]
        elif kind == "duplicate":
            mutable[at:at] = mutable[at : at + 1 + value]
    return bytes(mutable)


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "set", "insert", "delete", "truncate", "duplicate"]),
        st.floats(0, 1),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=4,
)


# A drawn case is (base, edits or random bytes), small enough to print when it fails; `hostile_file` builds it.
HOSTILE_CASES = st.one_of(
    st.tuples(st.sampled_from(["random", "random_after_header"]), st.binary(max_size=400)),
    st.tuples(st.sampled_from(["tiny", "poison", "dag", "lite0"]), EDITS),
)
_LITE0: list[bytes] = []


def hostile_file(case: tuple) -> bytes:
    base, change = case
    if base == "random":
        return change
    if base == "random_after_header":
        return _header() + change
    if base == "lite0":  # mutations in the pickles (the arrays themselves may hold any bytes)
        return mutate(_LITE0[0], change, LITE0_PICKLES_END)
    seed = {
        "tiny": tiny_file_bytes,
        "poison": lambda: crafted(poisoning_pickle()),
        "dag": lambda: crafted(_text("storage") + b"(" + nested_pair_dag(30) + b"tQ."),
    }[base]()
    return mutate(seed, change, len(seed))


def check_fuzzed(data: bytes) -> None:
    outcome = run_bounded(data)
    if isinstance(outcome, TorchFileFormatError):
        assert " byte " in str(outcome) and len(str(outcome)) < 600
        assert_genuine_reads_unchanged()
        return
    assert isinstance(outcome, dict)
    allowed = {np.dtype(dtype) for dtype in STORAGE_DTYPES.values()}
    for name, array in outcome.items():
        assert type(name) is str and isinstance(array, np.ndarray) and array.dtype in allowed
    assert sum(array.nbytes for array in outcome.values()) <= MAX_OUTPUT_FACTOR * len(data)


def fuzz(examples: int) -> None:
    _LITE0[:] = [_lite0_bytes()]
    reference = lite0_digest(read_state_dict_bytes(_LITE0[0]))

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(HOSTILE_CASES)
    def run(case: tuple) -> None:
        check_fuzzed(hostile_file(case))

    run()
    assert lite0_digest(read_state_dict_bytes(_LITE0[0])) == reference


def test_fuzzed_files_get_the_readers_error_or_a_well_formed_result():
    fuzz(FUZZ_EXAMPLES)


@pytest.mark.cpu
def test_fuzzed_files_at_the_larger_budget():
    fuzz(FUZZ_EXAMPLES_CPU)
