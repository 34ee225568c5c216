"""Robustness of a choice of policy across the sampled worlds: who wins where, regret, and a robust choice.

Per world, the *regret* of a policy is how much worse its KPI is than the best policy's in that world (0 for the
best). A policy with a low maximum (or 90th-percentile) regret is robust: it is never far from the best,
whichever world comes true (minimax regret, Savage 1951; as used in robust decision making, Lempert et al.
2003). The satisficing rule instead picks the policy that reaches a user's threshold of the KPI in the most
worlds (Simon 1956). Worlds where a policy failed are left out of every statistic (their count is reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simfunnel.vocabulary import kpi

if TYPE_CHECKING:
    from simfunnel.analysis.explore import Exploration

__all__ = ["ROBUSTNESS_COLUMNS", "Robustness", "robustness"]

ROBUSTNESS_COLUMNS = ("policy", "mean", "p10", "p90", "share_beats_baseline", "regret_mean", "regret_p90",
                      "regret_max", "share_satisficing")  # fmt: skip


@dataclass(frozen=True)
class Robustness:
    """Per-policy table (`ROBUSTNESS_COLUMNS`; KPI and regret in the KPI's unit, shares 0..1), the robust
    choice and the rule that chose it."""

    table: pd.DataFrame
    choice: str
    rule: str
    metric: str
    baseline: str
    n_worlds: int
    threshold: float | None = None


def oriented(exp: Exploration, metric: str) -> tuple[pd.DataFrame, int]:
    """(KPI per world and policy, complete worlds only; +1 if higher is better, -1 if lower)."""
    better = kpi(metric).better
    if better == 0:
        raise ValueError(f"{metric!r} is neither better high nor low: choose a KPI such as profit or revenue")
    return exp.outcome(metric).dropna(), better


def robustness(exp: Exploration, metric: str = "profit", threshold: float | None = None) -> Robustness:
    """Share of worlds in which each policy beats the baseline, its regret distribution, and the robust choice:
    minimax regret, or with ``threshold`` (in the KPI's unit) the policy reaching it in the most worlds
    (ties: the lower maximum regret)."""
    values, better = oriented(exp, metric)
    if values.empty:
        raise ValueError("no world completed for every policy")
    v = values.to_numpy(dtype=float) * better
    regret = v.max(axis=1, keepdims=True) - v
    base = v[:, list(values.columns).index(exp.baseline)]
    rows = []
    for j, name in enumerate(values.columns):
        col = values[name].to_numpy(dtype=float)
        beats = np.nan if name == exp.baseline else float(np.mean(v[:, j] > base))
        sat = np.nan if threshold is None else float(np.mean(col * better >= threshold * better))
        rows.append((name, col.mean(), np.quantile(col, 0.1), np.quantile(col, 0.9), beats, regret[:, j].mean(),
                     np.quantile(regret[:, j], 0.9), regret[:, j].max(), sat))  # fmt: skip
    table = pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))
    if threshold is None:
        order = table.sort_values(["regret_max", "regret_p90"], kind="stable")
        rule = "minimax regret"
    else:
        order = table.assign(neg=-table["share_satisficing"]).sort_values(["neg", "regret_max"], kind="stable")
        rule = f"satisficing: {metric} {'>=' if better > 0 else '<='} {threshold:g} in the most worlds"
    return Robustness(table, str(order.iloc[0]["policy"]), rule, metric, exp.baseline, len(values), threshold)
