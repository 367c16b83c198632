"""Tables: the newest row per claim × variant × configuration, one table per configuration, Markdown cells."""

from dataclasses import asdict

import pytest
from test_row import make_row

from tl_claims.results import assembly, rowfile, tables


def test_the_newest_run_wins_and_older_claims_stay(tmp_path):
    rowfile.append_row(tmp_path, make_row(claim="a", delta=0.1, run_id="20260101T000000-1"))
    rowfile.append_row(tmp_path, make_row(claim="b", delta=0.2, run_id="20260101T000000-1"))
    rowfile.append_row(tmp_path, make_row(claim="a", delta=0.3, run_id="20260102T000000-1"))
    table = assembly.assemble(tmp_path, "smoke").set_index("claim")
    assert table.loc["a", "delta"] == pytest.approx(0.3)
    assert table.loc["b", "delta"] == pytest.approx(0.2)


def test_two_image_sizes_give_two_tables_each_named(tmp_path):
    rowfile.append_row(tmp_path, make_row(claim="a"))
    rowfile.append_row(tmp_path, make_row(claim="a", run_id="20260102T000000-1", image_size=48))
    table = assembly.assemble(tmp_path, "smoke")
    assert sorted(table["image_size"]) == [32, 48]  # both kept: another configuration is not a newer row
    markdown = (tmp_path / "smoke" / "claims.md").read_text()
    assert markdown.count("| claim | variant |") == 2
    assert "### smoke · b · d · 32 px · 4 per class · 3 seeds" in markdown
    assert "### smoke · b · d · 48 px · 4 per class · 3 seeds" in markdown


def test_markdown_carries_the_metric_and_the_claim_type():
    row = {**asdict(make_row(metric="share of weights changed", rule="exact Δ > +99.0 pp")), "role": "p"}
    lines = tables.grouped_markdown([row], []).splitlines()
    assert "| metric |" in lines[2] and "| rule |" in lines[2]
    assert "| share of weights changed |" in lines[4] and "| exact Δ > +99.0 pp |" in lines[4]


def test_markdown_cells_are_formatted_and_escaped():
    row = {**asdict(make_row(claim="a|b", variant="two\nlines", delta=0.25)), "role": "p", "baseline_arm": None}
    line = tables.grouped_markdown([row], []).splitlines()[4]
    assert line.startswith("| a\\|b | two lines | p |  |  | 0.500 |  | 0.750 | +25.0 pp | [+20.0, +30.0] |")


def test_a_configuration_title_names_its_test_set_when_recorded():
    row = {"scale": "cpu", "backbone": "b", "dataset": "tf_flowers", "image_size": 96, "n_train": 50, "seeds": 5}
    assert tables.configuration_title([{**row, "n_test": 1928}]) == (
        "cpu · b · tf_flowers · 96 px · 50 per class · 1,928 test images · 5 seeds"
    )
    assert "test images" not in tables.configuration_title([{**row, "n_test": 0}])


def test_headings_and_skip_reasons_read_back_from_rows_are_escaped_too():
    row = {**asdict(make_row(dataset="folder:<b>photos</b>")), "role": "p"}
    skip = {"claim": "<i>c</i>", "variant": "v", "reason": "DataError: <script>x</script>\n# not a heading"}
    text = tables.grouped_markdown([row], [skip])
    assert text.startswith("### smoke · b · folder:&lt;b>photos&lt;/b> · 32 px")
    assert "- `&lt;i>c&lt;/i>` [v]: DataError: &lt;script>x&lt;/script> # not a heading\n" in text


def test_rows_that_stopped_at_different_seed_counts_are_one_table():
    row = {"scale": "cpu", "backbone": "b", "dataset": "d", "image_size": 96, "n_train": 50}
    rows = [{**row, "claim": name, "seeds": seeds} for name, seeds in (("a", 5), ("b", 7), ("c", 10))]
    (group,) = tables.group_rows(rows).values()
    assert [r["claim"] for r in group] == ["a", "b", "c"]
    assert tables.configuration_title(group).endswith("50 per class · 5–10 seeds")
    assert len(tables.group_rows([*rows, {**row, "claim": "d", "seeds": 5, "n_train": 200}])) == 2


def test_rows_of_two_backends_are_two_tables_and_only_another_backend_is_named():
    tensorflow, jax = asdict(make_row(claim="a")), asdict(make_row(claim="a", backend="jax"))
    assert len(tables.group_rows([tensorflow, jax])) == 2
    assert len(tables.latest_rows([tensorflow, jax])) == 2  # neither replaces the other
    assert tables.configuration_title([jax]) == tables.configuration_title([tensorflow]) + " · on jax"
