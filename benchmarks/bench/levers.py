"""The cpu preset's levers side by side: image size and Keras' precision policy, one child process per setting.

    python -m benchmarks.bench_levers [--sizes 64,80,96] [--policies float32,mixed_bfloat16] [--rounds 2]

Each child is one `make verify` worker's set-up: one TensorFlow thread, the lab's classifier (Lite0, the lesson's
augmentation, BatchNorm frozen) on random images as many as the cpu scale trains and tests on. After one traced
epoch each, it times `--epochs` stage-1 epochs (base frozen) and stage-2 epochs (whole base unfrozen), then the
evaluation of the test set (a first, traced call and a second one). A precision policy is process-wide in Keras,
hence a child per setting; the settings' order alternates between rounds. Writes results/bench/levers.{csv,md}: per
setting the median and range of each time over rounds, and what one seed's standard model (stage 1, stage 2, one
evaluation) costs under three epoch presets, relative to the first setting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.bench.settings import machine, settings_markdown
from tl_claims.core.markdown import markdown_table
from tl_claims.core.paths import REPO_ROOT, default_cache_dir
from tl_claims.recipe.scales import SCALES

TIMINGS = ("stage1_epoch_s", "stage2_epoch_s", "stage1_trace_s", "stage2_trace_s", "evaluation_s")
EPOCH_PRESETS = ((10, 6), (5, 6), (5, 10))  # (stage 1, stage 2): the earlier cpu preset, today's, the lesson's
OUT_NAME = "levers"


def time_setting(size: int, policy: str, epochs: int, cache_dir: Path) -> dict[str, float]:
    """In this process (policy set first): the timings of one setting, in seconds."""
    import keras
    import tensorflow as tf

    keras.mixed_precision.set_global_policy(policy)
    from tl_claims.data.augment import lesson_augmentation
    from tl_claims.recipe import architecture, training

    scale, classes = SCALES["cpu"], 5
    classifier = architecture.build_classifier(
        scale.backbone,
        image_size=size,
        num_classes=classes,
        weights="imagenet",
        augmentation=lesson_augmentation(0),
        dropout=scale.dropout,
        bn_policy="frozen",
        cache_dir=cache_dir,
    )
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (scale.n_train * classes, size, size, 3)).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((images, rng.integers(0, classes, len(images)))).batch(scale.batch_size)
    timings = {}
    training.compile_model(classifier.model, scale.stage1_lr)
    timings["stage1_trace_s"], timings["stage1_epoch_s"] = _fit_times(classifier.model, train, epochs)
    training.unfreeze(classifier, fraction=1.0, bn_policy="frozen")
    training.compile_model(classifier.model, scale.stage2_lr)
    timings["stage2_trace_s"], timings["stage2_epoch_s"] = _fit_times(classifier.model, train, epochs)
    test = rng.uniform(0, 255, (scale.n_test * classes, size, size, 3)).astype("float32")
    from tl_claims.recipe.evaluation import evaluator

    evaluate = evaluator(classifier.model, with_features=True)
    labels = np.zeros(len(test), dtype="int64")
    evaluate(test, labels)  # traced here
    started = time.perf_counter()
    evaluate(test, labels)
    timings["evaluation_s"] = time.perf_counter() - started
    return timings


def _fit_times(model, train, epochs: int) -> tuple[float, float]:
    """(first epoch minus the steady one: tracing, the median steady epoch)."""
    durations = []
    for _ in range(epochs + 1):
        started = time.perf_counter()
        model.fit(train, epochs=1, verbose=0)
        durations.append(time.perf_counter() - started)
    steady = statistics.median(durations[1:])
    return durations[0] - steady, steady


def child_command(size: int, policy: str, epochs: int, cache_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.bench.levers",
        "--child",
        f"{size}:{policy}",
        "--epochs",
        str(epochs),
        "--cache-dir",
        str(cache_dir),
    ]


def measure(
    settings: Sequence[tuple[int, str]],
    rounds: int,
    command: Callable[[int, str], Sequence[str]],
    echo: Callable[[str], None] = print,
) -> pd.DataFrame:
    """One row per child: round, image size, policy and the timings; the order reverses every other round."""
    rows = []
    for number in range(rounds):
        for size, policy in settings if number % 2 == 0 else list(reversed(settings)):
            done = subprocess.run(command(size, policy), check=False, capture_output=True, text=True, cwd=REPO_ROOT)
            if done.returncode != 0:
                raise RuntimeError(f"the {size} px {policy} child failed: {done.stderr[-800:]}")
            timing = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append({"round": number + 1, "image size": size, "policy": policy, **timing})
            echo(f"round {number + 1}, {size} px {policy}: stage-2 epoch {timing['stage2_epoch_s']:.2f} s")
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per setting (in first-seen order): each timing as median [min–max], and one seed's standard model under each
    epoch preset (median timings), relative to the first setting's."""
    keys = ["image size", "policy"]
    medians = table.groupby(keys, sort=False)[list(TIMINGS)].median()
    spread = table.groupby(keys, sort=False)[list(TIMINGS)].agg(["min", "max"])
    out = pd.DataFrame(index=medians.index)
    for name in TIMINGS:
        low, high = spread[(name, "min")], spread[(name, "max")]
        out[name.replace("_s", " s").replace("_", " ")] = [
            f"{m:.2f} [{lo:.2f}–{hi:.2f}]" for m, lo, hi in zip(medians[name], low, high)
        ]
    for first, second in EPOCH_PRESETS:
        cost = first * medians["stage1_epoch_s"] + second * medians["stage2_epoch_s"] + medians["evaluation_s"]
        out[f"seed at {first} + {second} s (×)"] = [f"{value:.1f} ({value / cost.iloc[0]:.2f}×)" for value in cost]
    return out.reset_index()


def to_markdown(table: pd.DataFrame, settings: dict[str, object]) -> str:
    lines = ["# The cpu preset's levers: image size and precision, side by side", ""]
    lines += settings_markdown(settings)
    lines += ["", markdown_table(summary(table)), "", "Every child:", ""]
    lines += [markdown_table(table, floats=".2f"), "", (__doc__ or "").split("\n\n", 2)[2].strip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Path] | None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="64,80,96", help="image sizes in pixels, comma-separated")
    parser.add_argument("--policies", default="float32,mixed_bfloat16", help="Keras precision policies")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each setting once per round (default 2)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per stage (default 3)")
    parser.add_argument("--out-dir", type=Path, default=Path("results/bench"))
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="where the backbone weights lie")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one worker: one TensorFlow thread, before its runtime starts
        from tl_claims.core.quiet import quiet_tensorflow

        quiet_tensorflow()
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        size, policy = args.child.split(":")
        print(json.dumps(time_setting(int(size), policy, args.epochs, args.cache_dir)))
        return None
    settings = [(int(size), policy) for size in args.sizes.split(",") for policy in args.policies.split(",")]
    info = {**machine(), "timed epochs per stage": args.epochs, "rounds": args.rounds}
    table = measure(settings, args.rounds, lambda size, kind: child_command(size, kind, args.epochs, args.cache_dir))
    info["load average at end"] = " ".join(f"{load:.2f}" for load in os.getloadavg())
    args.out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": args.out_dir / f"{OUT_NAME}.csv", "md": args.out_dir / f"{OUT_NAME}.md"}
    table.to_csv(paths["csv"], index=False)
    paths["md"].write_text(to_markdown(table, info), encoding="utf-8")
    print(summary(table).to_string())
    return paths


if __name__ == "__main__":
    main()
