"""Ledger -> KPIs (funnel, timing, capacity, money, attribution) with the stable names of docs/pages/kpis.md.

Waiting for a first contact (over contacted leads: buyers with a first contact before the horizon; days):

- ``contact_wait_days``: mean time from becoming a lead (``lead_day``: MQL, hand-raise, referral ready) to the
  first contact. It is the sum of three parts, per lead and so on the means:
  ``contact_wait_days = batch_wait_days + callback_wait_days + queue_wait_days``.
- ``batch_wait_days``: lead -> handoff to sales (``handoff_day``, the end of batching: the next list day for a
  batch handoff, 0 in real time or under an SLA).
- ``callback_wait_days``: handoff -> joining the reps' queue (``queued_day``): the planned call-back delay of a rep
  who knows the buyer's context and calls when the buyer will be ready (``callback_day``); 0 without one.
- ``queue_wait_days``: joining the reps' queue -> first contact (``first_contact_day``): waiting for rep capacity.
- ``contact_wait_days_p90``: 90th percentile of the per-lead contact wait.
- ``lead_wait_days``, ``lead_wait_days_p90``: handoff -> first contact (callback + queue wait). Kept for
  compatibility; it leaves out the batching delay before the handoff, so prefer ``contact_wait_days``.

Ratios (comparable between firms of different sizes):

- ``churn_rate`` = ``churned`` / customers who had at least one repurchase decision in the run (initial customers
  and buyers won in the run whose next need came before the horizon). A customer whose next need is still ahead
  could not have churned and is not in the denominator. NaN without such a customer.
- ``roi``: return on go-to-market spend for the customers acquired in the run =
  (gross margin x revenue from buyers won in the run, first and repeat purchases - marketing spend - rep cost)
  / (marketing spend + rep cost). Revenue from the initial customer base is left out (no spend of the run acquired
  it) and the reps are a cost of acquisition like marketing. Repeat revenue counts up to the horizon only.
- ``marketing_roi`` = (gross margin x revenue from marketing-sourced buyers won in the run, first and repeat
  purchases - marketing spend) / marketing spend. Marketing-sourced: reached by a marketing channel (referrals and
  the initial base are not); marketing spend is the whole marketing budget spent (channels, nurture, retention,
  training). NaN without spend.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simfunnel.ledger import (
    HAND_RAISE,
    INITIAL_BASE,
    LEAD_KINDS,
    LOST_REASONS,
    REFERRAL_LEAD,
    TERMINAL_STATES,
    WON,
    Ledger,
)
from simfunnel.model.calendar import WorkCalendar
from simfunnel.scenario import Scenario

SUMMARY_KEYS = (
    "buyers", "engaged", "known", "mqls", "sqls", "won",
    *(f"lost_{r}" if r != "lost_to_competitor" and r != "open" else r for r in LOST_REASONS),
    "revenue", "new_revenue", "repeat_revenue", "repeat_purchases", "customers_end", "churned", "referrals",
    "churn_rate", "marketing_spend", "rep_cost", "profit", "cac", "roi", "marketing_roi", "win_rate", "mql_to_sql",
    "contact_wait_days", "contact_wait_days_p90", "batch_wait_days", "callback_wait_days", "queue_wait_days",
    "lead_wait_days", "lead_wait_days_p90", "speed_to_lead_hours", "sla_breach_share", "sales_cycle_days", "rep_utilization",
    "leads_followed_up", "rep_hours", "rep_hours_wasted", "sim_events", "wall_seconds",
)  # fmt: skip
"""Every KPI in `RunResult.summary`, in display order."""

LOST_KEYS = {r: (f"lost_{r}" if r not in ("lost_to_competitor", "open") else r) for r in LOST_REASONS}


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _p90(x: np.ndarray) -> float:
    return float(np.percentile(x, 90)) if len(x) else math.nan


def contact_waits(b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per contacted lead (days): the contact wait and its batch, callback and queue parts (module docstring)."""
    contacted = ~np.isnan(b["first_contact_day"])
    lead, handoff = b["lead_day"][contacted], b["handoff_day"][contacted]
    queued, first = b["queued_day"][contacted], b["first_contact_day"][contacted]
    return {
        "contact": first - lead,
        "batch": handoff - lead,
        "callback": queued - handoff,
        "queue": first - queued,
        "lead": first - handoff,
    }


def summary(ledger: Ledger, scenario: Scenario, wall_seconds: float) -> dict[str, float]:
    """The KPI summary of one run (floats; NaN where a ratio has no denominator)."""
    b = ledger.buyers.trimmed()
    term = b["terminal"]
    counts = np.bincount(term, minlength=len(TERMINAL_STATES))
    pur = ledger.purchases()
    new_rev = float(pur["amount"][~pur["repeat"]].sum())
    rep_rev = float(pur["amount"][pur["repeat"]].sum())
    revenue = new_rev + rep_rev
    spend = float(sum(ledger.spend_by_item.values()))
    margin = scenario.money.gross_margin
    won = int(counts[WON])
    acquired = pur["channel"] != INITIAL_BASE  # bought by a buyer won in the run
    acquired_rev = float(pur["amount"][acquired].sum())
    marketing_rev = float(pur["amount"][acquired & (pur["channel"] < len(ledger.channel_names))].sum())
    go_to_market = spend + ledger.rep_cost
    contacted = ~np.isnan(b["first_contact_day"])
    waits = contact_waits(b)
    hand = contacted & ((b["lead_kind"] == HAND_RAISE) | (b["lead_kind"] == REFERRAL_LEAD))
    won_mask = term == WON
    handed = ~np.isnan(b["handoff_day"])
    out: dict[str, float] = {
        "buyers": float(ledger.buyers.n),
        "engaged": float((~np.isnan(b["engaged_day"])).sum()),
        "known": float((~np.isnan(b["known_day"])).sum()),
        "mqls": float((~np.isnan(b["lead_day"])).sum()),
        "sqls": float((~np.isnan(b["sql_day"])).sum()),
        "won": float(won),
    }
    for code, reason in enumerate(TERMINAL_STATES):
        if reason != "won":
            out[LOST_KEYS[reason]] = float(counts[code])
    cust_end = np.asarray(ledger.cust_end, dtype=float)
    out.update(
        revenue=revenue,
        new_revenue=new_rev,
        repeat_revenue=rep_rev,
        repeat_purchases=float(pur["repeat"].sum()),
        customers_end=float(np.isnan(cust_end).sum()),
        churned=float((~np.isnan(cust_end)).sum()),
        churn_rate=_ratio(float((~np.isnan(cust_end)).sum()), float(sum(ledger.cust_decided))),
        referrals=float(ledger.referrals),
        marketing_spend=spend,
        rep_cost=ledger.rep_cost,
        profit=margin * revenue - spend - ledger.rep_cost,
        cac=_ratio(spend + ledger.rep_cost, won),
        roi=_ratio(margin * acquired_rev - go_to_market, go_to_market),
        marketing_roi=_ratio(margin * marketing_rev - spend, spend),
        win_rate=_ratio(won, out["sqls"]),
        mql_to_sql=_ratio(out["sqls"], out["mqls"]),
        contact_wait_days=_mean(waits["contact"]),
        contact_wait_days_p90=_p90(waits["contact"]),
        batch_wait_days=_mean(waits["batch"]),
        callback_wait_days=_mean(waits["callback"]),
        queue_wait_days=_mean(waits["queue"]),
        lead_wait_days=_mean(waits["lead"]),
        lead_wait_days_p90=_p90(waits["lead"]),
        speed_to_lead_hours=_mean((b["first_contact_day"] - b["lead_day"])[hand] * 24.0),
        sla_breach_share=sla_breach_share(ledger, scenario),
        sales_cycle_days=_mean((b["close_day"] - b["first_contact_day"])[won_mask]),
        rep_utilization=rep_utilization(ledger, scenario),
        leads_followed_up=_ratio(float((b["followed_up"][handed] == 1).sum()), float(handed.sum())),
        rep_hours=float(sum(ledger.act_hours)),
        rep_hours_wasted=float(np.nansum(b["wasted_hours"])),
        sim_events=float(ledger.sim_events),
        wall_seconds=wall_seconds,
    )
    return out


def sla_breach_share(ledger: Ledger, scenario: Scenario) -> float:
    """Share of hand-raisers and referrals (the leads under the response SLA) first contacted after their SLA
    deadline (``response_sla_hours`` working hours after the request), over those whose SLA deadline fell before
    the horizon; a lead not contacted by then is a breach. NaN without an SLA or without such a lead."""
    sla = scenario.organisation.response_sla_hours
    if not math.isfinite(sla):
        return math.nan
    b = ledger.buyers.trimmed()
    asked = ((b["lead_kind"] == HAND_RAISE) | (b["lead_kind"] == REFERRAL_LEAD)) & ~np.isnan(b["lead_day"])
    cal = WorkCalendar(scenario.sales.calendar)
    due = np.array([cal.finish(t, sla) for t in b["lead_day"][asked].tolist()])
    first = b["first_contact_day"][asked]
    counted = due <= ledger.horizon
    late = np.isnan(first) | (first > due + 1e-9)
    return _ratio(float((late & counted).sum()), float(counted.sum()))


def rep_utilization(ledger: Ledger, scenario: Scenario) -> float:
    """Share of the reps' working hours in [0, horizon] spent on activities."""
    cal = WorkCalendar(scenario.sales.calendar)
    H = ledger.horizon
    acts = ledger.activities()
    busy = float(acts["hours"][acts["end"] <= H].sum())
    for s, e in zip(acts["start"][acts["end"] > H].tolist(), acts["end"][acts["end"] > H].tolist(), strict=True):
        busy += cal.working_hours(s, min(e, H))
    available = scenario.sales.reps * cal.working_hours(0.0, H)
    return busy / available if available else math.nan


def source_names(ledger: Ledger) -> list[str]:
    """Source labels by channel code: the channels, then 'referral'; code -1 is 'none'."""
    return [*ledger.channel_names, "referral"]


def buyers_frame(ledger: Ledger) -> pd.DataFrame:
    """One row per in-market buyer with the time of each stage reached and its terminal state."""
    b = ledger.buyers.trimmed()
    names = np.array([*source_names(ledger), "none"], dtype=object)
    df = pd.DataFrame(
        {
            "buyer_id": np.arange(ledger.buyers.n),
            "source_channel": names[b["channel"].astype(int)],  # -1 -> last element 'none'
            "lead_kind": np.array(LEAD_KINDS, dtype=object)[b["lead_kind"]],
        }
    )
    for name in (
        "arrival_day", "deadline_day", "ready_day", "value", "fit", "engaged_day", "known_day", "nurture_lift",
        "lead_day", "lead_score", "handoff_day",
    ):  # fmt: skip
        df[name] = b[name]
    df["followed_up"] = b["followed_up"].astype(bool)
    df["returned"] = b["returned"].astype(bool)
    for name in (
        "callback_day", "queued_day", "first_contact_day", "contacts", "readiness_at_contact", "sql_day", "close_day",
    ):  # fmt: skip
        df[name] = b[name]
    df["terminal_state"] = np.array(TERMINAL_STATES, dtype=object)[b["terminal"]]
    for name in ("terminal_day", "revenue", "rep_hours", "wasted_hours"):
        df[name] = b[name]
    df["contacts"] = df["contacts"].astype(int)
    for col in ("source_channel", "lead_kind", "terminal_state"):
        df[col] = df[col].astype("str")
    return df


def channels_frame(ledger: Ledger, scenario: Scenario) -> pd.DataFrame:
    """Per-channel attribution: spend, buyers reached, leads, won, first-purchase revenue and ROI."""
    b = ledger.buyers.trimmed()
    names = source_names(ledger)
    rows = []
    margin = scenario.money.gross_margin
    for code, name in enumerate(names):
        mask = b["channel"] == code
        spend = float(ledger.spend_by_item.get(name, 0.0))
        revenue = float(b["revenue"][mask].sum())
        rows.append(
            {
                "channel": name,
                "spend": spend,
                "reached": int(mask.sum()),
                "leads": int((mask & ~np.isnan(b["lead_day"])).sum()),
                "won": int((mask & (b["terminal"] == WON)).sum()),
                "revenue": revenue,
                "roi": (margin * revenue - spend) / spend if spend > 0 else math.nan,
            }
        )
    df = pd.DataFrame(rows)
    df["channel"] = df["channel"].astype("str")
    return df


def timeseries_frame(ledger: Ledger, scenario: Scenario, bin_days: float = 7.0) -> pd.DataFrame:
    """Weekly (by default) series: revenue (new, repeat), wins, leads, active customers, rep utilisation."""
    H = ledger.horizon
    nbins = max(1, math.ceil(H / bin_days))
    edges = np.arange(nbins + 1) * bin_days

    def binned(times: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        ok = ~np.isnan(times) & (times < nbins * bin_days)
        idx = (times[ok] // bin_days).astype(int)
        return np.bincount(idx, weights=None if weights is None else weights[ok], minlength=nbins)[:nbins]

    b = ledger.buyers.trimmed()
    pur = ledger.purchases()
    acts = ledger.activities()
    cal = WorkCalendar(scenario.sales.calendar)
    available = np.array(
        [scenario.sales.reps * cal.working_hours(lo, min(hi, H)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    )
    busy = binned(acts["start"], acts["hours"])
    cs = np.asarray(ledger.cust_start, dtype=float)
    ce = np.asarray(ledger.cust_end, dtype=float)
    ends = np.minimum(edges[1:], H)
    customers = np.array([int(((cs <= e) & (np.isnan(ce) | (ce > e))).sum()) for e in ends.tolist()], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(available > 0, np.minimum(busy / available, 1.0), np.nan)
    return pd.DataFrame(
        {
            "day": edges[:-1],
            "buyers_arrived": binned(b["arrival_day"]).astype(int),
            "leads": binned(b["lead_day"]).astype(int),
            "won": binned(b["close_day"]).astype(int),
            "new_revenue": binned(pur["day"][~pur["repeat"]], pur["amount"][~pur["repeat"]]),
            "repeat_revenue": binned(pur["day"][pur["repeat"]], pur["amount"][pur["repeat"]]),
            "customers": customers,
            "rep_utilization": util,
        }
    )


def activities_frame(ledger: Ledger) -> pd.DataFrame:
    """Every rep activity: rep, start and end (days), working hours, kind and buyer (-1: a check-in)."""
    from simfunnel.ledger import ACTIVITY_KINDS

    a = ledger.activities()
    df = pd.DataFrame(a)
    df["kind"] = np.array(ACTIVITY_KINDS, dtype=object)[a["kind"]]
    df["kind"] = df["kind"].astype("str")
    return df
