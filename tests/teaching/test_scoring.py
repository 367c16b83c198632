"""Points (tl_claims/teaching/scoring.py): the default table is out of 100, a teacher's ini lines override it, and at
smoke scale only the checks count."""

import pytest

from tl_claims.teaching import scoring
from tl_claims.teaching.checks import CHECKS


def test_the_default_table_gives_ten_per_check_and_fifteen_per_criterion():
    assert {**dict.fromkeys(CHECKS, 10.0), "two_stage_accepted": 15.0, "scratch_accepted": 15.0} == scoring.POINTS
    assert sum(scoring.POINTS.values()) == 100


def test_ini_lines_override_single_entries():
    points = scoring.points_with(["finetune_lr_10x_lower = 20", "  scratch_accepted=0  "])
    assert points["finetune_lr_10x_lower"] == 20 and points["scratch_accepted"] == 0
    assert points["two_stage_accepted"] == 15 and points["preprocessing_matches_backbone"] == 10


@pytest.mark.parametrize(
    "line, says",
    [
        ("finetune_lr = 20", "with a name among preprocessing_matches_backbone"),
        ("finetune_lr_10x_lower 20", "write `name = points`"),
        ("finetune_lr_10x_lower = ten", "'ten' is not a number"),
        ("finetune_lr_10x_lower = -1", "0 or more"),
        ("finetune_lr_10x_lower = nan", "0 or more"),
    ],
)
def test_a_wrong_line_is_named(line, says):
    with pytest.raises(ValueError, match="tl_claims_points") as error:
        scoring.points_with([line])
    assert says in str(error.value) and repr(line) in str(error.value)


def test_a_score_counts_passed_checks_and_met_criteria_and_at_smoke_only_the_checks():
    outcomes = {
        **dict.fromkeys(CHECKS, "passed"),
        "finetune_lr_10x_lower": "failed",
        "stage1_trains_only_head": "error",
    }
    met = {**outcomes, "two_stage_accepted": "yes", "scratch_accepted": False}
    assert scoring.score(met, scoring.POINTS, "cpu") == (65, 100)
    assert scoring.score({**met, "scratch_accepted": True}, scoring.POINTS, "gpu") == (80, 100)
    assert scoring.score(met, scoring.POINTS, "smoke") == (50, 70)


def test_the_summary_cells():
    assert scoring.mean_spread([0.5, 0.7], 3) == "0.600 ± 0.141" and scoring.mean_spread([0.5], 1) == "0.5 ± 0.0"
    assert (
        scoring.mean_spread([], 3) == "" and scoring.pass_rate(2, 3) == "2/3 (67 %)" and scoring.pass_rate(0, 0) == ""
    )


def test_a_wrong_points_line_in_pytest_ini_is_a_usage_error(pytester, student_source):
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    pytester.makefile(".ini", pytest="[pytest]\ntl_claims_points =\n    two_stage_accepted = 20\n    checks = 5\n")
    pytester.path.joinpath("tiny.py").write_text(student_source(), encoding="utf-8")
    result = pytester.runpytest("--homework", "tiny.py", "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: tl_claims_points: 'checks = 5': write `name = points`*"])
