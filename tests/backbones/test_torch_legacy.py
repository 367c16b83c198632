"""The numpy-only reader of legacy PyTorch files: faithful on real and hand-made files, and safe on crafted ones."""

import os
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.backbones import lite0
from harness.backbones.torch_legacy import (
    LEGACY_MAGIC_NUMBER,
    LEGACY_PROTOCOL_VERSION,
    TorchFileFormatError,
    UnsafePickleError,
    read_state_dict,
)
from harness.errors import HarnessError

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
