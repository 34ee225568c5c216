"""Ledger -> KPIs (funnel, timing, capacity, money, attribution) with the stable names of docs/pages/kpis.md.

Every KPI covers the measured window: the horizon after any warm-up (`Ledger.start` to `Ledger.horizon`, days of
the run; `summary`'s docstring says how events and money are assigned to it). "In the run" below means in it.

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

- ``churn_rate`` = ``churned`` / customers who had at least one repurchase decision in the window (initial
  customers and buyers won before or in it whose next need came in it). A customer whose next need is still ahead
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
from collections.abc import Callable

import numpy as np
import pandas as pd

from simfunnel.ledger import (
    HAND_RAISE,
    INITIAL_BASE,
    LEAD_KINDS,
    LOST_REASONS,
    OPEN,
    REFERRAL_LEAD,
    TERMINAL_STATES,
    WON,
    Ledger,
)
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.marketing import effective_shares
from simfunnel.model.plans import budget_steps, plan_integral
from simfunnel.model.team import ROLES
from simfunnel.scenario import NON_CHANNEL_SHARES, Scenario

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


def contact_waits(b: dict[str, np.ndarray], contacted: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per contacted lead (days): the contact wait and its batch, callback and queue parts (module docstring).
    ``contacted``: which leads (default: every lead with a first contact)."""
    if contacted is None:
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


def in_window(t: np.ndarray, lo: float, hi: float, closed: bool) -> np.ndarray:
    """Times in [lo, hi) (``closed``: [lo, hi], the last window, which ends at the horizon); NaN is never in."""
    t = np.asarray(t, dtype=float)
    return (t >= lo) & ((t <= hi) if closed else (t < hi))


def summary(
    ledger: Ledger, scenario: Scenario, wall_seconds: float, window: tuple[float, float] | None = None
) -> dict[str, float]:
    """The KPI summary of one run (floats; NaN where a ratio has no denominator) over ``window`` = (lo, hi) days
    of the run, by default the measured window [ledger.start, ledger.horizon] (after the warm-up). Events count
    by when they happen (a buyer counts in `won` if the win is in the window), money by when it is booked or
    spent; `open` and `customers_end` are stocks at the window's end. Ledger fields the window cannot split
    (`sim_events`) cover the whole run."""
    lo, hi = (ledger.start, ledger.horizon) if window is None else window
    whole = lo == ledger.start and hi == ledger.horizon  # the measured window: stocks and spend as booked
    closed = hi >= ledger.horizon

    def inside(t: np.ndarray) -> np.ndarray:
        return in_window(t, lo, hi, closed)

    b = ledger.buyers.trimmed()
    term = b["terminal"]
    pur = ledger.purchases()
    booked = inside(pur["day"])
    new_rev = float(pur["amount"][~pur["repeat"] & booked].sum())
    rep_rev = float(pur["amount"][pur["repeat"] & booked].sum())
    revenue = new_rev + rep_rev
    spend = float(sum(ledger.window_spend().values())) if whole else marketing_spend_between(ledger, scenario, lo, hi)
    rep_cost = ledger.window_rep_cost() if whole else rep_cost_between(scenario, lo, hi, ledger)
    margin = scenario.money.gross_margin
    won_mask = (term == WON) & inside(b["close_day"])
    acquired = (pur["channel"] != INITIAL_BASE) & booked  # bought by a buyer won in the run
    acquired_rev = float(pur["amount"][acquired].sum())
    marketing_rev = float(pur["amount"][acquired & (pur["channel"] < len(ledger.channel_names))].sum())
    go_to_market = spend + rep_cost
    contacted = inside(b["first_contact_day"])
    waits = contact_waits(b, contacted)
    hand = contacted & ((b["lead_kind"] == HAND_RAISE) | (b["lead_kind"] == REFERRAL_LEAD))
    handed = inside(b["handoff_day"])
    worked = inside(np.asarray(ledger.act_start, dtype=float))  # rep activities started in the window
    out = stage_counts(b, inside, closed, hi)
    won = int(out["won"])
    churned = float(inside(np.asarray(ledger.cust_end, dtype=float)).sum())
    decided = float(
        len(np.unique(np.asarray(ledger.decision_customer, dtype=np.int64)[inside(np.asarray(ledger.decision_day))]))
    )
    if not ledger.decision_customer:  # a ledger built without `Ledger.decided` (by hand): its flags, whole run
        decided = float(sum(ledger.cust_decided))
    out.update(
        revenue=revenue,
        new_revenue=new_rev,
        repeat_revenue=rep_rev,
        repeat_purchases=float((pur["repeat"] & booked).sum()),
        customers_end=customers_at(ledger, hi) if not closed else float(np.isnan(np.asarray(ledger.cust_end)).sum()),
        churned=churned,
        churn_rate=_ratio(churned, decided),
        referrals=float((inside(b["arrival_day"]) & (b["channel"] == len(ledger.channel_names))).sum()),
        marketing_spend=spend,
        rep_cost=rep_cost,
        profit=margin * revenue - spend - rep_cost,
        cac=_ratio(spend + rep_cost, won),
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
        sla_breach_share=sla_breach_share(ledger, scenario, (lo, hi)),
        sales_cycle_days=_mean((b["close_day"] - b["first_contact_day"])[won_mask]),
        rep_utilization=rep_utilization(ledger, scenario, (lo, hi)),
        leads_followed_up=_ratio(float((b["followed_up"][handed] == 1).sum()), float(handed.sum())),
        rep_hours=float(sum(h for h, ok in zip(ledger.act_hours, worked.tolist(), strict=True) if ok)),
        rep_hours_wasted=float(np.nansum(np.where(contacted, b["wasted_hours"], 0.0))),
        sim_events=float(ledger.sim_events),
        wall_seconds=wall_seconds,
    )
    return out


def stage_counts(
    b: dict[str, np.ndarray], inside: Callable[[np.ndarray], np.ndarray], closed: bool, hi: float
) -> dict[str, float]:
    """The funnel's counts in a window (``inside`` tells which days fall in it): buyers reaching each stage, won,
    and each terminal state (lost reasons; ``open`` as a stock at the window's end ``hi``)."""
    term = b["terminal"]
    ended = (term != OPEN) & inside(b["terminal_day"])
    counts = np.bincount(term[ended], minlength=len(TERMINAL_STATES))
    out: dict[str, float] = {
        "buyers": float(inside(b["arrival_day"]).sum()),
        "engaged": float(inside(b["engaged_day"]).sum()),
        "known": float(inside(b["known_day"]).sum()),
        "mqls": float(inside(b["lead_day"]).sum()),
        "sqls": float(inside(b["sql_day"]).sum()),
        "won": float(((term == WON) & inside(b["close_day"])).sum()),
    }
    for code, reason in enumerate(TERMINAL_STATES):
        if reason == "open":
            out[LOST_KEYS[reason]] = float((term == OPEN).sum()) if closed else open_at(b, hi)
        elif reason != "won":
            out[LOST_KEYS[reason]] = float(counts[code])
    return out


def sla_breach_share(ledger: Ledger, scenario: Scenario, window: tuple[float, float] | None = None) -> float:
    """Share of hand-raisers and referrals (the leads under the response SLA) first contacted after their SLA
    deadline (``response_sla_hours`` working hours after the request), over those whose SLA deadline fell in the
    window (default: the measured window); a lead not contacted by then is a breach. NaN without an SLA or
    without such a lead."""
    lo, hi = (ledger.start, ledger.horizon) if window is None else window
    sla = scenario.organisation.response_sla_hours
    if not math.isfinite(sla):
        return math.nan
    b = ledger.buyers.trimmed()
    asked = ((b["lead_kind"] == HAND_RAISE) | (b["lead_kind"] == REFERRAL_LEAD)) & ~np.isnan(b["lead_day"])
    cal = WorkCalendar(scenario.sales.calendar)
    due = np.array([cal.finish(t, sla) for t in b["lead_day"][asked].tolist()])
    first = b["first_contact_day"][asked]
    counted = (due >= lo) & (due <= hi)
    late = np.isnan(first) | (first > due + 1e-9)
    return _ratio(float((late & counted).sum()), float(counted.sum()))


def open_at(b: dict[str, np.ndarray], t: float) -> float:
    """Buyers in the market at time t: arrived before it and not in a terminal state by then."""
    done = b["terminal_day"] < t  # NaN (open at the horizon) compares False
    return float(((b["arrival_day"] < t) & ~done).sum())


def customers_at(ledger: Ledger, t: float) -> float:
    """Customers active at time t: started by then and not churned by then."""
    start, end = np.asarray(ledger.cust_start, dtype=float), np.asarray(ledger.cust_end, dtype=float)
    return float(((start <= t) & ~(end <= t)).sum())


def marketing_spend_between(ledger: Ledger, scenario: Scenario, lo: float, hi: float) -> float:
    """Marketing spend in [lo, hi] days of the run from the scenario alone: the total spend rate is constant
    (rebalancing moves money between channels, not in or out) until acquisition stops (day of the horizon)."""
    shares = effective_shares(scenario)
    budget = scenario.marketing.budget_per_year
    acquisition = sum(v for k, v in shares.items() if k not in NON_CHANNEL_SHARES)
    stop = ledger.start + scenario.marketing.acquisition_stop_day
    stopped = max(0.0, hi - max(lo, min(hi, stop)))
    if scenario.marketing.budget_plan:  # plan days count from the start of the horizon (`ledger.start`)
        steps, S = budget_steps(scenario.marketing), ledger.start
        total = plan_integral(steps, budget, lo - S, hi - S)
        after_stop = plan_integral(steps, budget, max(lo, min(hi, stop)) - S, hi - S)
        return (total * sum(shares.values()) - after_stop * acquisition) / 365.0
    return budget * sum(shares.values()) * (hi - lo) / 365.0 - budget * acquisition * stopped / 365.0


def rep_cost_between(scenario: Scenario, lo: float, hi: float, ledger: Ledger | None = None) -> float:
    """The reps' cost over [lo, hi] days (with a changing team, `ledger`'s rep records: the headcount over time)."""
    if ledger is not None and ledger.staffing_varies:
        return ledger.rep_cost_over(lo, hi)
    return scenario.sales.reps * scenario.sales.rep_cost_per_year * (hi - lo) / 365.0


def available_hours(ledger: Ledger, scenario: Scenario, cal: WorkCalendar, lo: float, hi: float) -> float:
    """The reps' working hours in [lo, hi]: headcount x calendar, or, with a changing team, each rep's working
    hours while employed."""
    if ledger.staffing_varies:
        cals = role_calendars(scenario, cal)
        return sum(cals[ledger.rep_role[rep]].working_hours(a, b) for rep, a, b in ledger.rep_spans(lo, hi))
    return scenario.sales.reps * cal.working_hours(lo, hi)


def role_calendars(scenario: Scenario, cal: WorkCalendar) -> tuple[WorkCalendar, ...]:
    """The working calendar by role code (`simfunnel.model.team.ROLES`): `cal` for one pool, then SDRs', AEs'."""
    roles = scenario.sales.roles
    if roles is None:
        return (cal, cal, cal)
    return (cal, WorkCalendar(roles.sdr.calendar), WorkCalendar(roles.ae.calendar))


def rep_utilization(ledger: Ledger, scenario: Scenario, window: tuple[float, float] | None = None) -> float:
    """Share of the reps' working hours in the window (default: the measured window) spent on activities; an
    activity across an edge of the window counts with its working hours inside it."""
    cal = WorkCalendar(scenario.sales.calendar)
    lo, H = (ledger.start, ledger.horizon) if window is None else window
    acts = ledger.activities()
    inside = (acts["end"] <= H) & (acts["start"] >= lo)
    busy = float(acts["hours"][inside].sum())
    across = ~inside & (acts["end"] > lo) & (acts["start"] < H)
    for s, e in zip(acts["start"][across].tolist(), acts["end"][across].tolist(), strict=True):
        busy += cal.working_hours(max(s, lo), min(e, H))
    available = available_hours(ledger, scenario, cal, lo, H)
    return busy / available if available else math.nan


def source_names(ledger: Ledger) -> list[str]:
    """Source labels by channel code: the channels, then 'referral'; code -1 is 'none'."""
    return [*ledger.channel_names, "referral"]


DAY_COLUMNS = (
    "arrival_day", "deadline_day", "ready_day", "engaged_day", "known_day", "lead_day", "handoff_day", "callback_day",
    "queued_day", "first_contact_day", "sql_day", "close_day", "terminal_day",
)  # fmt: skip
"""Columns of the buyers table that are times (days since the start of the horizon)."""


def buyers_frame(ledger: Ledger) -> pd.DataFrame:
    """One row per in-market buyer still in the market at the start of the horizon (after any warm-up) or
    arriving later, with the time of each stage reached (days since the start of the horizon: negative in the
    warm-up) and its terminal state. ``buyer_id`` is the run's buyer index."""
    b = ledger.buyers.trimmed()
    if ledger.start:
        keep = ~(b["terminal_day"] < ledger.start)  # NaN (open at the horizon) compares False: kept
        b = {name: col[keep] for name, col in b.items()}
        ids = np.flatnonzero(keep)
    else:
        ids = np.arange(ledger.buyers.n)
    names = np.array([*source_names(ledger), "none"], dtype=object)
    df = pd.DataFrame(
        {
            "buyer_id": ids,
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
    if ledger.start:
        for name in DAY_COLUMNS:
            df[name] = df[name] - ledger.start
    return df


def channels_frame(ledger: Ledger, scenario: Scenario) -> pd.DataFrame:
    """Per-channel attribution over the measured window: spend, buyers reached (arriving in the window), leads,
    won, first-purchase revenue (of the wins in the window) and ROI."""
    b = ledger.buyers.trimmed()
    names = source_names(ledger)
    rows = []
    margin = scenario.money.gross_margin
    spent = ledger.window_spend()
    lo, hi = ledger.start, ledger.horizon
    arrived = in_window(b["arrival_day"], lo, hi, True)
    won = (b["terminal"] == WON) & in_window(b["close_day"], lo, hi, True)
    won_revenue = np.where(won, b["revenue"], 0.0)
    for code, name in enumerate(names):
        mask = b["channel"] == code
        spend = float(spent.get(name, 0.0))
        revenue = float(won_revenue[mask].sum())
        rows.append(
            {
                "channel": name,
                "spend": spend,
                "reached": int((mask & arrived).sum()),
                "leads": int((mask & in_window(b["lead_day"], lo, hi, True)).sum()),
                "won": int((mask & won).sum()),
                "revenue": revenue,
                "roi": (margin * revenue - spend) / spend if spend > 0 else math.nan,
            }
        )
    df = pd.DataFrame(rows)
    df["channel"] = df["channel"].astype("str")
    return df


def timeseries_frame(ledger: Ledger, scenario: Scenario, bin_days: float = 7.0) -> pd.DataFrame:
    """Weekly (by default) series over the measured window: revenue (new, repeat), wins, leads, active customers,
    rep utilisation. ``day``: start of the bin, in days since the start of the horizon (after any warm-up)."""
    H, S = ledger.horizon, ledger.start
    nbins = max(1, math.ceil((H - S) / bin_days))
    edges = S + np.arange(nbins + 1) * bin_days

    def binned(times: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        since = times - S
        ok = ~np.isnan(since) & (since >= 0) & (since < nbins * bin_days)
        idx = (since[ok] // bin_days).astype(int)
        return np.bincount(idx, weights=None if weights is None else weights[ok], minlength=nbins)[:nbins]

    b = ledger.buyers.trimmed()
    pur = ledger.purchases()
    acts = ledger.activities()
    cal = WorkCalendar(scenario.sales.calendar)
    available = np.array(
        [available_hours(ledger, scenario, cal, lo, min(hi, H)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
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
            "day": edges[:-1] - S,
            "buyers_arrived": binned(b["arrival_day"]).astype(int),
            "leads": binned(b["lead_day"]).astype(int),
            "won": binned(b["close_day"]).astype(int),
            "new_revenue": binned(pur["day"][~pur["repeat"]], pur["amount"][~pur["repeat"]]),
            "repeat_revenue": binned(pur["day"][pur["repeat"]], pur["amount"][pur["repeat"]]),
            "customers": customers,
            "rep_utilization": util,
        }
    )


def reps_frame(ledger: Ledger, scenario: Scenario) -> pd.DataFrame:
    """One row per rep employed in the measured window: hire and leaving day (days since the start of the horizon;
    NaN: still employed), skill (logit units), deals won as owner, activity hours and utilisation in the window."""
    lo, hi = ledger.start, ledger.horizon
    n = len(ledger.rep_hired)
    if n == 0:  # a ledger built by hand: the scenario's fixed team
        n = scenario.sales.reps
        ledger.record_team([0.0] * n, [math.nan] * n, [0.0] * n, False, [scenario.sales.rep_cost_per_year] * n, [0] * n)
    b = ledger.buyers.trimmed()
    won = (b["terminal"] == WON) & in_window(b["close_day"], lo, hi, True) & (b["owner"] >= 0)
    acts = ledger.activities()
    inside = (acts["end"] > lo) & (acts["start"] < hi)
    cal = WorkCalendar(scenario.sales.calendar)
    hours = np.bincount(acts["rep"][inside], weights=acts["hours"][inside], minlength=n)[:n]
    available = np.zeros(n)
    cals = role_calendars(scenario, cal)
    for rep, a, e in ledger.rep_spans(lo, hi):
        available[rep] = cals[ledger.rep_role[rep]].working_hours(a, e)
    spans = {rep for rep, _, _ in ledger.rep_spans(lo, hi)}
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(available > 0, hours / available, np.nan)
    df = pd.DataFrame(
        {
            "rep": np.arange(n),
            "role": np.array(ROLES, dtype=object)[np.asarray(ledger.rep_role, dtype=int)].astype(str),
            "hired_day": np.asarray(ledger.rep_hired, dtype=float) - lo,
            "left_day": np.asarray(ledger.rep_left, dtype=float) - lo,
            "skill": np.asarray(ledger.rep_skill, dtype=float),
            "won": np.bincount(b["owner"][won], minlength=n)[:n].astype(int),
            "hours": hours,
            "utilization": util,
        }
    )
    return df[df["rep"].isin(spans)].reset_index(drop=True)


def activities_frame(ledger: Ledger) -> pd.DataFrame:
    """Every rep activity ending in the measured window: rep, start and end (days since the start of the horizon;
    negative in the warm-up), working hours, kind, buyer (-1: a check-in) and the rep's role."""
    from simfunnel.ledger import ACTIVITY_KINDS

    a = ledger.activities()
    if ledger.start:
        keep = a["end"] > ledger.start
        a = {k: v[keep] for k, v in a.items()}
        a["start"] = a["start"] - ledger.start
        a["end"] = a["end"] - ledger.start
    df = pd.DataFrame(a)
    df["kind"] = np.array(ACTIVITY_KINDS, dtype=object)[a["kind"]]
    df["kind"] = df["kind"].astype("str")
    if ledger.rep_role:  # the role of the rep who did it (`simfunnel.model.team.ROLES`)
        df["role"] = np.array(ROLES, dtype=object)[np.asarray(ledger.rep_role, dtype=int)[a["rep"]]].astype(str)
    return df
