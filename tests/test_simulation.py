"""The simulation that can fail: its bars, pinned. The fast suite runs few replicates, so each bar is wider by
exactly the Monte Carlo error those replicates carry (computed in the simulation, not typed here); `-m cpu` runs the
full count docs/statistics.md quotes.

Pinned: the outlier and bimodal scenarios meet the false-confirmation and false-refutation bars for every claim type
and plan; the overlapping pools meet them against each pool's own Δ (the pool-conditional estimand) and report the
coverage of the Δ over pools, short of 0.95; at the full count every scenario meets them, coverage holds its lower
bar in the model and with overlapping pools, and the family's error stays under its bar everywhere but where
docs/statistics.md lists it failing (40 % split seeds at 5 seeds). What fails is listed there, with its figures, not
hidden here: that and the conservative coverage at 5 seeds (above the upper bar) the df rule costs.
"""

import json

import numpy as np
import pytest

from tl_claims import cli
from tl_claims.stats import family, scenarios, simulation

SCENARIOS = {scenario.name: scenario for scenario in scenarios.default_scenarios()}
SPLIT = ("outlier-seed", "collapse-25", "collapse-40", "take-off-10", "take-off-25", "take-off-40")
OVERLAP = ("pool-overlap-50-of-200", "pool-overlap-100-of-200", "pool-overlap-200-of-200")
MEAN_SHIFT = ("superiority", "non-inferiority", "band")
IN_MODEL = ("typical", "noisy-seeds", "image-dominated", "hard-task", "heavy-tailed-t3")
FAST_REPLICATES, FULL_REPLICATES = 100, 1000


def _bars_met(document: dict, names, bars=("false_confirm", "false_refute", "coverage")) -> list[str]:
    return [
        f"{row['scenario']} · {row['claim']} · {row['plan']}: {bar} (confirm {row['confirm_rate']}, refute "
        f"{row['refute_rate']}, coverage {row.get('coverage')})"
        for row in document["settings"]
        if row["scenario"] in names
        for bar in bars
        if not row["meets"].get(bar, True)
    ]


def _settings(replicates: int, names, seed: int = 2024) -> dict:
    chosen = [SCENARIOS[name] for name in names]
    return simulation.simulate(replicates, seed, chosen, relations=("boundary",), family_seeds=())


def test_split_seeds_do_not_make_false_verdicts():
    document = _settings(FAST_REPLICATES, SPLIT)
    assert _bars_met(document, SPLIT, ("false_confirm", "false_refute")) == []
    row = next(r for r in document["settings"] if r["scenario"] == "collapse-25" and r["claim"] == "superiority")
    assert row["unstable_rate"] > 0.5  # what keeps them out: the seeds-apart check


def test_overlapping_pools_meet_the_bars_against_each_pools_own_delta():
    """The estimand is pool-conditional: judged against its own pool's Δ, a row from an overlapping pool errs no
    more than the bars allow and its interval covers at least 0.95 − 2 MCSE."""
    document = _settings(FAST_REPLICATES, OVERLAP)
    assert _bars_met(document, OVERLAP, ("false_confirm", "false_refute")) == []
    for row in document["settings"]:
        if "coverage" in row:
            assert row["coverage"] >= 0.95 - row["bars"]["coverage_margin"] - 1e-9, row


def test_the_delta_over_pools_is_what_the_interval_does_not_cover():
    """At half the pool (100 of 200 per class) the population Δ is reported beside every mean-shift row, and the
    intervals cover it clearly less often than 0.95 (by more than the bar's Monte Carlo margin)."""
    document = _settings(FAST_REPLICATES, ["pool-overlap-100-of-200"])
    rows = [row for row in document["settings"] if row["claim"] in MEAN_SHIFT]
    assert rows and all("population_coverage" in row for row in rows)
    for row in rows:
        assert row["population_coverage"] < 0.95 - row["bars"]["coverage_margin"], row
    assert "pool-conditional" in document["estimand"]


def test_the_bars_widen_only_by_the_monte_carlo_error():
    (row, *_) = _settings(FAST_REPLICATES, ["typical"])["settings"]
    assert row["bars"]["error_max"] == pytest.approx(0.025 + 2 * np.sqrt(0.025 * 0.975 / FAST_REPLICATES), abs=1e-4)


def test_a_table_of_rows_on_their_bounds_errs_at_most_at_the_family_level():
    family_rows = [
        simulation.run_family(SCENARIOS[name], np.random.default_rng(3), FAST_REPLICATES, 5)
        for name in ("typical", "outlier-seed")
    ]
    for row in family_rows:
        assert row["meets"]["family_wise_error"], row
        assert row["family_wise_error_unadjusted"] > row["family_wise_error"]  # Holm is what keeps it


def test_a_table_from_one_pool_errs_within_its_bar_and_reports_the_error_over_pools():
    row = simulation.run_family(SCENARIOS["pool-overlap-100-of-200"], np.random.default_rng(3), FAST_REPLICATES, 10)
    assert row["meets"]["family_wise_error"], row
    assert row["family_wise_error_population"] > row["bar"], row  # what the pool-conditional family excludes


def test_holm_on_arrays_is_the_family_adjustment():
    p_values = np.random.default_rng(0).random((50, 7)) ** 3
    expected = [family.holm_adjust(list(row)) for row in p_values]
    assert simulation.holm_batch(p_values) == pytest.approx(np.array(expected))


def test_the_risk_truth_is_the_collapsing_share():
    assert simulation.failing_share(SCENARIOS["collapse-25"]) == pytest.approx(0.25, abs=0.02)
    assert simulation.failing_share(SCENARIOS["take-off-25"]) < 0.005


def test_command_line_reports_every_rate_with_its_error(capsys):
    code = cli.main(["stats", "simulate", "--json", "--replicates", "20", "--scenario", "image-dominated"])
    document = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and {row["scenario"] for row in document["settings"]} == {"image-dominated"}
    claims = {row["claim"] for row in document["settings"]}
    assert claims == {"superiority", "non-inferiority", "band", "risk", "exact"}
    boundary = [row for row in document["settings"] if row["relation"] == "boundary" and row["claim"] != "exact"]
    for row in boundary:
        assert {"false_confirm_rate", "false_confirm_mc_se", "false_refute_rate", "coverage", "coverage_mc_se"} <= set(
            row
        )
    assert {"family_wise_error", "family_wise_error_mc_se"} <= set(document["family"][0])


@pytest.mark.cpu
def test_full_count_meets_the_bars_docs_statistics_quotes():
    """The run docs/statistics.md quotes (`tl-claims stats simulate --json --replicates 1000 --relation boundary`).
    Pinned: no false verdicts beyond the bar anywhere, coverage at least 0.95 − 2 MCSE in the model and with
    overlapping pools (pool-conditional); the family's error under its bar except where docs/statistics.md lists it
    failing (40 % split seeds at 5 seeds, where 1 % of rows have every seed split off and look clean)."""
    document = simulation.simulate(FULL_REPLICATES, seed=2024, relations=("boundary",), family_seeds=(5, 10))
    for row in document["settings"]:
        assert row["meets"].get("false_confirm", True) and row["meets"].get("false_refute", True), row
        if row["scenario"] in IN_MODEL + OVERLAP and "coverage" in row:
            assert row["coverage"] >= 0.95 - 2 * row["coverage_mc_se"] - 1e-9, row
    known = {("collapse-40", "fixed 5"), ("take-off-40", "fixed 5")}
    for row in document["family"]:
        if (row["scenario"], row["plan"]) not in known:
            assert row["meets"]["family_wise_error"], row
