"""Observed vs simulated, as tidy tables: the calibrated scenario is run over the same history as the firm's data
(same day 0 and export date, several replications, parameters drawn from the calibration's sample), each run is
exported as a CRM (`simfunnel.data.crm_tables`) and read back with `read_crm`, and the same statistics are taken
from both sides - so the simulated 90 % band of a statistic is the range the observed value should fall in if the
model were right (a posterior predictive check). Each panel gets a goodness-of-fit figure (`goodness`).

Panels (`PANELS`): monthly leads by channel, the channel mix (share of all leads per channel), conversion (lead ->
deal) by channel, time-to-close survival, conversion by lead age at first contact, deals opened per rep per month,
win rate by channel.

The points of a panel are not independent (one history has one channel mix, learnt by the CRM and kept for months;
one sales team), so the second statistic's p-value is not read from a chi-square with df = points: the same statistic
is taken of every replication against the others, and its distribution there is the reference (`reference_p`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simfunnel.calibrate.direct import close_durations, conversion_by_age, win_rates
from simfunnel.calibrate.fit import Target
from simfunnel.data import CrmData
from simfunnel.experiments.progress import make_bar
from simfunnel.scenario import Scenario

PANELS = {
    "leads": "monthly leads by channel",
    "mix": "channel mix (share of all leads)",
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


HistorySpec = Target
"""What a simulated history reproduces: the scenario, day 0 and the export date of the firm's data (the fit's
`Target`: the fit and the fit report simulate the same history)."""


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


def channel_mix(crm: CrmData) -> pd.DataFrame:
    """Share of all leads per channel over the whole history: group (channel), x (''), value."""
    leads = crm.leads.drop_duplicates("lead_id")
    share = leads["channel"].value_counts(normalize=True)
    return pd.DataFrame({"group": share.index.astype(str), "x": "", "value": share.to_numpy(dtype=float),
                         "n": float(len(leads))})  # fmt: skip


def channel_conversion(crm: CrmData) -> pd.DataFrame:
    """Share of leads that became a deal, by channel and overall ('all'): group, x (''), value, n (leads)."""
    leads = crm.leads.drop_duplicates("lead_id")
    has_deal = leads["deal_id"].notna() & (leads["deal_id"].astype(str) != "")
    by = has_deal.groupby(leads["channel"]).agg(["mean", "count"])
    rows = [("all", float(has_deal.mean()), len(has_deal))]
    rows += [(str(k), float(r["mean"]), int(r["count"])) for k, r in by.iterrows()]
    return pd.DataFrame({"group": [r[0] for r in rows], "x": "", "value": [r[1] for r in rows],
                         "n": [float(r[2]) for r in rows]})  # fmt: skip


def survival_curve(crm: CrmData, days: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier share of deals still open at each of `days` (open deals right-censored): group '', x, value."""
    from lifelines import KaplanMeierFitter

    dur, event = close_durations(crm)
    if len(dur) == 0:
        return pd.DataFrame({"group": "", "x": days, "value": np.nan})
    kmf = KaplanMeierFitter().fit(dur, event_observed=event)
    return pd.DataFrame({"group": "", "x": days, "value": kmf.survival_function_at_times(days).to_numpy()})


def age_conversion(crm: CrmData) -> pd.DataFrame:
    """Conversion (lead -> deal) by lead age at first contact: group '', x (age band), value, n (leads)."""
    t = conversion_by_age(crm)
    return pd.DataFrame({"group": "", "x": t["age"], "value": t["conversion"].astype(float),
                         "n": t["leads"].astype(float)})  # fmt: skip


def deals_per_rep(crm: CrmData) -> pd.DataFrame:
    """Deals opened per active owner per month (months with an owner): group '', x (month), value."""
    team = crm.team_by_month
    team = team[team["active_owners"] > 0]
    return pd.DataFrame({"group": "", "x": team["month"],
                         "value": team["deals_opened"] / team["active_owners"]})  # fmt: skip


def channel_win_rates(crm: CrmData) -> pd.DataFrame:
    """Won / closed by channel and overall: group, x (''), value, n (closed deals)."""
    t = win_rates(crm)
    return pd.DataFrame({"group": t["channel"].astype(str), "x": "", "value": t["win_rate"].astype(float),
                         "n": t["closed"].astype(float)})  # fmt: skip


def survival_days(observed: CrmData) -> np.ndarray:
    """The days the survival panel is read at: 0 to the 95th percentile of the observed durations."""
    dur, _ = close_durations(observed)
    top = float(np.quantile(dur, 0.95)) if len(dur) else 365.0
    return np.linspace(0.0, max(top, 1.0), SURVIVAL_POINTS)


def panel_values(crm: CrmData, days: np.ndarray) -> dict[str, pd.DataFrame]:
    """Every panel's statistic of one CRM export (observed or simulated), long: group, x, value."""
    out = {"leads": monthly_leads(crm), "mix": channel_mix(crm)}
    if crm.deals is not None and len(crm.deals):
        out["conversion"] = channel_conversion(crm)
        out["survival"] = survival_curve(crm, days)
        out["win_rate"] = channel_win_rates(crm)
        out["per_rep"] = deals_per_rep(crm)
    if crm.activities is not None:
        out["age"] = age_conversion(crm)
    return out


def _natural(x: pd.Series, grid: pd.Series) -> pd.Series:
    """Text categories (age bands) ranked in the order the statistic gives them, not alphabetically."""
    if len(x) and x.map(lambda v: isinstance(v, str)).all():
        rank = {v: i for i, v in enumerate(pd.unique(grid))}
        return x.map(rank)
    return x


@dataclass(frozen=True)
class PanelSims:
    """A panel's simulated values (points x replications, in the comparison table's row order) and, for a share,
    the trials behind each value: `trials_observed` (points) and `trials` (points x replications)."""

    values: np.ndarray
    trials_observed: np.ndarray | None = None
    trials: np.ndarray | None = None


def _compare(panel: str, observed: pd.DataFrame, sims: list[pd.DataFrame], fill_zero: bool
             ) -> tuple[pd.DataFrame, PanelSims]:  # fmt: skip
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
    by = out.assign(x=_natural(out["x"], grid["x"]))
    order = by.sort_values(["group", "x"], kind="stable").index.to_numpy()
    result = PanelSims(values[order])
    if "n" in observed.columns and "n" in sim.columns:
        n_obs = observed.set_index(keys)["n"].reindex(wide.index).to_numpy(dtype=float)
        n_sim = sim.pivot_table(index=keys, columns="rep", values="n", aggfunc="first")
        n_sim = n_sim.reindex(wide.index).reindex(columns=range(len(sims))).to_numpy(dtype=float)
        result = PanelSims(values[order], n_obs[order], n_sim[order])
    return out.loc[order].reset_index(drop=True), result


def compare_values(observed: CrmData, sims: list[CrmData]) -> tuple[pd.DataFrame, dict[str, PanelSims]]:
    """Observed vs simulated for every panel the data support, one tidy table (`TABLE_COLUMNS`), and per panel
    the simulated values (`PanelSims`) the reference statistics need."""
    days = survival_days(observed) if observed.deals is not None and len(observed.deals) else np.array([0.0])
    obs = panel_values(observed, days)
    sim = [panel_values(s, days) for s in sims]
    parts, values = [], {}
    for panel in PANELS:
        if panel in obs and all(panel in s for s in sim):
            part, values[panel] = _compare(panel, obs[panel], [s[panel] for s in sim],
                                           fill_zero=panel in ("leads", "mix"))  # fmt: skip
            parts.append(part)
    return pd.concat(parts, ignore_index=True)[list(TABLE_COLUMNS)], values


def compare_tables(observed: CrmData, sims: list[CrmData]) -> pd.DataFrame:
    """Observed vs simulated for every panel the data support, one tidy table (`TABLE_COLUMNS`)."""
    return compare_values(observed, sims)[0]


# ----------------------------------------------------------------------------------------------- goodness of fit
GOODNESS_COLUMNS = ("panel", "what", "points", "inside", "inside_share", "expected_share", "statistic",
                    "statistic_value", "p_value", "df_effective", "verdict")  # fmt: skip
VERDICT_SHARE = (0.10, 0.25)
"""Verdict by the share inside the band: good when at most 10 points below the expected share, fair to 25 below."""
VERDICT_P = (0.01, 0.001)
"""Verdict by the second statistic's p-value: fair below 0.01, poor below 0.001 (whatever the share inside)."""


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


def point_variance(sims: np.ndarray, n_x: np.ndarray | None = None, n_sims: np.ndarray | None = None) -> np.ndarray:
    """Variance of one more history's value at each point around the simulated mean: the replications' variance
    (times 1 + 1/reps for the mean's own error); for a share with trials, the between-history part of that
    variance plus the binomial variance at the trials `n_x` behind the value compared (few leads, more noise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-nan rows
        n = np.maximum(np.sum(np.isfinite(sims), axis=1), 1)
        mean, var = np.nanmean(sims, axis=1), np.nanvar(sims, axis=1, ddof=1)
        if n_x is None or n_sims is None:
            return var * (1 + 1 / n)
        p = np.clip(mean, 0.0, 1.0)
        within = np.nanmean(p[:, None] * (1 - p[:, None]) / np.where(n_sims > 0, n_sims, np.nan), axis=1)
        between = np.maximum(var - np.nan_to_num(within), 0.0)
        return between + var / n + np.where(n_x > 0, p * (1 - p) / n_x, np.nan)


def discrepancy(x: np.ndarray, sims: np.ndarray, kind: str, use: np.ndarray | None = None,
                n_x: np.ndarray | None = None, n_sims: np.ndarray | None = None) -> float:  # fmt: skip
    """How far `x` (one value per point) lies from the replications `sims` (points x reps): 'ks' the largest
    |x - mean|, 'chi2' the sum of (x - mean)^2 / `point_variance` over the points in `use` (default: every point
    with a finite x and a positive variance); `n_x`, `n_sims`: the trials behind a share."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-nan rows
        mean = np.nanmean(sims, axis=1)
    if kind == "ks":
        return float(np.nanmax(np.abs(x - mean)))
    var = point_variance(sims, n_x, n_sims)
    if use is None:
        use = np.isfinite(x) & np.isfinite(var) & (var > 1e-18)
    use = use & np.isfinite(x) & np.isfinite(var) & (var > 1e-18)
    return float((((x - mean)[use]) ** 2 / var[use]).sum())


def reference_p(value: float, reference: np.ndarray, df_max: float = math.inf) -> tuple[float, float]:
    """p-value of a statistic `value` against its `reference` values (the statistic of each replication against
    the others): a gamma (scaled chi-square) with the reference's mean and, as a few replications estimate a tail
    poorly, its variance at the upper 90 % confidence limit (so p errs high); the shape capped at `df_max` / 2 (at
    most the chi-square of independent points). Returns (p, effective df = 2 x shape)."""
    from scipy.stats import chi2

    ref = reference[np.isfinite(reference)]
    if len(ref) < 3 or not math.isfinite(value) or ref.mean() <= 0 or ref.var(ddof=1) <= 0:
        return (float(chi2.sf(value, df_max)), df_max) if math.isfinite(df_max) else (math.nan, math.nan)
    m = float(ref.mean())
    v = float(ref.var(ddof=1)) * (len(ref) - 1) / float(chi2.ppf(0.1, len(ref) - 1))
    df = min(df_max, 2 * m * m / v)
    return float(chi2.sf(value * df / m, df)), df


def replicate_statistics(sims: PanelSims, kind: str, use: np.ndarray) -> np.ndarray:
    """The statistic of each replication (a column of `sims.values`) against the other replications, on the
    points in `use` (the reference of `reference_p`)."""
    values, trials = sims.values, sims.trials
    out = np.full(values.shape[1], np.nan)
    for j in range(values.shape[1]):
        others = np.delete(values, j, axis=1)
        n_others = None if trials is None else np.delete(trials, j, axis=1)
        n_x = None if trials is None else trials[:, j]
        out[j] = discrepancy(values[:, j], others, kind, use, n_x, n_others)
    return out


def verdict(inside_share: float, expected_share: float, p_value: float, points: float = 0) -> str:
    """'good', 'fair' or 'poor' from the share inside the band and the second statistic's p-value, the worse of
    the two. The share counts against a verdict when it is more than `VERDICT_SHARE` below the expected share and,
    with `points` given (the independent points: `goodness` passes the effective df when smaller), unlikely by
    chance (binomial lower tail below 0.05 for fair, 0.01 for poor: five points with one inside are fair, not
    poor); the p-value by `VERDICT_P` (poor below 0.001 whatever the share)."""
    from scipy.stats import binom

    expected = expected_share if math.isfinite(expected_share) else 0.9
    gap = expected - inside_share
    n = max(1, round(points)) if points else 0
    tail = float(binom.cdf(math.floor(inside_share * n + 1e-9), n, expected)) if n else 0.0
    by_share = 2 if gap > VERDICT_SHARE[1] and tail < 0.01 else 1 if gap > VERDICT_SHARE[0] and tail < 0.05 else 0
    by_p = 0 if not math.isfinite(p_value) or p_value >= VERDICT_P[0] else 1 if p_value >= VERDICT_P[1] else 2
    return ("good", "fair", "poor")[max(by_share, by_p)]


def _panel_statistic(t: pd.DataFrame, panel: str, reps: int | None, sims: PanelSims | None
                     ) -> tuple[str, float, float, float]:  # fmt: skip
    """(name, value, p-value, effective df) of a panel's second statistic (see `goodness`)."""
    from scipy.stats import chi2

    kind = "ks" if panel == "survival" else "chi2"
    x, ok = t["observed"].to_numpy(dtype=float), t["inside"].notna().to_numpy()
    if sims is not None and sims.values.shape[1] >= 3:
        n_x = sims.trials_observed if sims.trials is not None else None
        var = point_variance(sims.values, n_x, sims.trials)
        use = ok & np.isfinite(var) & (var > 1e-18) if kind == "chi2" else ok
        value = discrepancy(x, sims.values, kind, use, n_x, sims.trials)
        df_max = float(use.sum()) if kind == "chi2" else math.inf
        p, df = reference_p(value, replicate_statistics(sims, kind, use), df_max)
    elif kind == "chi2":
        sd = t["sim_sd"].to_numpy(dtype=float) * math.sqrt(1 + 1 / reps if reps else 1.0)
        use = ok & np.isfinite(sd) & (sd > 1e-9)
        value = float((((x - t["sim_mean"].to_numpy(dtype=float))[use] / sd[use]) ** 2).sum())
        df = float(use.sum())
        p = float(chi2.sf(value, df)) if use.any() else math.nan
    else:
        value, p, df, use = float(np.nanmax(np.abs(x - t["sim_mean"]))), math.nan, math.nan, ok
    name = "KS distance (max |observed - simulated|)" if kind == "ks" else f"chi-square ({int(use.sum())} points)"
    return name, value, p, df


def goodness(table: pd.DataFrame, reps: int | None = None, values: dict[str, PanelSims] | None = None
             ) -> pd.DataFrame:  # fmt: skip
    """One goodness-of-fit row per panel: the share of observed points inside the simulated 90 % band, with the
    share expected if the model were right for `reps` replications (`expected_inside`), a second statistic - for
    survival the largest gap between the observed and the mean simulated curve (Kolmogorov-Smirnov distance),
    otherwise a chi-square of the observed against the simulated mean in units of `point_variance` - with its
    p-value, and the `verdict`. With the simulated `values` (`compare_values`) the p-value is read from the same
    statistic of each replication against the others (`reference_p`: correlated points, as the months of one
    channel mix, count as fewer); without, from a chi-square with df = points (independent points)."""
    expected = expected_inside(reps) if reps else math.nan
    rows = []
    for panel, t in table.groupby("panel", sort=False):
        ok = t["inside"].notna()
        n, k = int(ok.sum()), int(t.loc[ok, "inside"].sum())
        stat, value, p, df = _panel_statistic(t, str(panel), reps, (values or {}).get(str(panel)))
        share = k / n if n else math.nan
        rows.append({"panel": panel, "what": PANELS[panel], "points": n, "inside": k, "inside_share": share,
                     "expected_share": expected, "statistic": stat, "statistic_value": value, "p_value": p,
                     "df_effective": df, "verdict": verdict(share, expected, p, min(n, df) if df == df else n)})  # fmt: skip
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
        band = f"{_fmt(panel, worst['sim_low'])} to {_fmt(panel, worst['sim_high'])}"
        if total == 1:
            out.append(f"{PANELS[panel].capitalize()}{where}: observed {_fmt(panel, worst['observed'])}, {side} the "
                       f"simulated 90 % band ({band}).")  # fmt: skip
            continue
        out.append(f"{PANELS[panel].capitalize()}{where}: {len(t)} of {total} observed points outside the simulated "
                   f"90 % band ({side}); worst {_label(worst['x'])}: observed {_fmt(panel, worst['observed'])}, "
                   f"simulated {band}.")  # fmt: skip
    leads = table[table["panel"] == "leads"].groupby("group")["inside"].mean()
    if (bad["panel"] == "mix").any() or (leads < 0.5).any():
        out.append("In the model the CRM learns the channel mix from a logged sample of the wins and keeps it for "
                   "months, so each history draws its own mix: read channel misfits with the panels' p-values "
                   "(a mix off in every month is one draw, not a miss a month).")  # fmt: skip
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
    table, values = compare_values(observed, sims)
    fixed_team = not scenario.sales.headcount_plan  # a learned (or given) hiring plan follows the team
    found = mismatches(table, observed if fixed_team else None)
    return FitComparison(table=table, goodness=goodness(table, reps, values), mismatches=found, reps=reps,
                         drawn=draws is not None and not draws.empty)  # fmt: skip


__all__ = [
    "BAND",
    "VERDICT_P",
    "VERDICT_SHARE",
    "GOODNESS_COLUMNS",
    "PANELS",
    "PanelSims",
    "TABLE_COLUMNS",
    "FitComparison",
    "HistorySpec",
    "compare_fit",
    "compare_tables",
    "compare_values",
    "discrepancy",
    "draw_overrides",
    "expected_inside",
    "goodness",
    "history_task",
    "mismatches",
    "panel_values",
    "point_variance",
    "reference_p",
    "replicate_statistics",
    "run_tasks",
    "simulate_crm",
    "simulate_histories",
    "verdict",
]
