"""The artefact store: keys change with every part and with the recipe's code, entries are written atomically and
checked on read, and the code fingerprint covers every module the recipes import."""

import ast
import importlib
from pathlib import Path

import numpy as np
import pytest

from harness import store
from harness.store import ArtefactStore


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


@pytest.mark.parametrize("damage", ["truncate", "flip_a_byte", "drop_sidecar"])
def test_a_damaged_entry_is_rebuilt_not_trusted(tmp_path, damage):
    stored = ArtefactStore(tmp_path)
    stored.arrays("k", lambda: {"x": np.arange(1000.0)})
    path = tmp_path / "features" / "k.npz"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:50])
    elif damage == "flip_a_byte":
        data = bytearray(path.read_bytes())
        data[-10] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path.with_name("k.npz.sha256").unlink()
    rebuilt = stored.arrays("k", lambda: {"x": np.zeros(3)})
    assert np.array_equal(rebuilt["x"], np.zeros(3))


def test_the_fingerprint_changes_with_the_code(tmp_path, monkeypatch):
    module = tmp_path / "fake_recipe.py"
    module.write_text("A = 1\n")
    monkeypatch.syspath_prepend(tmp_path)
    before = store.code_fingerprint(("fake_recipe",))
    module.write_text("A = 2\n")
    assert store.code_fingerprint(("fake_recipe",)) != before


def is_module(name: str) -> bool:
    """A module or package (not a function or class imported from one)."""
    folder = Path(importlib.import_module("harness").__path__[0]).parent.joinpath(*name.split("."))
    return folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file()


def harness_imports(module_name: str) -> set[str]:
    """The harness modules a module imports (at any depth of its source, including function-level imports)."""
    path = Path(importlib.import_module(module_name).__file__)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
            found.add(node.module)
            found.update(
                f"{node.module}.{alias.name}" for alias in node.names if is_module(f"{node.module}.{alias.name}")
            )
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("harness"))
    return found


def covered(module_name: str) -> bool:
    return any(module_name == name or module_name.startswith(name + ".") for name in store.RECIPE_MODULES)


def test_the_fingerprint_covers_everything_the_recipes_import():
    """Walk the imports from the lab: every harness module reached must be part of the fingerprint, or a code change
    there could reuse a stale model. (Claims, results and presentation are outside: they never shape an artefact.)"""
    seen, pending = set(), ["harness.lab"]
    while pending:
        name = pending.pop()
        if name in seen or name == "harness":
            continue
        seen.add(name)
        pending += [imported for imported in harness_imports(name) if imported != "harness"]
    outside = sorted(name for name in seen if not covered(name) and name not in OUTSIDE_THE_RECIPE)
    assert not outside, f"add these to harness.store.RECIPE_MODULES: {outside}"
    assert {"harness.training", "harness.backbones.lite0", "harness.data.sources"} <= seen


# Imported by the lab for types or configuration only: they decide no artefact's content (the scale's values that
# do are part of every key).
OUTSIDE_THE_RECIPE = {"harness.scales"}
