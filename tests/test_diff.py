"""`python -m tl_claims diff A B`: rows matched by claim, variant and configuration; changed verdicts first, then
shifts beyond the intervals; `--fail-on-change` for CI."""

import json

import pytest
from test_row import make_row

from tl_claims import cli
from tl_claims.results import assembly, diff, rowfile


@pytest.fixture
def two_runs(tmp_path):
    """Two small results folders: `kept` unchanged, `flipped` changes verdict, `moved` shifts beyond both intervals,
    `nudged` moves within them, `gone` and `new` are in one run only, `sized` is another configuration in B."""
    old, new = tmp_path / "old", tmp_path / "new"
    for claim, delta in (("kept", 0.1), ("flipped", 0.1), ("moved", 0.1), ("nudged", 0.1), ("gone", 0.1)):
        rowfile.append_row(old, make_row(claim=claim, delta=delta, scale_name="cpu"))
    for claim, delta, verdict in (("kept", 0.1, "CONFIRMED"), ("flipped", -0.1, "REFUTED"), ("moved", 0.3, "CONFIRMED"),
                                  ("nudged", 0.12, "CONFIRMED"), ("new", 0.1, "CONFIRMED")):  # fmt: skip
        rowfile.append_row(new, make_row(claim=claim, delta=delta, verdict=verdict, scale_name="cpu"))
    rowfile.append_row(new, make_row(claim="kept", image_size=48, scale_name="cpu"))
    return old, new


def test_rows_are_matched_and_ordered_verdict_changes_first(two_runs):
    changes = diff.compare(diff.load_rows(two_runs[0]), diff.load_rows(two_runs[1]))
    kinds = [(change.kind, change.key[0], change.key[5]) for change in changes]
    assert kinds == [
        ("verdict changed", "flipped", "32"),
        ("shift beyond intervals", "moved", "32"),
        ("only in A", "gone", "32"),
        ("only in B", "kept", "48"),
        ("only in B", "new", "32"),
        ("within intervals", "kept", "32"),
        ("within intervals", "nudged", "32"),
    ]


def test_the_command_prints_the_changes_and_fails_on_change_when_asked(two_runs, capsys):
    old, new = two_runs
    assert cli.main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[1].startswith("| verdict changed | flipped | v | cpu · b · d · 32 px · 4 per class | 3 | +10.0 pp")
    assert "| -20.0 pp | CONFIRMED → REFUTED |" in table[1]
    assert not any("nudged" in line for line in table)  # within its intervals: counted, not listed
    assert "|\n\n1 verdict changed, 1 shift beyond intervals, 1 only in A, 2 only in B, 2 within intervals" in out
    assert cli.main(["diff", str(old), str(new), "--fail-on-change"]) == 1
    assert cli.main(["diff", str(old), str(old), "--fail-on-change"]) == 0


def test_claims_json_files_and_scale_folders_compare_alike(two_runs):
    old, new = two_runs
    assembly.assemble(old, "cpu")
    from_json = diff.compare(diff.load_rows(old / "cpu" / "claims.json"), diff.load_rows(new / "cpu"))
    from_folders = diff.compare(diff.load_rows(old), diff.load_rows(new))
    assert [(c.kind, c.key) for c in from_json] == [(c.kind, c.key) for c in from_folders]


def test_an_exact_row_shifts_on_any_change():
    exact = {"delta": 1.0, "ci_low": None, "ci_high": None, "confidence": None}
    assert diff.shifted(exact, {**exact, "delta": 0.99})
    assert not diff.shifted(exact, dict(exact))


def test_nothing_to_compare_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "claims.json").write_text(json.dumps({"rows": [{"claim": "x"}]}))
    assert cli.main(["diff", str(tmp_path / "claims.json"), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "row 1 skipped, row without variant" in err and "no rows in" in err


@pytest.fixture(autouse=True)
def _only_the_diff_command(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["tl_claims.results.diff"])


def test_a_risk_row_is_compared_on_its_failing_share_not_its_mean_delta():
    """A risk row's interval is over the share of failing seeds: the same share with the same mean Δ is no shift."""
    risk = {"rule": "risk P(...) > 20%", "delta": 0.374, "estimate": 1.0, "ci_low": 0.478, "ci_high": 1.0}
    risk["confidence"] = 0.95
    assert not diff.shifted(risk, dict(risk))
    assert diff.shifted(risk, {**risk, "estimate": 0.2, "ci_low": 0.01, "ci_high": 0.4})


def test_a_primary_that_keeps_its_raw_verdict_but_loses_the_adjusted_one_is_a_change():
    before = {"claim": "c", "variant": "v", "verdict": "INFERIOR", "adjusted": "INFERIOR", "delta": -0.06}
    after = {**before, "adjusted": "INCONCLUSIVE"}
    assert diff.classify(before, after) == "verdict changed"
    assert diff.classify(before, dict(before, ci_low=None)) != "verdict changed"
    assert diff._verdict_text(after) == "INFERIOR (adjusted INCONCLUSIVE)"
