"""Figures of money: revenue and customers over time (and what happens when acquisition stops), KPIs against
the marketing budget (response curve, heatmap), and budget splits (MQL-optimal vs profit-optimal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from simfunnel.formatting import format_value, unit_text
from simfunnel.present.data import frames, metric_rows, tidy_summary
from simfunnel.present.labels import (
    DAY_LABEL,
    axis_formatter,
    field_label,
    field_value,
    kpi_info,
    metric_axis_label,
    pct_formatter,
    scale,
)
from simfunnel.present.style import GREY, OKABE_ITO, TEXT, colors_for, figure, no_data, note, presentation, title_name
from simfunnel.present.sweep import curve_panel
from simfunnel.vocabulary import KPIS

__all__ = ["BUDGET_PART_COLORS", "acquisition_stop", "budget_heatmap", "budget_response", "budget_splits",
           "revenue_over_time"]  # fmt: skip

BUDGET_PART_COLORS: dict[str, str] = {
    "acquisition": OKABE_ITO["blue"],
    "nurture": OKABE_ITO["bluish_green"],
    "retention": OKABE_ITO["orange"],
    "training": OKABE_ITO["reddish_purple"],
}
"""Colour of each part of the marketing budget (acquisition: all channels together)."""


# ============================================================================================== sweeps
@presentation
def budget_response(
    summary: Any, x: str = "marketing.budget_per_year", metric: str = "profit", *, title: str | None = None
) -> Figure:
    """Mean ``metric`` (with its 95 % CI band) against one swept field ``x``; the best point is starred.
    Other swept fields with several values give one line each.

    ``summary``: ``Experiment.summary`` of a sweep (point, one column per field, metric, mean, ci_low, ci_high),
    the Experiment, or a table without a ``metric`` column (e.g. ``BudgetResult.table``: one row per split)."""
    label = kpi_info(metric)[0]
    title = title or f"{label} as {field_label(x).split(' (')[0].lower()} changes"
    df = tidy_summary(summary)
    if df.empty or x not in df.columns or metric_rows(df, metric).empty:
        return no_data(title, "empty sweep table" if df.empty else f"no {metric!r} values against {x!r}")
    fig, axes = figure()
    ax = axes[0, 0]
    curve_panel(ax, df, x, metric)
    ax.set_xlabel(field_label(x))
    ax.set_ylabel(metric_axis_label(metric))
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Line: mean over replications; band: 95 % confidence interval.")
    return fig


def _annotate_cells(ax: Any, z: np.ndarray, unit: str, cmap: Any, norm: Any) -> None:
    ny, nx = z.shape
    fs = 13 if nx * ny <= 30 else (11 if nx * ny <= 64 else 9)
    for i in range(ny):
        for j in range(nx):
            v = z[i, j]
            if not np.isfinite(v):
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=fs, color=GREY)
                continue
            r, g, b, _ = cmap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, format_value(v / scale(unit), unit), ha="center", va="center", fontsize=fs,
                    color="white" if dark else "#111111")  # fmt: skip


@presentation
def budget_heatmap(summary: Any, x: str, y: str, metric: str = "profit", *, title: str | None = None) -> Figure:
    """Mean ``metric`` over a grid of two swept fields, each cell annotated, the best cell outlined."""
    label, unit, better = kpi_info(metric)
    short = [field_label(f).split(" (")[0].lower() for f in (x, y)]
    title = title or f"{label} over {short[0]} × {short[1]}"
    df = tidy_summary(summary)
    sub = metric_rows(df, metric) if not df.empty else df
    if sub.empty or x not in sub.columns or y not in sub.columns or "mean" not in sub.columns:
        return no_data(title, "empty sweep table" if df.empty else f"no {metric!r} values over {x!r} × {y!r}")
    grid = sub.pivot_table(index=y, columns=x, values="mean", aggfunc="mean", dropna=False)
    grid = grid.sort_index(axis=0).sort_index(axis=1)
    z = grid.to_numpy(float) * scale(unit)
    if not np.isfinite(z).any():
        return no_data(title, "all values are NaN")
    fig, axes = figure(figsize=(10, 6))
    ax = axes[0, 0]
    zmin, zmax = float(np.nanmin(z)), float(np.nanmax(z))
    if zmin < 0 < zmax:
        norm, cmap = TwoSlopeNorm(vcenter=0.0, vmin=zmin, vmax=zmax), mpl.colormaps["RdBu"]
    else:
        norm = mpl.colors.Normalize(vmin=zmin, vmax=zmax if zmax > zmin else zmin + 1)
        cmap = mpl.colormaps["viridis"]
    im = ax.imshow(np.ma.masked_invalid(z), origin="lower", aspect="auto", cmap=cmap, norm=norm)
    _annotate_cells(ax, z, unit, cmap, norm)
    if better != 0:
        flat = np.where(np.isfinite(z), z, -np.inf if better > 0 else np.inf)
        bi, bj = np.unravel_index(np.argmax(flat) if better > 0 else np.argmin(flat), z.shape)
        ax.add_patch(Rectangle((bj - 0.48, bi - 0.48), 0.96, 0.96, fill=False, edgecolor="#111111", lw=3.5))
        ax.texts[int(bi) * z.shape[1] + int(bj)].set_fontweight("bold")
    ax.set_xticks(range(z.shape[1]), [field_value(x, v) for v in grid.columns])
    ax.set_yticks(range(z.shape[0]), [field_value(y, v) for v in grid.index])
    ax.grid(False)
    ax.set_xlabel(field_label(x))
    ax.set_ylabel(field_label(y))
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02)
    cb.set_label(metric_axis_label(metric))
    cb.ax.yaxis.set_major_formatter(axis_formatter(unit))
    cb.outline.set_visible(False)
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Cells: mean over replications" + ("; outlined: best cell." if better else "."))
    return fig


# ============================================================================================== revenue
def _revenue_lines(ax: Any, tables: Mapping[str, pd.DataFrame], w: int) -> float:
    """Weekly revenue: stacked new + repeat for one scenario, total and repeat lines for several; returns the
    right end of the x axis."""
    names = list(tables)
    colors = colors_for(names)
    xmax, top = 0.0, 0.0
    for name, f in tables.items():
        x = f["day"].to_numpy(float)
        width = float(x[1] - x[0]) if x.size > 1 else 7.0
        xmax = max(xmax, float(np.nanmax(x)) + width)
        new, rep = (np.nan_to_num(f[c].astype(float).rolling(w, min_periods=1).mean().to_numpy(float))
                    for c in ("new_revenue", "repeat_revenue"))  # fmt: skip
        tot_new, tot_rep = float(np.nansum(f["new_revenue"])), float(np.nansum(f["repeat_revenue"]))
        # raw weekly values are step functions over their bin; smoothed values are drawn at the bin's end
        xs, step = (x, "post") if w == 1 else (x + width, None)
        if len(names) == 1:
            labels = [f"New customers ({format_value(tot_new, 'money')})",
                      f"Repeat purchases ({format_value(tot_rep, 'money')})"]  # fmt: skip
            ax.stackplot(xs, new, rep, colors=[OKABE_ITO["blue"], OKABE_ITO["orange"]], alpha=0.85, step=step,
                         labels=labels)  # fmt: skip
        else:
            ds = "steps-post" if w == 1 else "default"
            ax.plot(xs, new + rep, color=colors[name], lw=2.5, drawstyle=ds,
                    label=f"{title_name(name)}: total ({format_value(tot_new + tot_rep, 'money')})")  # fmt: skip
            ax.plot(xs, rep, color=colors[name], lw=1.8, ls="--", drawstyle=ds,
                    label=f"{title_name(name)}: repeat ({format_value(tot_rep, 'money')})")  # fmt: skip
        top = max(top, float(np.max(new + rep)) if new.size else 0.0)
    ax.set_ylabel(f"Revenue per week ({unit_text('money')})")
    ax.yaxis.set_major_formatter(axis_formatter("money"))
    ax.set_ylim(0, top * 1.32 if top > 0 else 1.0)  # headroom for the legend
    ax.legend(loc="upper left", ncol=2, fontsize=12)
    return xmax


def _customer_lines(ax: Any, tables: Mapping[str, pd.DataFrame]) -> None:
    colors = colors_for(list(tables))
    ctop = 0.0
    for name, f in tables.items():
        if "customers" in f.columns:
            x = f["day"].to_numpy(float)
            width = float(x[1] - x[0]) if x.size > 1 else 7.0
            c = f["customers"].to_numpy(float)
            ax.plot(x + width, c, color=colors[name] if len(tables) > 1 else TEXT, lw=2.2)  # counted at week end
            if np.isfinite(c).any():
                ctop = max(ctop, float(np.nanmax(c)))
    ax.set_ylabel("Active customers\n(count)")
    ax.yaxis.set_major_formatter(axis_formatter("count"))
    ax.set_ylim(0, ctop * 1.15 if ctop > 0 else 1.0)


def _mark_events(fig: Figure, events: Mapping[float, str]) -> None:
    """A dotted vertical line on every panel at each event day, labelled on the bottom panel."""
    for day, text in events.items():
        for ax in fig.axes:
            ax.axvline(day, color="#444444", lw=1.2, ls=":")
        ax = fig.axes[-1]
        ax.text(day, 0.08, f" {text}", transform=ax.get_xaxis_transform(), ha="left", va="bottom", fontsize=11,
                color="#444444")  # fmt: skip


@presentation
def revenue_over_time(
    timeseries: Any, *, window: int = 4, events: Mapping[float, str] | None = None, title: str | None = None
) -> Figure:
    """Weekly revenue from new and repeat customers (top) and the number of active customers (bottom).

    One scenario: stacked areas (new, repeat). Several (``{name: timeseries}``): total revenue lines (solid) and
    repeat revenue (dashed), one colour per scenario, with each total over the horizon in the legend.
    ``window``: trailing rolling mean in weeks (1 = raw weekly values). ``events``: ``{day: label}`` marked
    with a dotted line (e.g. the day acquisition stops)."""
    title = title or "Revenue and customers over time"
    need = {"day", "new_revenue", "repeat_revenue"}
    tables = {k: v for k, v in frames(timeseries, "timeseries").items() if need <= set(v.columns) and not v.empty}
    tables = {k: v.sort_values("day") for k, v in tables.items() if v["day"].notna().any()}
    if not tables:
        return no_data(title, "no weekly revenue (day, new_revenue, repeat_revenue)")
    has_cust = any("customers" in f.columns and f["customers"].notna().any() for f in tables.values())
    fig, axes = figure(2 if has_cust else 1, 1, figsize=(10, 6.6 if has_cust else 5.0), sharex=True,
                       gridspec_kw={"height_ratios": [2.2, 1]} if has_cust else None)  # fmt: skip
    w = max(1, int(window))
    xmax = _revenue_lines(axes[0, 0], tables, w)
    fig.suptitle(title + (f" ({w}-week rolling mean)" if w > 1 else ", weekly"), x=0.01, ha="left")
    if has_cust:
        _customer_lines(axes[1, 0], tables)
    axes[-1, 0].set_xlabel(DAY_LABEL)
    axes[0, 0].set_xlim(0, xmax)
    _mark_events(fig, events or {})
    return fig


def acquisition_stop(timeseries: Any, stop_day: float, *, window: int = 4, title: str | None = None) -> Figure:
    """Renting the market: revenue and customers over time of variants in which acquisition spend stops on
    ``stop_day`` (`revenue_over_time` with the stop marked). ``timeseries``: ``{variant: timeseries}``."""
    title = title or "Renting the market: revenue after acquisition stops"
    label = f"acquisition stops (day {format_value(stop_day, 'count')})"
    return revenue_over_time(timeseries, window=window, events={float(stop_day): label}, title=title)


# ============================================================================================== budget splits
_SPLIT_NAMES = {"current": "current", "mql_optimal": "MQL-optimal", "profit_optimal": "profit-optimal"}
_SPLIT_COLORS = ("#777777", OKABE_ITO["vermillion"], OKABE_ITO["blue"])
_NON_CHANNELS = ("nurture", "retention", "training")


def _split_shares(ax: Any, splits: pd.DataFrame, items: Sequence[str]) -> None:
    """Left panel: each split's shares of the budget, the acquisition channels together."""
    parts = {"acquisition": [i for i in items if i not in _NON_CHANNELS]}
    parts |= {p: [p] for p in _NON_CHANNELS if p in items}
    y = np.arange(splits.shape[1])
    left = np.zeros(splits.shape[1])
    for part, members in parts.items():
        v = 100 * splits.loc[members].sum().to_numpy(float)
        ax.barh(y, v, left=left, color=BUDGET_PART_COLORS[part], label=part, edgecolor="white")
        for yi, (l0, vi) in enumerate(zip(left, v, strict=True)):
            if vi >= 8:
                ax.text(l0 + vi / 2, yi, format_value(vi / 100, "share", decimals=0), ha="center", va="center",
                        color="white", fontweight="bold")  # fmt: skip
        left += v
    ax.set_yticks(y, list(splits.columns))
    ax.set_ylim(len(y) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(pct_formatter())
    ax.set_xlabel("Share of the marketing budget (%)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, fontsize=11, frameon=False)
    ax.set_title("How the budget is split")


def _split_yields(ax: Any, splits: pd.DataFrame, kpis: Sequence[str]) -> None:
    """Right panel: each KPI of each split as % of the current split, its value written on the bar."""
    base = splits.loc[list(kpis)].iloc[:, 0].abs().replace(0, np.nan)
    rel = 100 * splits.loc[list(kpis)].div(base, axis=0)
    width = 0.8 / splits.shape[1]
    for j, col in enumerate(splits.columns):
        x = np.arange(len(kpis)) + (j - (splits.shape[1] - 1) / 2) * width
        ax.bar(x, rel[col].to_numpy(float), width, label=col, color=_SPLIT_COLORS[j % len(_SPLIT_COLORS)])
        for xi, k in zip(x, kpis, strict=True):
            v = float(np.nan_to_num(rel.loc[k, col]))  # the value at the bar's end (below a negative bar)
            ax.text(xi, v, format_value(splits.loc[k, col], KPIS[k].unit), ha="center", va="bottom" if v >= 0 else
                    "top", fontsize=10, color=TEXT, rotation=90 if len(kpis) > 3 else 0)  # fmt: skip
    ax.axhline(100, color="#222222", lw=1)
    ax.set_xticks(np.arange(len(kpis)), [KPIS[k].label for k in kpis])
    ax.yaxis.set_major_formatter(pct_formatter())
    ax.set_ylabel("% of the current split")
    finite = rel.to_numpy(float)[np.isfinite(rel.to_numpy(float))]
    ax.set_ylim(min(0.0, 1.4 * finite.min()) if finite.size else 0, 1.3 * finite.max() if finite.size else 1)
    ax.set_title("What each split yields")
    ax.legend(fontsize=11, loc="upper center", ncol=3, frameon=False)


@presentation
def budget_splits(
    splits: pd.DataFrame, kpis: Sequence[str] = ("mqls", "won", "profit"), *, title: str | None = None
) -> Figure:
    """MQL-optimal vs profit-optimal budget split: left, how each split divides the budget (acquisition channels
    together); right, what each yields (``kpis``) as % of the current split, with the values on the bars.

    ``splits``: the table of `simfunnel.best_splits` (rows: budget items, then KPIs; columns: ``current`` first,
    then the optimal splits; the columns may already carry display names)."""
    title = title or "MQL-optimal vs profit-optimal budget split"
    if not isinstance(splits, pd.DataFrame) or splits.empty:
        return no_data(title, "no budget splits")
    kpis = [k for k in kpis if k in splits.index and k in KPIS]
    items = [i for i in splits.index if i not in KPIS]
    if not items or not kpis:
        return no_data(title, "the table needs budget-item rows and KPI rows (mqls, won, profit)")
    table = splits.rename(columns=_SPLIT_NAMES)
    fig, axes = figure(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.2, 1]})
    _split_shares(axes[0, 0], table.loc[items], items)
    _split_yields(axes[0, 1], table, kpis)
    fig.suptitle(title, x=0.01, ha="left")
    return fig
