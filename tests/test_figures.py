"""The claim figures are drawn from rows alone: typed records (tl_claims.claims.records), as the engine stores them."""

import pytest

from tl_claims.claims import records
from tl_claims.claims.records import BatchNormPoint, CurvePoint
from tl_claims.results import figures


def row(claim: str, found: list) -> dict:
    return {
        "claim": claim,
        "variant": "v",
        "scale": "smoke",
        "details": {"keras": "3.15.1"},
        "records": [records.to_dict(record) for record in found],
    }


def curve_rows() -> list[dict]:
    points = []
    for seed, offset in enumerate((0.0, 0.02, -0.02)):
        for n, accuracy in ((10, 0.6), (25, 0.7), (50, 0.75)):
            points += [
                CurvePoint("fe_stage1", n, seed, accuracy + offset),
                CurvePoint("ft_stage2", n, seed, accuracy + 0.05),
            ]
    return [row("fe_vs_ft_by_size", points), row("min_images", [CurvePoint("fe_probe", 200, 0, 0.8)])]


def bn_rows() -> list[dict]:
    points = [
        BatchNormPoint(policy, seed, accuracy + seed / 100, drift)
        for seed in range(2)
        for policy, accuracy, drift in (("train", 0.7, 0.4), ("call_inference", 0.7, 0.4), ("frozen", 0.8, 0.0))
    ]
    return [row("bn_gotcha", points), row("bn_gotcha", points[:2])]  # arms sharing a model repeat their points


def test_records_group_by_series_size_and_seed():
    curves = figures.curve_series(records.read(curve_rows(), CurvePoint))
    assert set(curves) == {"fe_stage1", "ft_stage2", "fe_probe"}
    assert curves["fe_stage1"][25] == {0: 0.7, 1: pytest.approx(0.72), 2: pytest.approx(0.68)}
    assert curves["fe_probe"] == {200: {0: 0.8}}
    batchnorm = figures.batchnorm_series(records.read(bn_rows(), BatchNormPoint))
    assert batchnorm["frozen"] == {"accuracy": {0: 0.8, 1: pytest.approx(0.81)}, "drift": {0: 0.0, 1: 0.0}}
    assert len(records.read(bn_rows(), BatchNormPoint)) == 6


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
    assert figures.draw_claim_figures([row("two_stage", [])], tmp_path) == []
    assert not list(tmp_path.iterdir())


def delta_row(claim, variant, rule, delta=0.02, **extra) -> dict:
    return {"claim": claim, "variant": variant, "scale": "cpu", "rule": rule, "delta": delta, "estimate": delta,
            "ci_low": delta - 0.01, "ci_high": delta + 0.01, "threshold": 0.0, "confirms": True, "decided": True,
            **extra}  # fmt: skip


def test_bounds_come_from_the_rule_both_ends_of_a_band_and_a_risk_share():
    assert figures.bound_marks(delta_row("t", "v", "band +0.5 pp < Δ < +2.0 pp")) == [0.5, 2.0]
    assert figures.bound_marks(delta_row("t", "v", "non-inferiority Δ > −1.0 pp")) == [-1.0]
    assert figures.bound_marks(delta_row("t", "v", "risk P(baseline < treatment -10.0 pp) > 20%")) == [20.0]
    assert figures.bound_marks(delta_row("t", "v", "", threshold=0.02)) == [2.0]


def test_the_deltas_figure_has_a_panel_per_claim_and_draws_unbounded_rows(tmp_path):
    rows = [delta_row(f"claim{i}", "v", "superiority Δ > +0.0 pp", delta=i / 10) for i in range(8)]
    rows.append(delta_row("claim0", "exact", "exact Δ > +99.0 pp", ci_low=None, ci_high=float("inf")))
    rows.append(delta_row("claim1", "risk", "risk P(baseline < treatment -10.0 pp) > 20%", decided=False))
    path = figures.plot_deltas(rows, tmp_path / "deltas.png")
    assert path.stat().st_size > 20_000
    assert [p.name for p in tmp_path.iterdir()] == ["deltas.png"]  # no partial file left behind


def test_labels_with_dollars_are_drawn_as_written_not_as_mathtext(tmp_path):
    """`$\\frac$` in a variant (a student's file name) or a curve id once raised a mathtext ParseSyntaxException."""
    rows = [delta_row(r"a$\frac$b", r"student:a$\frac$b", "superiority Δ > +0.0 pp")]
    assert figures.plot_deltas(rows, tmp_path / "deltas.png").stat().st_size > 0
    points = [CurvePoint(r"$\frac$", n, seed, 0.5 + seed / 100) for n in (10, 20) for seed in range(2)]
    assert figures.draw_claim_figures([row(r"$\frac$", points)], tmp_path) == [tmp_path / "learning_curves.png"]
