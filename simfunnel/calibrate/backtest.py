"""Backtest (`simfunnel calibrate --holdout-after DATE`): calibrate on the history before a cut date, simulate the
months after it with the team and lead volume the data show for them (known inputs), and score the monthly wins
and conversion against what happened - and against two naive forecasts a planner would use instead.

Known inputs. The history before the cut is learned by the calibration (`simfunnel.calibrate.history`: team and
lead-volume steps as plans); the holdout months are appended to those plans. The team: one hiring-plan step
(`sales.headcount_plan`) per holdout month, the owners active that month. The lead volume: the model makes leads
from the market and the marketing budget, so the budget is the knob - a pilot (`PILOT_MULTIPLIERS` x the budget in
force at the cut, from the cut on, common seeds; `simfunnel.calibrate.history.budget_pilot`) measures how the
simulated lead volume responds to it, and each holdout month gets the budget step that gives its observed leads
(the budget changes the channel mix a little too; a volume beyond the pilot's range is capped and said so).

Metrics, per holdout month: wins (deals won, by close month) and conversion (wins / leads created that month, the
run-rate a planner watches). Forecasts:

* **model**: the calibrated scenario (parameters drawn from the calibration's sample, one draw per replication)
  over the whole history with the known inputs; mean and 90 % band over the replications.
* **run rate**: last quarter's wins per lead, with the lag from lead to win (median, in months) of the deals won
  before the cut, times the observed leads of the month that lag earlier.
* **pipeline**: each deal open at the cut times the historical win rate of deals that reached its age (stage
  names are rarely informative in exports, age is always there), closed with the historical remaining time; plus
  the new leads times the historical wins per lead, closed with the historical lead-to-win delay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simfunnel.calibrate.compare import HistorySpec, expected_inside, simulate_histories
from simfunnel.calibrate.direct import data_start
from simfunnel.calibrate.history import (
    MONTH_DAYS,
    PILOT_MULTIPLIERS,
    budget_in_force,
    budget_pilot,
    full_months,
    headcount_plan,
    month_start,
    plan_day,
)
from simfunnel.data import CrmData
from simfunnel.data.team import owner_spans, team_by_month

METHODS = ("model", "run rate", "pipeline")
BACKTEST_COLUMNS = ("month", "metric", "method", "observed", "forecast", "low", "high", "inside")
ERROR_COLUMNS = ("metric", "method", "months", "mae", "mape", "inside_band", "beats_model")


def truncate(crm: CrmData, cut: pd.Timestamp) -> CrmData:
    """The data as they were known at `cut`: leads, deals and activities before it, deals closed after it open
    (censored), leads' deals only when opened before it, the team recomputed, exported at `cut`."""
    leads = crm.leads[crm.leads["created"] < cut].copy()
    deals = None
    if crm.deals is not None:
        deals = crm.deals[crm.deals["opened"] < cut].copy()
        later = deals["closed"].isna() | (deals["closed"] >= cut) | (deals["outcome"] == "open")
        deals.loc[later, "outcome"] = "open"
        deals.loc[later, "closed"] = pd.NaT
        deals["censored"] = later.to_numpy()
        known = set(deals["deal_id"].astype(str))
        leads["deal_id"] = leads["deal_id"].where(leads["deal_id"].astype(str).isin(known))
    acts = crm.activities[crm.activities["start"] < cut].copy() if crm.activities is not None else None
    spans = owner_spans(leads, deals, acts, ";")
    return CrmData(leads=leads.reset_index(drop=True), deals=None if deals is None else deals.reset_index(drop=True),
                   activities=None if acts is None else acts.reset_index(drop=True), quality=crm.quality,
                   team_by_month=team_by_month(spans, leads, deals, cut), export_date=cut, columns=crm.columns,
                   files=crm.files)  # fmt: skip


def holdout_months(cut: pd.Timestamp, export_date: pd.Timestamp) -> list[pd.Timestamp]:
    """The full months from `cut` to the export date (a last month with less than 90 % of its days is left out)."""
    return full_months(cut, export_date)


def monthly_counts(crm: CrmData, months: list[pd.Timestamp]) -> pd.DataFrame:
    """Leads created, deals won (by close month) and conversion (wins / leads) per month in `months`."""
    idx = pd.DatetimeIndex(months)
    leads = crm.leads["created"].dt.to_period("M").dt.to_timestamp().value_counts().reindex(idx, fill_value=0)
    wins = pd.Series(0, index=idx)
    if crm.deals is not None:
        won = crm.deals.loc[crm.deals["outcome"] == "won", "closed"].dropna()
        wins = won.dt.to_period("M").dt.to_timestamp().value_counts().reindex(idx, fill_value=0)
    out = pd.DataFrame({"leads": leads.to_numpy(float), "wins": wins.to_numpy(float)}, index=idx)
    out["conversion"] = out["wins"] / out["leads"].where(out["leads"] > 0)
    return out


# ----------------------------------------------------------------------------------------------- naive forecasts
def _lead_win_delays(crm: CrmData) -> np.ndarray:
    d = crm.deals[crm.deals["outcome"] == "won"]
    created = crm.leads.drop_duplicates("lead_id").set_index("lead_id")["created"]
    delay = (d["closed"] - d["lead_id"].map(created)) / pd.Timedelta(days=1)
    return delay.dropna().clip(lower=0).to_numpy(float)


def _offsets(delays: np.ndarray, horizon: int, start_day: float | None = None) -> np.ndarray:
    """Share of `delays` (days) landing 0, 1, ... horizon-1 months later; from a uniform day in the month unless
    `start_day` (days into the month) is given."""
    if len(delays) == 0:
        return np.zeros(horizon)
    pos = np.array([start_day]) if start_day is not None else (np.arange(4) + 0.5) / 4 * MONTH_DAYS
    k = np.floor((pos[:, None] + delays[None, :]) / MONTH_DAYS).astype(int).ravel()
    return np.bincount(k[k < horizon], minlength=horizon)[:horizon] / k.size


def run_rate(pre: CrmData, full: CrmData, months: list[pd.Timestamp]) -> tuple[np.ndarray, int]:
    """Wins per month forecast by last quarter's wins per lead (lagged by the median lead-to-win months) times the
    observed leads of the month that lag earlier; returns the forecast and the lag."""
    delays = _lead_win_delays(pre)
    lag = int(round(float(np.median(delays)) / MONTH_DAYS)) if len(delays) else 0
    cut = months[0]
    quarter = [(cut.to_period("M") - i).to_timestamp() for i in (3, 2, 1)]
    lagged = [(m.to_period("M") - lag).to_timestamp() for m in quarter]
    wins = monthly_counts(pre, quarter)["wins"].sum()
    leads = monthly_counts(pre, lagged)["leads"].sum()
    rate = wins / leads if leads > 0 else 0.0
    src = [(m.to_period("M") - lag).to_timestamp() for m in months]
    return rate * monthly_counts(full, src)["leads"].to_numpy(float), lag


def pipeline(pre: CrmData, full: CrmData, months: list[pd.Timestamp]) -> np.ndarray:
    """Wins per month forecast by the pipeline at the cut (open deals x historical win rate at their age, closed
    with the historical remaining time) plus the new leads x historical wins per lead (closed with the historical
    lead-to-win delay)."""
    cut, h = months[0], len(months)
    d = pre.deals
    closed = d[d["outcome"].isin(["won", "lost"])]
    dur = ((closed["closed"] - closed["opened"]) / pd.Timedelta(days=1)).to_numpy(float)
    won = (closed["outcome"] == "won").to_numpy()
    out = np.zeros(h)
    for age in ((cut - d.loc[d["outcome"] == "open", "opened"]) / pd.Timedelta(days=1)).to_numpy(float):
        reached = dur >= age
        if reached.sum() < 10:
            reached = np.ones_like(reached)
        p = won[reached].mean() if reached.any() else 0.0
        out += p * _offsets(np.clip(dur[reached & won] - age, 0.0, None), h, start_day=0.0)
    delays = _lead_win_delays(pre)
    mature = pre.leads["created"] < cut - pd.Timedelta(days=float(np.quantile(delays, 0.9)) if len(delays) else 0)
    base = pre.leads[mature] if mature.sum() >= 50 else pre.leads
    ids = set(base["lead_id"])
    q = float(d.loc[(d["outcome"] == "won") & d["lead_id"].isin(ids)].shape[0]) / max(len(base), 1)
    new = monthly_counts(full, months)["leads"].to_numpy(float)
    shape = _offsets(delays, h)
    for j in range(h):
        out[j:] += new[j] * q * shape[: h - j]
    return out


# ----------------------------------------------------------------------------------------------- the model side
def lead_volume_plan(spec: HistorySpec, full: CrmData, months: list[pd.Timestamp], team: list[dict], *,
                     seed: int, workers: int, progress: bool | None) -> tuple[list[dict], list[str]]:  # fmt: skip
    """`marketing.budget_plan` steps giving each holdout month its observed leads (see the module docstring), after
    the calibrated scenario's own budget plan (the history before the cut); returns the whole plan and notes
    (months whose volume is beyond the pilot's range)."""
    earlier = [s.model_dump() for s in spec.scenario.marketing.budget_plan]
    cut_day = plan_day(spec.start, months[0])
    earlier = [s for s in earlier if s["day"] < cut_day]
    unit_budget = budget_in_force(spec.scenario, cut_day)
    ks = np.array(PILOT_MULTIPLIERS)
    volume = budget_pilot(spec, {"sales.headcount_plan": team}, earlier, cut_day, months, seed=seed,
                          workers=workers, progress=progress)  # fmt: skip
    unit = np.maximum(volume[list(ks).index(1.0)], 1e-9)
    # per month: the response to a budget step at the cut grows over the months (leads lag the spend)
    response = np.maximum.accumulate(volume / unit, axis=0)
    target = monthly_counts(full, months)["leads"].to_numpy(float) / unit
    logk = np.array([np.interp(math.log(max(t, 1e-9)), np.log(np.maximum(response[:, j], 1e-9)), np.log(ks))
                     for j, t in enumerate(target)])  # fmt: skip
    notes = []
    over = target > 1.05 * response[-1]
    if over.any():
        short = float(np.max(target[over] / response[-1][over]))
        notes.append(f"{int(over.sum())} holdout month(s) had more leads than {ks[-1]:g} x the budget gives in the "
                     f"model (up to {short:.1f} x more): their lead volume is capped - set the base's "
                     "marketing.budget_per_year to the firm's budget so the knob has room")  # fmt: skip
    steps = [{"day": plan_day(spec.start, m), "budget_per_year": float(unit_budget * k)}
             for m, k in zip(months, np.exp(logk), strict=True)]  # fmt: skip
    return [*earlier, *steps], notes


def _team_plan(spec: HistorySpec, full: CrmData, months: list[pd.Timestamp]) -> list[dict]:
    """The calibrated scenario's hiring plan before the cut, then one step per holdout month (the data's team)."""
    cut_day = plan_day(spec.start, months[0])
    earlier = [s.model_dump() for s in spec.scenario.sales.headcount_plan if s.day < cut_day]
    return [*earlier, *headcount_plan(full, spec.start, months)]


def model_forecast(spec: HistorySpec, full: CrmData, months: list[pd.Timestamp], *, reps: int,
                   draws: pd.DataFrame | None, seed: int, workers: int,
                   progress: bool | None) -> tuple[pd.DataFrame, list[str]]:  # fmt: skip
    """Monthly wins, leads and conversion of `reps` replications over the history and the holdout months with the
    known inputs: long table rep, month, leads, wins, conversion; and notes."""
    team = _team_plan(spec, full, months)
    budget, notes = lead_volume_plan(spec, full, months, team, seed=seed + 1, workers=workers, progress=progress)
    extra = {"sales.headcount_plan": team, "marketing.budget_plan": budget}
    sims = simulate_histories(spec, reps, draws=draws, seed=seed, workers=workers, progress=progress, extra=extra)
    parts = [monthly_counts(s, months).assign(rep=i).rename_axis("month").reset_index() for i, s in enumerate(sims)]
    return pd.concat(parts, ignore_index=True), notes


# ----------------------------------------------------------------------------------------------- scoring
def _errors(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    scored = table[table["metric"] != "leads"]  # leads are a known input, matched by the budget knob
    for (metric, method), t in scored.groupby(["metric", "method"], sort=False):
        t = t[t["observed"].notna() & t["forecast"].notna()]
        err = (t["forecast"] - t["observed"]).abs()
        pos = t["observed"] > 0
        inside = t["inside"].dropna()
        rows.append({"metric": metric, "method": method, "months": len(t), "mae": float(err.mean()),
                     "mape": float((err[pos] / t.loc[pos, "observed"]).mean()) if pos.any() else math.nan,
                     "inside_band": float(inside.mean()) if len(inside) else math.nan})  # fmt: skip
    out = pd.DataFrame(rows)
    model = out[out["method"] == "model"].set_index("metric")["mae"]
    out["beats_model"] = [bool(r.mae < model.get(r.metric, math.inf)) if r.method != "model" else False
                          for r in out.itertuples()]  # fmt: skip
    return out[list(ERROR_COLUMNS)]


def score(observed: pd.DataFrame, sims: pd.DataFrame, naive: dict[str, np.ndarray]) -> pd.DataFrame:
    """The tidy backtest table (`BACKTEST_COLUMNS`): per month, metric (wins, conversion) and method the observed
    value, the forecast and - for the model - its 90 % band and whether the observed value is inside it; plus the
    model's leads (the known input, to show how well the budget knob matched it)."""
    rows = []
    g = sims.groupby("month")
    for metric in ("leads", "wins", "conversion"):
        mean, lo, hi = g[metric].mean(), g[metric].quantile(0.05), g[metric].quantile(0.95)
        for m in observed.index:
            o = float(observed.loc[m, metric])
            inside = float(lo[m] <= o <= hi[m]) if np.isfinite(o) else math.nan
            rows.append((m, metric, "model", o, float(mean[m]), float(lo[m]), float(hi[m]), inside))
        if metric == "leads":
            continue
        for method, wins in naive.items():
            f = wins if metric == "wins" else wins / observed["leads"].where(observed["leads"] > 0).to_numpy(float)
            for m, v in zip(observed.index, f, strict=True):
                rows.append((m, metric, method, float(observed.loc[m, metric]), float(v), math.nan, math.nan,
                             math.nan))  # fmt: skip
    return pd.DataFrame(rows, columns=list(BACKTEST_COLUMNS))


@dataclass
class Backtest:
    """A backtest: the cut, the holdout `months`, the tidy monthly `table` (`BACKTEST_COLUMNS`), the `errors` per
    metric and method (`ERROR_COLUMNS`: MAE, MAPE, share of months inside the model's band, whether a naive
    forecast beat the model), the run-rate lag, the calibration on the data before the cut, and notes."""

    cut: pd.Timestamp
    months: list[pd.Timestamp]
    table: pd.DataFrame
    errors: pd.DataFrame
    lag_months: int
    calibration: object
    reps: int
    notes: list[str] = field(default_factory=list)

    def verdicts(self) -> list[str]:
        """Plain-language lines: per metric, whether the model beat both naive forecasts (honestly, when not)."""
        out = []
        for metric, t in self.errors.groupby("metric", sort=False):
            model = t[t["method"] == "model"].iloc[0]
            losers = [r.method for r in t.itertuples() if r.method != "model" and not r.beats_model]
            winners = [r.method for r in t.itertuples() if r.beats_model]
            band = (f"; observed inside the model's 90 % band in {model.inside_band:.0%} of the months (about "
                    f"{expected_inside(self.reps):.0%} expected with {self.reps} replications)")  # fmt: skip
            if not winners:
                out.append(f"{metric}: the model beat both naive forecasts (MAE {model.mae:.3g} vs "
                           + ", ".join(f"{r.method} {r.mae:.3g}" for r in t.itertuples() if r.method != "model")
                           + f"){band}.")  # fmt: skip
            else:
                out.append(f"{metric}: the model did NOT beat {', '.join(winners)} (MAE {model.mae:.3g} vs "
                           + ", ".join(f"{r.method} {r.mae:.3g}" for r in t.itertuples() if r.method != "model")
                           + f"){band}" + (f"; it beat {', '.join(losers)}" if losers else "") + ".")  # fmt: skip
        return out


def backtest(
    crm: CrmData,
    cut: object,
    base: str = "preset:base",
    *,
    quick: bool = False,
    reps: int = 20,
    seed: int = 0,
    workers: int = 1,
    progress: bool | None = None,
    settings: object = None,
    history: str = "auto",
    warmup: float | None = None,
) -> Backtest:
    """Calibrate `base` to `crm` before `cut` (rounded up to a month start; with the team and lead-volume history
    before the cut learned as plans unless `history` is "off") and score the months after it (see the module
    docstring)."""
    from simfunnel.calibrate.run import calibrate

    when = month_start(cut)
    months = holdout_months(when, crm.export_date)
    if not months:
        raise ValueError(f"--holdout-after {cut}: no full month between {when:%Y-%m-%d} and the export date "
                         f"{crm.export_date:%Y-%m-%d}")  # fmt: skip
    pre = truncate(crm, when)
    if len(pre.leads) == 0 or pre.deals is None or (pre.deals["outcome"] == "won").sum() == 0:
        raise ValueError(f"--holdout-after {cut}: the data before {when:%Y-%m-%d} have no won deals to fit")
    cal = calibrate(
        pre,
        base,
        quick=quick,
        seed=seed,
        workers=workers,
        progress=progress,
        settings=settings,
        history=history,
        warmup=warmup,
    )
    start = data_start(pre)
    spec = HistorySpec(cal.scenario(), start, crm.export_date)
    sims, notes = model_forecast(spec, crm, months, reps=reps, draws=cal.draws(), seed=seed, workers=workers,
                                 progress=progress)  # fmt: skip
    rr, lag = run_rate(pre, crm, months)
    naive = {"run rate": rr, "pipeline": pipeline(pre, crm, months)}
    table = score(monthly_counts(crm, months), sims, naive)
    if when != pd.Timestamp(cut):
        notes.insert(0, f"cut moved from {pd.Timestamp(cut):%Y-%m-%d} to the month start {when:%Y-%m-%d}")
    return Backtest(cut=when, months=months, table=table, errors=_errors(table), lag_months=lag, calibration=cal,
                    reps=reps, notes=notes)  # fmt: skip


__all__ = [
    "BACKTEST_COLUMNS",
    "ERROR_COLUMNS",
    "METHODS",
    "PILOT_MULTIPLIERS",
    "Backtest",
    "backtest",
    "headcount_plan",
    "holdout_months",
    "lead_volume_plan",
    "model_forecast",
    "month_start",
    "monthly_counts",
    "pipeline",
    "run_rate",
    "score",
    "truncate",
]
