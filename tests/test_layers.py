"""The folder tree is the architecture: packages form layers, and no module imports from a layer above its own.

Data flows one way (scale and options → data → backbone → recipe → measurements → statistics → row → table), so
each package may import only from lower layers or from itself. Imports inside functions count too: a lazy import
is still a dependency. Within a package, module-level imports form no cycle (a cycle hides which module is the
foundation).
"""

import ast
import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from tl_claims.core.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "tl_claims"

# Lowest first. A package may import from any lower layer; packages on one layer do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "resources"),  # errors, paths, store, limits; shipped documents
    ("stats", "backbones"),  # pure statistics; the pretrained bases
    ("data",),  # families, photos, sources, splits, augmentation layers
    ("recipe",),  # training stages, the models, the lab that memoises them
    ("claims",),  # the lesson's claims, declared as data, and the typed records they emit for figures
    ("results",),  # the row schema, its files, tables, figures, reports
    ("engine",),  # one claim run: measure → decide → row
    ("plugin",),  # the pytest plugin that runs claims
    ("teaching", "predict", "verify"),  # the students', teachers' and maintainers' front ends
    ("cli",),  # one command line over all of it
    ("__main__",),  # `python -m tl_claims`
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """`tl_claims.recipe.lab` → `recipe`; top-level modules are their own package (`tl_claims.engine` → `engine`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imported_modules(tree: ast.AST, top_level_only: bool) -> set[str]:
    """Every harness module a tree imports (`from tl_claims.x import y` names `tl_claims.x.y` when that is a module)."""
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("tl_claims.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tl_claims"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return {name for name in found if name != "tl_claims"}


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def test_every_package_has_a_layer():
    packages = {package_of(name) for name in MODULES} - {""}
    assert packages <= set(LEVEL), f"give these packages a layer in LAYERS: {sorted(packages - set(LEVEL))}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_from_a_higher_or_sibling_layer(module):
    source = package_of(module)
    if not source:
        return  # tl_claims/__init__.py: the version string only
    wrong = sorted(
        target
        for target in imported_modules(TREES[module], top_level_only=False)
        if package_of(target) != source and LEVEL.get(package_of(target), -1) >= LEVEL[source]
    )
    assert not wrong, f"{module} (layer {LEVEL[source]}: {source}) imports from its own layer or above: {wrong}"


def top_level_graph() -> dict[str, set[str]]:
    graph = defaultdict(set)
    for name, tree in TREES.items():
        graph[name] = {target for target in imported_modules(tree, top_level_only=True) if target in MODULES}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules, or None (depth-first search with colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_module_level_imports_form_no_cycle():
    cycle = find_cycle(top_level_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = defaultdict(set, {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle(defaultdict(set, {"a": {"b"}, "b": set()})) is None


def test_the_layer_check_sees_an_upward_import():
    tree = ast.parse("def f():\n    from tl_claims.recipe.lab import Lab\n")
    assert imported_modules(tree, top_level_only=False) == {"tl_claims.recipe.lab"}
    assert imported_modules(tree, top_level_only=True) == set()
    assert LEVEL["recipe"] > LEVEL["data"]  # so data importing this would fail the parametrized test


def test_layers_list_each_package_once():
    names = list(itertools.chain.from_iterable(LAYERS))
    assert len(names) == len(set(names))


MAX_MODULE_LINES = 500  # a module longer than this tells more than one concern
MAX_FUNCTION_LINES = 60  # a function longer than this does more than one thing


def test_no_module_is_longer_than_one_concern():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these modules (lines): {long}"


def test_no_function_is_longer_than_one_screen():
    long = {
        f"{name}.{node.name}": node.end_lineno - node.lineno + 1
        for name, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }
    assert not long, f"split these functions (lines): {long}"
