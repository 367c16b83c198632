"""Where a claim run's seconds go: per claim, per arm, per stage, and within training tracing vs compute.

`Profiler.installed()` wraps, for as long as it is active, the functions the lab spends its time in (data loading,
model builds, the artefact store, the training recipes, `keras.Model.fit`, evaluations) with wall-clock timers.
Each timer records its own time minus the time of timed calls inside it, so nothing is counted twice. Every `fit`
gets an epoch timer (epoch-level callbacks only: no per-batch synchronisation), which splits it into
- tracing: the first epoch minus the median of the later ones (graph tracing and first-call set-up);
- compute: every epoch at the steady pace (the training steps, input pipeline included — `verify.md` measures the
  pipeline against in-memory tensors separately);
- setup: `fit`'s own start-up outside epochs, plus the recipe's compile, unfreeze and weight copies.
A one-epoch fit has no steady epoch to compare with: its tracing is counted as compute.

The engine's progress hook (`run_claim(progress=...)`) calls `arm_done` after each arm; the timed spans since the
previous arm are filed under that arm, and what no timer saw is "other" (claim code, the engine's statistics).
Nothing here changes what runs: the wrappers call the originals with the same arguments.
"""

from __future__ import annotations

import contextlib
import csv
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import pandas as pd

from benchmarks.bench.settings import settings_markdown
from tl_claims.core.markdown import markdown_table

CATEGORIES = (
    "data",
    "model build",
    "store I/O",
    "training: tracing",
    "training: compute",
    "training: setup",
    "evaluation",
    "other",
)
TRAINING_RECIPES = ("stage1", "stage1_batch_augmented", "stage2", "stage2_without_recompile", "scratch")
FIELDS = ("way", "claim", "variant", "arm", "seed", "category", "stage", "seconds")


@dataclass(frozen=True)
class Span:
    category: str
    stage: str
    seconds: float


@dataclass(frozen=True)
class ProfileRow:
    way: str
    claim: str
    variant: str
    arm: str
    seed: int
    category: str
    stage: str
    seconds: float


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch of one `fit`."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._started)


def split_fit(total: float, epochs: list[float]) -> dict[str, float]:
    """A fit's seconds as tracing (first epoch over the steady pace), compute and setup (outside epochs)."""
    in_epochs = sum(epochs)
    tracing = max(0.0, epochs[0] - statistics.median(epochs[1:])) if len(epochs) > 1 else 0.0
    return {
        "training: tracing": tracing,
        "training: compute": in_epochs - tracing,
        "training: setup": max(0.0, total - in_epochs),
    }


class Profiler:
    """Timed spans of the lab's work, filed under the arm that was running when they happened."""

    def __init__(self) -> None:
        self.rows: list[ProfileRow] = []
        self._pending: list[Span] = []
        self._children: list[float] = []  # per open timed call: seconds spent in timed calls inside it
        self._stages: list[str] = []
        self._mark = time.perf_counter()

    # --- attribution -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """A new claim run begins: what happened before it (set-up between runs) is not any arm's."""
        self._pending.clear()
        self._mark = time.perf_counter()

    def arm_done(self, way: str, claim: str, variant: str, arm: str, seed: int) -> float:
        """File the spans since the last arm under this arm; returns the arm's wall seconds."""
        now = time.perf_counter()
        wall, self._mark = now - self._mark, now
        totals: dict[tuple[str, str], float] = defaultdict(float)
        for span in self._pending:
            totals[(span.category, span.stage)] += span.seconds
        self._pending.clear()
        totals[("other", "")] += max(0.0, wall - sum(totals.values()))
        for (category, stage), seconds in totals.items():
            self.rows.append(ProfileRow(way, claim, variant, arm, seed, category, stage, seconds))
        return wall

    def progress_hook(self, way: str, claim: str, variant: str, seed: int, echo: Callable[[str], None] | None = None):
        """A `run_claim(progress=...)` callback: the arm's label is read from the engine's message."""

        def progress(message: str) -> None:
            arm = message.split("] ", 1)[-1].split(" · seed ", 1)[0]
            self.arm_done(way, claim, variant, arm, seed)
            if echo is not None:
                echo(message)

        return progress

    # --- timers ------------------------------------------------------------------------------------------------------
    def timed(self, category: str, stage: str, function: Callable) -> Callable:
        """`function` with its own seconds (timed calls inside it excluded) recorded as a span."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            self._children.append(0.0)
            self._stages.append(stage)
            try:
                return function(*args, **kwargs)
            finally:
                self._stages.pop()
                self._pending.append(Span(category, stage, self._close(time.perf_counter() - started)))

        return wrapper

    def timed_fit(self, fit: Callable) -> Callable:
        """`keras.Model.fit` with an epoch timer added to its callbacks, split into tracing, compute and setup."""

        def wrapper(model: keras.Model, *args: Any, callbacks: list | None = None, **kwargs: Any) -> Any:
            timer = EpochTimer()
            started = time.perf_counter()
            self._children.append(0.0)
            try:
                return fit(model, *args, callbacks=[*(callbacks or []), timer], **kwargs)
            finally:
                total = time.perf_counter() - started
                self._close(total)
                stage = self._stages[-1] if self._stages else "fit"
                parts = split_fit(total, timer.seconds) if timer.seconds else {"training: setup": total}
                self._pending.extend(Span(category, stage, seconds) for category, seconds in parts.items())

        return wrapper

    def _close(self, total: float) -> float:
        """Close the innermost timed call: its own seconds; its total counts as a child of the one around it."""
        own = total - self._children.pop()
        if self._children:
            self._children[-1] += total
        return own

    @contextlib.contextmanager
    def installed(self) -> Iterator[Profiler]:
        """Wrap the lab's expensive functions for the duration of the block; restored afterwards."""
        with contextlib.ExitStack() as stack:
            for owner, name, category in _targets():
                if not hasattr(owner, name):  # a recipe renamed or merged away: time the rest
                    continue
                original = getattr(owner, name)
                stack.callback(setattr, owner, name, original)
                label = f"{getattr(owner, '__name__', '').removeprefix('tl_claims.')}.{name}"
                setattr(owner, name, self.timed(category, label, original))
            original_fit = keras.Model.fit
            stack.callback(setattr, keras.Model, "fit", original_fit)
            keras.Model.fit = self.timed_fit(original_fit)  # type: ignore[method-assign]
            yield self


def _targets() -> list[tuple[object, str, str]]:
    """(module or class, attribute, category) of every function the profiler times."""
    from tl_claims import backbones
    from tl_claims.core.store import ArtefactStore
    from tl_claims.recipe import architecture, evaluation, lab, measures, training

    return [
        (lab, "load_splits", "data"),
        (measures, "photo_crops", "data"),
        (architecture, "build_classifier", "model build"),
        (backbones, "load", "model build"),
        (ArtefactStore, "load_weights", "store I/O"),
        (ArtefactStore, "save_weights", "store I/O"),
        (ArtefactStore, "arrays", "store I/O"),
        *((training, recipe, "training: setup") for recipe in (*TRAINING_RECIPES, "train_linear_head")),
        (evaluation, "evaluate", "evaluation"),
        (evaluation.Inference, "__call__", "evaluation"),  # the lab's evaluations, traced once per architecture
        (evaluation, "pooled_features", "evaluation"),
        (measures, "top1", "evaluation"),
    ]


# --- tables ----------------------------------------------------------------------------------------------------------
def by_arm(rows: list[ProfileRow], way: str) -> pd.DataFrame:
    """Seconds per claim, variant and arm (in run order), one column per category, and a total row."""
    totals: dict[tuple[str, str, str], dict[str, float]] = {}
    for row in rows:
        if row.way == way:
            arm = totals.setdefault((row.claim, row.variant, row.arm), defaultdict(float))
            arm[row.category] += row.seconds
    header = ["claim", "variant", "arm", "seconds", *CATEGORIES]
    table = [[*key, sum(seconds.values()), *(seconds[c] for c in CATEGORIES)] for key, seconds in totals.items()]
    sums = [sum(float(line[i]) for line in table) for i in range(3, len(header))]
    return pd.DataFrame([*table, ["**all**", "", "", *sums]], columns=header)


def by_stage(rows: list[ProfileRow], way: str) -> pd.DataFrame:
    """Seconds per timed function (stage) and category, largest first."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        if row.way == way and row.stage:
            totals[(row.stage, row.category)] += row.seconds
    ordered = sorted(totals.items(), key=lambda item: -item[1])
    table = [[stage, category, seconds] for (stage, category), seconds in ordered]
    return pd.DataFrame(table, columns=["stage", "category", "seconds"])


def by_category(rows: list[ProfileRow]) -> pd.DataFrame:
    """Seconds per category for each way the claims ran, with each category's share."""
    ways = list(dict.fromkeys(row.way for row in rows))
    totals = {way: defaultdict(float) for way in ways}
    for row in rows:
        totals[row.way][row.category] += row.seconds
    header = ["category", *(f"{way} s" for way in ways), *(f"{way} %" for way in ways)]
    table = []
    for category in CATEGORIES:
        seconds = [totals[way][category] for way in ways]
        shares = [100 * totals[way][category] / max(sum(totals[way].values()), 1e-9) for way in ways]
        table.append([category, *seconds, *shares])
    return pd.DataFrame(table, columns=header)


def to_markdown(rows: list[ProfileRow], settings: dict[str, object], way: str = "suite") -> str:
    parts = ["# Where the seconds go (one seed)", ""]
    parts += settings_markdown(settings)
    parts += ["", __doc__.split("\n\n", 1)[1].strip(), ""]
    sections = {
        "Per category": by_category(rows),
        f"Per claim and arm ({way} way, in run order)": by_arm(rows, way),
        f"Per stage ({way} way, largest first)": by_stage(rows, way),
    }
    for title, table in sections.items():
        parts += [f"## {title}", "", markdown_table(table, floats=".1f"), ""]
    return "\n".join(parts)


def write_profile(rows: list[ProfileRow], out_dir: Path, settings: dict[str, object]) -> dict[str, Path]:
    """results/bench/profile.csv (one row per arm, category and stage) and profile.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"profile_csv": out_dir / "profile.csv", "profile_markdown": out_dir / "profile.md"}
    with open(paths["profile_csv"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows({**asdict(row), "seconds": round(row.seconds, 3)} for row in rows)
    paths["profile_markdown"].write_text(to_markdown(rows, settings), encoding="utf-8")
    return paths
