"""Direct estimates from a firm's CRM data (`CrmData`): what the data record without a model - lead arrivals
(rate, trend, seasonality; per channel and month), deal values (lognormal), active reps per month, time from
deal opened to closed (Kaplan-Meier, open deals right-censored at the export date), win rates by channel (Wilson)
and conversion by lead age at first contact. Each with a 90 % interval and its data source.

Day 0 of a calibrated scenario is the first day of the month of the first lead (a simulated export starts at day
0 with an empty pipeline and its first leads some days later, so the month start matches it)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simfunnel.calibrate.estimate import Z90, Estimate, estimates_frame, poisson_interval, quantile_interval, wilson
from simfunnel.data import CrmData

AGE_BINS = (0.0, 1.0, 24.0, 24.0 * 7, 24.0 * 30, math.inf)
AGE_LABELS = ("< 1 h", "1-24 h", "1-7 days", "7-30 days", "> 30 days")
MIN_SEASONAL_DAYS = 300
"""Shorter histories fit no seasonality (a season needs most of a year to be told from a trend)."""


def data_start(crm: CrmData) -> pd.Timestamp:
    """Day 0 of the calibration: the first day of the month of the first lead."""
    return pd.Timestamp(crm.leads["created"].min()).to_period("M").to_timestamp()


def span_days(crm: CrmData) -> float:
    """Days from day 0 to the export date."""
    return float((crm.export_date - data_start(crm)) / pd.Timedelta(days=1))


@dataclass
class ArrivalFit:
    """Poisson regression of daily leads: rate(t) = exp(a + b t/365) (1 + c cos wt + d sin wt), w = 2 pi/365;
    `params` (a, b, c, d) and their covariance (inverse Fisher information)."""

    params: np.ndarray
    cov: np.ndarray
    days: int
    seasonal: bool


def _rate_terms(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = 2 * math.pi / 365.0
    season = 1.0 + p[2] * np.cos(w * t) + p[3] * np.sin(w * t)
    return np.exp(p[0] + p[1] * t / 365.0) * season, season


def fit_arrivals(days: np.ndarray, span: float) -> ArrivalFit:
    """Fit the arrival rate to lead days (model days from day 0) by Poisson maximum likelihood on daily counts."""
    from scipy.optimize import minimize

    n = max(int(math.floor(span)), 1)
    counts = np.bincount(np.clip(days.astype(int), 0, n - 1), minlength=n).astype(float)
    t = np.arange(n) + 0.5
    seasonal = n >= MIN_SEASONAL_DAYS
    k = 4 if seasonal else 2

    def nll(q: np.ndarray) -> float:
        p = np.zeros(4)
        p[:k] = q
        lam, season = _rate_terms(t, p)
        if np.any(season <= 0.01):
            return 1e12
        return float(np.sum(lam - counts * np.log(lam)))

    start = np.zeros(k)
    start[0] = math.log(max(counts.mean(), 0.1))
    best = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 4000})
    p = np.zeros(4)
    p[:k] = best.x
    lam, season = _rate_terms(t, p)
    w = 2 * math.pi / 365.0
    grad = np.stack([np.ones(n), t / 365.0, np.cos(w * t) / season, np.sin(w * t) / season])[:k]
    info = (grad * lam) @ grad.T
    cov = np.zeros((4, 4))
    cov[:k, :k] = np.linalg.pinv(info)
    return ArrivalFit(params=p, cov=cov, days=n, seasonal=seasonal)


def _arrival_draws(fit: ArrivalFit, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    draws = rng.multivariate_normal(fit.params, fit.cov, size=4000, method="eigh")
    t = np.arange(fit.days) + 0.5
    w = 2 * math.pi / 365.0
    mean_rate = np.array([_rate_terms(t, d)[0].mean() for d in draws[:1000]])
    amp = np.hypot(draws[:, 2], draws[:, 3])
    peak = (np.degrees(np.arctan2(draws[:, 3], draws[:, 2])) % 360.0) / 360.0 * 365.0
    return {"rate": mean_rate * 365.0, "trend": np.expm1(draws[:, 1]), "amp": amp, "peak": peak, "w": np.array([w])}


def arrival_estimates(crm: CrmData, seed: int = 0) -> list[Estimate]:
    """Leads per year, trend (change per year) and - from 300 days of data on - the seasonal amplitude and peak
    day of lead arrivals."""
    start, span = data_start(crm), span_days(crm)
    days = ((crm.leads["created"] - start) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    fit = fit_arrivals(days, span)
    d = _arrival_draws(fit, seed)
    t = np.arange(fit.days) + 0.5
    src = f"leads.created, {len(days):,} leads over {span:.0f} days (Poisson regression on daily counts)"
    out = [
        Estimate("leads per year", float(_rate_terms(t, fit.params)[0].mean() * 365), *quantile_interval(d["rate"]),
                 "leads/year", src),
        Estimate("lead trend", float(math.expm1(fit.params[1])), *quantile_interval(d["trend"]), "share/year", src),
    ]  # fmt: skip
    if fit.seasonal:
        amp = float(np.hypot(fit.params[2], fit.params[3]))
        peak = float((math.degrees(math.atan2(fit.params[3], fit.params[2])) % 360.0) / 360.0 * 365.0)
        lo, hi = _circular_interval(d["peak"], peak)
        note = "of lead arrivals; buyers arrive earlier (leads lag by the buying process)"
        out.append(Estimate("lead seasonality amplitude", amp, *quantile_interval(d["amp"]), "share", src, note=note))
        out.append(Estimate("lead seasonality peak day", peak, lo, hi, "day from day 0", src, note=note))
    return out


def _circular_interval(draws: np.ndarray, centre: float) -> tuple[float, float]:
    shifted = (draws - centre + 182.5) % 365.0 - 182.5
    lo, hi = quantile_interval(shifted)
    return centre + lo, centre + hi


def arrivals_by_month(crm: CrmData) -> pd.DataFrame:
    """Leads per calendar month and channel (a month x channel table of counts)."""
    month = crm.leads["created"].dt.to_period("M").dt.to_timestamp()
    return crm.leads.assign(month=month).pivot_table(index="month", columns="channel", values="lead_id",
                                                    aggfunc="count", fill_value=0)  # fmt: skip


def channel_rates(crm: CrmData) -> pd.DataFrame:
    """Leads per month by channel with a 90 % Poisson interval: channel, leads, per_month, low, high."""
    months = max(span_days(crm) / (365.0 / 12), 1e-9)
    rows = []
    for channel, n in crm.leads["channel"].value_counts().sort_index().items():
        lo, hi = poisson_interval(float(n))
        rows.append({"channel": channel, "leads": int(n), "per_month": n / months, "low": lo / months,
                     "high": hi / months})  # fmt: skip
    return pd.DataFrame(rows, columns=["channel", "leads", "per_month", "low", "high"])


def value_estimates(crm: CrmData, seed: int = 0) -> list[Estimate]:
    """Lognormal fit of won deal values: mean and sd (of the value, not its log), intervals from the sampling
    distribution of the log-mean (normal) and log-variance (chi-square)."""
    if crm.deals is None:
        return []
    v = crm.deals.loc[crm.deals["outcome"] == "won", "value"].astype(float)
    v = v[v > 0].to_numpy()
    if len(v) < 5:
        return []
    logs = np.log(v)
    n, mu, s2 = len(v), float(logs.mean()), float(logs.var(ddof=1))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    s2_d = s2 * rng.chisquare(n - 1, 4000) / (n - 1)
    mu_d = rng.normal(mu, np.sqrt(s2 / n), 4000)
    mean_d = np.exp(mu_d + s2_d / 2)
    sd_d = mean_d * np.sqrt(np.expm1(s2_d))
    mean = math.exp(mu + s2 / 2)
    src = f"deals.value of {n:,} won deals (lognormal fit)"
    return [
        Estimate("deal value mean", mean, *quantile_interval(mean_d), "currency", src, "market.value.mean"),
        Estimate("deal value sd", mean * math.sqrt(math.expm1(s2)), *quantile_interval(sd_d), "currency", src,
                 "market.value.sd"),
    ]  # fmt: skip


def team_estimate(crm: CrmData) -> list[Estimate]:
    """Active reps: the median of owners active per month (first and last, partial months left out); interval
    the 5-95 % range over months."""
    team = crm.team_by_month
    active = team["active_owners"].to_numpy(dtype=float)
    if len(active) >= 3:
        active = active[1:-1]
    if len(active) == 0 or active.max() <= 0:
        return []
    lo, hi = quantile_interval(active)
    src = f"team_by_month over {len(active)} full months (owners from first to last record)"
    note = "" if lo == hi else "the team changes over the data; the median is written"
    return [Estimate("active reps", float(np.median(active)), lo, hi, "reps", src, "sales.reps", note=note)]


def close_durations(crm: CrmData) -> tuple[np.ndarray, np.ndarray]:
    """Days from deal opened to closed (event 1) or to the export date for open deals (event 0, censored)."""
    d = crm.deals
    closed = d["outcome"].isin(["won", "lost"])
    keep = ~(closed & d["closed"].isna())
    end = d["closed"].where(closed, crm.export_date)[keep]
    dur = ((end - d.loc[keep, "opened"]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return np.clip(dur, 0.0, None), closed[keep].to_numpy(dtype=int)


def time_to_close(crm: CrmData) -> pd.DataFrame:
    """Kaplan-Meier quantiles of the days from opened to closed (won or lost), open deals right-censored at the
    export date: quantile (share closed), days, low, high (90 % intervals; inf when not reached)."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import qth_survival_times

    dur, event = close_durations(crm)
    kmf = KaplanMeierFitter(alpha=0.1).fit(dur, event_observed=event)
    rows = []
    for q in (0.25, 0.5, 0.75):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines' ApproximationWarning: the KM steps are exact here
            point = float(kmf.percentile(1 - q))
            ci = qth_survival_times(1 - q, kmf.confidence_interval_)
        low, high = float(ci.iloc[0, 1]), float(ci.iloc[0, 0])
        rows.append({"quantile": q, "days": point, "low": min(low, high), "high": max(low, high)})
    return pd.DataFrame(rows, columns=["quantile", "days", "low", "high"])


def _deal_channels(crm: CrmData) -> pd.Series:
    chan = crm.leads.drop_duplicates("lead_id").set_index("lead_id")["channel"]
    return crm.deals["lead_id"].map(chan).fillna("unknown")


def win_rates(crm: CrmData) -> pd.DataFrame:
    """Won / closed (won + lost) overall and by the lead's channel, Wilson 90 % intervals: channel, won, closed,
    win_rate, low, high."""
    d = crm.deals.assign(channel=_deal_channels(crm))
    rows = []
    for channel, g in [("all", d), *sorted(d.groupby("channel"), key=lambda kv: str(kv[0]))]:
        won = int((g["outcome"] == "won").sum())
        closed = int(g["outcome"].isin(["won", "lost"]).sum())
        p, lo, hi = wilson(won, closed)
        rows.append({"channel": channel, "won": won, "closed": closed, "win_rate": p, "low": lo, "high": hi})
    return pd.DataFrame(rows, columns=["channel", "won", "closed", "win_rate", "low", "high"])


def conversion_by_age(crm: CrmData) -> pd.DataFrame:
    """Share of leads that became a deal by the lead's age at its first activity (needs activities): age, leads,
    deals, conversion, low, high (Wilson 90 %); 'never contacted' for leads without an activity."""
    cols = ["age", "leads", "deals", "conversion", "low", "high"]
    if crm.activities is None or crm.activities["lead_id"].isna().all():
        return pd.DataFrame(columns=cols)
    acts = crm.activities.dropna(subset=["lead_id"])
    first = acts[acts["lead_id"] != ""].groupby("lead_id")["start"].min()
    leads = crm.leads.drop_duplicates("lead_id")
    age = ((leads["lead_id"].map(first) - leads["created"]) / pd.Timedelta(hours=1)).clip(lower=0)
    label = pd.cut(age, list(AGE_BINS), labels=list(AGE_LABELS), right=False).astype(object).fillna("never contacted")
    has_deal = leads["deal_id"].notna() & (leads["deal_id"].astype(str) != "")
    rows = []
    for name in (*AGE_LABELS, "never contacted"):
        mask = (label == name).to_numpy()
        n, k = int(mask.sum()), int(has_deal[mask].sum())
        p, lo, hi = wilson(k, n)
        rows.append({"age": name, "leads": n, "deals": k, "conversion": p, "low": lo, "high": hi})
    return pd.DataFrame(rows, columns=cols)


@dataclass
class DirectEstimates:
    """Everything estimated from the data without a model: `estimates` (those with a scenario `field` are
    written by `simfunnel calibrate`) and the tables behind them."""

    start: pd.Timestamp
    span_days: float
    estimates: list[Estimate]
    arrivals: pd.DataFrame
    channels: pd.DataFrame
    time_to_close: pd.DataFrame
    win_rates: pd.DataFrame
    conversion_by_age: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """The estimates as a table (`ESTIMATE_COLUMNS`)."""
        return estimates_frame(self.estimates)


def _summary_estimates(ttc: pd.DataFrame, wins: pd.DataFrame, n_deals: int) -> list[Estimate]:
    out = []
    src = f"deals.opened/closed of {n_deals:,} deals, open ones censored at the export date (Kaplan-Meier)"
    for row in ttc.itertuples():
        out.append(Estimate(f"days to close, {row.quantile:.0%} closed", row.days, row.low, row.high, "days", src))
    a = wins.iloc[0]
    out.append(Estimate("win rate (won / closed)", a["win_rate"], a["low"], a["high"], "share",
                        f"deals.outcome of {a['closed']:,} closed deals (Wilson interval)"))  # fmt: skip
    return out


def direct_estimates(crm: CrmData, seed: int = 0) -> DirectEstimates:
    """All direct estimates of `crm` (see the module docstring); deal-based ones need a deals table."""
    notes: list[str] = []
    estimates = arrival_estimates(crm, seed) + team_estimate(crm)
    empty = pd.DataFrame()
    ttc, wins, conv = empty, empty, conversion_by_age(crm)
    if crm.deals is not None and len(crm.deals):
        estimates += value_estimates(crm, seed)
        ttc, wins = time_to_close(crm), win_rates(crm)
        estimates += _summary_estimates(ttc, wins, len(crm.deals))
    else:
        notes.append("no deals table: deal values, time to close and win rates not estimated")
    if conv.empty:
        notes.append("no activities with lead ids: conversion by lead age not estimated")
    return DirectEstimates(start=data_start(crm), span_days=span_days(crm), estimates=estimates,
                           arrivals=arrivals_by_month(crm), channels=channel_rates(crm), time_to_close=ttc,
                           win_rates=wins, conversion_by_age=conv, notes=notes)  # fmt: skip


__all__ = [
    "AGE_LABELS",
    "ArrivalFit",
    "DirectEstimates",
    "Z90",
    "arrival_estimates",
    "arrivals_by_month",
    "channel_rates",
    "close_durations",
    "conversion_by_age",
    "data_start",
    "direct_estimates",
    "fit_arrivals",
    "span_days",
    "team_estimate",
    "time_to_close",
    "value_estimates",
    "win_rates",
]
