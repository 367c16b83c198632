"""A long run's memory, one lab training many models: `python -m benchmarks.bench_lab_memory [--seeds 40]`.

See benchmarks/bench/memory.py for what is measured.
"""

import sys

from benchmarks.bench.memory import main

if __name__ == "__main__":
    main(sys.argv[1:])
