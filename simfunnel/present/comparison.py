"""Figures that compare scenarios: KPI means with their 95 % CIs, paired differences against a baseline (common
random numbers), and the attribution of a gap to the alignment levers (Shapley waterfall)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simfunnel.formatting import format_ci, format_value, unit_text
from simfunnel.present.data import Stats, stats_from_frame, tidy_summary
from simfunnel.present.labels import axis_formatter, kpi_info, lever_label, metric_axis_label, scale, to_float
from simfunnel.present.style import (
    GREY,
    LIGHT,
    OKABE_ITO,
    SCENARIO_COLORS,
    TEXT,
    blank,
    colors_for,
    figure,
    grid_shape,
    no_data,
    note,
    presentation,
    title_name,
)
from simfunnel.vocabulary import HEADLINES

__all__ = ["attribution_waterfall", "compare_kpis", "paired_differences"]

_NAN3 = (math.nan, math.nan, math.nan)


# ============================================================================================== KPIs
def _kpi_panel(ax: Any, stats: dict[str, Stats], metric: str, colors: Mapping[str, str]) -> None:
    """One KPI: a bar per scenario (mean), 95 % CI whiskers, the mean written on each bar."""
    names = list(stats)
    label, unit, _ = kpi_info(metric)
    sc = scale(unit)
    m, lo, hi = (np.array([stats[n].get(metric, _NAN3)[i] for n in names], dtype=float) * sc for i in range(3))
    if not np.isfinite(m).any():
        blank(ax, f"{label}: no values")
        return
    x = np.arange(len(names))
    ax.bar(x, np.nan_to_num(m), width=0.62, color=[colors[n] for n in names], alpha=0.9)
    ci = np.isfinite(lo) & np.isfinite(hi)
    if ci.any():
        ax.errorbar(x[ci], m[ci], yerr=[m[ci] - lo[ci], hi[ci] - m[ci]], fmt="none", ecolor="#222222", elinewidth=1.5,
                    capsize=5)  # fmt: skip
    ends = np.where(ci, np.where(m >= 0, hi, lo), m)
    span = np.nanmax(np.abs(np.concatenate([ends[np.isfinite(ends)], [0.0]])))
    for xi, v, e in zip(x, m, ends, strict=True):
        if np.isfinite(v):
            up = v >= 0
            ax.annotate(format_value(v / sc, unit), xy=(xi, e if np.isfinite(e) else v), xytext=(0, 4 if up else -4),
                        textcoords="offset points", ha="center", va="bottom" if up else "top", fontsize=12,
                        fontweight="bold", color=TEXT)  # fmt: skip
    lo_lim = min(0.0, np.nanmin(np.where(np.isfinite(lo), lo, m)))
    hi_lim = max(0.0, np.nanmax(np.where(np.isfinite(hi), hi, m)))
    pad = 0.16 * (hi_lim - lo_lim or span or 1.0)
    bottom, top = lo_lim - (pad if lo_lim < 0 else 0), hi_lim + (pad if hi_lim > 0 else 0)
    ax.set_ylim(bottom, top if top > bottom else bottom + pad)  # all zero (e.g. no too-early losses): 0..pad
    if lo_lim < 0 < hi_lim:
        ax.axhline(0, color="#222222", lw=1)
    many = len(names) > 3
    ax.set_xticks(x, [title_name(n) for n in names], rotation=30 if many else 0, ha="right" if many else "center")
    ax.yaxis.set_major_formatter(axis_formatter(unit))
    ax.set_title(textwrap.fill(label, 24), fontsize=14, loc="left")  # a long label wraps, not cut at the panel
    ax.set_ylabel(unit_text(unit) if unit else "", fontsize=12)
    ax.grid(axis="x", visible=False)
    ax.set_xlim(-0.6, len(names) - 0.4)


@presentation
def compare_kpis(summary: Any, metrics: Sequence[str] | None = None, *, title: str | None = None) -> Figure:
    """Small multiples, one panel per KPI: the mean of each scenario with its 95 % confidence interval.

    ``summary``: ``Experiment.summary`` (columns scenario or point + fields, metric, mean, ci_low, ci_high) or
    the Experiment. ``metrics``: KPI names (default: ``HEADLINES["headline"]`` of `simfunnel.vocabulary`, those
    in the table)."""
    title = title or "Scenarios compared: key results (mean and 95 % CI)"
    df = tidy_summary(summary)
    stats = stats_from_frame(df) if not df.empty and "metric" in df.columns else {}
    available = set(m for st in stats.values() for m in st)
    metrics = [m for m in HEADLINES["headline"] if m in available] if metrics is None else list(metrics)
    if not stats or not metrics:
        return no_data(title, "empty summary table" if not stats else "none of the metrics is in the table")
    colors = colors_for(list(stats))
    nrows, ncols = grid_shape(len(metrics))
    fig, axes = figure(nrows, ncols, figsize=(max(10, 3.6 * ncols + 1), 0.6 + 3.3 * nrows))
    for idx, metric in enumerate(metrics):
        _kpi_panel(axes[idx // ncols, idx % ncols], stats, metric, colors)
    for idx in range(len(metrics), nrows * ncols):
        axes[idx // ncols, idx % ncols].set_visible(False)
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Bars: mean over replications; whiskers: 95 % confidence interval.")
    return fig


# ============================================================================================== differences
def _diff_text(m: float, lo: float, hi: float, unit: str, better: int) -> tuple[str, str, bool]:
    """(annotation, colour, significant) of one paired difference: 'mean [lo, hi]' and better/worse."""
    sig = bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))
    verdict, color = "", TEXT
    if sig and better:
        good = (m > 0) == (better > 0)
        verdict, color = ("  better", "#007A5E") if good else ("  worse", "#B24700")
    return format_ci(m, lo, hi, unit, signed=True) + verdict, color, sig


def _diff_panel(ax: Any, sub: pd.DataFrame, comps: Sequence[str], metric: str, colors: Mapping[str, str]) -> None:
    """One KPI's forest plot: a row per compared scenario, the mean with its CI, the difference written right."""
    label, unit, better = kpi_info(metric)
    sc = scale(unit)
    ends = [0.0]
    for j, comp in enumerate(comps):
        if comp not in sub.index:
            continue
        r = sub.loc[comp]
        m, lo, hi = (to_float(r[c]) for c in ("mean_diff", "ci_low", "ci_high"))
        if not np.isfinite(m):
            ax.text(0, j, "n/a", ha="center", va="center", color=GREY)
            continue
        text, tcolor, sig = _diff_text(m, lo, hi, unit, better)
        if np.isfinite(lo) and np.isfinite(hi):
            ax.plot([lo * sc, hi * sc], [j, j], color=colors[comp], lw=3, solid_capstyle="round")
            ends += [lo * sc, hi * sc]
        ax.plot([m * sc], [j], marker="o", ms=11, color=colors[comp], mfc=colors[comp] if sig else "white", mew=2.5)
        ends.append(m * sc)
        ax.annotate(text, xy=(1.0, j), xycoords=("axes fraction", "data"), xytext=(8, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=12, color=tcolor, fontweight="bold" if sig else "normal")  # fmt: skip
    pad = 0.08 * (max(ends) - min(ends) or 1.0)
    ax.set_xlim(min(ends) - pad, max(ends) + pad)
    ax.axvline(0, color="#222222", lw=1.3, zorder=0)
    ax.set_ylim(len(comps) - 0.4, -0.6)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(axis_formatter(unit))
    unit_name = "percentage points" if unit == "share" else unit_text(unit) if unit else ""
    ax.set_title(f"{label}" + (f" ({unit_name})" if unit_name else ""), fontsize=13, loc="left", pad=4)
    ax.spines["left"].set_visible(False)


@presentation
def paired_differences(diffs: Any, metrics: Sequence[str] | None = None, *, title: str | None = None) -> Figure:
    """Forest plot of paired differences (scenario - baseline, common random numbers): mean with its 95 % CI
    and a zero line, one panel per KPI (each in its own unit). Filled markers: the CI excludes zero.

    ``diffs``: ``Experiment.diffs`` (scenario, baseline, metric, mean_diff, ci_low, ci_high) or the Experiment.
    ``metrics``: default ``HEADLINES["headline"]`` (those in the table; else the first six)."""
    title = title or "Paired differences vs baseline (mean and 95 % CI)"
    if diffs is not None and isinstance(getattr(diffs, "diffs", None), pd.DataFrame):
        diffs = diffs.diffs
    need = {"scenario", "metric", "mean_diff", "ci_low", "ci_high"}
    if diffs is None or not isinstance(diffs, pd.DataFrame) or diffs.empty or not need <= set(diffs.columns):
        return no_data(title, "no paired differences")
    available = list(dict.fromkeys(diffs["metric"].astype(str)))
    if metrics is None:
        metrics = [m for m in HEADLINES["headline"] if m in available] or available[:6]
    metrics = [m for m in metrics if m in available]
    if not metrics:
        return no_data(title, "none of the metrics is in the table")
    comps = list(dict.fromkeys(diffs["scenario"].astype(str)))
    base = str(diffs["baseline"].iloc[0]) if "baseline" in diffs.columns else "baseline"
    colors = colors_for(comps)
    heights = [0.55 + 0.42 * len(comps)] * len(metrics)
    fig, axes = figure(len(metrics), 1, figsize=(10, 0.9 + sum(heights)), gridspec_kw={"height_ratios": heights})
    for i, metric in enumerate(metrics):
        rows = diffs[diffs["metric"].astype(str) == metric]
        ax = axes[i, 0]
        _diff_panel(ax, rows.set_index(rows["scenario"].astype(str)), comps, metric, colors)
        ax.set_yticks(range(len(comps)), [f"{c} − {base}" for c in comps] if len(comps) > 1 else [""])
    comp_txt = comps[0] if len(comps) == 1 else "scenario"
    fig.suptitle(f"{title}\n{comp_txt} − {base}", x=0.01, ha="left", fontsize=17)
    note(fig, "Filled marker: the 95 % CI excludes zero. Right: difference [95 % CI]; better/worse where significant.")
    return fig


# ============================================================================================== attribution
_Row = tuple[str, float, float, float, float, str]  # label, left, width, lo, hi, kind (start / step / end)
_OTHER = "Other / interactions"


def _lever_table(table: pd.DataFrame, vcol: str, sort: bool) -> pd.DataFrame:
    def col(name: str) -> Any:
        return pd.to_numeric(table[name], errors="coerce").to_numpy(float) if name in table else np.nan

    t = pd.DataFrame(
        {"lever": table["lever"].astype(str).to_numpy(), "value": col(vcol), "ci_low": col("ci_low"),
         "ci_high": col("ci_high")}
    )  # fmt: skip
    t = t[np.isfinite(t["value"])]
    return t.sort_values("value", ascending=False, kind="stable") if sort else t


def _waterfall_rows(t: pd.DataFrame, start: float | None, end: float | None, labels: tuple[str, str]) -> list[_Row]:
    """Bars of the waterfall: the start total, a step per lever, the residual, the end total (or the gap)."""
    has_totals = start is not None and np.isfinite(start)
    s0 = float(start) if has_totals else 0.0
    total = s0 + t["value"].to_numpy(float).sum()
    e0 = float(end) if end is not None and np.isfinite(end) else total
    rows: list[_Row] = [(labels[0], 0.0, s0, math.nan, math.nan, "start")] if has_totals else []
    cum = s0
    for lever, v, lo, hi in t[["lever", "value", "ci_low", "ci_high"]].itertuples(index=False):
        rows.append((lever_label(lever), cum, v, cum + lo, cum + hi, "step"))
        cum += v
    resid = e0 - total
    if abs(resid) > 1e-6 * max(1.0, abs(e0)):
        rows.append((_OTHER, cum, resid, math.nan, math.nan, "step"))
        cum += resid
    rows.append((labels[1] if has_totals else "Total gap", 0.0, e0 if has_totals else cum, math.nan, math.nan, "end"))
    return rows


def _row_color(row: _Row, labels: tuple[str, str], has_totals: bool) -> str:
    label, _, width, _, _, kind = row
    if kind == "start":
        return SCENARIO_COLORS.get(labels[0].lower(), "#555555")
    if kind == "end":
        return SCENARIO_COLORS.get(labels[1].lower(), "#555555") if has_totals else "#555555"
    if label == _OTHER:
        return LIGHT
    return OKABE_ITO["bluish_green"] if width >= 0 else OKABE_ITO["reddish_purple"]


def _draw_waterfall(ax: Any, rows: list[_Row], labels: tuple[str, str], has_totals: bool) -> tuple[float, float]:
    """Bars, CI whiskers and connectors; returns the x range drawn."""
    xs = [0.0]
    for i, row in enumerate(rows):
        _, left, width, lo, hi, kind = row
        ax.barh(i, width, left=left, height=0.62, color=_row_color(row, labels, has_totals),
                alpha=0.95 if kind != "step" else 0.9)  # fmt: skip
        xs += [left, left + width]
        if np.isfinite(lo) and np.isfinite(hi):
            ax.errorbar([left + width], [i], xerr=[[left + width - lo], [hi - left - width]], fmt="none",
                        ecolor="#222222", elinewidth=1.3, capsize=4)  # fmt: skip
            xs += [lo, hi]
        if i < len(rows) - 1:
            nxt = left + width if kind != "end" else width
            ax.plot([nxt, nxt], [i + 0.31, i + 0.69], color=GREY, lw=1, ls=":")
    return min(xs), max(xs)


def _label_waterfall(ax: Any, rows: list[_Row], unit: str, gap: float, span: float) -> None:
    """Each bar's value (steps signed, with their share of the gap) beside the bar."""
    for i, (_, left, width, lo, hi, kind) in enumerate(rows):
        txt = format_value(width, unit, signed=(kind == "step"))
        if kind == "step" and np.isfinite(gap) and abs(gap) > 0:
            txt += f" · {format_value(width / gap, 'share', decimals=0)}"
        if width >= 0:
            x, ha = max(left + width, hi if np.isfinite(hi) else -math.inf, left) + 0.012 * span, "left"
        else:
            x, ha = min(left + width, lo if np.isfinite(lo) else math.inf, left) - 0.012 * span, "right"
        ax.text(x, i, txt, va="center", ha=ha, fontsize=12, fontweight="bold", color=TEXT)


def _totals(gap: Any, start: float | None, end: float | None) -> tuple[float | None, float | None]:
    if isinstance(gap, Mapping):
        if start is None:
            start = to_float(next((gap[k] for k in ("siloed_mean", "siloed", "start") if k in gap), math.nan))
        if end is None:
            end = to_float(next((gap[k] for k in ("all_levers_mean", "aligned", "end") if k in gap), math.nan))
    return start, end


@presentation
def attribution_waterfall(
    attribution: Any,
    *,
    start: float | None = None,
    end: float | None = None,
    metric: str | None = None,
    start_label: str = "Siloed",
    end_label: str = "Aligned",
    sort: bool = True,
    title: str | None = None,
) -> Figure:
    """Waterfall from the siloed total to the aligned total, one step per lever (its Shapley value, with the
    95 % CI as a whisker), largest gains first.

    ``attribution``: an `experiment.Attribution` (gives the totals and the metric) or a DataFrame with columns
    ``lever``, ``value`` (or ``shapley``/``mean``), ``ci_low``, ``ci_high``. ``start``/``end``: the totals when a
    DataFrame is given (without them the chart starts at 0 and ends at the total gap). A difference between
    ``end - start`` and the sum of the steps is drawn as "Other / interactions"."""
    table = getattr(attribution, "table", attribution)
    metric = metric or getattr(attribution, "metric", None) or "profit"
    label, unit, _ = kpi_info(metric)
    title = title or f"What closes the gap: contribution of each lever to {label.lower()}"
    start, end = _totals(getattr(attribution, "gap", None), start, end)
    if not isinstance(table, pd.DataFrame) or table.empty or "lever" not in table.columns:
        return no_data(title, "no lever attribution")
    vcol = next((c for c in ("value", "shapley", "mean") if c in table.columns), None)
    if vcol is None:
        return no_data(title, "no value column (value / shapley)")
    t = _lever_table(table, vcol, sort)
    if t.empty:
        return no_data(title, "all lever values are NaN")
    has_totals = start is not None and np.isfinite(start)
    labels = (start_label, end_label)
    rows = _waterfall_rows(t, start, end, labels)
    fig, axes = figure(figsize=(11, max(4.5, 1.5 + 0.55 * len(rows))))
    ax = axes[0, 0]
    xmin, xmax = _draw_waterfall(ax, rows, labels, has_totals)
    span = xmax - xmin or 1.0
    gap = rows[-1][2] - rows[0][2] if has_totals else rows[-1][2]
    _label_waterfall(ax, rows, unit, gap, span)
    neg_labels = any(r[2] < 0 for r in rows)  # labels of negative steps sit on the left of their bar
    ax.set_xlim(xmin - (0.22 if neg_labels else 0.02) * span, xmax + 0.22 * span)
    if xmin < 0 < xmax:
        ax.axvline(0, color="#222222", lw=1)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    for tl, r in zip(ax.get_yticklabels(), rows, strict=True):
        if r[5] != "step":
            tl.set_fontweight("bold")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(axis_formatter(unit))
    ax.set_xlabel(metric_axis_label(metric) if has_totals else f"Change in {label.lower()} ({unit_text(unit)})")
    fig.suptitle(title, x=0.01, ha="left")
    nrep = getattr(attribution, "n_replications", None)
    reps = f" (mean of {nrep} replications)" if nrep else ""
    note(fig, f"Steps: Shapley value of each lever{reps} and its share of the gap; whiskers: 95 % CI.")
    return fig
