"""Where `make verify`'s seconds go, for one seed: the suite's way only, into results/bench/profile.{csv,md}.

    python -m benchmarks.profile_verify --scale cpu --seed 0 [--claims two_stage,tta]

Per claim, per arm and per stage; within training, tracing vs compute vs setup (benchmarks/bench/profile.py).
"""

import sys

from benchmarks.bench.verify import main

if __name__ == "__main__":
    main(["--profile-only", *sys.argv[1:]])
