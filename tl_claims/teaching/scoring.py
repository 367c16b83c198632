"""Points: what each teaching check and each acceptance criterion is worth in the class table and the feedback.

The default table (`POINTS`), out of 100 at cpu and gpu scale:

| item | points |
|---|---|
| each of the 7 teaching checks (passed) | 10 |
| `two_stage_accepted`: phase 2 beats phase 1 by the lesson's margin | 15 |
| `scratch_accepted`: transfer beats training from scratch by the claim's margin | 15 |

At smoke scale the accuracy criteria are not graded (a few images and one seed say nothing about accuracy), so a
student's points there are out of the checks' 70. A teacher overrides any entry in `pytest.ini`, one per line:

    [pytest]
    tl_claims_points =
        finetune_lr_10x_lower = 20
        scratch_accepted = 0

or in `pyproject.toml`: `tl_claims_points = ["finetune_lr_10x_lower = 20", "scratch_accepted = 0"]`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping

from tl_claims.teaching.checks import CHECKS

CHECK_POINTS = 10.0
CRITERION_POINTS = 15.0
CRITERIA = ("two_stage_accepted", "scratch_accepted")
POINTS: dict[str, float] = {**dict.fromkeys(CHECKS, CHECK_POINTS), **dict.fromkeys(CRITERIA, CRITERION_POINTS)}
POINTS_INI = "tl_claims_points"
UNGRADED_CRITERIA_SCALES = frozenset({"smoke"})  # the scales whose accuracies are not graded


def points_with(lines: Iterable[str]) -> dict[str, float]:
    """The default table with the ini option's `name = points` lines applied; ValueError names a wrong line."""
    points = dict(POINTS)
    for line in lines:
        name, separator, value = line.partition("=")
        name = name.strip()
        if not separator or name not in POINTS:
            known = ", ".join(POINTS)
            raise ValueError(f"{POINTS_INI}: {line.strip()!r}: write `name = points` with a name among {known}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{POINTS_INI}: {line.strip()!r}: {value.strip()!r} is not a number") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{POINTS_INI}: {line.strip()!r}: give a finite number of points, 0 or more")
        points[name] = number
    return points


def criteria_graded(scale: str) -> bool:
    return scale not in UNGRADED_CRITERIA_SCALES


def graded_items(points: Mapping[str, float], scale: str) -> dict[str, float]:
    """The items that count at `scale`: every check, and the criteria where accuracies are graded."""
    return {name: value for name, value in points.items() if name in CHECKS or criteria_graded(scale)}


def earned(name: str, cell: object) -> bool:
    """A check earns its points when it passed; a criterion when it was met (True, or "yes" in the table)."""
    if name in CHECKS:
        return cell == "passed"
    return cell is True or cell == "yes"


def score(cells: Mapping[str, object], points: Mapping[str, float], scale: str) -> tuple[float, float]:
    """(points earned, points possible) of one student's outcomes at `scale`."""
    items = graded_items(points, scale)
    return sum(value for name, value in items.items() if earned(name, cells.get(name))), sum(items.values())


def mean_spread(values: list[float], places: int) -> str:
    """`mean ± sd` over students (the sample standard deviation; 0 for one student), "" for none."""
    if not values:
        return ""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{places}f} ± {spread:.{places}f}"


def pass_rate(passed: int, total: int) -> str:
    """`k/n (p %)`, "" for no student."""
    return f"{passed}/{total} ({100 * passed / total:.0f} %)" if total else ""
