"""Figures of the fit report: observed (black, with its own interval where one exists) against the calibrated
model run over the same history (blue: mean and 90 % band over the replications), one figure per panel of
`simfunnel.calibrate.compare.PANELS`, and the backtest's monthly wins and conversion against the naive forecasts.
Every function takes the tidy tables of `simfunnel.calibrate.compare` / `.backtest` and returns a Figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simfunnel.calibrate.estimate import poisson_interval, wilson
from simfunnel.present.style import OKABE_ITO, blank, figure, grid_shape, note, presentation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simfunnel.data import CrmData

SIM = OKABE_ITO["blue"]
OBS = "#000000"
NAIVE = {"run rate": OKABE_ITO["orange"], "pipeline": OKABE_ITO["reddish_purple"]}
MAX_CHANNELS = 6


def _band(ax: Any, x: Any, t: pd.DataFrame, label: bool = True) -> None:
    ax.fill_between(x, t["sim_low"], t["sim_high"], color=SIM, alpha=0.22, lw=0, step=None,
                    label="simulated 90 % band" if label else None)  # fmt: skip
    ax.plot(x, t["sim_mean"], color=SIM, lw=1.6, label="simulated mean" if label else None)


def _inside_text(t: pd.DataFrame) -> str:
    ok = t["inside"].dropna()
    return f"{int(ok.sum())} of {len(ok)} inside" if len(ok) else ""


@presentation
def monthly_panel(table: pd.DataFrame, panel: str, title: str, ylabel: str) -> Figure:
    """Monthly observed values against the simulated band, one small panel per group (channel)."""
    t = table[table["panel"] == panel]
    if t.empty:
        from simfunnel.present.style import no_data

        return no_data(title, "not in the data")
    totals = t.groupby("group")["observed"].sum().sort_values(ascending=False)
    groups = list(totals.index[:MAX_CHANNELS])
    rows, cols = grid_shape(len(groups), 3)
    size = (4.0 * cols, 2.8 * rows) if len(groups) > 1 else (8.0, 3.6)
    fig, axes = figure(rows, cols, figsize=size, sharex=True, layout="constrained")
    for i, ax in enumerate(axes.ravel()):
        if i >= len(groups):
            ax.set_visible(False)
            continue
        g = t[t["group"] == groups[i]].sort_values("x")
        x = pd.to_datetime(g["x"])
        _band(ax, x, g, label=i == 0)
        if panel == "leads":
            lo, hi = zip(*(poisson_interval(v) for v in g["observed"]), strict=True)
            ax.errorbar(x, g["observed"], yerr=[g["observed"] - np.array(lo), np.array(hi) - g["observed"]],
                        fmt="o", ms=3.5, color=OBS, elinewidth=0.8, label="observed (90 % Poisson)" if i == 0 else None)  # fmt: skip
        else:
            ax.plot(x, g["observed"], "o", ms=3.5, color=OBS, label="observed" if i == 0 else None)
        ax.set_title(f"{groups[i]}  ({_inside_text(g)})" if groups[i] else _inside_text(g), fontsize=11)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        if i % cols == 0:
            ax.set_ylabel(ylabel)
    axes.ravel()[0].legend(fontsize=8, loc="lower right", framealpha=0.85)
    fig.suptitle(title, x=0.01, ha="left")
    return fig


@presentation
def category_panel(table: pd.DataFrame, panel: str, title: str, counts: pd.DataFrame | None = None) -> Figure:
    """A share per category (channel, lead age): the simulated 90 % band as a bar from low to high with its mean,
    the observed share as a dot with its Wilson 90 % interval (when `counts` gives successes and trials)."""
    t = table[(table["panel"] == panel) & table["observed"].notna()].reset_index(drop=True)
    fig, axes = figure(figsize=(max(5.0, 1.1 * len(t) + 2), 3.6), layout="constrained")
    ax = axes[0, 0]
    if t.empty:
        blank(ax, "not in the data")
        return fig
    x = np.arange(len(t))
    ax.bar(x, t["sim_high"] - t["sim_low"], bottom=t["sim_low"], width=0.55, color=SIM, alpha=0.25,
           label="simulated 90 % band")  # fmt: skip
    ax.hlines(t["sim_mean"], x - 0.27, x + 0.27, color=SIM, lw=2, label="simulated mean")
    yerr = None
    if counts is not None:
        c = counts.set_index("key").reindex(t["group"].where(t["group"] != "", t["x"]).astype(str))
        iv = [wilson(k, n) if n == n else (np.nan,) * 3 for k, n in zip(c["k"], c["n"], strict=True)]
        lo, hi = np.array([v[1] for v in iv]), np.array([v[2] for v in iv])
        yerr = [np.clip(t["observed"] - lo, 0, None), np.clip(hi - t["observed"], 0, None)]
    ax.errorbar(x, t["observed"], yerr=yerr, fmt="o", color=OBS, ms=5, elinewidth=1,
                label="observed" + (" (Wilson 90 %)" if yerr is not None else ""))  # fmt: skip
    ax.set_xticks(x, [str(g) if g else str(v) for g, v in zip(t["group"], t["x"], strict=True)], rotation=20)
    ax.yaxis.set_major_formatter(_percent())
    ax.legend(fontsize=8)
    ax.set_title(f"{title}  ({_inside_text(t)})", loc="left", fontsize=12)
    return fig


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


@presentation
def survival_panel(table: pd.DataFrame, observed: CrmData) -> Figure:
    """Share of deals still open by days since opened: the observed Kaplan-Meier curve (lifelines; 90 % band,
    ticks where open deals are censored at the export date) against the simulated band."""
    from lifelines import KaplanMeierFitter

    from simfunnel.calibrate.direct import close_durations

    t = table[table["panel"] == "survival"].sort_values("x")
    fig, axes = figure(figsize=(7.5, 4.0), layout="constrained")
    ax = axes[0, 0]
    if t.empty:
        blank(ax, "no deals in the data")
        return fig
    _band(ax, t["x"].astype(float), t)
    dur, event = close_durations(observed)
    kmf = KaplanMeierFitter(alpha=0.1, label="observed (Kaplan-Meier, 90 % CI)").fit(dur, event_observed=event)
    kmf.plot_survival_function(ax=ax, color=OBS, ci_show=True, show_censors=True, ci_alpha=0.15,
                               censor_styles={"ms": 5, "marker": "|"})  # fmt: skip
    ax.set_xlim(0, float(t["x"].max()))
    ax.set_xlabel("days since the deal was opened")
    ax.set_ylabel("share of deals still open")
    ax.yaxis.set_major_formatter(_percent())
    ax.legend(fontsize=8)
    ax.set_title(f"Time to close  ({_inside_text(t)}, days 0-{float(t['x'].max()):.0f})", loc="left", fontsize=12)
    note(fig, f"Censored: {int((event == 0).sum()):,} deals open at the export date (ticks).")
    return fig


@presentation
def backtest_panel(table: pd.DataFrame, cut: pd.Timestamp) -> Figure:
    """Observed monthly leads, wins and conversion after the cut against the model's band and the naive forecasts."""
    metrics = [m for m in ("leads", "wins", "conversion") if m in set(table["metric"])]
    fig, axes = figure(1, len(metrics), figsize=(4.4 * len(metrics), 3.6), layout="constrained")
    for ax, metric in zip(axes.ravel(), metrics, strict=True):
        t = table[table["metric"] == metric]
        m = t[t["method"] == "model"].sort_values("month")
        x = pd.to_datetime(m["month"])
        ax.fill_between(x, m["low"], m["high"], color=SIM, alpha=0.22, lw=0, label="model 90 % band")
        ax.plot(x, m["forecast"], color=SIM, lw=1.8, label="model mean")
        for method, color in NAIVE.items():
            n = t[t["method"] == method].sort_values("month")
            if len(n):
                ax.plot(pd.to_datetime(n["month"]), n["forecast"], "--", color=color, lw=1.4, label=method)
        ax.plot(x, m["observed"], "o-", color=OBS, ms=4, lw=0.8, label="observed")
        ax.set_title(metric + (" (known input)" if metric == "leads" else ""), fontsize=11)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        if metric == "conversion":
            ax.yaxis.set_major_formatter(_percent())
    axes.ravel()[min(1, len(metrics) - 1)].legend(fontsize=8)
    fig.suptitle(f"Backtest: the months after {cut:%Y-%m-%d}", x=0.01, ha="left")
    note(fig, "Conversion = wins / leads created in the month. Naive forecasts get the observed leads too.")
    fig.get_layout_engine().set(rect=(0, 0, 1, 1))
    return fig


def share_counts(crm: CrmData, panel: str) -> pd.DataFrame | None:
    """Successes and trials behind an observed share (for its Wilson interval): key, k, n."""
    from simfunnel.calibrate.direct import conversion_by_age, win_rates

    if panel == "win_rate" and crm.deals is not None:
        w = win_rates(crm)
        return pd.DataFrame({"key": w["channel"].astype(str), "k": w["won"], "n": w["closed"]})
    if panel == "age" and crm.activities is not None:
        a = conversion_by_age(crm)
        return pd.DataFrame({"key": a["age"].astype(str), "k": a["deals"], "n": a["leads"]})
    if panel == "mix":
        leads = crm.leads.drop_duplicates("lead_id")
        by = leads["channel"].value_counts()
        return pd.DataFrame({"key": by.index.astype(str), "k": by.to_numpy(), "n": len(leads)})
    if panel == "conversion":
        leads = crm.leads.drop_duplicates("lead_id")
        has = leads["deal_id"].notna() & (leads["deal_id"].astype(str) != "")
        by = has.groupby(leads["channel"]).agg(["sum", "count"])
        rows = [("all", int(has.sum()), len(has))] + [
            (str(k), int(r["sum"]), int(r["count"])) for k, r in by.iterrows()
        ]
        return pd.DataFrame(rows, columns=["key", "k", "n"])
    return None


def fit_figures(table: pd.DataFrame, observed: CrmData) -> dict[str, Figure]:
    """Every panel's figure, by panel key (only panels the table has)."""
    panels = set(table["panel"])
    out: dict[str, Figure] = {}
    if "leads" in panels:
        out["leads"] = monthly_panel(table, "leads", "Monthly leads by channel", "leads")
    if "mix" in panels:
        out["mix"] = category_panel(table, "mix", "Channel mix (share of all leads)", share_counts(observed, "mix"))
    if "conversion" in panels:
        out["conversion"] = category_panel(table, "conversion", "Conversion (lead → deal) by channel",
                                           share_counts(observed, "conversion"))  # fmt: skip
    if "survival" in panels:
        out["survival"] = survival_panel(table, observed)
    if "age" in panels:
        out["age"] = category_panel(table, "age", "Conversion by lead age at first contact",
                                    share_counts(observed, "age"))  # fmt: skip
    if "per_rep" in panels:
        out["per_rep"] = monthly_panel(table, "per_rep", "Deals opened per rep per month", "deals / rep")
    if "win_rate" in panels:
        out["win_rate"] = category_panel(table, "win_rate", "Win rate (won / closed) by channel",
                                         share_counts(observed, "win_rate"))  # fmt: skip
    return out


__all__ = ["backtest_panel", "category_panel", "fit_figures", "monthly_panel", "share_counts", "survival_panel"]
