"""Facts read from one run's per-buyer table (``RunResult.buyers``): when the first call came compared with the
buyer's readiness, how fast hand-raisers were answered, how long leads waited, and the shape of a purchase.

The notebooks print these; keeping the arithmetic here gives it a docstring and a test, and one definition for
"called too early" or "answered within an hour" wherever it is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.experiments.bridge import FATE_LABELS

__all__ = [
    "RESPONSE_BUCKETS",
    "TIMING_LABELS",
    "contact_timing",
    "contact_waits",
    "handoff_facts",
    "journey_profile",
    "response_buckets",
]

TIMING_LABELS: tuple[str, str, str] = (
    "before the buyer was ready",
    "inside the sales-ready window",
    "after the buyer's deadline",
)
"""When a first call came, relative to the buyer's sales-ready window."""

RESPONSE_BUCKETS: tuple[tuple[float, float, str], ...] = (
    (0.0, 1.0, "within 1 h"),
    (1.0, 24.0, "1-24 h"),
    (24.0, math.inf, "24 h or more"),
)
"""Response-time buckets of the speed-to-lead study (hours from the request to the first contact)."""


def _buyers(data: Any) -> pd.DataFrame:
    return data.buyers if hasattr(data, "buyers") else data


def _contacted(b: pd.DataFrame) -> pd.DataFrame:
    handed = b[b["handoff_day"].notna()]
    return handed[handed["first_contact_day"].notna()]


def contact_timing(data: Any) -> pd.DataFrame:
    """The leads sales contacted, by when the first call came (`TIMING_LABELS`: before the buyer was ready,
    inside its ready window, after its deadline) and by how the journey ended, with a total column.
    ``data``: a `RunResult` or its buyers table."""
    c = _contacted(_buyers(data))
    when = np.select(
        [c["first_contact_day"] < c["ready_day"], c["first_contact_day"] >= c["deadline_day"]],
        [TIMING_LABELS[0], TIMING_LABELS[2]],
        TIMING_LABELS[1],
    )
    table = pd.crosstab(pd.Series(when, name="first call came", index=c.index), c["terminal_state"])
    table = table.reindex(index=[t for t in TIMING_LABELS if t in table.index])
    table = table[[s for s in FATE_LABELS if s in table.columns]].rename(columns=FATE_LABELS)
    table.columns.name = "how the journey ended"
    table["all contacted"] = table.sum(axis=1)
    return table


def handoff_facts(data: Any) -> dict[str, float]:
    """Leads handed to sales (``handed``), the share of their buyers already sales-ready at handoff
    (``ready_at_handoff``), leads contacted (``contacted``) and the share of first calls made before the buyer
    was ready (``called_early``)."""
    b = _buyers(data)
    handed = b[b["handoff_day"].notna()]
    c = _contacted(b)
    return {
        "handed": float(len(handed)),
        "ready_at_handoff": float((handed["handoff_day"] >= handed["ready_day"]).mean()) if len(handed) else math.nan,
        "contacted": float(len(c)),
        "called_early": float((c["first_contact_day"] < c["ready_day"]).mean()) if len(c) else math.nan,
    }


def response_buckets(
    data: Any, buckets: Sequence[tuple[float, float, str]] = RESPONSE_BUCKETS, kind: str = "hand_raiser"
) -> pd.Series:
    """How the leads of one ``kind`` (default: hand-raisers, i.e. demo requests) were answered: the share
    answered in each bucket of hours, the share of those that qualified (became SQLs), the share never answered,
    and their number (``leads``)."""
    b = _buyers(data)
    b = b[b["lead_kind"] == kind]
    delay = (b["first_contact_day"] - b["lead_day"]) * 24
    out: dict[str, float] = {}
    for lo, hi, label in buckets:
        m = (delay >= lo) & (delay < hi)
        out[f"answered {label}"] = float(m.mean()) if len(b) else math.nan
        out[f"qualified, if answered {label}"] = float(b.loc[m, "sql_day"].notna().mean()) if m.any() else math.nan
    out["never answered"] = float(delay.isna().mean()) if len(b) else math.nan
    out["leads"] = float(len(b))
    return pd.Series(out)


def contact_waits(data: Any) -> dict[str, float]:
    """The wait from becoming a lead to the first contact over the contacted leads: ``contacted``, ``median``,
    ``p90`` (days)."""
    b = _buyers(data)
    w = (b["first_contact_day"] - b["lead_day"]).dropna().to_numpy(float)
    if not w.size:
        return {"contacted": 0.0, "median": math.nan, "p90": math.nan}
    return {"contacted": float(w.size), "median": float(np.median(w)), "p90": float(np.percentile(w, 90))}


def journey_profile(run: Any) -> dict[str, float]:
    """The shape of a purchase in one run: median purchase process and sales-ready window (days), median rep
    hours and first-deal value of a won deal, and the mean sales cycle (days, first contact to close)."""
    b = run.buyers
    won = b[b["terminal_state"] == "won"]
    return {
        "process_days": float((b["deadline_day"] - b["arrival_day"]).median()),
        "ready_window_days": float((b["deadline_day"] - b["ready_day"]).median()),
        "rep_hours_per_win": float(won["rep_hours"].median()) if len(won) else math.nan,
        "deal_value": float(won["revenue"].median()) if len(won) else math.nan,
        "sales_cycle_days": float(run.summary["sales_cycle_days"]),
    }
