"""The cpu preset's levers side by side, image size × precision policy: `python -m benchmarks.bench_levers`.

See benchmarks/bench/levers.py for what is measured; writes results/bench/levers.{csv,md}.
"""

import sys

from benchmarks.bench.levers import main

if __name__ == "__main__":
    main(sys.argv[1:])
