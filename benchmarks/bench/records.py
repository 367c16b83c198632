"""Augmentation-throughput records: what one benchmark timed, where and on what, with the thread settings.

The benchmarks (benchmarks/test_bench_augmentation.py) time fixed-shape batches and hand one `Record` per parameter
set to `benchmarks.bench`; everything downstream is plain data, so tables and files are tested without timing anything.
"""

import os
from dataclasses import dataclass, field

AUGMENTATION = "augmentation"
REFERENCE = "reference"
NO_AUGMENTATION = "none"  # tf.data pipeline with an identity map: the ceiling of the input pipeline
MEMCPY = "memcpy"  # one read and one write of the same bytes: the physical limit for flip and crop
TRAIN_STEPS = {"train_stage1": "stage 1 (frozen base)", "train_stage2": "stage 2 (whole base trained)"}
STACK = "stack"  # every benchmarked layer in one Sequential
HEAVY = "randaugment"  # the heavy augmentation the lesson's FAQ warns about
TF_DATA, IN_MODEL = "tf.data", "model"
CSV_NAME, MARKDOWN_NAME, FIGURE_NAME = "augmentation.csv", "augmentation.md", "figures/augmentation_throughput.png"


@dataclass(frozen=True)
class Record:
    """One benchmark's outcome: what was timed, where, on what, and the round times (None when it did not run)."""

    kind: str  # AUGMENTATION | REFERENCE
    transform: str  # a layer name, STACK, NO_AUGMENTATION, MEMCPY or a TRAIN_STEPS key
    placement: str  # TF_DATA | IN_MODEL | "-" for references that are neither
    device: str  # where the timed work ran: "cpu" | "gpu"
    image_size: int
    dtype: str  # input dtype: "uint8" | "float32"
    batch_size: int
    images_per_round: int
    seconds_median: float | None = None
    seconds_min: float | None = None
    seconds_max: float | None = None
    rounds: int = 0
    note: str = ""  # why it did not run (e.g. a layer that rejects uint8), or anything a reader must know
    threads: dict = field(default_factory=dict)

    @property
    def images_per_s(self) -> float | None:
        """The median round's rate: what the tables compare."""
        return _rate(self.images_per_round, self.seconds_median)

    @property
    def images_per_s_min(self) -> float | None:
        """The slowest round's rate (from the longest round)."""
        return _rate(self.images_per_round, self.seconds_max)

    @property
    def images_per_s_max(self) -> float | None:
        """The fastest round's rate (from the shortest round)."""
        return _rate(self.images_per_round, self.seconds_min)


def _rate(images: int, seconds: float | None) -> float | None:
    return None if not seconds else images / seconds


def rate_spread(images: int, stats) -> dict[str, float | None]:
    """Images/s of the slowest, the median and the fastest round, from pytest-benchmark's round statistics (its
    `benchmark.stats.stats`): what a benchmark stores in `extra_info`, so a saved run (`--benchmark-autosave`) holds
    the throughput beside the seconds that `pytest-benchmark compare` shows."""
    rates = {"images_per_s_min": stats.max, "images_per_s_median": stats.median, "images_per_s_max": stats.min}
    return {name: _rounded(_rate(images, seconds)) for name, seconds in rates.items()}


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 1)


def thread_settings() -> dict:
    """The settings that decide how many cores TensorFlow and tf.data use, recorded with every result."""
    import tensorflow as tf

    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),  # 0 = TensorFlow's default (all)
        "tf_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        "tf_data_private_threadpool": "default (0)",  # the benchmarks leave tf.data.Options at their defaults
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
