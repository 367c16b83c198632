"""Two training workers side by side, tf.data's autotuner on and off: how much of its core each one keeps busy.

    python -m benchmarks.bench_side_by_side [--epochs 8] [--rounds 2] [--scale cpu]

Every round starts two child processes at once for each setting (the order of the settings alternates between
rounds). Each child is what a `make verify` worker does most: one TensorFlow thread, the scale's stage-2 set-up
(`bench.verify.stage2_model`) trained on the lab's pipeline, one untimed epoch (tracing), then `--epochs` timed
epochs, a new iterator each as Keras makes them. It reports the wall and CPU seconds of the timed epochs; busy = CPU
÷ wall (1.0: its core never idled). Writes results/bench/side_by_side.{csv,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

import pandas as pd

from benchmarks.bench.settings import machine, settings_markdown
from tl_claims.core.markdown import markdown_table
from tl_claims.core.paths import REPO_ROOT
from tl_claims.recipe.scales import SCALES, Scale

SETTINGS = ("autotuner on", "autotuner off")  # off: the pipeline as the lab builds it (data.sources)
OUT_NAME = "side_by_side"


def train_and_time(scale: Scale, cache_dir: Path, epochs: int, autotuner: bool) -> dict[str, float]:
    """In this process: the stage-2 set-up on the lab's pipeline, timed over `epochs` epochs after a traced one."""
    from benchmarks.bench.verify import stage2_model
    from tl_claims.data import tf_pipeline
    from tl_claims.recipe.lab import Lab

    default = mock.patch.object(tf_pipeline, "without_autotuning", lambda data: data)  # tf.data's own default
    with default if autotuner else contextlib.nullcontext():
        lab = Lab(scale, cache_dir)
        model = stage2_model(lab, seed=0)
        model.fit(lab.train_dataset(0), epochs=1, shuffle=False, verbose=0)
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        model.fit(lab.train_dataset(0), epochs=epochs, shuffle=False, verbose=0)
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "busy": cpu / wall}


def child_command(scale: str, cache_dir: Path, epochs: int, setting: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.bench.side_by_side",
        "--child",
        setting,
        "--scale",
        scale,
        "--cache-dir",
        str(cache_dir),
        "--epochs",
        str(epochs),
    ]


def run_pair(command: Sequence[str]) -> list[dict[str, float]]:
    """Two copies of `command` started together; each one's last stdout line, read as JSON. Their stderr goes to
    files, so a chatty child never blocks on a full pipe while the other one is being read."""
    with tempfile.TemporaryFile("w+") as first, tempfile.TemporaryFile("w+") as second:
        children = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, cwd=REPO_ROOT)
            for errors in (first, second)
        ]
        outputs = [child.communicate()[0] for child in children]
        for child, errors in zip(children, (first, second)):
            if child.returncode != 0:
                errors.seek(0)
                raise RuntimeError(
                    f"a side-by-side child failed (exit status {child.returncode}); last stderr: {errors.read()[-800:]}"
                )
    return [json.loads(output.strip().splitlines()[-1]) for output in outputs]


def measure(rounds: int, command: Callable[[str], Sequence[str]], echo: Callable[[str], None] = print) -> pd.DataFrame:
    """One row per child: round, setting, worker, wall_s, cpu_s, busy."""
    rows = []
    for number in range(rounds):
        for setting in SETTINGS if number % 2 == 0 else reversed(SETTINGS):
            for worker, timing in enumerate(run_pair(command(setting))):
                rows.append({"round": number + 1, "setting": setting, "worker": worker + 1, **timing})
            echo(f"round {number + 1}, {setting}: " + ", ".join(f"{row['busy']:.2f} busy" for row in rows[-2:]))
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per setting: the median busy share and the median pair time (the slower child of each pair)."""
    pairs = table.groupby(["setting", "round"])["wall_s"].max().groupby("setting").median()
    busy = table.groupby("setting")["busy"].median()
    return pd.DataFrame({"median busy": busy, "median pair wall s": pairs}).reindex(list(SETTINGS))


def to_markdown(table: pd.DataFrame, settings: dict[str, object]) -> str:
    result = summary(table)
    on, off = (result.loc[setting, "median pair wall s"] for setting in SETTINGS)
    lines = ["# Two training workers side by side: tf.data's autotuner on and off", ""]
    lines += settings_markdown(settings)
    lines += ["", f"**pair wall time, autotuner on ÷ off = {on / off:.2f}×**", ""]
    shown = _formatted(result.reset_index(names="setting"), {"median busy": ".2f", "median pair wall s": ".1f"})
    lines += [markdown_table(shown), ""]
    rounds = _formatted(table, {"wall_s": ".1f", "cpu_s": ".1f", "busy": ".2f"})
    rounds = rounds[["round", "setting", "worker", "wall_s", "cpu_s", "busy"]]
    lines += [markdown_table(rounds.rename(columns={"wall_s": "wall s", "cpu_s": "CPU s"}))]
    lines += ["", (__doc__ or "").split("\n\n", 2)[2].strip()]
    return "\n".join(lines) + "\n"


def _formatted(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """The frame with each named column written with its format spec (a spec per column: busy shares to 2 places,
    seconds to 1)."""
    return frame.assign(**{name: [format(value, spec) for value in frame[name]] for name, spec in formats.items()})


def write(table: pd.DataFrame, settings: dict[str, object], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out_dir / f"{OUT_NAME}.csv", "md": out_dir / f"{OUT_NAME}.md"}
    table.to_csv(paths["csv"], index=False)
    paths["md"].write_text(to_markdown(table, settings), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> dict[str, Path] | None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="timed epochs per child (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each setting once per round (default 2)")
    parser.add_argument("--scale", default="cpu", choices=sorted(SCALES), help="scale preset (default cpu)")
    parser.add_argument("--out-dir", type=Path, default=Path("results/bench"))
    parser.add_argument("--cache-dir", type=Path, help="the children's cache (default: a temporary folder)")
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one worker: one TensorFlow thread, before its runtime starts
        from tl_claims.core.quiet import quiet_tensorflow

        quiet_tensorflow()
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        timing = train_and_time(SCALES[args.scale], args.cache_dir, args.epochs, args.child == SETTINGS[0])
        print(json.dumps(timing))
        return None
    with tempfile.TemporaryDirectory(prefix="bench-side-") as temporary:
        cache_dir = args.cache_dir or Path(temporary)
        settings = {**machine(), "scale": args.scale, "timed epochs per child": args.epochs, "rounds": args.rounds}
        table = measure(args.rounds, lambda setting: child_command(args.scale, cache_dir, args.epochs, setting))
    settings["load average at end"] = " ".join(f"{load:.2f}" for load in os.getloadavg())
    paths = write(table, settings, args.out_dir)
    print(summary(table).to_string())
    return paths


if __name__ == "__main__":
    main()
