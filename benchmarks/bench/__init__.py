"""Augmentation throughput: records from the benchmarks → a table, `bottleneck` rows, a plain-words answer, files.

The benchmarks (benchmarks/test_bench_augmentation.py) time fixed-shape batches and hand one `Record` per
parameter set to this module; everything here is plain data, so the writer is tested without timing anything.

Reading the bottleneck rows: `ratio` = augmentation images/s ÷ training-step images/s at the same image size and
batch. Where augmentation and the training step run on the same device (inside the model, or tf.data on a CPU that
also trains), their costs add: an epoch takes `1 / ratio` longer than training alone. Where tf.data augments on the
CPU while a GPU trains, the two overlap: augmentation starves the GPU only when `ratio < 1`.
Split by concern: `records` (what was timed), `tables` (what it means), `report` (the files).
"""

from benchmarks.bench.records import (
    AUGMENTATION,
    HEAVY,
    IN_MODEL,
    MEMCPY,
    NO_AUGMENTATION,
    REFERENCE,
    STACK,
    TF_DATA,
    TRAIN_STEPS,
    Record,
    rate_spread,
    thread_settings,
)
from benchmarks.bench.report import plot, to_markdown, write_report
from benchmarks.bench.tables import answer, bottleneck_table, throughput_table

__all__ = [
    "AUGMENTATION",
    "HEAVY",
    "IN_MODEL",
    "MEMCPY",
    "NO_AUGMENTATION",
    "REFERENCE",
    "STACK",
    "TF_DATA",
    "TRAIN_STEPS",
    "Record",
    "answer",
    "bottleneck_table",
    "plot",
    "rate_spread",
    "thread_settings",
    "throughput_table",
    "to_markdown",
    "write_report",
]
