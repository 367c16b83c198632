"""Benchmark plumbing: a `throughput` fixture that times one parameter set the same way every time, collects a
`benchmarks.bench.Record` for it, and a session-finish hook that writes results/bench/augmentation.csv | .md | figure.

With `--benchmark-disable` (the fast suite's smoke run) only the smallest image size is collected, each target runs
once, and nothing is written.
"""

import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import bench
from benchmarks.bench.settings import start_to_end

RECORDS = pytest.StashKey[list]()
STARTED = pytest.StashKey[dict]()
TARGET_SECONDS = 2.0  # timed seconds per parameter set: rounds = TARGET_SECONDS / one warm-up round's time
MIN_ROUNDS, MAX_ROUNDS = 3, 15  # a median needs a few rounds; fast ones stop at 15 to keep `make bench` short


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bench_full: measured by `make bench` only; the fast suite's smoke run (--benchmark-disable) leaves it out",
    )
    config.stash[RECORDS] = []
    # Only a timed run reports them; TensorFlow's import (seconds) is spared where nothing is timed (make test).
    config.stash[STARTED] = {} if _benchmarks_disabled(config) else bench.thread_settings()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Smoke run (benchmarks disabled): leave out `bench_full` cases, so `make test` stays at a few seconds."""
    if not _benchmarks_disabled(config):
        return
    full = [item for item in items if item.get_closest_marker("bench_full")]
    if full:
        config.hook.pytest_deselected(items=full)
        items[:] = [item for item in items if item not in full]


def _benchmarks_disabled(config: pytest.Config) -> bool:
    """--benchmark-disable, or pytest-xdist (under which pytest-benchmark turns itself off)."""
    under_xdist = hasattr(config, "workerinput") or config.getoption("dist", "no") != "no"
    return bool(config.getoption("benchmark_disable", False)) or under_xdist


class Throughput:
    """Times `target` (one round) after a warm-up round, and records images/s for the table."""

    def __init__(self, benchmark, config: pytest.Config) -> None:
        self.benchmark, self.config = benchmark, config

    @property
    def smoke(self) -> bool:
        return not self.benchmark.enabled

    def measure(self, target: Callable[[], object], *, images_per_round: int, **fields: object) -> None:
        """Time whole rounds after the caller's first call (tracing) and one warm-up round, both untimed."""
        template = bench.Record(images_per_round=images_per_round, threads=bench.thread_settings(), **fields)
        self.benchmark.group = f"{template.image_size} px · {template.dtype}"
        self.benchmark.extra_info.update({"images_per_round": images_per_round, **fields, **template.threads})
        if self.smoke:  # timing is off: run the (already traced) round once more through the fixture
            self.benchmark.pedantic(target, rounds=1)
            return
        started = time.perf_counter()
        target()
        warm = time.perf_counter() - started
        rounds = min(MAX_ROUNDS, max(MIN_ROUNDS, math.ceil(TARGET_SECONDS / max(warm, 1e-6))))
        self.benchmark.pedantic(target, rounds=rounds, warmup_rounds=0)
        stats = self.benchmark.stats.stats
        record = replace(
            template, seconds_median=stats.median, seconds_min=stats.min, seconds_max=stats.max, rounds=stats.rounds
        )
        self.benchmark.extra_info.update(bench.rate_spread(images_per_round, stats))
        self.config.stash[RECORDS].append(record)

    def unsupported(self, error: Exception, **fields: object) -> None:
        """A layer that refuses this input: record why (the table shows it), then skip with the same words."""
        reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:160]}"
        self.config.stash[RECORDS].append(bench.Record(note=f"not supported — {reason}", **fields))
        pytest.skip(f"not supported by this Keras version: {reason}")


@pytest.fixture
def throughput(benchmark, request: pytest.FixtureRequest) -> Throughput:
    return Throughput(benchmark, request.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or RECORDS not in config.stash:
        return
    records = [record for record in config.stash[RECORDS] if record.seconds_median or record.note]
    if not any(record.seconds_median for record in records):
        return
    from tl_claims.results.assembly import environment

    out_dir = Path(config.getoption("--results-dir", "results")) / "bench"
    settings = {
        **environment(),
        "threads (at start → at end where they differ)": start_to_end(config.stash[STARTED], bench.thread_settings()),
        "protocol": f"median of {MIN_ROUNDS}–{MAX_ROUNDS} rounds (~{TARGET_SECONDS:.0f} s timed per "
        "parameter set) after one warm-up round; fixed shapes; outputs materialised",
    }
    paths = bench.write_report(records, out_dir, settings)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"augmentation throughput: {paths['markdown']} | {paths['csv'].name} | {paths['figure']}")
