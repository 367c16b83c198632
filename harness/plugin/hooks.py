"""The pytest side of tl-claims: markers, options, scales, the results session and the terminal summary.

- `pytest` runs the fast suite (unit tests + every claim at `smoke` scale): the repository's `addopts` deselect
  the slow markers (`-m "not cpu and not gpu and not install and not replicate"`); `pytest -m cpu` the CPU
  verification; `pytest -m gpu` the lesson's full recipe, skipped with a reason where no GPU is visible;
  `pytest -m replicate` the primaries on every data family × backbone.
- A test named by its node id, or rerun by `--lf`, runs even when that default expression would deselect it: a
  pasted `tests/claims/test_claims.py::test_claim[recompile-unfreeze_all-cpu]` reruns that claim at cpu scale.
- An unwritable `--results-dir` or `--cache-dir`, or a `--dataset` that cannot be read, stops the session at start.
- Every claim test records its row, with its provenance, the moment it finishes (a skipped one records why); the
  session assembles the table at the end, merging the rows of all pytest-xdist workers.
"""

import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.core.quiet import quiet_tensorflow

SCALE_MARKERS = {
    "smoke": "every claim's code path at tiny size, one seed; rows written, no verdict asserted (fast suite)",
    "cpu": "claim verdicts on the embedded default (Lite0 + synthetic flowers) on a laptop-class CPU, in minutes",
    "replicate": "the cpu scale's primary verdicts on each data family × backbone (make replicate)",
    "gpu": "the lesson's full recipe (EfficientNetB0 imagenet, tf_flowers, 224 px); skipped without a GPU",
}
# Beside the scale: a claim's other variants (the lesson's reading is the primary) are studies around the claim,
# selectable on their own: `make verify` runs `-m "cpu and not exploratory"`, `make explore` the rest.
OTHER_MARKERS = {"exploratory": "a claim variant other than its primary (the lesson's own reading); make explore"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tl-claims", "tl-claims: verify the transfer-learning lesson's claims")
    group.addoption("--backbone", default=None, help="backbone for every scale (default: each scale's preset)")
    group.addoption(
        "--dataset", default=None, help="synthetic[:flowers|objects] | tfds:NAME | folder:PATH (default: preset)"
    )
    group.addoption(
        "--seeds",
        type=seeds_option,
        default=None,
        help="number of seeds, 0..N-1, or 'auto': 5 seeds, 7 and 10 for rows still undecided, with "
        "O'Brien-Fleming alpha spending (default: preset)",
    )
    group.addoption("--image-size", type=int, default=None, help="image side in pixels (default: preset)")
    group.addoption("--n-train", type=int, default=None, help="training images per class (default: preset)")
    group.addoption("--results-dir", default="results", help="where tables, figures and logs go (default: results)")
    group.addoption(
        "--cache-dir",
        default=None,
        help="cache of weights, data, features, models (default: $TL_CLAIMS_CACHE or ~/.cache/tl-claims)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, description in {**SCALE_MARKERS, **OTHER_MARKERS}.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    overrides = _validated_overrides(config)
    run_id = getattr(config, "workerinput", {}).get("tl_claims_run_id")
    session = ClaimsSession(config, overrides, run_id)
    if not hasattr(config, "workerinput"):  # the controller checks once, before any worker starts
        check_outputs_writable(session)
        check_data_source(overrides.get("dataset"), session.cache_dir)
    config.stash[SESSION_KEY] = session
    relax_default_selection(config)
    share_cores_between_workers(config)


def share_cores_between_workers(config: pytest.Config) -> None:
    """pytest-xdist workers on one machine: each worker's TensorFlow gets its share of the cores (at least one
    thread), instead of one thread per core each, which makes N workers fight over the cores with N times the
    threads. Before anything runs in the worker; a TensorFlow already started elsewhere keeps its own setting."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not hasattr(config, "workerinput") or workers < 2:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = max(1, cores // workers)
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow's runtime already started in this process: its threads are fixed
        pass


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: every worker writes its rows under the controller's run id."""
    node.workerinput["tl_claims_run_id"] = node.config.stash[SESSION_KEY].run_id


def seeds_option(text: str) -> int | str:
    """`--seeds N` or `--seeds auto`."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(f"--seeds takes a number of seeds or 'auto' (got {text!r})") from None


def _validated_overrides(config: pytest.Config) -> dict:
    """Options that override the scale presets, checked now (by the scales themselves) so a typo stops the
    session before any training."""
    from harness.core.errors import HarnessError
    from harness.recipe.scales import SCALES

    option = config.getoption
    overrides = {
        "backbone": option("--backbone"),
        "dataset": option("--dataset"),
        "seeds": option("--seeds"),
        "image_size": option("--image-size"),
        "n_train": option("--n-train"),
    }
    try:
        for scale in SCALES.values():
            scale.override(**overrides)
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None
    return overrides


def check_outputs_writable(session: "ClaimsSession") -> None:
    """Stop at start, in one sentence, when results or caches could not be written (not after the first arm)."""
    for option, path in (("--results-dir", session.results_dir), ("--cache-dir", session.cache_dir)):
        reason = unwritable_reason(path)
        if reason:
            raise pytest.UsageError(f"{option} {path}: {reason}; give a folder this user can write to.")


def unwritable_reason(path: Path) -> str | None:
    """Why files could not be created under `path` (which need not exist yet), or None. Tried for real, with a
    temporary file in its nearest existing folder, so read-only mounts are caught too; nothing is left behind."""
    existing = Path(path).expanduser().absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror or error})"
    return None


def check_data_source(spec: str | None, cache_dir: Path) -> None:
    """A `--dataset folder:` tree is validated and a `tfds:` name looked up now, so a bad source stops the session
    in one sentence instead of failing every test with a traceback. Presets are not checked (nothing was typed)."""
    if not spec:
        return
    from harness.core.errors import HarnessError
    from harness.data.spec import parse_dataset_spec

    try:
        parsed = parse_dataset_spec(spec, require_folder=True)
        if parsed.kind == "folder":
            from harness.data.validate import inspect_folder

            inspect_folder(Path(parsed.argument).expanduser())
        elif parsed.kind == "tfds":
            _check_tfds_name(parsed.argument)
    except HarnessError as error:
        raise pytest.UsageError(f"--dataset {spec}: {_one_sentence(str(error))}") from None


def _check_tfds_name(name: str) -> None:
    import tensorflow_datasets as tfds

    from harness.data.validate import DataError

    try:
        tfds.builder(name)
    except Exception as error:  # unknown name, bad config: tfds raises several types
        raise DataError(f"TensorFlow Datasets has no data set {name!r} ({type(error).__name__})") from None


def _one_sentence(text: str) -> str:
    return " ".join(text.split())


DEFAULT_SELECTION_KEY = pytest.StashKey[tuple[str, ...]]()


def relax_default_selection(config: pytest.Config) -> None:
    """When the `-m` in force is the repository's default (from addopts, not typed) and tests are named by node id
    or rerun with --lf, pytest would deselect a named cpu test; the plugin then applies the default itself
    (`pytest_collection_modifyitems`), sparing the named and the previously failed tests."""
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


# Where no -m is in force at all: a student's own folder (`pytest --homework`).
FALLBACK_EXCLUDED = ("cpu", "gpu", "replicate")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Apply the default selection where pytest's -m does not: with the repository's default relaxed (see
    `relax_default_selection`), or with no -m at all (outside this repository, no addopts: cpu and gpu still need
    -m). Tests named by node id and, under --lf, tests that failed last time are spared (pytest's --lf then keeps
    those)."""
    longest_claims_first(items, Path(config.getoption("--results-dir")))
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
    from harness.results import rowfile

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


class KnownFinding(AssertionError):
    """A claim variant gave the verdict recorded as a known finding on this setup (a strict xfail)."""


def claim_cases(scales: tuple[str, ...] = ("smoke", "cpu", "gpu", "replicate")) -> list:
    """One pytest param per claim × variant × scale, for the variants each scale runs (`Scale.variants`: smoke the
    claim's smoke variants, gpu and replicate its primary), ids like `two_stage-lr_1e-5-cpu`, carrying the scale's
    marker (and `exploratory` unless it is the claim's primary), and a strict xfail where a finding is known. A
    scale with several configurations (replicate, or a comma-separated --dataset / --backbone) runs all of them in
    one test, one row each."""
    from harness.claims.registry import CLAIMS
    from harness.recipe.scales import SCALES

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


class ClaimsSession:
    """Per-process state: the scales with overrides, one Lab per scale, the run id, progress output."""

    def __init__(self, config: pytest.Config, overrides: dict, run_id: str | None) -> None:
        self.config = config
        self.overrides = overrides
        self.run_id = run_id or _new_run_id()
        self.results_dir = Path(config.getoption("--results-dir"))
        from harness.core.paths import default_cache_dir

        cache = config.getoption("--cache-dir")
        self.cache_dir = Path(cache).expanduser() if cache else default_cache_dir()
        self.worker = getattr(config, "workerinput", {}).get("workerid", "main")
        self.labs: dict = {}

    def scale(self, name: str):
        from harness.recipe.scales import SCALES

        return SCALES[name].override(**self.overrides)

    def lab(self, scale):
        """One Lab per configuration (a `Scale` from `scale(name).configurations()`)."""
        from harness.recipe.lab import Lab

        key = (scale.name, scale.dataset, scale.backbone)
        if key not in self.labs:
            pin_worker_gpu(self.worker)
            self.labs[key] = Lab(scale, self.cache_dir)
        return self.labs[key]

    def progress(self, scale_name: str, line: str) -> None:
        """Progress goes to the terminal even under output capture (and from xdist workers), and to a log file."""
        stamped = f"[{time.strftime('%H:%M:%S')} {self.worker}] {line}"
        log = self.results_dir / scale_name / "progress.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(stamped + "\n")
        capture = self.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            sys.stderr.write(stamped + "\n")
            sys.stderr.flush()

    def record_skip(self, claim: str, variant: str, scale_name: str, reason: str, node_id: str) -> None:
        """A skipped claim test is a line beside the rows, so the report lists it with its reason."""
        from harness.results.rowfile import append_skip

        skip = {"claim": claim, "variant": variant, "scale": scale_name, "run_id": self.run_id, "reason": reason}
        append_skip(self.results_dir, {**skip, "node_id": node_id}, self.worker)


def _new_run_id() -> str:
    from harness.results.rowfile import new_run_id

    return new_run_id()


def pin_worker_gpu(worker: str) -> None:
    """With several GPUs and xdist, worker gwN takes GPU N mod count; must run before TensorFlow touches a GPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1 and worker.startswith("gw"):
        tf.config.set_visible_devices(gpus[int(worker[2:]) % len(gpus)], "GPU")


SESSION_KEY = pytest.StashKey[ClaimsSession]()


@pytest.fixture
def verify_claim(request: pytest.FixtureRequest):
    """Run a claim (an id or a `Claim`) variant at a scale, record its row and outcomes, and pass only when the
    measurement confirms the claim; a known finding (the variant's expected verdict) is a strict xfail, any other
    verdict fails.

    At smoke scale the row is recorded and checked for sanity; no verdict is asserted (one seed, tiny data).
    """
    session = request.config.stash[SESSION_KEY]

    def verify(claim, variant: str, scale_name: str):
        from harness.claims.registry import CLAIMS

        claim = CLAIMS[claim] if isinstance(claim, str) else claim
        rows = [run_configuration(claim, variant, scale) for scale in session.scale(scale_name).configurations()]
        if scale_name == "smoke":
            values = [value for row in rows for arm in row.per_seed.values() for value in arm]
            assert all(math.isfinite(value) for value in values), f"non-finite measurement: {rows[0].per_seed}"
            return rows[0]
        judge(claim.id, variant, scale_name, rows)
        return rows[0]

    def run_configuration(claim, variant: str, scale):
        """One configuration's row: measured, stamped with its provenance, recorded with its outcomes."""
        from harness import engine
        from harness.backbones import WeightsUnavailableError
        from harness.core import provenance
        from harness.core.paths import REPO_ROOT
        from harness.results import rowfile

        started_at = provenance.now()
        try:
            skip_gpu_scale_without_gpu(scale.name)
            try:
                row, outcomes = engine.run_claim(
                    claim,
                    variant,
                    session.lab(scale),
                    run_id=session.run_id,
                    progress=lambda line: session.progress(scale.name, line),
                )
            except WeightsUnavailableError as error:
                pytest.skip(f"{claim.id}[{variant}]: {error}")
        except pytest.skip.Exception as skipped:
            session.record_skip(claim.id, variant, scale.name, str(skipped.msg), request.node.nodeid)
            raise
        row = provenance.stamp(
            row,
            node_id=request.node.nodeid,
            started_at=started_at,
            checkout=REPO_ROOT,
            gpus=provenance.visible_gpus(),
        )
        rowfile.append_row(session.results_dir, row, session.worker)
        rowfile.append_outcomes(session.results_dir, row, outcomes)
        return row

    return verify


def judge(claim_id: str, variant: str, scale_name: str, rows: list) -> None:
    """Pass when every configuration confirms the claim; a known finding that every configuration reproduces is a
    KnownFinding (the strict xfail); anything else fails, naming each configuration's verdict when there are several."""
    expected = rows[0].expected
    if len(rows) == 1:
        message = f"{claim_id}[{variant}] at {scale_name} scale — {rows[0].explanation}"
    else:
        message = f"{claim_id}[{variant}] at {scale_name} scale, per configuration: " + "; ".join(
            f"{row.dataset} × {row.backbone}: {row.verdict} ({row.delta * 100:+.1f} pp)" for row in rows
        )
    if expected and all(row.verdict == expected for row in rows):
        raise KnownFinding(message)
    if not all(row.confirms for row in rows):
        prefix = "not replicated — " if len(rows) > 1 else ""
        if expected:
            prefix += f"verdict changed from the known {expected}: "
        pytest.fail(prefix + message, pytrace=False)


def skip_gpu_scale_without_gpu(scale_name: str) -> None:
    if scale_name != "gpu":
        return
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        pytest.skip(
            "gpu scale: no GPU visible to TensorFlow (run `pytest -m cpu` here, or install the gpu extra "
            "on a GPU machine)"
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (not xdist workers) folds every scale's rows into the table files."""
    config = session.config
    if hasattr(config, "workerinput") or SESSION_KEY not in config.stash:
        return
    claims_session = config.stash[SESSION_KEY]
    from harness.results.assembly import assemble

    claims_session.tables = {}
    for scale_dir in sorted(claims_session.results_dir.glob("*/runs")):
        scale = scale_dir.parent.name
        if (scale_dir / claims_session.run_id).is_dir():
            claims_session.tables[scale] = assemble(claims_session.results_dir, scale)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    tables = getattr(config.stash.get(SESSION_KEY, None), "tables", None)
    if not tables:
        return
    from harness.results.tables import grouped_markdown

    for scale, table in tables.items():
        if table is None:
            continue
        terminalreporter.section(f"tl-claims results, {scale} scale")
        terminalreporter.write(grouped_markdown(table.to_dict("records"), table.attrs.get("skipped", [])))
        where = config.stash[SESSION_KEY].results_dir / scale
        terminalreporter.write_line(f"table: {where}/claims.csv | .md | .json; figure: {where}/figures/deltas.png")


# Keep TensorFlow quiet in test processes too, from before any conftest.py or test module imports it
# (harness/core/quiet.py).
quiet_tensorflow()
