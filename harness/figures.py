"""Figures of the fine-tuning claims, drawn from the rows alone (so `python -m harness report` can redraw them).

- `learning_curves.png`: test accuracy against training images per class for feature extraction and fine-tuning,
  mean ± 95 % t-interval over seeds (claims `fe_vs_ft_by_size` and `min_images`).
- `batchnorm.png`: test accuracy and moving-mean drift per BatchNorm policy in stage 2 (claim `bn_gotcha`).

Claims put typed records (`harness.records.CurvePoint`, `BatchNormPoint`) in their rows; the figures read them.
"""

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from harness import records
from harness.records import BatchNormPoint, CurvePoint

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


def _scale(rows: list[dict]) -> str:
    return str(rows[0].get("scale", "")) if rows else ""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    _pyplot().close(figure)
    return path
