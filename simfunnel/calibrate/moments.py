"""The summary statistics ('moments') the simulation-based fit matches: computed the same way from a firm's
CRM tables and from a simulated firm's (`simfunnel.data.crm_tables`), so the observation process - the export
date, open deals right-censored, leads without a deal - is the same on both sides and needs no correction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MOMENTS = {
    "log_leads_per_month": "log of the mean leads per month",
    "deals_per_lead": "deals opened per lead",
    "win_rate": "won / (won + lost)",
    "log_days_lead_to_deal": "log of the median days from lead created to deal opened",
    "log_days_to_close": "log of the median days from deal opened to closed (closed deals)",
    "open_share": "share of deals still open at the export date",
    "late_lead_share": "share of leads created in the second half of the history",
}
"""The moment names with what each measures."""


def moments(leads: pd.DataFrame, deals: pd.DataFrame | None, start: pd.Timestamp,
            export_date: pd.Timestamp) -> np.ndarray:  # fmt: skip
    """The `MOMENTS` of canonical leads/deals tables (``created``; ``lead_id``, ``opened``, ``closed``,
    ``outcome``) observed from `start` to `export_date`."""
    span = max((export_date - start) / pd.Timedelta(days=1), 1.0)
    created = leads["created"]
    n_leads = max(len(leads), 1)
    out = {name: math.nan for name in MOMENTS}
    out["log_leads_per_month"] = math.log(max(len(leads), 0.5) / (span / (365.0 / 12)))
    middle = start + pd.Timedelta(days=span / 2)
    out["late_lead_share"] = float((created >= middle).mean()) if len(leads) else 0.5
    if deals is not None:
        out["deals_per_lead"] = len(deals) / n_leads
        won = (deals["outcome"] == "won").sum()
        closed = deals["outcome"].isin(["won", "lost"])
        out["win_rate"] = won / closed.sum() if closed.any() else 0.0
        out["open_share"] = float((deals["outcome"] == "open").mean()) if len(deals) else 0.0
        made = leads.drop_duplicates("lead_id").set_index("lead_id")["created"]
        wait = (deals["opened"] - deals["lead_id"].map(made)) / pd.Timedelta(days=1)
        out["log_days_lead_to_deal"] = _log_median(wait)
        dur = (deals.loc[closed, "closed"] - deals.loc[closed, "opened"]) / pd.Timedelta(days=1)
        out["log_days_to_close"] = _log_median(dur)
    return np.array([out[name] for name in MOMENTS], dtype=float)


def _log_median(days: pd.Series) -> float:
    d = days.dropna()
    return math.log(max(float(d.median()), 0.01)) if len(d) else math.nan


__all__ = ["MOMENTS", "moments"]
