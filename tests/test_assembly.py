"""Assembling: every worker's rows folded into claims.csv / .md / .json and the figures; nothing recorded, no table."""

import json
from dataclasses import asdict

import pandas as pd
import pytest
from test_row import make_row

from tl_claims.results import assembly, rowfile, tables
from tl_claims.stats.rules import Verdict


def test_rows_from_every_worker_are_assembled(tmp_path):
    rowfile.append_row(tmp_path, make_row(claim="a"), worker="gw0")
    rowfile.append_row(tmp_path, make_row(claim="b"), worker="gw1")
    table = assembly.assemble(tmp_path, "smoke")
    assert list(table["claim"]) == ["a", "b"]
    csv = pd.read_csv(tmp_path / "smoke" / "claims.csv")
    assert list(csv.columns[: len(tables.COLUMNS)]) == tables.COLUMNS
    document = json.loads((tmp_path / "smoke" / "claims.json").read_text())
    assert {"date", "machine", "versions", "git_commit"} <= set(document["environment"])
    assert "| a | v |" in (tmp_path / "smoke" / "claims.md").read_text()
    assert (tmp_path / "smoke" / "figures" / "deltas.png").stat().st_size > 0


def test_nothing_recorded_gives_no_table(tmp_path):
    assert assembly.assemble(tmp_path, "cpu") is None


def test_the_family_adjustment_reads_each_row_s_own_verdict_back():
    verdict = Verdict("CONFIRMED", True, True, 0.02, "superiority Δ > +0.0 pp", 0.1, 0.1 - 0.05, 0.1 + 0.05, 0.95)
    fields = {"verdict": "CONFIRMED", "confirms": True, "decided": True, "p_value": 0.02, "estimate": 0.1}
    row = asdict(make_row(rule=verdict.rule, **fields))
    assert assembly.recorded_verdict(row) == verdict
    adjusted = assembly.with_family_verdicts([row, {**row, "claim": "d"}])  # 2 × 0.02 is not below 0.025
    assert [(r["role"], r["adjusted_p"], r["adjusted"]) for r in adjusted] == [("primary", 0.04, "INCONCLUSIVE")] * 2


def test_a_hostile_variant_is_inert_in_the_markdown_the_csv_and_the_figures(tmp_path):
    """A student's file name reaches the rows as `student:NAME`: once raw HTML in claims.md, a formula in claims.csv,
    and, with two `$`, mathtext that crashed the figures (and everything assembled after them)."""
    for variant in ("student:<img src=x onerror=alert(1)>", '=HYPERLINK("http://x")', r"student:a$\frac$b"):
        rowfile.append_row(tmp_path, make_row(claim="two_stage", variant=variant))
    assembly.assemble(tmp_path, "smoke")
    markdown = (tmp_path / "smoke" / "claims.md").read_text()
    assert "<img" not in markdown and "| student:&lt;img src=x onerror=alert(1)> |" in markdown
    csv = pd.read_csv(tmp_path / "smoke" / "claims.csv")
    assert '\'=HYPERLINK("http://x")' in set(csv["variant"]) and csv["delta"].dtype == float
    assert (tmp_path / "smoke" / "figures" / "deltas.png").stat().st_size > 0


def _primary(claim, seeds, p_value, verdict="CONFIRMED", p_refute=None, variant="v", primary=True):
    confirms = verdict == "CONFIRMED"
    fields = dict(confirms=confirms, decided=verdict != "INCONCLUSIVE", p_value=p_value, primary=primary)
    fields["p_refute"] = 1 - p_value if p_refute is None else p_refute
    return asdict(make_row(claim=claim, variant=variant, verdict=verdict, seeds=seeds, scale_name="cpu", **fields))


def test_a_table_is_one_family_whatever_seeds_each_row_stopped_at():
    """Under `--seeds auto` rows stop at 5, 7 or 10 seeds and a `min_seeds` variant runs 10: one table, one Holm
    family over all its primaries, confirmations and refutations alike. Split by seed count (as tables once were),
    each of these rows would keep its raw verdict."""
    rows = [
        _primary("stops_at_5", 5, 0.008),
        _primary("stops_at_7", 7, 0.009),
        _primary("stops_at_10", 10, 0.001),
        _primary("min_seeds_10", 10, 0.99, verdict="REFUTED", p_refute=0.01),
        _primary("undecided", 10, 0.3, verdict="INCONCLUSIVE"),
        _primary("stops_at_5", 5, 0.001, variant="exploratory", primary=False),
    ]
    folded = assembly.fold(rows)
    assert len(tables.group_rows(folded)) == 1
    family = {(row["claim"], row["variant"]): row for row in folded}
    # Confirmations: Holm over the 5 primaries' p-values, 0.001 → 0.005, 0.008 → 0.032, 0.009 → 0.032.
    assert family["stops_at_10", "v"]["adjusted"] == "CONFIRMED"
    assert family["stops_at_5", "v"]["adjusted_p"] == pytest.approx(0.032)
    assert family["stops_at_5", "v"]["adjusted"] == family["stops_at_7", "v"]["adjusted"] == "INCONCLUSIVE"
    # Refutations: the refuted row's 0.01 is the smallest of 5 refutation p-values: 0.05, not below 0.025.
    assert family["min_seeds_10", "v"]["adjusted_p_refute"] == pytest.approx(0.05)
    assert family["min_seeds_10", "v"]["adjusted"] == "INCONCLUSIVE"
    assert family["stops_at_5", "exploratory"]["role"] == "exploratory"
    assert family["stops_at_5", "exploratory"]["adjusted"] == "CONFIRMED"
    alone = assembly.fold([_primary("min_seeds_10", 10, 0.99, verdict="REFUTED", p_refute=0.01)])
    assert alone[0]["adjusted"] == "REFUTED"  # a family of one keeps the raw verdict


def test_rows_recorded_before_p_refute_get_the_complementary_tail():
    row = _primary("old", 5, 0.99, verdict="REFUTED")
    del row["p_refute"]
    assert assembly.recorded_verdict(row).p_refute == pytest.approx(0.01)
