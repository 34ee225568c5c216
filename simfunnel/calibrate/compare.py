"""Observed vs simulated, as tidy tables: the calibrated scenario is run over the same history as the firm's data
(same day 0 and export date, several replications, parameters drawn from the calibration's sample), each run is
exported as a CRM (`simfunnel.data.crm_tables`) and read back with `read_crm`, and the same statistics are taken
from both sides - so the simulated 90 % band of a statistic is the range the observed value should fall in if the
model were right (a posterior predictive check). Each panel gets a goodness-of-fit figure (`goodness`).

Panels (`PANELS`): monthly leads by channel, conversion (lead -> deal) by channel, time-to-close survival, conversion
by lead age at first contact, deals opened per rep per month, win rate by channel."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simfunnel.calibrate.direct import close_durations, conversion_by_age, win_rates
from simfunnel.data import CrmData
from simfunnel.experiments.progress import make_bar
from simfunnel.scenario import Scenario

PANELS = {
    "leads": "monthly leads by channel",
    "conversion": "conversion (lead -> deal) by channel",
    "survival": "time to close (share of deals still open)",
    "age": "conversion by lead age at first contact",
    "per_rep": "deals opened per rep per month",
    "win_rate": "win rate (won / closed) by channel",
}
"""The panels of the fit report: key -> what it shows."""
BAND = (0.05, 0.95)
"""The simulated band: 5 % and 95 % quantiles over the replications (a 90 % band)."""
TABLE_COLUMNS = ("panel", "group", "x", "observed", "sim_mean", "sim_sd", "sim_low", "sim_high", "inside")
"""Columns of a comparison table: panel key, group (channel, '' when none), x (month, day, age band), the observed
value, the simulated mean, sd and 90 % band, and whether the observed value is inside the band."""
SURVIVAL_POINTS = 40


@dataclass(frozen=True)
class HistorySpec:
    """What a simulated history reproduces: the scenario, day 0 and the export date of the firm's data."""

    scenario: Scenario
    start: pd.Timestamp
    export_date: pd.Timestamp

    @property
    def span(self) -> float:
        """Days from day 0 to the export date."""
        return float((self.export_date - self.start) / pd.Timedelta(days=1))


def draw_overrides(draws: pd.DataFrame | None, i: int) -> dict[str, float]:
    """Dotted overrides of replication `i`: row ``i mod len(draws)`` of a parameter sample (none without one)."""
    if draws is None or draws.empty:
        return {}
    row = draws.drop(columns=[c for c in ("draw", "world") if c in draws.columns]).iloc[i % len(draws)]
    return {str(k): float(v) for k, v in row.items()}


def simulate_crm(spec: HistorySpec, overrides: dict[str, object], seed: np.random.SeedSequence,
                 export_date: pd.Timestamp | None = None) -> CrmData:  # fmt: skip
    """One simulated firm over `spec`'s history with `overrides`, exported as a CRM and read back like the data."""
    from simfunnel.data import crm_tables, read_crm
    from simfunnel.simulate import simulate

    end = spec.export_date if export_date is None else export_date
    span = float((end - spec.start) / pd.Timedelta(days=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenario = spec.scenario.with_overrides({**overrides, "simulation.horizon_days": math.ceil(span) + 1})
        result = simulate(scenario, seed)
    t = crm_tables(result, start_date=str(spec.start.date()), export_day=span)
    return read_crm(t["leads"], t["deals"], t["activities"], export_date=t["export_date"])


def history_task(args: tuple) -> CrmData:
    """`simulate_crm` of one (spec, overrides, seed, export date) task (a process pool's unit of work)."""
    spec, overrides, seed, end = args
    return simulate_crm(spec, overrides, seed, end)


def run_tasks(fn: Callable, tasks: Sequence, workers: int = 1, desc: str = "simulate",
              progress: bool | None = None) -> list:  # fmt: skip
    """`fn` over `tasks` in `workers` processes (in order), with a progress bar."""
    bar = make_bar(len(tasks), desc, progress)
    out: list = []
    try:
        if workers <= 1 or len(tasks) <= 1:
            for t in tasks:
                out.append(fn(t))
                bar.update(1)
        else:
            with ProcessPoolExecutor(min(workers, len(tasks))) as pool:
                for r in pool.map(fn, tasks):
                    out.append(r)
                    bar.update(1)
    finally:
        bar.close()
    return out


def simulate_histories(spec: HistorySpec, reps: int, *, draws: pd.DataFrame | None = None, seed: int = 0,
                       workers: int = 1, progress: bool | None = None,
                       extra: dict[str, object] | None = None, export_date: pd.Timestamp | None = None
                       ) -> list[CrmData]:  # fmt: skip
    """`reps` simulated CRM exports of `spec`'s history, replication i with parameter draw i (`draw_overrides`)
    and its own seed; `extra` overrides apply to every replication (e.g. hiring and budget plans)."""
    seeds = np.random.SeedSequence(seed).spawn(reps)
    tasks = [(spec, {**draw_overrides(draws, i), **(extra or {})}, seeds[i], export_date) for i in range(reps)]
    return run_tasks(history_task, tasks, workers, "fit runs", progress)


# ----------------------------------------------------------------------------------------------- statistics
def _month(s: pd.Series) -> pd.Series:
    return s.dt.to_period("M").dt.to_timestamp()


def monthly_leads(crm: CrmData) -> pd.DataFrame:
    """Leads per month and channel, long: group (channel), x (month), value."""
    t = crm.leads.assign(x=_month(crm.leads["created"])).groupby(["channel", "x"]).size()
    return t.rename("value").reset_index().rename(columns={"channel": "group"})


def channel_conversion(crm: CrmData) -> pd.DataFrame:
    """Share of leads that became a deal, by channel and overall ('all'): group, x (''), value."""
    leads = crm.leads.drop_duplicates("lead_id")
    has_deal = leads["deal_id"].notna() & (leads["deal_id"].astype(str) != "")
    by = has_deal.groupby(leads["channel"]).mean()
    rows = [("all", float(has_deal.mean()))] + [(str(k), float(v)) for k, v in by.items()]
    return pd.DataFrame({"group": [r[0] for r in rows], "x": "", "value": [r[1] for r in rows]})


def survival_curve(crm: CrmData, days: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier share of deals still open at each of `days` (open deals right-censored): group '', x, value."""
    from lifelines import KaplanMeierFitter

    dur, event = close_durations(crm)
    if len(dur) == 0:
        return pd.DataFrame({"group": "", "x": days, "value": np.nan})
    kmf = KaplanMeierFitter().fit(dur, event_observed=event)
    return pd.DataFrame({"group": "", "x": days, "value": kmf.survival_function_at_times(days).to_numpy()})


def age_conversion(crm: CrmData) -> pd.DataFrame:
    """Conversion (lead -> deal) by lead age at first contact: group '', x (age band), value."""
    t = conversion_by_age(crm)
    return pd.DataFrame({"group": "", "x": t["age"], "value": t["conversion"].astype(float)})


def deals_per_rep(crm: CrmData) -> pd.DataFrame:
    """Deals opened per active owner per month (months with an owner): group '', x (month), value."""
    team = crm.team_by_month
    team = team[team["active_owners"] > 0]
    return pd.DataFrame({"group": "", "x": team["month"],
                         "value": team["deals_opened"] / team["active_owners"]})  # fmt: skip


def channel_win_rates(crm: CrmData) -> pd.DataFrame:
    """Won / closed by channel and overall: group, x (''), value."""
    t = win_rates(crm)
    return pd.DataFrame({"group": t["channel"].astype(str), "x": "", "value": t["win_rate"].astype(float)})


def survival_days(observed: CrmData) -> np.ndarray:
    """The days the survival panel is read at: 0 to the 95th percentile of the observed durations."""
    dur, _ = close_durations(observed)
    top = float(np.quantile(dur, 0.95)) if len(dur) else 365.0
    return np.linspace(0.0, max(top, 1.0), SURVIVAL_POINTS)


def panel_values(crm: CrmData, days: np.ndarray) -> dict[str, pd.DataFrame]:
    """Every panel's statistic of one CRM export (observed or simulated), long: group, x, value."""
    out = {"leads": monthly_leads(crm)}
    if crm.deals is not None and len(crm.deals):
        out["conversion"] = channel_conversion(crm)
        out["survival"] = survival_curve(crm, days)
        out["win_rate"] = channel_win_rates(crm)
        out["per_rep"] = deals_per_rep(crm)
    if crm.activities is not None:
        out["age"] = age_conversion(crm)
    return out


def _compare(panel: str, observed: pd.DataFrame, sims: list[pd.DataFrame], fill_zero: bool) -> pd.DataFrame:
    keys = ["group", "x"]
    sim = pd.concat([s.assign(rep=i) for i, s in enumerate(sims)], ignore_index=True)
    grid = pd.concat([observed[keys], sim[keys]]).drop_duplicates() if fill_zero else observed[keys]
    wide = sim.pivot_table(index=keys, columns="rep", values="value", aggfunc="first")
    wide = wide.reindex(pd.MultiIndex.from_frame(grid)).reindex(columns=range(len(sims)))
    if fill_zero:
        wide = wide.fillna(0.0)
    values = wide.to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-nan rows: a group no replication had
        mean = np.nanmean(values, axis=1)
        sd = np.nanstd(values, axis=1, ddof=1) if values.shape[1] > 1 else np.full(len(values), np.nan)
        low, high = np.nanquantile(values, BAND[0], axis=1), np.nanquantile(values, BAND[1], axis=1)
    obs = observed.set_index(keys)["value"].reindex(wide.index)
    if fill_zero:
        obs = obs.fillna(0.0)
    o = obs.to_numpy(dtype=float)
    inside = np.where(np.isfinite(o) & np.isfinite(low), (o >= low - 1e-12) & (o <= high + 1e-12), np.nan)
    out = pd.DataFrame({"panel": panel, "group": wide.index.get_level_values(0),
                        "x": wide.index.get_level_values(1), "observed": o, "sim_mean": mean, "sim_sd": sd, "sim_low": low,
                        "sim_high": high, "inside": inside})  # fmt: skip
    return out.sort_values(["group", "x"], kind="stable").reset_index(drop=True)


def compare_tables(observed: CrmData, sims: list[CrmData]) -> pd.DataFrame:
    """Observed vs simulated for every panel the data support, one tidy table (`TABLE_COLUMNS`)."""
    days = survival_days(observed) if observed.deals is not None and len(observed.deals) else np.array([0.0])
    obs = panel_values(observed, days)
    sim = [panel_values(s, days) for s in sims]
    parts = []
    for panel in PANELS:
        if panel in obs and all(panel in s for s in sim):
            parts.append(_compare(panel, obs[panel], [s[panel] for s in sim], fill_zero=panel == "leads"))
    return pd.concat(parts, ignore_index=True)[list(TABLE_COLUMNS)]


# ----------------------------------------------------------------------------------------------- goodness of fit
GOODNESS_COLUMNS = ("panel", "what", "points", "inside", "inside_share", "expected_share", "statistic",
                    "statistic_value", "p_value")  # fmt: skip


def expected_inside(reps: int, draws: int = 20000) -> float:
    """The share of observed points expected inside the band of `reps` replications if the model were right (the
    observation then is one more draw of the same distribution): below 90 % for few replications, whose 5 % and
    95 % quantiles sit inside the true ones. Monte Carlo with a fixed seed."""
    if reps < 2:
        return math.nan
    rng = np.random.default_rng(np.random.SeedSequence(2024))
    x = rng.standard_normal((draws, reps + 1))
    lo, hi = np.quantile(x[:, 1:], BAND[0], axis=1), np.quantile(x[:, 1:], BAND[1], axis=1)
    return float(np.mean((x[:, 0] >= lo) & (x[:, 0] <= hi)))


def goodness(table: pd.DataFrame, reps: int | None = None) -> pd.DataFrame:
    """One goodness-of-fit row per panel: the share of observed points inside the simulated 90 % band, with the
    share expected if the model were right for `reps` replications (`expected_inside`), and a second statistic -
    for survival the largest gap between the observed and the mean simulated curve (Kolmogorov-Smirnov distance),
    otherwise a chi-square of the observed against the simulated mean in units of the simulated sd (times
    sqrt(1 + 1/reps): a new draw against a mean of reps), with its p-value (df = points)."""
    from scipy.stats import chi2

    expected = expected_inside(reps) if reps else math.nan
    rows = []
    for panel, t in table.groupby("panel", sort=False):
        ok = t["inside"].notna()
        n, k = int(ok.sum()), int(t.loc[ok, "inside"].sum())
        if panel == "survival":
            stat, value, p = "KS distance (max |observed - simulated|)", float(
                np.nanmax(np.abs(t["observed"] - t["sim_mean"]))), math.nan  # fmt: skip
        else:
            sd = t["sim_sd"].to_numpy(dtype=float) * math.sqrt(1 + 1 / reps if reps else 1.0)
            use = ok.to_numpy() & np.isfinite(sd) & (sd > 1e-9)
            z2 = ((t["observed"] - t["sim_mean"]).to_numpy(dtype=float)[use] / sd[use]) ** 2
            value = float(z2.sum())
            p = float(chi2.sf(value, int(use.sum()))) if use.any() else math.nan
            stat = f"chi-square ({int(use.sum())} df)"
        rows.append({"panel": panel, "what": PANELS[panel], "points": n, "inside": k,
                     "inside_share": k / n if n else math.nan, "expected_share": expected, "statistic": stat, "statistic_value": value,
                     "p_value": p})  # fmt: skip
    return pd.DataFrame(rows, columns=list(GOODNESS_COLUMNS))


def _label(x: object) -> str:
    if isinstance(x, pd.Timestamp):
        return f"{x:%Y-%m}"
    if isinstance(x, float):
        return f"day {x:.0f}"
    return str(x)


def _fmt(panel: str, v: float) -> str:
    if panel in ("leads",):
        return f"{v:,.0f}"
    if panel == "per_rep":
        return f"{v:.2f}"
    return f"{v:.1%}"


def mismatches(table: pd.DataFrame, crm: CrmData | None = None) -> list[str]:
    """What the fit could not match, in plain language: per panel and group the observed points outside the
    simulated 90 % band (above or below, with the worst example), and - given `crm` (for a scenario without a
    hiring plan) - a team that changed over the data while the scenario has a fixed one. Empty when all is inside."""
    out: list[str] = []
    bad = table[table["inside"] == 0]
    for (panel, group), t in bad.groupby(["panel", "group"], sort=False):
        total = int(((table["panel"] == panel) & (table["group"] == group) & table["inside"].notna()).sum())
        above = int((t["observed"] > t["sim_high"]).sum())
        gap = np.where(t["observed"] > t["sim_high"], t["observed"] - t["sim_high"], t["sim_low"] - t["observed"])
        worst = t.iloc[int(np.argmax(gap))]
        where = f" ({group})" if group else ""
        side = "above" if above == len(t) else "below" if above == 0 else f"{above} above, {len(t) - above} below"
        out.append(f"{PANELS[panel].capitalize()}{where}: {len(t)} of {total} observed points outside the simulated "
                   f"90 % band ({side}); worst {_label(worst['x'])}: observed {_fmt(panel, worst['observed'])}, "
                   f"simulated {_fmt(panel, worst['sim_low'])} to {_fmt(panel, worst['sim_high'])}.")  # fmt: skip
    if crm is not None:
        active = crm.team_by_month["active_owners"].to_numpy()[1:-1]
        if len(active) and active.min() != active.max():
            out.append(f"The team changed over the data ({active.min()} to {active.max()} active owners a month); "
                       "the calibrated scenario has a fixed team, so months far from the median team fit worse.")  # fmt: skip
    return out


@dataclass
class FitComparison:
    """Observed vs simulated: the tidy `table` (`TABLE_COLUMNS`), its `goodness` per panel, the `mismatches` in
    words, and how it was simulated (replications, whether parameters were drawn from the sample)."""

    table: pd.DataFrame
    goodness: pd.DataFrame
    mismatches: list[str]
    reps: int
    drawn: bool
    notes: list[str] = field(default_factory=list)


def compare_fit(observed: CrmData, scenario: Scenario, start: pd.Timestamp, *, reps: int = 20,
                draws: pd.DataFrame | None = None, seed: int = 0, workers: int = 1,
                progress: bool | None = None) -> FitComparison:  # fmt: skip
    """Run `scenario` over `observed`'s history `reps` times (parameter draw i in replication i when `draws` is
    given) and compare every panel (see the module docstring)."""
    spec = HistorySpec(scenario, start, observed.export_date)
    sims = simulate_histories(spec, reps, draws=draws, seed=seed, workers=workers, progress=progress)
    table = compare_tables(observed, sims)
    fixed_team = not scenario.sales.headcount_plan  # a learned (or given) hiring plan follows the team
    found = mismatches(table, observed if fixed_team else None)
    return FitComparison(table=table, goodness=goodness(table, reps), mismatches=found, reps=reps,
                         drawn=draws is not None and not draws.empty)  # fmt: skip


__all__ = [
    "BAND",
    "GOODNESS_COLUMNS",
    "PANELS",
    "TABLE_COLUMNS",
    "FitComparison",
    "HistorySpec",
    "compare_fit",
    "compare_tables",
    "draw_overrides",
    "expected_inside",
    "goodness",
    "history_task",
    "mismatches",
    "panel_values",
    "run_tasks",
    "simulate_crm",
    "simulate_histories",
]
