"""Figures of sales capacity: weekly rep utilisation over time, and sizing the sales team (KPIs against the
number of reps in a sweep)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from simfunnel.formatting import format_value, unit_text
from simfunnel.present.data import frames, horizon, tidy_summary
from simfunnel.present.labels import DAY_LABEL, field_label, kpi_info, pct_formatter
from simfunnel.present.style import colors_for, figure, no_data, note, presentation
from simfunnel.present.sweep import curve_panel

__all__ = ["STAFFING_KPIS", "rep_utilization", "staffing_curve"]

STAFFING_KPIS: tuple[str, ...] = ("rep_utilization", "contact_wait_days", "profit")
"""Default KPIs of `staffing_curve`: how busy the reps are, how long buyers wait, what it earns."""


def _spread(values: Sequence[float], min_gap: float) -> list[float]:
    """Positions for labels at ``values`` moved apart to at least ``min_gap`` (order kept)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = list(values)
    for a, b in zip(order, order[1:], strict=False):
        if out[b] - out[a] < min_gap:
            out[b] = out[a] + min_gap
    return out


def _step_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bins starting at x (equal width): add the end of the last bin, so a steps-post line shows every bin."""
    width = x[-1] - x[-2] if x.size > 1 else 7.0
    return np.append(x, x[-1] + width), np.append(y, y[-1])


@presentation
def rep_utilization(timeseries: Any, *, title: str | None = None) -> Figure:
    """Weekly rep utilisation (% of working hours spent on sales activities) over time, per scenario, with the
    period mean marked and labelled at the right. ``timeseries``: ``RunResult.timeseries``, a RunResult or
    ``{name: timeseries}``."""
    title = title or "Sales capacity: weekly rep utilisation"
    tables = {k: v for k, v in frames(timeseries, "timeseries").items() if {"day", "rep_utilization"} <= set(v.columns)}
    tables = {k: v for k, v in tables.items() if v["rep_utilization"].notna().any()}
    if not tables:
        return no_data(title, "no weekly rep_utilization values")
    names = list(tables)
    colors = colors_for(names)
    fig, axes = figure()
    ax = axes[0, 0]
    top, xmax = 0.0, 0.0
    means: list[float] = []
    for name in names:
        df = tables[name].sort_values("day")
        x, u = _step_xy(df["day"].to_numpy(float), 100 * df["rep_utilization"].to_numpy(float))
        ax.plot(x, u, color=colors[name], lw=2.2, drawstyle="steps-post")
        mean = float(np.nanmean(u[:-1]))
        means.append(mean)
        ax.axhline(mean, color=colors[name], lw=1.3, ls="--", alpha=0.9)
        top = max(top, float(np.nanmax(u)))
        xmax = max(xmax, float(x[-1]))
    ylim = max(105.0, top * 1.05)
    for name, mean, pos in zip(names, means, _spread(means, 0.07 * ylim), strict=True):
        text = f"mean {format_value(mean / 100, 'share', decimals=0)}"
        ax.annotate(f"{name}: {text}" if name else text, xy=(1.0, mean), xycoords=("axes fraction", "data"),
                    xytext=(1.01, pos), textcoords=("axes fraction", "data"), va="center", ha="left", fontsize=12,
                    color=colors[name], fontweight="bold")  # fmt: skip
    days = horizon(timeseries)
    ax.set_ylim(0, ylim)
    ax.set_xlim(0, min(xmax, days) if np.isfinite(days) else xmax)
    ax.yaxis.set_major_formatter(pct_formatter())
    ax.set_ylabel("Utilisation (% of working hours)")
    ax.set_xlabel(DAY_LABEL + ", weekly")
    fig.suptitle(title, x=0.01, ha="left")
    return fig


@presentation
def staffing_curve(
    summary: Any,
    x: str = "sales.reps",
    metrics: Sequence[str] = STAFFING_KPIS,
    *,
    title: str | None = None,
) -> Figure:
    """Small multiples against a swept field (default the number of reps): each metric's mean with a 95 % CI
    band; the best point of metrics with a direction (e.g. profit) is starred."""
    title = title or f"Sizing the sales team: {field_label(x).split(' (')[0].lower()}"
    df = tidy_summary(summary)
    metrics = list(metrics)
    if df.empty or x not in df.columns or not metrics:
        return no_data(title, "empty sweep table" if df.empty else f"no swept field {x!r}")
    k = len(metrics)
    fig, axes = figure(1, k, figsize=(max(10, 4.1 * k), 4.9), sharex=True)
    for i, metric in enumerate(metrics):
        ax = axes[0, i]
        curve_panel(ax, df, x, metric)
        label, unit, _ = kpi_info(metric)
        ax.set_title(label, fontsize=14, loc="left")
        ax.set_ylabel(unit_text(unit) if unit else "", fontsize=12)
        ax.set_xlabel(field_label(x), fontsize=12)
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Lines: mean over replications; bands: 95 % confidence interval; star: best.")
    return fig
