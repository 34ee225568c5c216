"""KPIs per year of the horizon: is the second year like the first, or is the first still a ramp-up?

`summary_by_year(ledger, scenario)` splits the measured window (after any warm-up) into years of 365 days (the
last one shorter when the horizon is not whole years) and computes the KPI summary of each with
`simfunnel.metrics.summary`: events count in the year they happen, money in the year it is booked or spent. The
counts and money of `ADDITIVE_KEYS` add up over the years to the whole window's; ratios, means and the stocks at
a year's end (`open`, `customers_end`) do not. `RunResult.by_year()` is the table of one run;
``replicate(..., runner=yearly_runner)`` and `experiment_by_year` give it over replications.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from simfunnel import metrics
from simfunnel.ledger import Ledger
from simfunnel.scenario import Scenario

YEAR_DAYS = 365.0
WHOLE_RUN_KEYS = ("sim_events", "wall_seconds")
"""Summary fields of the whole run, not of a year: left out of the per-year tables."""
STOCK_KEYS = ("open", "customers_end")
"""Counts at the end of a period (not flows): they do not add up over the years."""
ADDITIVE_KEYS = (
    "buyers", "engaged", "known", "mqls", "sqls", "won",
    *(k for k in metrics.LOST_KEYS.values() if k not in STOCK_KEYS),
    "revenue", "new_revenue", "repeat_revenue", "repeat_purchases", "churned", "referrals", "marketing_spend",
    "rep_cost", "profit", "rep_hours", "rep_hours_wasted",
)  # fmt: skip
"""KPIs whose values per year add up to the whole window's (counts of events, money)."""
YEAR_PREFIX = "year"
"""`yearly_runner` names a KPI of year k ``year<k>.<kpi>`` (e.g. ``year1.won``)."""


def year_windows(ledger: Ledger) -> list[tuple[int, float, float]]:
    """(year number from 1, first day, last day) of each year of the measured window, in days of the run."""
    lo, hi = ledger.start, ledger.horizon
    years = max(1, math.ceil((hi - lo) / YEAR_DAYS - 1e-9))
    return [(k + 1, lo + k * YEAR_DAYS, min(hi, lo + (k + 1) * YEAR_DAYS)) for k in range(years)]


def summaries_by_year(ledger: Ledger, scenario: Scenario) -> dict[int, dict[str, float]]:
    """{year: KPI summary of that year} (without the whole-run fields)."""
    out: dict[int, dict[str, float]] = {}
    for year, lo, hi in year_windows(ledger):
        s = metrics.summary(ledger, scenario, math.nan, window=(lo, hi))
        out[year] = {k: v for k, v in s.items() if k not in WHOLE_RUN_KEYS}
    return out


def summary_by_year(ledger: Ledger, scenario: Scenario) -> pd.DataFrame:
    """Tidy KPIs per year: columns year (1, 2, ...), days (the year's length: 365 but for a short last year),
    metric, value."""
    rows = [
        {"year": year, "days": hi - lo, "metric": metric, "value": value}
        for (year, lo, hi), summary in zip(year_windows(ledger), summaries_by_year(ledger, scenario).values(),
                                           strict=True)
        for metric, value in summary.items()
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=["year", "days", "metric", "value"])
    df["metric"] = df["metric"].astype("str")
    return df


def yearly_runner(scenario: Scenario, seed: np.random.SeedSequence) -> dict[str, Any]:
    """An experiment runner (``replicate(..., runner=yearly_runner)``, or the string
    ``"simfunnel.periods:yearly_runner"`` for worker processes): the run's summary plus ``year<k>.<kpi>``."""
    from simfunnel.simulate import simulate

    result = simulate(scenario, seed)
    out: dict[str, Any] = dict(result.summary)
    for year, summary in summaries_by_year(result.ledger, scenario).items():
        out[f"{YEAR_PREFIX}{year}"] = summary
    return out


def experiment_by_year(summary: Any) -> pd.DataFrame:
    """The ``year<k>.<kpi>`` rows of an experiment run with `yearly_runner` (its ``.summary`` table, or the
    experiment) as a table with a ``year`` column and the plain KPI name in ``metric``."""
    df = summary.summary if not isinstance(summary, pd.DataFrame) else summary
    parts = df["metric"].astype(str).str.extract(rf"^{YEAR_PREFIX}(\d+)\.(.+)$")
    rows = df[parts[0].notna()].copy()
    rows.insert(0, "year", parts.loc[rows.index, 0].astype(int))
    rows["metric"] = parts.loc[rows.index, 1].astype(str)
    return rows.reset_index(drop=True)


def additive_totals(by_year: pd.DataFrame) -> Mapping[str, float]:
    """The sum over the years of each additive KPI of a `summary_by_year` table (a check against the whole)."""
    sub = by_year[by_year["metric"].isin(ADDITIVE_KEYS)]
    return sub.groupby("metric")["value"].sum().to_dict()
