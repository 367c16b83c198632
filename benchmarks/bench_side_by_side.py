"""Two training workers side by side, tf.data's autotuner on and off: `python -m benchmarks.bench_side_by_side`.

See benchmarks/bench/side_by_side.py for what is measured; writes results/bench/side_by_side.{csv,md}.
"""

import sys

from benchmarks.bench.side_by_side import main

if __name__ == "__main__":
    main(sys.argv[1:])
