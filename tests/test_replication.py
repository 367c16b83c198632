"""The replication table: one column per configuration, the newest row wins, and the status word per claim."""

import pytest

from harness.replication import replication_status, replication_table


def row(claim, dataset, backbone, verdict, delta=0.05, run_id="r1"):
    return {
        "claim": claim,
        "variant": "primary",
        "dataset": dataset,
        "backbone": backbone,
        "verdict": verdict,
        "delta": delta,
        "run_id": run_id,
        "finished_at": "",
    }


@pytest.mark.parametrize(
    ("verdicts", "status"),
    [
        (["CONFIRMED", "CONFIRMED"], "replicated"),
        (["REFUTED", "REFUTED"], "replicated"),
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
