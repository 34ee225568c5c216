"""The comparison's numbers as the report reads them: means, intervals and paired differences by scenario and
KPI, formatted by `simfunnel.formatting` and judged better / worse by the KPI's direction in the vocabulary.

A KPI that the results do not carry (e.g. one added to the model after these runs were cached) is simply absent:
`Results.has` is False and every section skips it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simfunnel.formatting import format_kpi, format_kpi_ci
from simfunnel.vocabulary import KPIS

__all__ = [
    "JUDGED_WAIT_PARTS",
    "NEUTRAL_COUNTS",
    "PLANNED_WAITS",
    "Diff",
    "Results",
    "ci_bounds",
    "in_text",
    "mean_and_bounds",
    "verdict",
    "with_judged_parts",
]

NEUTRAL_COUNTS: frozenset[str] = frozenset({"churned"})
"""Counts whose size follows the size of the firm: a difference is shown as higher / lower, never better / worse
(the fair comparison is a rate, e.g. `churn_rate`)."""

PLANNED_WAITS: frozenset[str] = frozenset(
    {"contact_wait_days", "contact_wait_days_p90", "callback_wait_days", "lead_wait_days", "lead_wait_days_p90"}
)
"""Waits that include a planned call-back when the buyer's timeline travels with the lead: longer is not worse
there, so the vocabulary gives them no direction (``better = 0``) and a difference is shown as longer / shorter."""

JUDGED_WAIT_PARTS: dict[str, tuple[str, ...]] = {"contact_wait_days": ("queue_wait_days",)}
"""The part of a planned-including wait that is judged better / worse: the queueing for a rep (the capacity wait);
shown next to the wait wherever the wait is a headline (`with_judged_parts`)."""


def with_judged_parts(metrics: tuple[str, ...] | list[str]) -> list[str]:
    """``metrics`` with the judged part of each planned-including wait right after it (no duplicates):
    ('profit', 'contact_wait_days') -> ['profit', 'contact_wait_days', 'queue_wait_days']."""
    out: list[str] = []
    for m in metrics:
        for x in (m, *JUDGED_WAIT_PARTS.get(m, ())):
            if x not in out and (x == m or x not in metrics):
                out.append(x)
    return out


def in_text(metric: str) -> str:
    """A KPI's label for running text: 'profit', 'deals won', but 'MQLs (leads)' (an acronym keeps its case)."""
    label = KPIS[metric].label if metric in KPIS else metric
    return label if label[:2].isupper() else label[0].lower() + label[1:]


def verdict(metric: str, lo: float, hi: float) -> tuple[str, str]:
    """(text, css class) of a paired difference's 95 % CI: better / worse by the KPI's direction, higher / lower
    for a KPI that is neither good nor bad (or a size-dependent count), longer / shorter for such a wait (one that
    holds a planned call-back, `PLANNED_WAITS`), or "no clear difference"."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or (lo <= 0 <= hi):
        return "no clear difference", "neutral"
    up = lo > 0
    better = KPIS[metric].better if metric in KPIS and metric not in NEUTRAL_COUNTS else 0
    if better == 0:
        if metric in KPIS and KPIS[metric].unit == "days":
            return ("longer" if up else "shorter"), "neutral"
        return ("higher" if up else "lower"), "neutral"
    return ("better", "better") if up == (better > 0) else ("worse", "worse")


def mean_and_bounds(metric: str, mean: float, lo: float, hi: float, *, signed: bool = False) -> tuple[str, str]:
    """A mean and its 95 % interval as ('397.0', '391.2 – 403.6'), one precision for all three (`format_kpi_ci`);
    an interval without spread beyond float noise (a fixed budget) collapses to the mean; '—' when unknown."""
    if np.isfinite(lo) and np.isfinite(hi) and abs(hi - lo) <= 1e-9 * max(abs(lo), abs(hi), 1.0):
        lo = hi = mean
    text = format_kpi_ci(metric, mean, lo, hi, signed=signed)
    if " [" not in text:
        return text, "—"
    m, bounds = text.split(" [", 1)
    return m, bounds.rstrip("]").replace(", ", " – ", 1)


def ci_bounds(metric: str, lo: float, hi: float, *, signed: bool = False, mean: float | None = None) -> str:
    """The 95 % interval as 'lo – hi', with the precision `format_kpi_ci` gives the mean and both bounds."""
    return mean_and_bounds(metric, (lo + hi) / 2 if mean is None else mean, lo, hi, signed=signed)[1]


@dataclass(frozen=True)
class Diff:
    """A paired difference (other - baseline) of one KPI, formatted, with its verdict."""

    mean: str
    ci: str
    rel: str
    verdict: str
    css: str

    @property
    def ci_text(self) -> str:
        """'95 % CI lo to hi' for running text."""
        return "95 % CI " + self.ci.replace(" – ", " to ")


class Results:
    """Means, 95 % intervals and paired differences of a comparison, by (scenario, KPI)."""

    def __init__(self, experiment: Any, baseline: str, planned_waits: bool = False) -> None:
        self.experiment = experiment
        self.baseline = baseline
        self.planned_waits = planned_waits
        self.summary = experiment.summary.set_index(["scenario", "metric"])
        diffs = experiment.diffs
        self.diffs = diffs.set_index(["scenario", "metric"]) if diffs is not None else None
        self.n = int(experiment.n_replications)

    def has(self, metric: str) -> bool:
        """True when the results carry ``metric`` and the vocabulary knows it."""
        return metric in KPIS and (self.baseline, metric) in self.summary.index

    def present(self, metrics: tuple[str, ...] | list[str]) -> list[str]:
        """The KPIs of ``metrics`` the results carry, in order."""
        return [m for m in metrics if self.has(m)]

    def mean(self, name: str, metric: str) -> float:
        """Mean over the replications (NaN when absent)."""
        key = (name, metric)
        return float(self.summary.loc[key, "mean"]) if key in self.summary.index else math.nan

    def ci(self, name: str, metric: str) -> tuple[float, float]:
        """95 % interval of the mean (NaN when absent)."""
        if (name, metric) not in self.summary.index:
            return math.nan, math.nan
        r = self.summary.loc[(name, metric)]
        return float(r["ci_low"]), float(r["ci_high"])

    def mean_ci_texts(self, name: str, metric: str) -> tuple[str, str]:
        """The mean and its interval 'lo – hi' with one precision for all three (tables and cards)."""
        return mean_and_bounds(metric, self.mean(name, metric), *self.ci(name, metric))

    def mean_text(self, name: str, metric: str) -> str:
        """The formatted mean."""
        return format_kpi(metric, self.mean(name, metric))

    def mean_of_first(self, name: str, metric: str, k: int) -> float:
        """Mean over replications 0..k-1 only (the runs an attribution with ``k`` replications shares)."""
        r = self.experiment.runs
        sel = r[(r["scenario"] == name) & (r["metric"] == metric) & (r["replication"] < k)]
        return float(sel["value"].mean()) if len(sel) else math.nan

    def diff(self, other: str, metric: str) -> Diff | None:
        """Paired difference other - baseline: below float noise it is 0 ("same"), else formatted and judged."""
        if self.diffs is None or (other, metric) not in self.diffs.index:
            return None
        d = self.diffs.loc[(other, metric)]
        scale = abs(self.mean(other, metric)) + abs(self.mean(self.baseline, metric))
        vals = [float(d[c]) for c in ("mean_diff", "ci_low", "ci_high")]
        md, lo, hi = (0.0 if np.isfinite(v) and abs(v) <= 1e-9 * scale else v for v in vals)
        if md == lo == hi == 0.0:
            text, css = "same", "neutral"
        else:
            text, css = verdict(metric, lo, hi)
        bm = self.mean(self.baseline, metric)
        unit = KPIS[metric].unit
        rel = f"{100 * md / abs(bm):+.0f} %" if unit in ("money", "count") and np.isfinite(bm) and bm != 0 else ""
        mean_text, bounds = mean_and_bounds(metric, md, lo, hi, signed=True)
        return Diff(mean_text, bounds, rel, text, css)
