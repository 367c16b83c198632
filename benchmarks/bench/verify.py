"""What the shared lab saves, and what the input pipeline costs: both measured in one process run.

Naive vs suite: the same claim variants for one seed,
- the suite's way: one `Lab` with one fresh, empty cache folder, shared by every claim variant (as `make verify`);
- the naive way: each claim variant alone, as the lesson's notebook would run it — its own fresh `Lab` and its own
  fresh, empty cache folder, so its own data loading, its own stage-1 model, its own converted weights; nothing
  shared, in memory either (the process-wide caches of converted weights and photos are emptied first).
The two ways are interleaved variant by variant (suite, then naive), so when a time budget stops the run the variants
covered are the same for both; a variant in the suite's way still benefits from what the suite's earlier variants
built — that sharing is what is being measured. Every run starts after `keras.backend.clear_session()`.

Pipeline vs in-memory: one stage-2 training epoch (base unfrozen, BatchNorm frozen, the scale's backbone, image size
and batch) fed by the suite's tf.data pipeline (`Lab.train_dataset`) against the same epoch on the same images as
NumPy arrays (`model.fit(x, y)`); steady epochs only (each model's first, traced epoch is left out), repetitions
alternating between the two, median. The pipeline alone (iterating its batches, no model) is timed as well.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from benchmarks.bench.profile import Profiler
from benchmarks.bench.settings import machine, settings_markdown
from tl_claims import engine
from tl_claims.backbones.weights_cache import forget_in_memory_weights
from tl_claims.claims.base import Claim
from tl_claims.claims.registry import CLAIMS
from tl_claims.core.markdown import markdown_table
from tl_claims.data.augment import lesson_augmentation
from tl_claims.recipe import architecture, measures, training
from tl_claims.recipe.lab import Lab
from tl_claims.recipe.scales import Scale

FIELDS = ("section", "item", "way", "seconds", "ratio", "baseline", "treatment", "samples", "note")
SUITE, NAIVE = "suite", "naive"
PIPELINE, IN_MEMORY, PIPELINE_ALONE = "tf.data pipeline", "in-memory arrays", "pipeline alone (no model)"
MEMOISED_S = 0.5  # below this a suite run only read memoised models and evaluations
RECIPE_KINDS = (("scratch", "scratch"), ("stage2", "stage-2"), ("stage1", "stage-1"), ("train_linear_head", "probe"))


@dataclass(frozen=True)
class VariantTiming:
    """One claim variant run one way: wall seconds and both arms' measurements for the seed."""

    claim: str
    variant: str
    way: str
    seconds: float
    baseline: float
    treatment: float
    recipes: tuple[str, ...] = ()

    @property
    def item(self) -> str:
        return f"{self.claim}[{self.variant}]"


@dataclass(frozen=True)
class FeedTiming:
    """Steady-state epoch seconds of one way of feeding the same training epoch."""

    feed: str
    epochs: tuple[float, ...]
    images: int

    @property
    def median(self) -> float:
        return statistics.median(self.epochs)


@dataclass
class BenchRun:
    """Everything one run measured, with the settings it ran under."""

    settings: dict[str, object]
    variants: list[VariantTiming] = field(default_factory=list)
    feeds: list[FeedTiming] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# --- which claim variants ---------------------------------------------------------------------------------------------
def claim_variants(scale: Scale, selection: Iterable[str] | None = None) -> list[tuple[Claim, str]]:
    """(claim, variant) pairs in the registry's order (`make verify`'s), those the scale runs; `selection` keeps
    only the named claims (`two_stage`) or claim variants (`two_stage:lr_1e-5`), in the registry's order."""
    chosen = set(selection or ())
    pairs = []
    for claim in CLAIMS.values():
        for variant in claim.variants:
            named = not chosen or claim.id in chosen or f"{claim.id}:{variant.name}" in chosen
            if named and scale.runs(claim, variant.name):
                pairs.append((claim, variant.name))
    unknown = chosen - set(CLAIMS) - {f"{claim.id}:{name}" for claim, name in pairs}
    if unknown:
        raise ValueError(f"unknown claim(s) or variant(s) {sorted(unknown)}; claims: {sorted(CLAIMS)}")
    return pairs


# --- naive vs suite ---------------------------------------------------------------------------------------------------
def fresh_cache_dir(root: Path, name: str) -> Path:
    """A new, empty folder under `root` for one lab's artefacts."""
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))


def forget_process_caches() -> None:
    """What a fresh notebook process would not have: converted weights and photos held in memory."""
    forget_in_memory_weights()
    measures._photos.cache_clear()


def run_variant(
    lab: Lab, claim: Claim, variant: str, seed: int, way: str, profiler: Profiler, echo: Callable[[str], None]
) -> VariantTiming:
    """One claim variant on one seed through the engine, timed with `time.perf_counter`."""
    keras.backend.clear_session()
    gc.collect()
    first = len(profiler.rows)
    profiler.start()
    started = time.perf_counter()
    row, _ = engine.run_claim(
        claim, variant, lab, run_id=f"bench-{way}", progress=profiler.progress_hook(way, claim.id, variant, seed, echo)
    )
    seconds = time.perf_counter() - started
    stages = {entry.stage.rsplit(".", 1)[-1] for entry in profiler.rows[first:]}
    return VariantTiming(
        claim.id, variant, way, seconds, row.baseline, row.treatment, tuple(sorted(stages & _RECIPE_NAMES))
    )


_RECIPE_NAMES = {recipe for recipe, _ in RECIPE_KINDS} | {"stage1_batch_augmented", "stage2_without_recompile"}


def naive_and_suite(
    scale: Scale,
    pairs: list[tuple[Claim, str]],
    *,
    seed: int,
    cache_root: Path,
    profiler: Profiler,
    budget_s: float,
    started: float,
    echo: Callable[[str], None] = print,
    record: Callable[[VariantTiming], None] = lambda timing: None,
    naive: bool = True,
) -> list[str]:
    """Each variant the suite's way (one shared lab) then the naive way (a lab of its own); returns the variants
    left out: failed, or not started because the budget ran out (when the previous pair's time would overrun it)."""
    scale = scale.override(seeds=(seed,))
    suite_lab = Lab(scale, fresh_cache_dir(cache_root, SUITE))
    last_pair, failed = 0.0, []
    for index, (claim, variant) in enumerate(pairs):
        if time.perf_counter() - started + last_pair > budget_s:
            return [*failed, *(f"{c.id}:{v}" for c, v in pairs[index:])]
        pair_started = time.perf_counter()
        try:
            record(run_variant(suite_lab, claim, variant, seed, SUITE, profiler, echo))
            if naive:
                forget_process_caches()
                naive_dir = fresh_cache_dir(cache_root, NAIVE)
                record(run_variant(Lab(scale, naive_dir), claim, variant, seed, NAIVE, profiler, echo))
                shutil.rmtree(naive_dir, ignore_errors=True)  # after timing: only the disk space is at stake
        except Exception as error:  # one failing claim must not lose the others' measurements
            echo(f"{claim.id}:{variant} failed: {type(error).__name__}: {error}")
            failed.append(f"{claim.id}:{variant} (failed: {type(error).__name__})")
        last_pair = time.perf_counter() - pair_started
    return failed


def recipe_kind(recipes: Iterable[str]) -> str:
    """What a variant trains, read from the recipes its naive run called: scratch > stage-2 > stage-1 > probe."""
    names = {name.removesuffix("_batch_augmented").removesuffix("_without_recompile") for name in recipes}
    return next((kind for recipe, kind in RECIPE_KINDS if recipe in names), "evaluation only")


# --- pipeline vs in-memory -------------------------------------------------------------------------------------------
def stage2_model(lab: Lab, seed: int) -> keras.Model:
    """The stage-2 training set-up: the scale's backbone with ImageNet weights, unfrozen, BatchNorm frozen, compiled
    at the stage-2 rate, its training state built (the weights' values do not change the cost of an epoch)."""
    scale = lab.scale
    training.seed_everything(seed, "bench")
    classifier = architecture.build_classifier(
        scale.backbone,
        image_size=scale.image_size,
        num_classes=len(lab.splits(seed).class_names),
        augmentation=lesson_augmentation(seed),
        dropout=scale.dropout,
        cache_dir=lab.cache_dir,
    )
    training.unfreeze(classifier, bn_policy="frozen")
    training.compile_model(classifier.model, scale.stage2_lr)
    training.build_training_state(classifier.model, lab.train_dataset(seed))
    return classifier.model


def pipeline_vs_in_memory(
    lab: Lab, seed: int, repetitions: int, echo: Callable[[str], None] = print
) -> list[FeedTiming]:
    """Median steady epoch of the tf.data pipeline, in-memory arrays, and the pipeline alone."""
    from benchmarks.bench.profile import EpochTimer

    x, y = lab.splits(seed).arrays("train")
    images, labels = x.astype("float32"), np.asarray(y)
    batch = lab.scale.batch_size
    feeds: dict[str, Callable[[keras.Model, EpochTimer], object]] = {
        PIPELINE: lambda model, timer: model.fit(
            lab.train_dataset(seed), epochs=1, shuffle=False, verbose=0, callbacks=[timer]
        ),
        IN_MEMORY: lambda model, timer: model.fit(
            images, labels, batch_size=batch, epochs=1, shuffle=True, verbose=0, callbacks=[timer]
        ),
    }
    models = {feed: stage2_model(lab, seed) for feed in feeds}
    for feed, run in feeds.items():  # the first epoch traces the train step: left out
        run(models[feed], EpochTimer())
        echo(f"pipeline bench: {feed} traced")
    epochs: dict[str, list[float]] = {feed: [] for feed in (*feeds, PIPELINE_ALONE)}
    for repetition in range(repetitions):
        order = list(feeds) if repetition % 2 == 0 else list(reversed(feeds))
        for feed in order:
            timer = EpochTimer()
            feeds[feed](models[feed], timer)
            epochs[feed] += timer.seconds
        epochs[PIPELINE_ALONE].append(_iterate(lab, seed))
        echo(f"pipeline bench: repetition {repetition + 1}/{repetitions}: " + _medians(epochs))
    return [FeedTiming(feed, tuple(seconds), len(images)) for feed, seconds in epochs.items()]


def _iterate(lab: Lab, seed: int) -> float:
    started = time.perf_counter()
    for _ in lab.train_dataset(seed):
        pass
    return time.perf_counter() - started


def _medians(epochs: dict[str, list[float]]) -> str:
    return ", ".join(f"{feed} {statistics.median(seconds):.2f} s" for feed, seconds in epochs.items() if seconds)


# --- files ------------------------------------------------------------------------------------------------------------
def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def covered(run: BenchRun) -> list[VariantTiming]:
    """The naive runs whose suite run is also there (the pairs both ways finished)."""
    suite = {timing.item for timing in run.variants if timing.way == SUITE}
    return [timing for timing in run.variants if timing.way == NAIVE and timing.item in suite]


def totals(run: BenchRun) -> dict[str, float]:
    items = {timing.item for timing in covered(run)}
    return {
        way: sum(timing.seconds for timing in run.variants if timing.way == way and timing.item in items)
        for way in (SUITE, NAIVE)
    }


def csv_rows(run: BenchRun) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for timing in run.variants:
        kind = recipe_kind(timing.recipes)
        rows.append(
            {
                **{name: getattr(timing, name) for name in ("way", "seconds", "baseline", "treatment")},
                "section": "naive_vs_suite",
                "item": timing.item,
                "note": f"{kind}; recipes run: {' '.join(timing.recipes) or 'none'}",
            }
        )
    seconds = totals(run)
    rows += [{"section": "naive_vs_suite", "item": "total", "way": way, "seconds": s} for way, s in seconds.items()]
    rows.append(
        {
            "section": "naive_vs_suite",
            "item": "total",
            "way": "naive / suite",
            "ratio": ratio(seconds[NAIVE], seconds[SUITE]),
            "samples": len(covered(run)),
            "note": "goal >= 5",
        }
    )
    rows += [
        {
            "section": "pipeline",
            "item": "stage-2 epoch",
            "way": feed.feed,
            "seconds": feed.median,
            "samples": len(feed.epochs),
        }
        for feed in run.feeds
    ]
    if run.feeds:
        rows.append(
            {
                "section": "pipeline",
                "item": "stage-2 epoch",
                "way": "in-memory / pipeline",
                "ratio": pipeline_ratio(run),
                "note": "pipeline speed relative to in-memory; goal >= 0.9",
            }
        )
    return rows


def pipeline_ratio(run: BenchRun) -> float:
    medians = {feed.feed: feed.median for feed in run.feeds}
    return ratio(medians.get(IN_MEMORY, float("nan")), medians.get(PIPELINE, float("nan")))


def write_csv(run: BenchRun, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for row in csv_rows(run):
            writer.writerow({name: _rounded(row.get(name, "")) for name in FIELDS})


def _rounded(value: object) -> object:
    return round(value, 4) if isinstance(value, float) else value


def to_markdown(run: BenchRun, findings: str = "") -> str:
    seconds, pairs = totals(run), covered(run)
    suite = {timing.item: timing for timing in run.variants if timing.way == SUITE}
    parts = ["# Verification speed: naive vs suite, pipeline vs in-memory (one run)", ""]
    parts += settings_markdown(run.settings)
    parts += [f"- claim variants covered ({len(pairs)}): {', '.join(t.item for t in pairs) or 'none'}"]
    if run.skipped:
        parts += [f"- left out (time budget, or failed): {', '.join(run.skipped)}"]
    parts += ["", "## Naive vs suite", ""]
    parts += [
        f"**Suite {seconds[SUITE]:.0f} s, naive {seconds[NAIVE]:.0f} s: naive / suite = "
        f"{ratio(seconds[NAIVE], seconds[SUITE]):.2f}×** (goal ≥ 5×) over {len(pairs)} claim variants, one seed.",
        "",
    ]
    header = ["claim variant", "trains", "suite s", "naive s", "naive / suite", "same result (baseline / treatment)"]
    table: list[list[object]] = []
    for naive in pairs:
        shared = suite[naive.item]
        kind = recipe_kind(naive.recipes)
        table.append(
            [naive.item, kind, shared.seconds, naive.seconds, _ratio_cell(naive, shared), _same(naive, shared)]
        )
    parts += [markdown_table(pd.DataFrame(table, columns=header), floats=".1f"), ""]
    if run.feeds:
        parts += ["## Pipeline vs in-memory (one stage-2 epoch)", ""]
        parts += [
            f"**in-memory / pipeline = {pipeline_ratio(run):.2f}** (goal ≥ 0.9: the pipeline at 90 % of the "
            "in-memory speed or better).",
            "",
        ]
        header = ["feed", "median epoch s", "min s", "max s", "epochs timed", "images/s median [slowest–fastest]"]
        table = [[f.feed, f.median, min(f.epochs), max(f.epochs), len(f.epochs), _rates(f)] for f in run.feeds]
        parts += [markdown_table(pd.DataFrame(table, columns=header), floats=".2f"), ""]
    if findings:
        parts += ["## Findings", "", findings, ""]
    parts += ["## Method", "", __doc__.split("\n\n", 1)[1].strip(), ""]
    return "\n".join(parts)


def _rates(feed: FeedTiming) -> str:
    """`119 [102–139]`: images/s of the median epoch, then of the slowest and the fastest one."""
    slowest, fastest = feed.images / max(feed.epochs), feed.images / min(feed.epochs)
    return f"{feed.images / feed.median:.0f} [{slowest:.0f}–{fastest:.0f}]"


def _ratio_cell(naive: VariantTiming, suite: VariantTiming) -> str:
    """The per-variant ratio; a variant whose models the suite already had costs it almost nothing."""
    if suite.seconds < MEMOISED_S:
        return f"— (suite < {MEMOISED_S} s: all memoised)"
    return f"{ratio(naive.seconds, suite.seconds):.2f}"


def _same(naive: VariantTiming, suite: VariantTiming) -> str:
    """Whether both ways measured the same baseline and treatment, and if not, both."""
    if (naive.baseline, naive.treatment) == (suite.baseline, suite.treatment):
        return "yes"
    both = {way.way: f"{way.baseline:.3f} / {way.treatment:.3f}" for way in (suite, naive)}
    return f"**no**: suite {both[SUITE]}, naive {both[NAIVE]}"


def write_report(run: BenchRun, out_dir: Path, findings: str = "") -> dict[str, Path]:
    """results/bench/verify.csv and verify.md; written after every measurement, so a stopped run keeps its numbers."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out_dir / "verify.csv", "markdown": out_dir / "verify.md"}
    write_csv(run, paths["csv"])
    (out_dir / "verify.json").write_text(json.dumps(asdict(run), indent=1, default=str), encoding="utf-8")
    paths["markdown"].write_text(to_markdown(run, findings), encoding="utf-8")
    return paths


def load_run(path: Path) -> BenchRun:
    """A run written by `write_report` (verify.json), to render again (with findings) without measuring again."""
    stored = json.loads(path.read_text(encoding="utf-8"))
    variants = [VariantTiming(**{**timing, "recipes": tuple(timing["recipes"])}) for timing in stored["variants"]]
    feeds = [FeedTiming(**{**feed, "epochs": tuple(feed["epochs"])}) for feed in stored["feeds"]]
    return BenchRun(stored["settings"], variants, feeds, stored["skipped"])


# --- the command ------------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="cpu", help="a preset of tl_claims.recipe.scales.SCALES (default: cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset", help="the scale's data set instead (e.g. tf_flowers, synthetic)")
    parser.add_argument("--image-size", type=int, help="the scale's image size instead")
    parser.add_argument("--claims", default="", help="comma-separated claim ids or claim:variant (default: all)")
    parser.add_argument("--budget-minutes", type=float, default=float("inf"), help="stop starting claim variants after")
    parser.add_argument("--pipeline-repetitions", type=int, default=5, help="timed epochs per feed; 0: no pipeline")
    parser.add_argument("--profile-only", action="store_true", help="the suite's way only, profile files only")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--findings", type=Path, help="a Markdown file of findings to include in verify.md")
    parser.add_argument("--render-only", action="store_true", help="rewrite verify.md from verify.json (+ findings)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, *, scale: Scale | None = None, echo: Callable[[str], None] = print) -> dict:
    """Run the bench; returns the paths written. `scale` overrides `--scale` (tests pass a tiny one)."""
    from benchmarks.bench.profile import write_profile
    from tl_claims.recipe.scales import SCALES

    args = parse_args(argv)
    findings = args.findings.read_text(encoding="utf-8") if args.findings else ""
    if args.render_only:
        out_dir = args.results_dir / "bench"
        return write_report(load_run(out_dir / "verify.json"), out_dir, findings)
    scale = scale or SCALES[args.scale].override(dataset=args.dataset, image_size=args.image_size)
    pairs = claim_variants(scale, [name for name in args.claims.split(",") if name])
    out_dir, started = args.results_dir / "bench", time.perf_counter()
    settings = {**machine(), "scale": scale.name, "seed": args.seed, "budget (minutes)": args.budget_minutes}
    run, profiler, paths = BenchRun(settings), Profiler(), {}
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as root:
        if args.pipeline_repetitions > 0 and not args.profile_only:
            lab = Lab(scale.override(seeds=(args.seed,)), fresh_cache_dir(Path(root), "pipeline"))
            run.feeds = pipeline_vs_in_memory(lab, args.seed, args.pipeline_repetitions, echo)
            paths.update(write_report(run, out_dir, findings))

        def write_all() -> None:
            settings["wall seconds"] = round(time.perf_counter() - started)
            profile_settings = {**settings, "way profiled": "suite (one shared lab, one fresh cache)"}
            paths.update(write_profile(profiler.rows, out_dir, profile_settings))
            if not args.profile_only:
                paths.update(write_report(run, out_dir, findings))

        def record(timing: VariantTiming) -> None:
            run.variants.append(timing)
            write_all()

        with profiler.installed():
            run.skipped = naive_and_suite(
                scale,
                pairs,
                seed=args.seed,
                cache_root=Path(root),
                profiler=profiler,
                budget_s=args.budget_minutes * 60,
                started=started,
                echo=echo,
                record=record,
                naive=not args.profile_only,
            )
        settings["load average at end"] = " ".join(f"{load:.2f}" for load in os.getloadavg())
        write_all()
    return paths
