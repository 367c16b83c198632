"""The artefact store: keys change with every part and with the recipe's code, entries are written atomically and
checked on read, and the code fingerprint covers every module the recipes import."""

import ast
import importlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tl_claims.core import store
from tl_claims.core.store import ArtefactStore


def test_keys_depend_on_every_part_and_on_the_code(tmp_path):
    one = ArtefactStore(tmp_path, fingerprint="aaa")
    assert one.key(seed=0, data={"n": 1}) == one.key(data={"n": 1}, seed=0)
    assert one.key(seed=0) != one.key(seed=1)
    assert one.key(seed=0) != ArtefactStore(tmp_path, fingerprint="bbb").key(seed=0)


def test_arrays_are_built_once_and_read_back(tmp_path):
    built = []

    def build():
        built.append(1)
        return {"x": np.arange(5.0)}

    first = ArtefactStore(tmp_path).arrays("k", build)
    second = ArtefactStore(tmp_path).arrays("k", build)
    assert built == [1] and np.array_equal(first["x"], second["x"])
    assert not list(tmp_path.rglob("*partial*"))


@pytest.mark.parametrize("damage", ["truncate", "flip_a_byte", "drop_sidecar", "lacks_a_name"])
def test_a_damaged_entry_is_reported_in_one_line_deleted_and_rebuilt(tmp_path, damage, caplog):
    stored = ArtefactStore(tmp_path)
    stored.arrays("k", lambda: {"x": np.arange(1000.0), "y": np.ones(2)})
    path = tmp_path / "features" / "k.npz"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:50])
    elif damage == "flip_a_byte":
        data = bytearray(path.read_bytes())
        data[-10] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "drop_sidecar":
        path.with_name("k.npz.sha256").unlink()
    else:  # a well-hashed entry without an array the caller needs (once a KeyError on every run)
        store.write_checked(path, lambda partial: store._save_npz(partial, {"x": np.arange(3.0)}))
    with caplog.at_level(logging.WARNING, logger="tl_claims.core.store"):
        rebuilt = stored.arrays("k", lambda: {"x": np.zeros(3), "y": np.zeros(1)}, names=("x", "y"))
    assert np.array_equal(rebuilt["x"], np.zeros(3))
    lines = [record.getMessage() for record in caplog.records]
    if damage == "drop_sidecar":  # no hash: counts as absent, nothing to report
        assert lines == []
    else:
        assert len(lines) == 1 and str(path) in lines[0] and "corrupt" in lines[0] and "\n" not in lines[0]
    assert np.array_equal(ArtefactStore(tmp_path).arrays("k", pytest.fail, names=("x", "y"))["x"], np.zeros(3))


def tiny_model():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.build((None, 3))
    return model


def test_a_bit_flipped_model_is_never_loaded(tmp_path, caplog):
    stored, model = ArtefactStore(tmp_path, fingerprint="f"), tiny_model()
    stored.save_weights("m", model)
    path = tmp_path / "models" / "m.weights.h5"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="tl_claims.core.store"):
        assert not stored.load_weights("m", tiny_model())
    assert "corrupt" in caplog.text and not path.exists()
    stored.save_weights("m", model)
    fresh = tiny_model()
    assert stored.load_weights("m", fresh)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), model.get_weights()))


def test_a_moved_cache_is_reused_as_it_is(tmp_path):
    ArtefactStore(tmp_path / "here", fingerprint="f").arrays("k", lambda: {"x": np.arange(4.0)})
    shutil.move(tmp_path / "here", tmp_path / "there")
    moved = ArtefactStore(tmp_path / "there", fingerprint="f")
    assert moved.key(seed=0) == ArtefactStore(tmp_path / "here", fingerprint="f").key(seed=0)
    assert np.array_equal(moved.arrays("k", pytest.fail)["x"], np.arange(4.0))


def test_the_labs_keys_do_not_hold_the_cache_location(tmp_path, monkeypatch):
    """Features and models are keyed by what determines them, never by where the cache lies."""
    from tl_claims.recipe.lab import Lab
    from tl_claims.recipe.scales import SCALES

    keys: dict[str, list[str]] = {"arrays": [], "weights": []}

    def arrays(self, key, build, **_):
        keys["arrays"].append(key)
        return {"features": np.zeros((1, 1)), "labels": np.zeros(1)}

    def load_weights(self, key, model):
        keys["weights"].append(key)
        return True

    class Stub:
        model = type("Model", (), {"get_weights": lambda self: []})()

    monkeypatch.setattr(ArtefactStore, "arrays", arrays)
    monkeypatch.setattr(ArtefactStore, "load_weights", load_weights)
    monkeypatch.setattr(Lab, "_classifier", lambda self, seed, **_: Stub())
    for where in ("a", "b/c"):
        lab = Lab(SCALES["smoke"], tmp_path / where)
        lab.features(0, "efficientnet_lite0")
        lab.stage1(0)
    assert len(keys["arrays"]) == 4 and keys["arrays"][:2] == keys["arrays"][2:]
    assert len(keys["weights"]) == 2 and keys["weights"][0] == keys["weights"][1]


@pytest.mark.parametrize("umask, file_mode, folder_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_entries_follow_the_umask_so_a_group_can_share_the_cache(tmp_path, umask, file_mode, folder_mode):
    previous = os.umask(umask)
    try:
        ArtefactStore(tmp_path, fingerprint="f").arrays("k", lambda: {"x": np.arange(2.0)})
    finally:
        os.umask(previous)
    for path in (tmp_path / "features" / "k.npz", tmp_path / "features" / "k.npz.sha256"):
        assert stat.S_IMODE(path.stat().st_mode) == file_mode
    assert stat.S_IMODE((tmp_path / "features").stat().st_mode) == folder_mode


KILLED_WRITER = """
import os, sys
from pathlib import Path
from tl_claims.core import store

def write(partial):
    partial.write_bytes(b"half of an entry")
    os._exit(9)  # killed mid-write

store.write_checked(Path(sys.argv[1]) / "features" / "k.npz", write)
"""


def test_a_killed_write_leaves_no_entry_and_its_temporary_is_swept(tmp_path):
    completed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], check=False)
    assert completed.returncode == 9
    (temporary,) = (tmp_path / "features").iterdir()
    assert temporary.name.startswith(".k.npz.") and temporary.name.endswith(".tmp")
    assert store.sweep_stale(tmp_path) == [temporary]
    assert ArtefactStore(tmp_path, fingerprint="f").arrays("k", lambda: {"x": np.ones(1)})["x"] == 1


def test_temporaries_of_live_writers_are_kept_and_old_ones_of_any_shape_swept(tmp_path):
    live = store.temporary_path(tmp_path / "k.npz")  # this process: alive
    live.write_bytes(b"")
    fresh_legacy, old_legacy = tmp_path / "k.123.partial.npz", tmp_path / "00001.jpg.77.part"
    fresh_legacy.write_bytes(b"")
    old_legacy.write_bytes(b"")
    os.utime(old_legacy, (time.time() - 2 * store.STALE_AFTER_SECONDS,) * 2)
    assert store.sweep_stale(tmp_path) == [old_legacy]
    assert live.exists() and fresh_legacy.exists()
    assert set(store.sweep_stale(tmp_path, now=time.time() + 2 * store.STALE_AFTER_SECONDS)) == {live, fresh_legacy}


def test_an_unwritable_store_costs_speed_not_correctness(tmp_path, caplog):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="tl_claims.core.store"):
        arrays = ArtefactStore(blocker, fingerprint="f").arrays("k", lambda: {"x": np.ones(2)})
    assert np.array_equal(arrays["x"], np.ones(2)) and "could not write the cache entry" in caplog.text


def test_the_fingerprint_changes_with_the_code(tmp_path, monkeypatch):
    module = tmp_path / "fake_recipe.py"
    module.write_text("A = 1\n")
    monkeypatch.syspath_prepend(tmp_path)
    before = store.code_fingerprint(("fake_recipe",))
    module.write_text("A = 2\n")
    assert store.code_fingerprint(("fake_recipe",)) != before


def is_module(name: str) -> bool:
    """A module or package (not a function or class imported from one)."""
    folder = Path(importlib.import_module("tl_claims").__path__[0]).parent.joinpath(*name.split("."))
    return folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file()


def harness_imports(module_name: str) -> set[str]:
    """The harness modules a module imports (at any depth of its source, including function-level imports)."""
    path = Path(importlib.import_module(module_name).__file__)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tl_claims"):
            found.add(node.module)
            found.update(
                f"{node.module}.{alias.name}" for alias in node.names if is_module(f"{node.module}.{alias.name}")
            )
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("tl_claims"))
    return found


def covered(module_name: str) -> bool:
    return any(module_name == name or module_name.startswith(name + ".") for name in store.RECIPE_MODULES)


def test_the_fingerprint_covers_everything_the_recipes_import():
    """Walk the imports from the lab: every harness module reached must be part of the fingerprint, or a code change
    there could reuse a stale model. (Claims, results and presentation are outside: they never shape an artefact.)"""
    seen, pending = set(), ["tl_claims.recipe.lab"]
    while pending:
        name = pending.pop()
        if name in seen or name == "tl_claims":
            continue
        seen.add(name)
        pending += [imported for imported in harness_imports(name) if imported != "tl_claims"]
    outside = sorted(name for name in seen if not covered(name) and name not in OUTSIDE_THE_RECIPE)
    assert not outside, f"add these to tl_claims.core.store.RECIPE_MODULES: {outside}"
    assert {"tl_claims.recipe.training", "tl_claims.backbones.lite0", "tl_claims.data.sources"} <= seen


# Imported by the lab for types or configuration only: they decide no artefact's content (the scale's values that
# do are part of every key; the limits only bound them). The packages' own __init__ modules hold a docstring only.
OUTSIDE_THE_RECIPE = {"tl_claims.recipe.scales", "tl_claims.core.limits", "tl_claims.core", "tl_claims.recipe"}


SHARING_PROCESS = """
import sys, time
from pathlib import Path
import numpy as np
from tl_claims.core.store import ArtefactStore

root, log = Path(sys.argv[1]), Path(sys.argv[2])

def build():
    with log.open("a") as handle:
        handle.write("built\\n")
    time.sleep(1.0)  # long enough for the other process to ask meanwhile
    return {"x": np.arange(3)}

print(ArtefactStore(root, fingerprint="f").arrays("k", build)["x"].tolist())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="advisory locks are POSIX (fcntl)")
def test_two_processes_sharing_a_cache_build_an_artefact_once(tmp_path):
    log = tmp_path / "builds.log"
    children = [
        subprocess.Popen([sys.executable, "-c", SHARING_PROCESS, str(tmp_path / "cache"), str(log)],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [child.communicate(timeout=120)[0].strip() for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert outputs == ["[0, 1, 2]", "[0, 1, 2]"]
    assert log.read_text().splitlines() == ["built"]  # the second process waited and read the first one's entry


DYING_HOLDER = """
import os, sys
from tl_claims.core.store import ArtefactStore

with ArtefactStore(sys.argv[1], fingerprint="f").building("k"):
    os._exit(3)  # killed while building
"""


@pytest.mark.skipif(sys.platform == "win32", reason="advisory locks are POSIX (fcntl)")
def test_a_builder_that_dies_never_leaves_the_others_waiting(tmp_path):
    assert subprocess.run([sys.executable, "-c", DYING_HOLDER, str(tmp_path)], check=False).returncode == 3
    finished = []

    def ask() -> None:
        finished.append(ArtefactStore(tmp_path, fingerprint="f").arrays("k", lambda: {"x": np.ones(1)}))

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(timeout=30)
    assert finished and finished[0]["x"] == 1
