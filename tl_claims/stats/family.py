"""Holm's family-wise adjustment over the primary rows of one table: the suite's promise that no claim is wrongly
CONFIRMED, and none wrongly refuted, holds for the table as a whole, not only row by row.

Pure statistics on `Verdict`s (tl_claims.stats.rules); `tl_claims.results.assembly` applies it to recorded row dicts.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tl_claims.stats.rules import INCONCLUSIVE, Verdict

PRIMARY, EXPLORATORY, DETERMINISTIC = "primary", "exploratory", "deterministic"


@dataclass(frozen=True)
class FamilyVerdict:
    """A row's verdict before and after the family adjustment. `adjusted_p` (confirmation side) and
    `adjusted_p_refute` (refutation side) are None outside the primary family."""

    raw: Verdict
    role: str
    adjusted_p: float | None
    word: str
    confirms: bool
    adjusted_p_refute: float | None = None


def holm(verdicts: Sequence[Verdict], primary: Sequence[bool], alpha: float = 0.025) -> list[FamilyVerdict]:
    """Holm's step-down adjustment over the primary rows of one table, on both sides of every row.

    Each row carries two one-sided tests: a confirmation rejects "the claim is false" (`p_value`), a refutation
    rejects "the claim is true" (`p_refute`). Holm runs over the m confirmation p-values at `alpha` and, separately,
    over the m refutation p-values at `alpha`. Each is Holm's own procedure over m hypotheses, so each keeps its
    family-wise error at `alpha` under any dependence between rows (rows share data sets and backbones): no wrong
    confirmation in the table with probability ≥ 1 − α, and no wrong refutation with probability ≥ 1 − α. By the
    union bound the table's family-wise error, any wrong decided verdict, is at most 2α = 5 %: the two-sided level
    each row's 95 % interval already has. With one row both reduce to the raw verdict.

    Why not one Holm over the m rows' smaller p-value: a row decided in the right direction still holds the other
    direction's true null, so the step-down proof breaks (it holds only for independent rows); one Holm over all 2m
    one-sided hypotheses is valid but divides α by up to 2m. Why Holm and not Benjamini–Hochberg: the promise is
    that no claim is wrongly decided (family-wise), not a bound on the expected share of wrong ones.

    A decided raw verdict whose adjusted p is not below `alpha` becomes INCONCLUSIVE. Deterministic rows (no
    interval, exact claims) carry no sampling error and stay outside the family; non-primary rows are exploratory,
    unadjusted. `alpha` is the one-sided level of each rule's decision: (1 − confidence)/2, 0.025 at 95 %.
    """
    if len(verdicts) != len(primary):
        raise ValueError(f"{len(verdicts)} verdicts but {len(primary)} primary flags")
    roles = [_role(verdict, is_primary) for verdict, is_primary in zip(verdicts, primary)]
    members = [index for index, role in enumerate(roles) if role == PRIMARY]
    confirm = dict(zip(members, holm_adjust([verdicts[index].p_value for index in members])))
    refute = dict(zip(members, holm_adjust([verdicts[index].p_refute for index in members])))
    results = []
    for index, (verdict, role) in enumerate(zip(verdicts, roles)):
        if role != PRIMARY:
            results.append(FamilyVerdict(verdict, role, None, verdict.word, verdict.confirms))
            continue
        keeps = (not verdict.confirms or confirm[index] < alpha) and (not verdict.refutes or refute[index] < alpha)
        word = verdict.word if keeps else INCONCLUSIVE
        results.append(FamilyVerdict(verdict, role, confirm[index], word, verdict.confirms and keeps, refute[index]))
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
