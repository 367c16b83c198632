"""Holm's family-wise adjustment over the primary rows of one table: the suite's promise that no claim is wrongly
CONFIRMED holds for the table as a whole, not only row by row.

Pure statistics on `Verdict`s (tl_claims.stats.rules); `tl_claims.results.assembly` applies it to recorded row dicts.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tl_claims.stats.rules import INCONCLUSIVE, Verdict

PRIMARY, EXPLORATORY, DETERMINISTIC = "primary", "exploratory", "deterministic"


@dataclass(frozen=True)
class FamilyVerdict:
    """A row's verdict before and after the family adjustment. `adjusted_p` is None outside the primary family."""

    raw: Verdict
    role: str
    adjusted_p: float | None
    word: str
    confirms: bool


def holm(verdicts: Sequence[Verdict], primary: Sequence[bool], alpha: float = 0.025) -> list[FamilyVerdict]:
    """Holm's step-down adjustment over the primary rows' one-sided p-values ("claim false" nulls).

    Why Holm: the suite's promise is that no claim is wrongly CONFIRMED, a family-wise guarantee; Holm gives it
    under any dependence between rows (rows share data sets and backbones) and is uniformly more powerful than
    Bonferroni. Benjamini–Hochberg controls only the expected share of false confirmations, a weaker promise.

    Only confirmations are adjusted: a raw confirmation whose adjusted p is not below `alpha` becomes INCONCLUSIVE.
    REFUTED / OUTSIDE BAND words stay (they are not what the guarantee is about). Deterministic rows (no interval,
    exact claims) carry no sampling error and stay outside the family; non-primary rows are exploratory, unadjusted.
    `alpha` is the one-sided level of each rule's confirmation: (1 − confidence)/2, 0.025 at 95 %.
    """
    if len(verdicts) != len(primary):
        raise ValueError(f"{len(verdicts)} verdicts but {len(primary)} primary flags")
    roles = [_role(verdict, is_primary) for verdict, is_primary in zip(verdicts, primary)]
    members = [index for index, role in enumerate(roles) if role == PRIMARY]
    adjusted = dict(zip(members, holm_adjust([verdicts[index].p_value for index in members])))
    results = []
    for index, (verdict, role) in enumerate(zip(verdicts, roles)):
        if role != PRIMARY:
            results.append(FamilyVerdict(verdict, role, None, verdict.word, verdict.confirms))
            continue
        keeps = not verdict.confirms or adjusted[index] < alpha
        word = verdict.word if keeps else INCONCLUSIVE
        results.append(FamilyVerdict(verdict, role, adjusted[index], word, verdict.confirms and keeps))
    return results


def _role(verdict: Verdict, is_primary: bool) -> str:
    if verdict.confidence is None:
        return DETERMINISTIC
    return PRIMARY if is_primary else EXPLORATORY


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order: max over j ≤ k of min(1, (m − j + 1)·p_(j))."""
    m = len(p_values)
    order = np.argsort(np.asarray(p_values, float), kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[index])))
        adjusted[index] = running
    return [float(value) for value in adjusted]
