"""The replication table: one column per configuration, the newest row wins, and the status word per claim."""

import pytest

from tl_claims.results.replication import replication_status, replication_table, several_setups


def row(claim, dataset, backbone, verdict, delta=0.05, run_id="r1", **extra):
    return {
        "claim": claim,
        "variant": "primary",
        "dataset": dataset,
        "backbone": backbone,
        "verdict": verdict,
        "delta": delta,
        "run_id": run_id,
        "finished_at": "",
        **extra,
    }


@pytest.mark.parametrize(
    ("verdicts", "status"),
    [
        (["CONFIRMED", "CONFIRMED"], "replicated"),
        (["REFUTED", "REFUTED"], "replicated"),
        (["FAILS OFTEN", "FAILS OFTEN"], "replicated"),
        (["NON-INFERIOR", "INCONCLUSIVE"], "undecided"),
        (["FAILS OFTEN", "CONFIRMED"], "not replicated"),
        (["CONFIRMED", "REFUTED"], "not replicated"),
        (["CONFIRMED", "INCONCLUSIVE", "REFUTED"], "not replicated"),
        (["CONFIRMED", "INCONCLUSIVE"], "undecided"),
        (["INCONCLUSIVE", "INCONCLUSIVE"], "undecided"),
        (["CONFIRMED", None], "incomplete"),
    ],
)
def test_status_words(verdicts, status):
    assert replication_status(verdicts) == status


def test_a_column_per_configuration_and_the_newest_row_per_cell():
    rows = [
        row("a", "flowers", "lite0", "INCONCLUSIVE", run_id="r1"),
        row("a", "flowers", "lite0", "CONFIRMED", 0.12, run_id="r2"),  # newer: wins
        row("a", "objects", "lite0", "CONFIRMED"),
        row("b", "flowers", "lite0", "REFUTED", -0.03),
    ]
    table = replication_table(rows, ["flowers × lite0", "objects × lite0"])
    first, second = table.to_dict("records")
    assert first["flowers × lite0"] == "CONFIRMED +12.0 pp" and first["replicated"] == "replicated"
    assert second["objects × lite0"] == "—" and second["replicated"] == "incomplete"


def test_assembling_rows_of_several_set_ups_writes_the_replication_table(tmp_path):
    """A scale whose rows come from two data families gets replication.csv / .md next to its tables."""
    import json
    from dataclasses import asdict

    from tl_claims.results import assembly
    from tl_claims.results.row import Row

    runs = tmp_path / "replicate" / "runs" / "r1"
    runs.mkdir(parents=True)
    lines = []
    for dataset, verdict in (("synthetic", "CONFIRMED"), ("synthetic:objects", "REFUTED")):
        row = Row(
            claim="a",
            variant="v",
            scale="replicate",
            backbone="efficientnet_lite0",
            dataset=dataset,
            image_size=96,
            n_train=50,
            seeds=5,
            baseline=0.5,
            treatment=0.6,
            delta=0.1,
            ci_low=0.05,
            ci_high=0.15,
            threshold=0.0,
            verdict=verdict,
            seconds=1.0,
            run_id="r1",
        )
        lines.append(json.dumps(asdict(row)))
    (runs / "main.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assembly.assemble(tmp_path, "replicate")
    table = (tmp_path / "replicate" / "replication.md").read_text(encoding="utf-8")
    assert table.splitlines()[:2] == [
        "| claim | variant | synthetic × efficientnet_lite0 | synthetic:objects × efficientnet_lite0 | replicated |",
        "|---|---|---|---|---|",
    ]
    assert table.endswith("| a | v | CONFIRMED +10.0 pp | REFUTED +10.0 pp | not replicated |\n")


def test_rows_of_two_backends_get_a_column_each_and_say_whether_each_set_up_agrees_across_them():
    rows = [
        row("bn", "flowers", "lite0", "CONFIRMED"),  # no backend: measured before rows said, on TensorFlow
        row("bn", "flowers", "lite0", "REFUTED", -0.02, backend="jax"),
        row("bn", "objects", "lite0", "CONFIRMED", backend="tensorflow"),
        row("bn", "objects", "lite0", "CONFIRMED", backend="jax"),
        row("lr", "flowers", "lite0", "CONFIRMED"),
        row("lr", "flowers", "lite0", "CONFIRMED", 0.07, backend="jax"),
    ]
    assert several_setups(rows[4:]) and not several_setups(rows[4:5])
    table = replication_table(rows)
    assert list(table.columns) == [
        "claim",
        "variant",
        "flowers × lite0 × jax",
        "flowers × lite0 × tensorflow",
        "objects × lite0 × jax",
        "objects × lite0 × tensorflow",
        "replicated",
        "across backends",
    ]
    bn, lr = table.to_dict("records")
    assert bn["flowers × lite0 × jax"] == "REFUTED -2.0 pp" and bn["across backends"] == "not replicated"
    assert lr["objects × lite0 × jax"] == "—" and lr["replicated"] == "incomplete"
    assert lr["across backends"] == "replicated"  # objects was never measured for lr: only flowers compares


def test_one_backend_keeps_the_table_as_it_was():
    rows = [row("a", "flowers", "lite0", "CONFIRMED", backend="jax"), row("a", "objects", "lite0", "CONFIRMED")]
    rows[1]["backend"] = "jax"
    assert list(replication_table(rows).columns) == [
        "claim",
        "variant",
        "flowers × lite0",
        "objects × lite0",
        "replicated",
    ]
