"""A long run's memory: the resident set size of one lab as it trains one stage-1 and one stage-2 model per seed.

    python -m benchmarks.bench_lab_memory [--seeds 40] [--every 10] [--scale smoke]

Each printed line is the process's resident set size (Linux: VmRSS in /proc/self/status) after that many seeds. A
lab that kept every trained model's weights grew by the size of a model for each one (docs/measured-facts.md, "A
long run's memory"); the lab keeps its `weights_in_memory` most recent ones.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

from tl_claims.recipe.scales import Scale


def resident_mb() -> float | None:
    """This process's resident set size in MB; None where /proc is not there (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measure(
    scale: Scale, seeds: int, every: int, echo: Callable[[str], None] = print, cache_dir: Path | None = None
) -> list[tuple[int, int, float]]:
    """Train stage 1 and stage 2 for seeds 0..seeds-1 on one lab with an empty model cache (a temporary one unless
    `cache_dir` is given); (seeds, models held in memory, MB) after the first seed and every `every` seeds."""
    from tl_claims.recipe.lab import Lab

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as temporary:
        lab = Lab(scale.override(seeds=seeds), cache_dir or Path(temporary))
        for seed in range(seeds):
            lab.stage2(seed)
            if seed == 0 or (seed + 1) % every == 0:
                rows.append((seed + 1, lab.models_in_memory, resident_mb() or float("nan")))
                echo(f"after {seed + 1:4d} seeds ({2 * (seed + 1)} models, {rows[-1][1]} kept): {rows[-1][2]:.0f} MB")
    return rows


def main(argv: list[str] | None = None) -> list[tuple[int, int, float]]:
    from tl_claims.core.quiet import quiet_tensorflow
    from tl_claims.recipe.scales import SCALES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="seeds to train (two models each; default 40)")
    parser.add_argument("--every", type=int, default=10, help="print every N seeds (default 10)")
    parser.add_argument("--scale", default="smoke", choices=sorted(SCALES), help="scale preset (default smoke)")
    args = parser.parse_args(argv)
    quiet_tensorflow()
    return measure(SCALES[args.scale], args.seeds, args.every)
