"""What one pytest process of a claims run holds, and what the `verify_claim` fixture does with it: `ClaimsSession`
keeps the scales with the command line's overrides, one Lab per configuration, the run id every pytest-xdist worker
shares and the progress output. Every claim test records its row, with its provenance, the moment it finishes (a
skipped one records why), so a run killed midway keeps its finished rows; `judge` turns the rows into a pass, a
failure or a known finding (a strict xfail). The worker helpers live here too, because they must give this process's
TensorFlow its cores and its GPU before the session's first Lab starts it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tl_claims.core import provenance
from tl_claims.core.backend import keras_backend, on_tensorflow, visible_gpus
from tl_claims.core.paths import REPO_ROOT, default_cache_dir
from tl_claims.recipe.scales import SCALES

# TensorFlow, tl_claims.claims, tl_claims.engine, tl_claims.backbones, Lab (TensorFlow, Keras) and
# tl_claims.results.assembly (pandas) are imported inside the functions that use them: importing the plugin stays cheap.

if TYPE_CHECKING:
    from tl_claims.claims.base import Claim
    from tl_claims.recipe.lab import Lab
    from tl_claims.recipe.scales import Scale
    from tl_claims.results.row import Row


class KnownFinding(AssertionError):
    """A claim variant gave the verdict recorded as a known finding on this setup (a strict xfail)."""


class ClaimsSession:
    """Per-process state: the scales with overrides, one Lab per scale, the run id, progress output."""

    def __init__(self, config: pytest.Config, overrides: dict, run_id: str | None) -> None:
        self.config = config
        self.overrides = overrides
        self.run_id = run_id or _new_run_id()
        self.results_dir = Path(config.getoption("--results-dir"))
        cache = config.getoption("--cache-dir")
        self.cache_dir = Path(cache).expanduser() if cache else default_cache_dir()
        self.worker = getattr(config, "workerinput", {}).get("workerid", "main")
        self.dry_run = bool(config.getoption("--dry-run", False))
        self.labs: dict = {}

    def scale(self, name: str) -> Scale:
        """The preset with the command line's overrides, at the smoke sizes under --dry-run (what was typed still
        wins), with the backbone whose weights this machine has (`Scale.with_weights_on_disk`)."""
        preset = SCALES[name].dry_run() if self.dry_run and name != "smoke" else SCALES[name]
        return preset.override(**self.overrides).with_weights_on_disk()

    def lab(self, scale: Scale) -> Lab:
        """One Lab per configuration (a `Scale` from `scale(name).configurations()`)."""
        from tl_claims.recipe.lab import Lab

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
        from tl_claims.results.rowfile import append_skip

        skip = {"claim": claim, "variant": variant, "scale": scale_name, "run_id": self.run_id, "reason": reason}
        append_skip(self.results_dir, {**skip, "node_id": node_id}, self.worker)


SESSION_KEY = pytest.StashKey[ClaimsSession]()


def _new_run_id() -> str:
    from tl_claims.results.rowfile import new_run_id

    return new_run_id()


def share_cores_between_workers(config: pytest.Config) -> None:
    """pytest-xdist workers on one machine: each worker's TensorFlow gets its share of the cores (at least one
    thread), instead of one thread per core each, which makes N workers fight over the cores with N times the
    threads. Before anything runs in the worker; a TensorFlow already started elsewhere keeps its own setting."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not hasattr(config, "workerinput") or workers < 2:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = max(1, cores // workers)
    backend = keras_backend()
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
    if backend != "tensorflow":  # JAX: XLA sizes its own CPU pool, with no setting after start-up (not measured)
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow's runtime already started in this process: its threads are fixed
        pass


def pin_worker_gpu(worker: str) -> None:
    """With several GPUs and xdist, worker gwN takes GPU N mod count; must run before TensorFlow touches a GPU.
    TensorFlow only: JAX and PyTorch take the devices CUDA_VISIBLE_DEVICES gives the worker."""
    if not on_tensorflow():
        return
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1 and worker.startswith("gw"):
        tf.config.set_visible_devices(gpus[int(worker[2:]) % len(gpus)], "GPU")


def claim_verifier(request: pytest.FixtureRequest) -> Callable[[Claim | str, str, str], Row]:
    """The `verify_claim` fixture's value: a function that runs a claim (an id or a `Claim`) variant at a scale,
    once per configuration of that scale, and returns the first configuration's row. At smoke scale the rows are
    only checked to be finite, and so is every scale's under --dry-run; elsewhere `judge` decides."""
    session = request.config.stash[SESSION_KEY]

    def verify(claim: Claim | str, variant: str, scale_name: str) -> Row:
        from tl_claims.claims.registry import CLAIMS

        claim = CLAIMS[claim] if isinstance(claim, str) else claim
        configurations = session.scale(scale_name).configurations()
        rows = [run_configuration(session, request.node.nodeid, claim, variant, scale) for scale in configurations]
        if scale_name == "smoke" or session.dry_run:
            values = [value for row in rows for arm in row.per_seed.values() for value in arm]
            assert all(math.isfinite(value) for value in values), f"non-finite measurement: {rows[0].per_seed}"
            return rows[0]
        judge(claim.id, variant, scale_name, rows)
        return rows[0]

    return verify


def run_configuration(session: ClaimsSession, node_id: str, claim: Claim, variant: str, scale: Scale) -> Row:
    """One configuration's row: measured, stamped with its provenance, recorded with its outcomes."""
    from tl_claims import engine
    from tl_claims.backbones import WeightsUnavailableError
    from tl_claims.core.errors import NotOnThisBackend
    from tl_claims.data.validate import TooFewPhotos
    from tl_claims.results import rowfile
    from tl_claims.results.row import stamp

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
        except (WeightsUnavailableError, TooFewPhotos, NotOnThisBackend) as error:
            pytest.skip(f"{claim.id}[{variant}]: {error}")
    except pytest.skip.Exception as skipped:
        session.record_skip(claim.id, variant, scale.name, str(skipped.msg), node_id)
        raise
    row = stamp(
        row,
        node_id=node_id,
        started_at=started_at,
        checkout=REPO_ROOT,
        gpus=visible_gpus(),
    )
    rowfile.append_row(session.results_dir, row, session.worker)
    rowfile.append_outcomes(session.results_dir, row, outcomes)
    return row


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
    """At gpu scale with no GPU visible to the Keras backend, skip with a reason that says what to run instead."""
    if scale_name != "gpu":
        return
    if not visible_gpus():
        pytest.skip(
            f"gpu scale: no GPU visible to {keras_backend()} (run `pytest -m cpu` here, or install the gpu extra "
            "on a GPU machine)"
        )
