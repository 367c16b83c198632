"""The claim figures are drawn from rows alone: keys in `details`, per seed, as the engine records them."""

import pytest

from harness import figures


def row(claim: str, details: dict) -> dict:
    return {"claim": claim, "variant": "v", "scale": "smoke", "details": details}


def curve_rows() -> list[dict]:
    details = {}
    for seed, offset in enumerate((0.0, 0.02, -0.02)):
        for n, accuracy in ((10, 0.6), (25, 0.7), (50, 0.75)):
            details[f"FT − FE at the largest n: {figures.curve_key('fe_stage1', n, seed)}"] = accuracy + offset
            details[f"FT − FE at the largest n: {figures.curve_key('ft_stage2', n, seed)}"] = accuracy + 0.05
    return [row("fe_vs_ft_by_size", details),
            row("min_images", {figures.curve_key("fe_probe", 200, 0): 0.8, "n per class": 200.0})]


def bn_rows() -> list[dict]:
    details = {}
    for seed in range(2):
        for policy, accuracy, drift in (("train", 0.7, 0.4), ("call_inference", 0.7, 0.4), ("frozen", 0.8, 0.0)):
            details[f"arm: {figures.bn_key(policy, 'accuracy', seed)}"] = accuracy + seed / 100
            details[f"arm: {figures.bn_key(policy, 'drift', seed)}"] = drift
    return [row("bn_gotcha", {**details, "keras": "3.15.1"})]


def test_collect_groups_detail_keys_by_series_size_and_seed():
    curves = figures.collect(curve_rows(), figures.CURVE_PATTERN)
    assert set(curves) == {"fe_stage1", "ft_stage2", "fe_probe"}
    assert curves["fe_stage1"][25] == {0: 0.7, 1: pytest.approx(0.72), 2: pytest.approx(0.68)}
    assert curves["fe_probe"] == {200: {0: 0.8}}


def test_mean_and_interval_is_a_student_t_interval():
    mean, half = figures.mean_and_interval([0.7, 0.72, 0.68])
    assert mean == pytest.approx(0.7)
    assert half == pytest.approx(4.303 * 0.02 / 3**0.5, rel=1e-3)  # t(0.975, 2) · s / √n
    assert figures.mean_and_interval([0.5]) == (0.5, 0.0)


def test_draw_claim_figures_writes_the_learning_curves_and_batchnorm_figures(tmp_path):
    written = figures.draw_claim_figures(curve_rows() + bn_rows(), tmp_path / "figures")
    assert sorted(path.name for path in written) == ["batchnorm.png", "learning_curves.png"]
    assert all(path.stat().st_size > 10_000 for path in written)


def test_rows_without_figure_data_draw_nothing(tmp_path):
    assert figures.draw_claim_figures([row("two_stage", {"keras": "3.15.1"})], tmp_path) == []
    assert not list(tmp_path.iterdir())
