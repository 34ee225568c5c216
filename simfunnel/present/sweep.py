"""Panels of a sweep: a KPI's mean with its 95 % CI band against one swept field, one line per combination of
the other swept fields, the best point starred (used by the staffing and budget figures)."""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from simfunnel.formatting import format_value
from simfunnel.present.data import key_columns, metric_rows
from simfunnel.present.labels import (
    axis_formatter,
    field_kind,
    field_label,
    field_value,
    is_share_field,
    kpi_info,
    pct_formatter,
    scale,
)
from simfunnel.present.style import OKABE_ITO, PALETTE, TEXT, blank

__all__ = ["curve_panel", "group_colors", "line_band"]


def line_band(ax: Any, x: np.ndarray, m: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str, label: str) -> None:
    """A mean line with markers and its CI band (whiskers when fewer than two points have an interval)."""
    order = np.argsort(x, kind="stable")
    x, m, lo, hi = x[order], m[order], lo[order], hi[order]
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.sum() >= 2:
        ax.fill_between(x[ok], lo[ok], hi[ok], color=color, alpha=0.2, linewidth=0)
    elif ok.any():
        ax.errorbar(x[ok], m[ok], yerr=[m[ok] - lo[ok], hi[ok] - m[ok]], fmt="none", ecolor=color, capsize=4)
    fin = np.isfinite(m)
    ax.plot(x[fin], m[fin], color=color, marker="o", lw=2.5, ms=6, label=label)


def group_colors(n: int, ordered: bool) -> list[str]:
    """Line colours for the levels of a second swept field: a viridis ramp for ordered (numeric) levels,
    otherwise Okabe-Ito colours other than the scenario colours blue and vermillion."""
    if n <= 1:
        return [OKABE_ITO["blue"]]
    if ordered:
        cmap = mpl.colormaps["viridis"]
        return [mpl.colors.to_hex(cmap(0.78 - 0.7 * i / (n - 1))) for i in range(n)]
    pal = [c for c in PALETTE if c not in (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["yellow"])]
    return [pal[i % len(pal)] for i in range(n)]


def _star_best(ax: Any, best: tuple[float, float], better: int, unit: str, x_text: str) -> None:
    v, bx = best
    ax.plot([bx], [v], marker="*", ms=18, color=OKABE_ITO["orange"], mec="#222222", mew=0.8, zorder=5)
    text = f"{'best' if better > 0 else 'lowest'}: {format_value(v / scale(unit), unit)}\nat {x_text}"
    ax.annotate(text, xy=(bx, v), xytext=(0, 14), textcoords="offset points", ha="center", va="bottom", fontsize=11,
                color=TEXT, fontweight="bold")  # fmt: skip
    ax.margins(y=0.22)


def _draw_groups(ax: Any, sub: pd.DataFrame, x: str, keys: list[str], xpos: Any, unit: str, better: int) -> list:
    """One line per combination of ``keys``; returns the best (value, x) of each line."""
    groups = list(sub.groupby(keys, sort=True, dropna=False)) if keys else [((), sub)]
    ordered = len(keys) == 1 and pd.to_numeric(sub[keys[0]], errors="coerce").notna().all()
    colors = group_colors(len(groups), ordered)
    sc = scale(unit)
    best = []
    for gi, (key, g) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        lab = ", ".join(
            f"{field_label(k).split(' (')[0]} = {field_value(k, v)}" for k, v in zip(keys, key, strict=True)
        )
        xs = xpos(g[x])
        m = g["mean"].to_numpy(float) * sc
        lo = (g["ci_low"].to_numpy(float) if "ci_low" in g else np.full(len(g), np.nan)) * sc
        hi = (g["ci_high"].to_numpy(float) if "ci_high" in g else np.full(len(g), np.nan)) * sc
        line_band(ax, xs, m, lo, hi, colors[gi], lab)
        if np.isfinite(m).any():
            j = int(np.nanargmax(m) if better >= 0 else np.nanargmin(m))
            best.append((m[j], xs[j]))
    return best


def curve_panel(ax: Any, df: pd.DataFrame, x: str, metric: str, annotate_best: bool = True) -> bool:
    """One metric against one swept field (one line per combination of the other fields); False if no data."""
    sub = metric_rows(df, metric)
    label, unit, better = kpi_info(metric)
    if sub.empty or x not in sub.columns or "mean" not in sub.columns or not np.isfinite(sub["mean"]).any():
        blank(ax, f"{label}: no values")
        return False
    keys = [c for c in key_columns(df) if c not in (x, "point")]
    keys = [c for c in keys if c in sub.columns and sub[c].nunique(dropna=False) > 1]
    xv = pd.to_numeric(sub[x], errors="coerce")
    categorical = bool(xv.isna().any()) or sub[x].map(lambda v: isinstance(v, bool)).any()
    cats = list(dict.fromkeys(sub[x].astype(str))) if categorical else []
    xkind = "" if categorical else field_kind(x)
    share_x = xkind == "share" and is_share_field(x, xv.to_numpy(float))
    if categorical:
        xpos = lambda col: np.array([cats.index(v) for v in col.astype(str)], float)  # noqa: E731
    else:
        xpos = lambda col: pd.to_numeric(col).to_numpy(float) * (100 if share_x else 1)  # noqa: E731
    best = _draw_groups(ax, sub, x, keys, xpos, unit, better)
    if categorical:
        ax.set_xticks(range(len(cats)), cats)
    elif xkind == "money":
        ax.xaxis.set_major_formatter(axis_formatter("money"))
    elif share_x:
        ax.xaxis.set_major_formatter(pct_formatter())
    if annotate_best and better != 0 and best:
        v, bx = (max if better > 0 else min)(best, key=lambda p: p[0])
        x_text = cats[int(bx)] if categorical else field_value(x, bx / 100 if share_x else bx)
        _star_best(ax, (v, bx), better, unit, x_text)
    ax.yaxis.set_major_formatter(axis_formatter(unit))
    if not categorical and np.allclose(xv, np.round(xv)) and not share_x and xkind != "money":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    lows = pd.to_numeric(sub["ci_low"], errors="coerce") if "ci_low" in sub else sub["mean"]
    lowest = np.nanmin(np.concatenate([lows.to_numpy(float), sub["mean"].to_numpy(float)]))
    if lowest >= 0 and unit in ("share", "count", "money", "days", "hours"):
        ax.set_ylim(bottom=0)
    if keys:
        ax.legend(fontsize=11, loc="best")
    return True
