"""Which tests a run collects, and in what order, kept in one module because markers, the default `-m` and node ids
only make sense together. `pytest` runs the fast suite (unit tests + every claim at `smoke` scale): the repository's
`addopts` deselect the slow markers (`-m "not cpu and not gpu and not install and not replicate"`); `pytest -m cpu`
the CPU verification; `pytest -m gpu` the lesson's full recipe, skipped with a reason where no GPU is visible;
`pytest -m replicate` the primaries on every data family × backbone. A test named by its node id, or rerun by `--lf`,
runs even when that default expression would deselect it: a pasted
`tests/claims/test_claims.py::test_claim[recompile-unfreeze_all-cpu]` reruns that claim at cpu scale. The claim tests
come longest first, and `claim_cases` makes them: one param per claim × variant × scale, with its markers.
"""

import math
import re
from pathlib import Path

import pytest

from tl_claims.plugin.session import KnownFinding
from tl_claims.recipe.scales import SCALES

# tl_claims.claims (TensorFlow, Keras) and tl_claims.results.assembly (pandas) are imported inside the functions that
# use them, so that importing the plugin stays cheap.

SCALE_MARKERS = {
    "smoke": "every claim's code path at tiny size, one seed; rows written, no verdict asserted (fast suite)",
    "cpu": "claim verdicts on the embedded default (Lite0 + synthetic flowers) on a laptop-class CPU, in minutes",
    "replicate": "the cpu scale's primary verdicts on each data family × backbone (make replicate)",
    "gpu": "the lesson's recipe at 224 px on the tf_flowers photos (B0 imagenet, else Lite0); skipped without a GPU",
}
# Beside the scale: a claim's other variants (the lesson's reading is the primary) are studies around the claim,
# selectable on their own: `make verify` runs `-m "cpu and not exploratory"`, `make explore` the rest.
OTHER_MARKERS = {"exploratory": "a claim variant other than its primary (the lesson's own reading); make explore"}

DEFAULT_SELECTION_KEY = pytest.StashKey[tuple[str, ...]]()

# Where no -m is in force at all: a student's own folder (`pytest --homework`).
FALLBACK_EXCLUDED = ("cpu", "gpu", "replicate")


def register_markers(config: pytest.Config) -> None:
    """The scale markers and `exploratory`, with descriptions (`pytest --markers`; --strict-markers accepts them)."""
    for name, description in {**SCALE_MARKERS, **OTHER_MARKERS}.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def relax_default_selection(config: pytest.Config) -> None:
    """When the `-m` in force is the repository's default (from addopts, not typed) and tests are named by node id
    or rerun with --lf, pytest would deselect a named cpu test; the plugin then applies the default itself
    (`apply_default_selection`), sparing the named and the previously failed tests."""
    excluded = default_excluded_markers(config)
    if excluded and (explicit_node_ids(config) or config.getoption("lf", False)):
        config.stash[DEFAULT_SELECTION_KEY] = excluded
        config.option.markexpr = ""


def default_excluded_markers(config: pytest.Config) -> tuple[str, ...]:
    """The markers the addopts default `-m "not a and not b"` excludes, when that default is what is in force."""
    addopts = list(config.getini("addopts"))
    typed = list(config.invocation_params.args)
    default = next((addopts[i + 1] for i, arg in enumerate(addopts[:-1]) if arg == "-m"), None)
    if default is None or config.option.markexpr != default or any(arg.startswith("-m") for arg in typed):
        return ()
    if not re.fullmatch(r"\s*not \w+(\s+and\s+not \w+)*\s*", default):
        return ()
    return tuple(re.findall(r"not (\w+)", default))


def explicit_node_ids(config: pytest.Config) -> set[str]:
    """Node ids given on the command line (`path::name[params]`), relative to the root directory as pytest writes
    them."""
    found = set()
    for arg in config.args:
        if "::" not in arg:
            continue
        path, rest = arg.split("::", 1)
        absolute = (config.invocation_params.dir / path).resolve()
        try:
            found.add(f"{absolute.relative_to(config.rootpath).as_posix()}::{rest}")
        except ValueError:
            continue
    return found


def apply_default_selection(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Apply the default selection where pytest's -m does not: with the repository's default relaxed (see
    `relax_default_selection`), or with no -m at all (outside this repository, no addopts: cpu and gpu still need
    -m). Tests named by node id and, under --lf, tests that failed last time are spared (pytest's --lf then keeps
    those)."""
    excluded = config.stash.get(DEFAULT_SELECTION_KEY, ())
    if not excluded and config.option.markexpr:
        return
    excluded = excluded or FALLBACK_EXCLUDED
    named = explicit_node_ids(config)
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    failed = set(cache.get("cache/lastfailed", {})) if cache and config.getoption("lf", False) else set()
    kept = [item for item in items if _kept_by_default(item, excluded, named | failed)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def longest_claims_first(items: list[pytest.Item], results_dir: Path) -> None:
    """Reorder the claim tests among the places they hold: never recorded first (it may be the longest), then by the
    seconds of each one's latest recorded row, longest first; other tests keep their places. pytest-xdist hands
    tests out in this order, and a worker that runs out of tests idles until the other's last one ends: in a
    `make verify` run in registry order, one worker waited about 4 minutes while the other ran `bn_gotcha` (7 min)."""
    from tl_claims.results import rowfile

    slots = [index for index, item in enumerate(items) if _is_claim_test(item)]
    if len(slots) < 2:
        return
    seconds = {}
    for scale_dir in sorted(path for path in results_dir.glob("*") if path.is_dir()):
        seconds.update({row.get("node_id"): row.get("seconds") for row in rowfile.read_rows(scale_dir)})
    claims = sorted((items[index] for index in slots), key=lambda item: -_as_seconds(seconds.get(item.nodeid)))
    for index, item in zip(slots, claims):
        items[index] = item


def _is_claim_test(item: pytest.Item) -> bool:
    return "verify_claim" in getattr(item, "fixturenames", ())


def _as_seconds(value: object) -> float:
    """A recorded row's seconds; none recorded (or not a number) counts as longest."""
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else math.inf


def _kept_by_default(item: pytest.Item, excluded: tuple[str, ...], spared: set[str]) -> bool:
    if item.nodeid in spared or any(item.nodeid.startswith(f"{name}::") for name in spared):
        return True
    return not any(item.get_closest_marker(marker) for marker in excluded)


def claim_cases(scales: tuple[str, ...] = ("smoke", "cpu", "gpu", "replicate")) -> list:
    """One pytest param per claim × variant × scale, for the variants each scale runs (`Scale.variants`: smoke the
    claim's smoke variants, gpu and replicate its primary), ids like `two_stage-lr_1e-5-cpu`, carrying the scale's
    marker (and `exploratory` unless it is the claim's primary), and a strict xfail where a finding is known. A
    scale with several configurations (replicate, or a comma-separated --dataset / --backbone) runs all of them in
    one test, one row each."""
    from tl_claims.claims.registry import CLAIMS

    cases = []
    for claim in CLAIMS.values():
        for variant in claim.variants:
            for scale in scales:
                if not SCALES[scale].runs(claim, variant.name):
                    continue
                marks = [getattr(pytest.mark, scale)]
                if variant.name != claim.primary_variant:
                    marks.append(pytest.mark.exploratory)
                known = SCALES[scale].known_finding(variant)
                if known:
                    marks.append(
                        pytest.mark.xfail(
                            strict=True, raises=KnownFinding, reason=f"known finding: {known} on this setup"
                        )
                    )
                cases.append(
                    pytest.param(claim.id, variant.name, scale, marks=marks, id=f"{claim.id}-{variant.name}-{scale}")
                )
    return cases
