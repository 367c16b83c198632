"""The row: its fields are the rows-file schema, `from_result` fills them from what the engine decided, and the
measuring commit is read once per process, the value provenance stamps."""

from dataclasses import asdict, fields

import numpy as np
import pytest

from tl_claims.claims.base import Arm, Claim, Variant
from tl_claims.core import provenance
from tl_claims.core.paths import REPO_ROOT
from tl_claims.recipe.scales import SCALES
from tl_claims.results.row import Row, stamp
from tl_claims.stats.intervals import summarize
from tl_claims.stats.rules import Superiority

# One JSON line per row, in this order: renaming, adding or dropping a field changes every rows file.
SCHEMA = [
    "claim",
    "variant",
    "scale",
    "backbone",
    "dataset",
    "image_size",
    "n_train",
    "seeds",
    "baseline",
    "treatment",
    "delta",
    "ci_low",
    "ci_high",
    "threshold",
    "verdict",
    "seconds",
    "statement",
    "lesson_section",
    "metric",
    "baseline_arm",
    "treatment_arm",
    "ci_method",
    "explanation",
    "per_seed",
    "details",
    "records",
    "primary",
    "claim_version",
    "expected",
    "rule",
    "confirms",
    "decided",
    "p_value",
    "p_refute",
    "estimate",
    "confidence",
    "floor",
    "note",
    "images",
    "steps",
    "regime",
    "run_id",
    "finished_at",
    "git_commit",
    "started_at",
    "node_id",
    "tool_version",
    "git_dirty",
    "versions",
    "machine",
    "n_test",
    "backend",
]


def make_row(
    claim="c", variant="v", run_id="20260101T000000-1", verdict="CONFIRMED", delta=0.1, scale_name="smoke", **extra
):
    """A complete row with plain values; any field can be given (tests across the results modules use it)."""
    values = {
        "backbone": "b",
        "dataset": "d",
        "image_size": 32,
        "n_train": 4,
        "seeds": 3,
        "baseline": 0.5,
        "treatment": 0.5 + delta,
        "ci_low": delta - 0.05,
        "ci_high": delta + 0.05,
        "threshold": 0.0,
        "seconds": 1.0,
        "finished_at": "2026-01-01T00:00:00",
        "per_seed": {"a": [0.5]},
        **extra,
    }
    return Row(claim=claim, variant=variant, scale=scale_name, delta=delta, verdict=verdict, run_id=run_id, **values)


def test_the_fields_are_the_rows_file_schema():
    assert [field.name for field in fields(Row)] == SCHEMA
    assert list(asdict(make_row())) == SCHEMA


def test_from_result_takes_the_set_up_from_claim_and_scale_and_the_numbers_from_summary_and_verdict():
    claim = Claim(
        id="toy",
        statement="treatment beats baseline",
        lesson_section="§1",
        baseline=Arm("base", lambda trial: None),
        treatment=Arm("treat", lambda trial: None),
        threshold=0.01,
        variants=(Variant("a"), Variant("b", {"backbone": "other"})),
        primary="b",
        version=3,
    )
    scale = SCALES["smoke"]
    summary = summarize(np.full((3, 20), 0.5), np.full((3, 20), 0.6) + np.arange(3)[:, None] / 100)
    verdict = Superiority(claim.threshold).judge(summary)
    row = Row.from_result(claim, claim.variant("b"), scale, summary, verdict, arms={"baseline": "base",
                          "treatment": "treat"}, seeds=3, per_seed={"base": [0.5] * 3}, details={"x": 1.0},
                          records=[], steps={"stage 2": 4}, regime="r", explanation="e", seconds=1.5, run_id="r1",
                          finished_at="t")  # fmt: skip
    assert (row.claim, row.variant, row.scale, row.backbone, row.primary) == ("toy", "b", "smoke", "other", True)
    assert (row.dataset, row.image_size, row.n_train) == (scale.dataset, scale.image_size, scale.n_train)
    assert (row.threshold, row.claim_version, row.metric, row.statement) == (0.01, 3, "test accuracy", claim.statement)
    assert (row.baseline, row.treatment, row.delta) == (summary.baseline, summary.treatment, summary.delta)
    assert (row.ci_low, row.ci_high, row.p_value, row.confidence) == (
        verdict.ci_low,
        verdict.ci_high,
        verdict.p_value,
        verdict.confidence,
    )
    assert (row.verdict, row.rule, row.confirms, row.images, row.floor) == (
        verdict.word,
        verdict.rule,
        verdict.confirms,
        20,
        summary.floor,
    )
    assert (row.baseline_arm, row.treatment_arm, row.seeds, row.seconds, row.run_id) == ("base", "treat", 3, 1.5, "r1")


@pytest.fixture
def counted_git(monkeypatch):
    """Every git call provenance makes, answered by a fake checkout; the per-process commit is forgotten before and
    after, so no other test sees the fake one."""
    calls = []

    def fake_git(checkout, *args):
        calls.append(args[0])
        return "abc1234" if args[0] == "rev-parse" else ""

    provenance._head.cache_clear()
    monkeypatch.setattr(provenance, "_git", fake_git)
    yield calls
    provenance._head.cache_clear()


def test_the_commit_is_read_once_per_process_and_is_the_one_provenance_stamps(counted_git):
    rows = [make_row(), make_row(claim="other")]
    stamped = stamp(rows[0], node_id="n", started_at="t", checkout=REPO_ROOT)
    assert [row.git_commit for row in rows] == ["abc1234", "abc1234"] and stamped.git_commit == "abc1234"
    assert counted_git.count("rev-parse") == 1 and stamped.git_dirty is False  # the dirty flag is still read
