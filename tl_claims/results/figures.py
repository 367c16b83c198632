"""Figures of the fine-tuning claims, drawn from the rows alone (so `python -m tl_claims report` can redraw them).

- `learning_curves.png`: test accuracy against training images per class for feature extraction and fine-tuning,
  mean ± 95 % t-interval over seeds (claims `fe_vs_ft_by_size` and `min_images`).
- `batchnorm.png`: test accuracy and moving-mean drift per BatchNorm policy in stage 2 (claim `bn_gotcha`).

- `deltas.png`: every row's Δ with its 95 % interval, one panel per claim with its own axis (a +60 pp effect and a
  ±1 pp one are both readable), the claimed threshold and the claim type marked, verdicts in a legend.

Claims put typed records (`tl_claims.claims.records.CurvePoint`, `BatchNormPoint`) in their rows; the figures read them.
"""

import functools
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from tl_claims.claims import records
from tl_claims.claims.records import BatchNormPoint, CurvePoint

REGIMES = {  # curve id -> legend label
    "fe_stage1": "feature extraction (stage 1: frozen base, head, augmentation)",
    "ft_stage2": "fine-tuning (stage 2 from that model: base unfrozen, lesson rate)",
    "fe_probe": "feature extraction (linear probe on frozen features, no augmentation)",
}
BN_POLICY_LABELS = {
    "train": "BN training mode",
    "call_inference": "base(x, training=False)",
    "frozen": "BN trainable=False",
}
BN_POLICY_COLOURS = {"train": "tab:red", "call_inference": "tab:orange", "frozen": "tab:green"}


def draw_claim_figures(rows: list[dict], figures_dir: Path) -> list[Path]:
    """Every figure the rows have data for; returns the files written."""
    written = []
    curves = curve_series(records.read(rows, CurvePoint))
    if curves:
        written.append(plot_learning_curves(curves, Path(figures_dir) / "learning_curves.png", _scale(rows)))
    batchnorm = batchnorm_series(records.read(rows, BatchNormPoint))
    if batchnorm:
        written.append(plot_batchnorm(batchnorm, Path(figures_dir) / "batchnorm.png", _scale(rows)))
    return written


def curve_series(points: list[CurvePoint]) -> dict[str, dict[int, dict[int, float]]]:
    """{regime: {n per class: {seed: accuracy}}}"""
    series: dict = defaultdict(lambda: defaultdict(dict))
    for point in points:
        if math.isfinite(point.accuracy):
            series[point.regime][point.n_per_class][point.seed] = point.accuracy
    return {regime: dict(by_size) for regime, by_size in series.items()}


def batchnorm_series(points: list[BatchNormPoint]) -> dict[str, dict[str, dict[int, float]]]:
    """{policy: {"accuracy" | "drift": {seed: value}}}"""
    series: dict = defaultdict(lambda: defaultdict(dict))
    for point in points:
        series[point.policy]["accuracy"][point.seed] = point.accuracy
        series[point.policy]["drift"][point.seed] = point.drift
    return {policy: dict(quantities) for policy, quantities in series.items()}


def mean_and_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t interval over seeds (0 with a single seed: nothing to show)."""
    values = np.asarray(values, float)
    if values.size < 2:
        return float(values.mean()), 0.0
    quantile = float(scipy_stats.t.ppf(0.5 + confidence / 2, values.size - 1))
    return float(values.mean()), quantile * float(values.std(ddof=1)) / math.sqrt(values.size)


def _text_as_written(draw: Callable[..., Path]) -> Callable[..., Path]:
    """A figure whose every label is drawn as written. With Matplotlib's default, text holding two `$` is parsed as
    mathtext: a student's file named `a$\\frac$b.py` (a variant `student:a$\\frac$b`) crashed the figures at session
    end, and everything after them. None of our own labels uses mathtext."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs) -> Path:
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):  # tick labels are made at savefig: inside too
            return draw(*args, **kwargs)

    return drawn


@_text_as_written
def plot_learning_curves(curves: dict, path: Path, scale: str) -> Path:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 5))
    for regime, points in sorted(curves.items()):
        sizes = sorted(points)
        summaries = [mean_and_interval(list(points[n].values())) for n in sizes]
        means = np.array([mean for mean, _ in summaries]) * 100
        halves = np.array([half for _, half in summaries]) * 100
        (line,) = axes.plot(sizes, means, marker="o", label=REGIMES.get(regime, regime))
        axes.fill_between(sizes, means - halves, means + halves, color=line.get_color(), alpha=0.2)
    axes.set_xscale("log")
    sizes = sorted({n for points in curves.values() for n in points})
    axes.set_xticks(sizes, [str(n) for n in sizes])
    axes.minorticks_off()
    axes.set_xlabel("training images per class (log scale)")
    axes.set_ylabel("test accuracy (%), mean ± 95 % t-interval over seeds")
    axes.set_title(f"Feature extraction vs fine-tuning by data size, {scale} scale")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


@_text_as_written
def plot_batchnorm(batchnorm: dict, path: Path, scale: str) -> Path:
    plt = _pyplot()
    policies = [policy for policy in BN_POLICY_LABELS if policy in batchnorm] + sorted(
        set(batchnorm) - set(BN_POLICY_LABELS)
    )
    figure, panels = plt.subplots(1, 2, figsize=(10, 4))
    for axes, quantity, label, factor in (
        (panels[0], "accuracy", "test accuracy (%)", 100),
        (panels[1], "drift", "moving-mean drift (original σ units)", 1),
    ):
        summaries = [mean_and_interval(list(batchnorm[p].get(quantity, {}).values()) or [np.nan]) for p in policies]
        axes.bar(
            range(len(policies)),
            [m * factor for m, _ in summaries],
            yerr=[h * factor for _, h in summaries],
            capsize=4,
            color=[BN_POLICY_COLOURS.get(p, "tab:blue") for p in policies],
        )
        axes.set_xticks(range(len(policies)), [BN_POLICY_LABELS.get(p, p) for p in policies], fontsize=8)
        axes.set_ylabel(label)
        axes.grid(axis="y", alpha=0.3)
    panels[0].set_title("stage 2 accuracy per BatchNorm policy")
    panels[1].set_title("moving statistics after stage 2")
    figure.suptitle(f"The BatchNorm gotcha, {scale} scale (mean ± 95 % t-interval over seeds)")
    return _save(figure, path)


VERDICT_COLOURS = {  # what the row says about the lesson's claim -> colour, legend label
    "confirms": ("tab:green", "confirms the claim"),
    "against": ("tab:red", "decided against the claim"),
    "undecided": ("tab:orange", "inconclusive"),
}
RULE_MARKERS = {  # claim type (first word of the row's rule) -> marker, legend label
    "superiority": ("o", "superiority: Δ above the threshold"),
    "non-inferiority": ("D", "non-inferiority: Δ above −margin"),
    "band": ("s", "band: Δ between two bounds"),
    "risk": ("^", "risk: share of seeds failing (%)"),
    "exact": ("X", "exact: deterministic, no interval"),
}


@_text_as_written
def plot_deltas(rows: list[dict], path: Path) -> Path:
    """One panel per claim (its own x axis), a row per variant: Δ and its 95 % interval in pp, coloured by what the
    verdict says, shaped by the claim type; the threshold as a black bar, zero as a grey line."""
    plt = _pyplot()
    by_claim: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_claim[str(row["claim"])].append(row)
    heights = [len(claim_rows) + 1.6 for claim_rows in by_claim.values()]
    columns = 2 if len(by_claim) > 6 else 1
    stacks = _balanced_columns(list(by_claim), heights, columns)
    tallest = max(sum(heights[list(by_claim).index(claim)] for claim in stack) for stack in stacks)
    figure = plt.figure(figsize=(7.5 * columns, 0.32 * tallest + 2.2), layout="constrained")
    outer = figure.add_gridspec(1, columns)
    for column, stack in enumerate(stacks):
        ratios = [heights[list(by_claim).index(claim)] for claim in stack]
        ratios.append(max(tallest - sum(ratios), 0.01))  # empty space keeps both columns' panels the same scale
        cells = outer[column].subgridspec(len(ratios), 1, height_ratios=ratios)
        for index, claim in enumerate(stack):
            _claim_panel(figure.add_subplot(cells[index]), claim, by_claim[claim])
    figure.legend(handles=_legend_handles(plt, rows), loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    figure.suptitle(f"tl-claims, {_scale(rows)} scale: treatment − baseline (pp), 95 % interval", fontsize=11)
    return _save(figure, path, tight=False)


def _balanced_columns(claims: list[str], heights: list[float], columns: int) -> list[list[str]]:
    """Claims in order, split into `columns` stacks of about equal height."""
    stacks: list[list[str]] = [[] for _ in range(columns)]
    share, filled, column = sum(heights) / columns, 0.0, 0
    for claim, height in zip(claims, heights):
        if column < columns - 1 and filled > 0 and filled + height / 2 > share * (column + 1):
            column += 1
        stacks[column].append(claim)
        filled += height
    return [stack for stack in stacks if stack]


def _claim_panel(axes, claim: str, rows: list[dict]) -> None:
    for y, row in enumerate(rows):
        centre, low, high = _delta_points(row)
        colour = VERDICT_COLOURS[_verdict_kind(row)][0]
        marker = RULE_MARKERS.get(_rule_kind(row), ("o", ""))[0]
        axes.errorbar(centre, y, xerr=[[centre - low], [high - centre]], fmt=marker, color=colour, capsize=3, ms=6)
        for bound in bound_marks(row):
            axes.plot(bound, y, marker="|", markersize=16, mew=2, color="black")
    axes.axvline(0, color="grey", linewidth=0.8, zorder=0)
    axes.set_yticks(range(len(rows)), [_variant_label(row) for row in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_title(claim, fontsize=9, loc="left", fontweight="bold")
    axes.tick_params(axis="x", labelsize=8)
    axes.grid(axis="x", alpha=0.3)
    axes.margins(x=0.12)


def bound_marks(row: dict) -> list[float]:
    """Where the claim's bounds sit on the row's axis: the rule's numbers in pp (both ends of a band), a risk rule's
    share in %, else the row's threshold."""
    rule = str(row.get("rule", "")).replace("−", "-")
    if _rule_kind(row) == "risk":
        return [float(share) for share in re.findall(r">\s*([0-9.]+)\s*%", rule)]
    bounds = [float(value) for value in re.findall(r"([+-]?[0-9.]+)\s*pp", rule)]
    if bounds:
        return bounds
    return [float(row["threshold"]) * 100] if _finite_number(row.get("threshold")) else []


def _delta_points(row: dict) -> tuple[float, float, float]:
    """Centre and interval in pp (a risk row: the share of seeds that failed, in %); an unbounded or missing
    interval is drawn as a point."""
    risk = _rule_kind(row) == "risk"
    centre = float(row.get("estimate", 0.0) if risk else row["delta"]) * 100
    low, high = row.get("ci_low"), row.get("ci_high")
    low = centre if not _finite_number(low) else float(low) * 100
    high = centre if not _finite_number(high) else float(high) * 100
    return centre, min(low, centre), max(high, centre)


def _variant_label(row: dict) -> str:
    suffix = " (share %)" if _rule_kind(row) == "risk" else ""
    return f"{row['variant']}{suffix}"


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _verdict_kind(row: dict) -> str:
    if row.get("confirms"):
        return "confirms"
    return "against" if row.get("decided") else "undecided"


def _rule_kind(row: dict) -> str:
    words = str(row.get("rule", "")).split()
    return words[0] if words else "superiority"


def _legend_handles(plt, rows: list[dict]) -> list:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="s", linestyle="", color=colour, label=label)
        for colour, label in VERDICT_COLOURS.values()
    ]
    kinds = {_rule_kind(row) for row in rows}
    handles += [
        Line2D([], [], marker=marker, linestyle="", color="dimgrey", label=label)
        for kind, (marker, label) in RULE_MARKERS.items()
        if kind in kinds
    ]
    handles.append(
        Line2D([], [], marker="|", linestyle="", markersize=14, mew=2, color="black", label="claimed threshold")
    )
    return handles


def _scale(rows: list[dict]) -> str:
    return str(rows[0].get("scale", "")) if rows else ""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path, tight: bool = True) -> Path:
    """Saved through a temporary file and renamed: never a half-written PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        figure.tight_layout()
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    figure.savefig(partial, dpi=120, bbox_inches="tight" if tight else None)
    _pyplot().close(figure)
    partial.replace(path)
    return path
