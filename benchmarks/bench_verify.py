"""Naive vs suite and pipeline vs in-memory, measured in one run: results/bench/verify.{csv,md} and profile.{csv,md}.

    python -m benchmarks.bench_verify --scale cpu --seed 0 [--claims two_stage,tta:flip_crop] [--budget-minutes 40]

See benchmarks/bench/verify.py for what is measured and how.
"""

import sys

from benchmarks.bench.verify import main

if __name__ == "__main__":
    main(sys.argv[1:])
