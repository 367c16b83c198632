"""Throughput and bottleneck tables from benchmark records, and the plain-words answer to "is augmentation the
bottleneck here?".

Reading the bottleneck rows: `ratio` = augmentation images/s ÷ training-step images/s at the same image size and
batch. Where augmentation and the training step run on the same device (inside the model, or tf.data on a CPU that
also trains), their costs add: an epoch takes `1 / ratio` longer than training alone. Where tf.data augments on the
CPU while a GPU trains, the two overlap: augmentation starves the GPU only when `ratio < 1`.
"""

import math
from dataclasses import asdict

import pandas as pd

from benchmarks.bench.records import (
    HEAVY,
    IN_MODEL,
    MEMCPY,
    NO_AUGMENTATION,
    STACK,
    TF_DATA,
    TRAIN_STEPS,
    Record,
)


def throughput_table(records: list[Record]) -> pd.DataFrame:
    """One row per record with images/s (the median round's, and the slowest and fastest round's) and how it compares
    with the no-augmentation and memory-copy references."""
    table = pd.DataFrame([{**_flat(record), **_rates(record)} for record in records])
    if table.empty:
        return table
    memcpy = _lookup(table, MEMCPY, ["device", "image_size", "dtype"])
    no_aug = _lookup(table, NO_AUGMENTATION, ["placement", "device", "image_size", "dtype"])  # tf.data only
    on_device = list(zip(table["device"], table["image_size"], table["dtype"]))
    in_pipeline = list(zip(table["placement"], table["device"], table["image_size"], table["dtype"]))
    table["share_of_memcpy"] = [_ratio(ips, memcpy.get(k)) for ips, k in zip(table["images_per_s"], on_device)]
    table["share_of_no_aug"] = [_ratio(ips, no_aug.get(k)) for ips, k in zip(table["images_per_s"], in_pipeline)]
    return table


def bottleneck_table(table: pd.DataFrame) -> pd.DataFrame:
    """A `bottleneck` row per placement and device: the whole stack's (and RandAugment's) images/s ÷ each training
    step's images/s at the same image size."""
    columns = [
        "transform",
        "placement",
        "augment_on",
        "train_on",
        "image_size",
        "dtype",
        "augment_images_per_s",
        "train_step",
        "train_images_per_s",
        "ratio",
        "epoch_time_factor",
        "reading",
    ]
    if table.empty:
        return pd.DataFrame(columns=columns)
    training = table[table["transform"].isin(list(TRAIN_STEPS)) & table["images_per_s"].notna()]
    stacks = table[table["transform"].isin([STACK, HEAVY]) & table["images_per_s"].notna()]
    rows = []
    for stack in stacks.itertuples(index=False):
        # tf.data augments on the host whatever trains; inside the model it runs where the model trains.
        train_devices = sorted(set(training["device"])) if stack.placement == TF_DATA else [stack.device]
        for step in training[
            training["device"].isin(train_devices) & (training["image_size"] == stack.image_size)
        ].itertuples(index=False):
            ratio = stack.images_per_s / step.images_per_s
            overlaps = stack.placement == TF_DATA and stack.device != step.device
            rows.append(
                {
                    "transform": stack.transform,
                    "placement": stack.placement,
                    "augment_on": stack.device,
                    "train_on": step.device,
                    "image_size": stack.image_size,
                    "dtype": stack.dtype,
                    "augment_images_per_s": stack.images_per_s,
                    "train_step": TRAIN_STEPS[step.transform],
                    "train_images_per_s": step.images_per_s,
                    "ratio": ratio,
                    "epoch_time_factor": max(1.0, 1 / ratio) if overlaps else 1 + 1 / ratio,
                    "reading": _reading(ratio, overlaps),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _reading(ratio: float, overlaps: bool) -> str:
    if overlaps:
        if ratio < 1:
            return f"starves training: the device waits, at most {ratio:.0%} busy"
        return f"keeps up ({ratio:.1f}× the step's rate); no starvation"
    share = 1 / (1 + ratio)
    return f"shares the device with the step: augmentation is {share:.0%} of each epoch's time"


def answer(bottlenecks: pd.DataFrame, gpu_visible: bool) -> str:
    """The plain-words answer to the lesson's FAQ ("augmentation on GPU or CPU?") from the measured rows."""
    if bottlenecks.empty:
        return "No bottleneck rows: the whole-stack and training-step benchmarks did not both run."
    keras_rows = bottlenecks[bottlenecks["placement"].isin([TF_DATA, IN_MODEL])]  # not the peer library's rows
    stack = keras_rows[keras_rows["transform"] == STACK]
    parts = [_starvation(stack, "the five-layer stack")] if not stack.empty else []
    heavy = keras_rows[keras_rows["transform"] == HEAVY]
    if not heavy.empty:
        parts.append(_starvation(heavy, "RandAugment (heavy augmentation)"))
    worst = keras_rows if not keras_rows.empty else bottlenecks
    worst = worst.loc[worst["epoch_time_factor"].idxmax()].to_dict()
    parts.append(
        "Worst case: {transform} {placement} on {augment_on} feeding {train_step} on {train_on} at "
        "{image_size} px ({dtype}) makes an epoch {epoch_time_factor:.2f}× as long as training alone.".format(**worst)
    )
    if gpu_visible:
        parts.append("Would the GPU help? Compare the model·gpu rows with the tf.data·cpu rows above.")
    else:
        parts.append(
            "Would moving it onto the GPU help? Not measurable here: no GPU was visible. Run "
            "`pytest benchmarks --benchmark-only -m 'gpu or not gpu'` on a GPU machine for the GPU rows."
        )
    for (transform, size, placement), rows in bottlenecks.groupby(["transform", "image_size", "placement"], sort=False):
        spans = [f"× {_span(group['epoch_time_factor'])} with {step}" for step, group in rows.groupby("train_step")]
        parts.append(
            f"- {transform} at {size} px in {placement} ({', '.join(sorted(set(rows['dtype'])))}): "
            "epoch time " + "; ".join(spans) + "."
        )
    return "\n".join(parts)


def _span(values: pd.Series) -> str:
    low, high = float(values.min()), float(values.max())
    return f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f}–{high:.2f}"


def _starvation(rows: pd.DataFrame, what: str) -> str:
    slower = rows[rows["ratio"] < 1]
    if slower.empty:
        return (
            f"Does {what} starve training here? No: it outruns every training step measured (lowest ratio "
            f"{rows['ratio'].min():.2f}); where it shares the device with the step, its time still adds to "
            f"the epoch's (up to × {rows['epoch_time_factor'].max():.2f})."
        )
    return (
        f"Does {what} starve training here? Yes, in {len(slower)} of {len(rows)} cases it is slower than the "
        f"training step it feeds (ratio down to {rows['ratio'].min():.2f}; epoch time up to × "
        f"{rows['epoch_time_factor'].max():.2f})."
    )


def _flat(record: Record) -> dict:
    values = asdict(record)
    threads = values.pop("threads")
    return {**values, "threads": ", ".join(f"{k}={v}" for k, v in threads.items())}


def _rates(record: Record) -> dict[str, float | None]:
    return {
        "images_per_s": record.images_per_s,
        "images_per_s_min": record.images_per_s_min,
        "images_per_s_max": record.images_per_s_max,
    }


def _lookup(table: pd.DataFrame, transform: str, keys: list[str]) -> dict:
    rows = table[(table["transform"] == transform) & table["images_per_s"].notna()]
    return {tuple(row[k] for k in keys): row["images_per_s"] for _, row in rows.iterrows()}


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or not math.isfinite(value) or not reference:
        return None
    return value / reference
