"""Augmentation throughput: records from the benchmarks → a table, `bottleneck` rows, a plain-words answer, files.

The benchmarks (benchmarks/test_bench_augmentation.py) time fixed-shape batches and hand one `Record` per
parameter set to this module; everything here is plain data, so the writer is tested without timing anything.

Reading the bottleneck rows: `ratio` = augmentation images/s ÷ training-step images/s at the same image size and
batch. Where augmentation and the training step run on the same device (inside the model, or tf.data on a CPU that
also trains), their costs add: an epoch takes `1 / ratio` longer than training alone. Where tf.data augments on the
CPU while a GPU trains, the two overlap: augmentation starves the GPU only when `ratio < 1`.
"""

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

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
    rounds: int = 0
    note: str = ""  # why it did not run (e.g. a layer that rejects uint8), or anything a reader must know
    threads: dict = field(default_factory=dict)

    @property
    def images_per_s(self) -> float | None:
        return None if not self.seconds_median else self.images_per_round / self.seconds_median


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


# --- tables ---------------------------------------------------------------------------------------------------------
def throughput_table(records: list[Record]) -> pd.DataFrame:
    """One row per record with images/s and how it compares with the no-augmentation and memory-copy references."""
    table = pd.DataFrame([{**_flat(record), "images_per_s": record.images_per_s} for record in records])
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
    columns = ["transform", "placement", "augment_on", "train_on", "image_size", "dtype", "augment_images_per_s",
               "train_step", "train_images_per_s", "ratio", "epoch_time_factor", "reading"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    training = table[table["transform"].isin(list(TRAIN_STEPS)) & table["images_per_s"].notna()]
    stacks = table[table["transform"].isin([STACK, HEAVY]) & table["images_per_s"].notna()]
    rows = []
    for stack in stacks.itertuples(index=False):
        # tf.data augments on the host whatever trains; inside the model it runs where the model trains.
        train_devices = sorted(set(training["device"])) if stack.placement == TF_DATA else [stack.device]
        for step in training[training["device"].isin(train_devices) & (training["image_size"] == stack.image_size)]\
                .itertuples(index=False):
            ratio = stack.images_per_s / step.images_per_s
            overlaps = stack.placement == TF_DATA and stack.device != step.device
            rows.append({
                "transform": stack.transform, "placement": stack.placement, "augment_on": stack.device,
                "train_on": step.device,
                "image_size": stack.image_size, "dtype": stack.dtype,
                "augment_images_per_s": stack.images_per_s, "train_step": TRAIN_STEPS[step.transform],
                "train_images_per_s": step.images_per_s, "ratio": ratio,
                "epoch_time_factor": max(1.0, 1 / ratio) if overlaps else 1 + 1 / ratio,
                "reading": _reading(ratio, overlaps),
            })
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
    worst = (keras_rows if not keras_rows.empty else bottlenecks)
    worst = worst.loc[worst["epoch_time_factor"].idxmax()].to_dict()
    parts.append("Worst case: {transform} {placement} on {augment_on} feeding {train_step} on {train_on} at "
                 "{image_size} px ({dtype}) makes an epoch {epoch_time_factor:.2f}× as long as training alone."
                 .format(**worst))
    if gpu_visible:
        parts.append("Would the GPU help? Compare the model·gpu rows with the tf.data·cpu rows above.")
    else:
        parts.append("Would moving it onto the GPU help? Not measurable here: no GPU was visible. Run "
                     "`pytest benchmarks --benchmark-only -m 'gpu or not gpu'` on a GPU machine for the GPU rows.")
    for (transform, size, placement), rows in bottlenecks.groupby(["transform", "image_size", "placement"],
                                                                  sort=False):
        spans = [f"× {_span(group['epoch_time_factor'])} with {step}" for step, group in rows.groupby("train_step")]
        parts.append(f"- {transform} at {size} px in {placement} ({', '.join(sorted(set(rows['dtype'])))}): "
                     "epoch time " + "; ".join(spans) + ".")
    return "\n".join(parts)


def _span(values: pd.Series) -> str:
    low, high = float(values.min()), float(values.max())
    return f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f}–{high:.2f}"


def _starvation(rows: pd.DataFrame, what: str) -> str:
    slower = rows[rows["ratio"] < 1]
    if slower.empty:
        return (f"Does {what} starve training here? No: it outruns every training step measured (lowest ratio "
                f"{rows['ratio'].min():.2f}); where it shares the device with the step, its time still adds to "
                f"the epoch's (up to × {rows['epoch_time_factor'].max():.2f}).")
    return (f"Does {what} starve training here? Yes, in {len(slower)} of {len(rows)} cases it is slower than the "
            f"training step it feeds (ratio down to {rows['ratio'].min():.2f}; epoch time up to × "
            f"{rows['epoch_time_factor'].max():.2f}).")


# --- files ----------------------------------------------------------------------------------------------------------
def write_report(records: list[Record], out_dir: Path, environment: dict | None = None) -> dict[str, Path]:
    """augmentation.csv (every record), augmentation.md (tables + answer + settings) and the figure."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = throughput_table(records)
    bottlenecks = bottleneck_table(table)
    gpu_visible = bool((environment or {}).get("gpus"))
    paths = {"csv": out_dir / CSV_NAME, "markdown": out_dir / MARKDOWN_NAME, "figure": out_dir / FIGURE_NAME}
    csv = pd.concat([table.assign(row="throughput"), bottlenecks.assign(row="bottleneck")], ignore_index=True)
    csv.to_csv(paths["csv"], index=False)
    paths["markdown"].write_text(to_markdown(table, bottlenecks, answer(bottlenecks, gpu_visible), environment),
                                 encoding="utf-8")
    plot(table, paths["figure"])
    return paths


def to_markdown(table: pd.DataFrame, bottlenecks: pd.DataFrame, answer_text: str,
                environment: dict | None = None) -> str:
    parts = ["# Augmentation throughput (images/s, median round)", ""]
    if environment:
        parts += [f"- {key}: {value}" for key, value in environment.items()] + [""]
    parts += [_throughput_markdown(table), "", "## Bottleneck (augmentation ÷ training step)", "",
              _frame_markdown(bottlenecks, floats="{:.2f}"), "", "## Answer", "", answer_text, ""]
    notes = table[table["note"].astype(bool)] if not table.empty else table
    if not notes.empty:
        parts += ["## Notes", ""]
        parts += [f"- {r.transform} · {r.placement} · {r.device} · {r.image_size} px · {r.dtype}: {r.note}"
                  for r in notes.itertuples(index=False)]
    return "\n".join(parts) + "\n"


def _throughput_markdown(table: pd.DataFrame) -> str:
    """One table per image size: transforms down, placement · device · dtype across, images/s in the cells."""
    if table.empty:
        return "No throughput recorded."
    return "\n\n".join(_size_markdown(table[table["image_size"] == size], size)
                       for size in sorted(set(table["image_size"])))


def _size_markdown(table: pd.DataFrame, size: int) -> str:
    label = [f"{device} {dtype}" if placement == "-" else f"{placement}·{device} {dtype}"
             for placement, device, dtype in zip(table["placement"], table["device"], table["dtype"])]
    cells = table.assign(column=label, value=[_cell(v) for v in table["images_per_s"]])
    order = list(dict.fromkeys(cells.sort_values(["placement", "device", "dtype"])["column"]))
    wide = cells.pivot_table(index="transform", columns="column", values="value", aggfunc="first", sort=False)
    wide = wide.reindex(columns=order).fillna("")
    lines = [f"### {size} px, batch {int(table['batch_size'].iloc[0])}", "",
             "| transform | " + " | ".join(wide.columns) + " |", "|---" * (len(wide.columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(row) + " |" for name, row in zip(wide.index, wide.values.tolist())]
    return "\n".join(lines)


def _frame_markdown(frame: pd.DataFrame, floats: str) -> str:
    if frame.empty:
        return "No rows."
    shown = frame.map(lambda v: floats.format(v) if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(frame.columns) + " |", "|---" * len(frame.columns) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in shown.values.tolist()]
    return "\n".join(lines)


def plot(table: pd.DataFrame, path: Path) -> Path:
    """Images/s per transform (log scale), one panel per image size; training steps drawn as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    measured = table[table["images_per_s"].notna()] if not table.empty else table
    sizes = sorted(set(measured["image_size"])) if not measured.empty else []
    figure, axes = plt.subplots(1, max(1, len(sizes)), figsize=(7 * max(1, len(sizes)), 5.5), squeeze=False)
    for axis, size in zip(axes[0], sizes):
        _plot_size(axis, measured[measured["image_size"] == size], size)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _plot_size(axis, rows: pd.DataFrame, size: int) -> None:
    bars = rows[~rows["transform"].isin(list(TRAIN_STEPS))]
    transforms = list(dict.fromkeys(bars["transform"]))
    series = list(dict.fromkeys(zip(bars["placement"], bars["device"], bars["dtype"])))
    width = 0.8 / max(1, len(series))
    for i, (placement, device, dtype) in enumerate(series):
        part = bars[(bars["placement"] == placement) & (bars["device"] == device) & (bars["dtype"] == dtype)]
        values = dict(zip(part["transform"], part["images_per_s"]))
        xs = [j + i * width for j, name in enumerate(transforms) if name in values]
        where = "reference" if placement == "-" else placement
        axis.bar(xs, [values[name] for name in transforms if name in values], width,
                 label=f"{where}·{device} {dtype}")
    for step in rows[rows["transform"].isin(list(TRAIN_STEPS))].itertuples(index=False):
        style = "--" if step.transform == "train_stage1" else ":"
        axis.axhline(step.images_per_s, linestyle=style, color="black", linewidth=1)
        axis.annotate(f"{TRAIN_STEPS[step.transform]} on {step.device}", (0, step.images_per_s), fontsize=7,
                      xytext=(2, 2), textcoords="offset points")
    axis.set_xticks([j + 0.4 - width / 2 for j in range(len(transforms))], transforms, rotation=30)
    axis.set_yscale("log")
    axis.set_ylabel("images / s (median round)")
    axis.set_title(f"{size} px, batch {int(rows['batch_size'].iloc[0])}")
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)


# --- helpers ----------------------------------------------------------------------------------------------------------
def _flat(record: Record) -> dict:
    values = asdict(record)
    threads = values.pop("threads")
    return {**values, "threads": ", ".join(f"{k}={v}" for k, v in threads.items())}


def _lookup(table: pd.DataFrame, transform: str, keys: list[str]) -> dict:
    rows = table[(table["transform"] == transform) & table["images_per_s"].notna()]
    return {tuple(row[k] for k in keys): row["images_per_s"] for _, row in rows.iterrows()}


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or not math.isfinite(value) or not reference:
        return None
    return value / reference


def _cell(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:,.0f}"
