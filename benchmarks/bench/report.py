"""Benchmark files: augmentation.csv (every record), augmentation.md (tables, answer, settings) and the figure."""

import math
from pathlib import Path

import pandas as pd

from benchmarks.bench.records import (
    CSV_NAME,
    FIGURE_NAME,
    MARKDOWN_NAME,
    TRAIN_STEPS,
    Record,
)
from benchmarks.bench.settings import settings_markdown
from benchmarks.bench.tables import answer, bottleneck_table, throughput_table
from tl_claims.core.markdown import markdown_table


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
    paths["markdown"].write_text(
        to_markdown(table, bottlenecks, answer(bottlenecks, gpu_visible), environment), encoding="utf-8"
    )
    plot(table, paths["figure"])
    return paths


def to_markdown(
    table: pd.DataFrame, bottlenecks: pd.DataFrame, answer_text: str, environment: dict | None = None
) -> str:
    parts = ["# Augmentation throughput (images/s)", ""]
    if environment:
        parts += [*settings_markdown(environment), ""]
    parts += [
        "Each cell: images/s of the median round, then [slowest–fastest round] (the rounds each parameter set was "
        "timed: `rounds` in augmentation.csv).",
        "",
        _throughput_markdown(table),
        "",
        "## Bottleneck (augmentation ÷ training step)",
        "",
        markdown_table(bottlenecks, floats=".2f") if not bottlenecks.empty else "No rows.",
        "",
        "## Answer",
        "",
        answer_text,
        "",
    ]
    notes = table[table["note"].astype(bool)] if not table.empty else table
    if not notes.empty:
        parts += ["## Notes", ""]
        parts += [
            f"- {r.transform} · {r.placement} · {r.device} · {r.image_size} px · {r.dtype}: {r.note}"
            for r in notes.itertuples(index=False)
        ]
    return "\n".join(parts) + "\n"


def _throughput_markdown(table: pd.DataFrame) -> str:
    """One table per image size: transforms down, placement · device · dtype across, images/s in the cells."""
    if table.empty:
        return "No throughput recorded."
    return "\n\n".join(
        _size_markdown(table[table["image_size"] == size], size) for size in sorted(set(table["image_size"]))
    )


def _size_markdown(table: pd.DataFrame, size: int) -> str:
    label = [
        f"{device} {dtype}" if placement == "-" else f"{placement}·{device} {dtype}"
        for placement, device, dtype in zip(table["placement"], table["device"], table["dtype"])
    ]
    rates = zip(table["images_per_s"], table["images_per_s_min"], table["images_per_s_max"])
    cells = table.assign(column=label, value=[_cell(*rate) for rate in rates])
    order = list(dict.fromkeys(cells.sort_values(["placement", "device", "dtype"])["column"]))
    wide = cells.pivot_table(index="transform", columns="column", values="value", aggfunc="first", sort=False)
    wide = wide.reindex(columns=order).reset_index()
    return f"### {size} px, batch {int(table['batch_size'].iloc[0])}\n\n{markdown_table(wide)}"


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
        values = {row.transform: row for row in part.itertuples(index=False)}
        shown = [values[name] for name in transforms if name in values]
        xs = [j + i * width for j, name in enumerate(transforms) if name in values]
        where = "reference" if placement == "-" else placement
        heights = [row.images_per_s for row in shown]
        axis.bar(xs, heights, width, yerr=_spread(shown), capsize=2, label=f"{where}·{device} {dtype}")
    for step in rows[rows["transform"].isin(list(TRAIN_STEPS))].itertuples(index=False):
        style = "--" if step.transform == "train_stage1" else ":"
        axis.axhline(step.images_per_s, linestyle=style, color="black", linewidth=1)
        axis.annotate(
            f"{TRAIN_STEPS[step.transform]} on {step.device}",
            (0, step.images_per_s),
            fontsize=7,
            xytext=(2, 2),
            textcoords="offset points",
        )
    axis.set_xticks([j + 0.4 - width / 2 for j in range(len(transforms))], transforms, rotation=30)
    axis.set_yscale("log")
    axis.set_ylabel("images / s (median round; bars: slowest–fastest)")
    axis.set_title(f"{size} px, batch {int(rows['batch_size'].iloc[0])}")
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)


def _spread(rows: list) -> list[list[float]]:
    """Error bars from the median down to the slowest round and up to the fastest (none where not recorded)."""
    below = [row.images_per_s - row.images_per_s_min if _finite(row.images_per_s_min) else 0.0 for row in rows]
    above = [row.images_per_s_max - row.images_per_s if _finite(row.images_per_s_max) else 0.0 for row in rows]
    return [below, above]


def _cell(median: float | None, slowest: float | None = None, fastest: float | None = None) -> str:
    """`400 [380–420]`: the median round's images/s, then the slowest and the fastest round's."""
    if not _finite(median):
        return "—"
    if not (_finite(slowest) and _finite(fastest)):
        return f"{median:,.0f}"
    return f"{median:,.0f} [{slowest:,.0f}–{fastest:,.0f}]"


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
