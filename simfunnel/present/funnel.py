"""Figures of where buyers go: the stage funnel, sampled buyer journeys, and the terminal states (won, lost and
why, open) per scenario."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import NullLocator

from simfunnel.formatting import format_value
from simfunnel.present.data import frames, horizon, summaries
from simfunnel.present.labels import DAY_LABEL, pct_formatter
from simfunnel.present.style import (
    GREY,
    OKABE_ITO,
    SCENARIO_COLORS,
    STATE_COLORS,
    STATE_LABELS,
    STATE_ORDER,
    SUMMARY_STATE_KEYS,
    TEXT,
    colors_for,
    figure,
    no_data,
    note,
    presentation,
    state_key,
    title_name,
)

__all__ = ["FUNNEL_STAGES", "funnel", "journey_timeline", "lost_reasons"]

FUNNEL_STAGES: tuple[tuple[str, str], ...] = (
    ("buyers", "In-market buyers"),
    ("engaged", "Engaged"),
    ("known", "Known"),
    ("mqls", "MQL (lead)"),
    ("sqls", "SQL"),
    ("won", "Won"),
)
"""(KPI, stage label) of the funnel, top to bottom."""

_NAN3 = (math.nan, math.nan, math.nan)


# ============================================================================================== funnel
def _funnel_panel(ax: Any, vals: np.ndarray, top: float, color: str) -> None:
    """One scenario's funnel: centred bars, counts, and the conversion between stages."""
    n_stage = len(FUNNEL_STAGES)
    widths = np.nan_to_num(vals, nan=0.0)
    ax.barh(np.arange(n_stage), widths, left=-widths / 2, height=0.62, color=color, alpha=0.9)
    for i, v in enumerate(vals):
        label = format_value(v, "count")
        if widths[i] > 0.22 * top:
            ax.text(0, i, label, ha="center", va="center", color="white", fontsize=13, fontweight="bold")
        else:
            ax.text(widths[i] / 2 + 0.02 * top, i, label, ha="left", va="center", color=TEXT, fontsize=13)
    for i in range(n_stage - 1):
        a, b = vals[i], vals[i + 1]
        rate = b / a if np.isfinite(a) and np.isfinite(b) and a > 0 else math.nan
        ax.text(0, i + 0.5, "↓ " + format_value(rate, "share", decimals=0), ha="center", va="center", color=GREY,
                fontsize=11)  # fmt: skip
    ax.set_xlim(-0.55 * top, 0.55 * top)
    ax.set_ylim(n_stage - 0.5, -0.6)
    ax.set_yticks(np.arange(n_stage), [lab for _, lab in FUNNEL_STAGES])
    ax.xaxis.set_major_locator(NullLocator())
    ax.grid(False)
    ax.tick_params(axis="y", length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)


@presentation
def funnel(data: Any, *, title: str | None = None) -> Figure:
    """Stage counts buyers -> engaged -> known -> MQL -> SQL -> won, with the conversion rate between stages.

    ``data``: a RunResult, a summary dict, an experiment summary table (means), or ``{scenario: summary}``
    (one funnel per scenario, side by side, on the same scale)."""
    title = title or "Buyer funnel: from in-market buyers to won deals"
    stats = summaries(data)
    stats = {k: v for k, v in stats.items() if any(np.isfinite(v.get(m, _NAN3)[0]) for m, _ in FUNNEL_STAGES)}
    if not stats:
        return no_data(title, "no funnel counts (buyers, engaged, known, mqls, sqls, won)")
    names = list(stats)
    colors = colors_for(names)
    k = len(names)
    fig, axes = figure(1, k, figsize=(10 if k <= 2 else 4.6 * k, 5.8), sharex=True, sharey=True)
    top = max(np.nanmax([s.get(m, _NAN3)[0] for m, _ in FUNNEL_STAGES]) for s in stats.values())
    top = top if np.isfinite(top) and top > 0 else 1.0
    for j, name in enumerate(names):
        ax = axes[0, j]
        vals = np.array([stats[name].get(m, _NAN3)[0] for m, _ in FUNNEL_STAGES], dtype=float)
        _funnel_panel(ax, vals, top, colors[name])
        ok = np.isfinite(vals[0]) and vals[0] > 0 and np.isfinite(vals[-1])
        if k > 1 or name:
            ax.set_title(title_name(name), color=colors[name], fontsize=16, loc="center")
        won = f"{format_value(vals[-1] / vals[0], 'share')} of buyers won" if ok else ""
        ax.set_xlabel(won, fontsize=13, color=TEXT)
    days = horizon(data)
    span = f" over {format_value(days, 'count')} days" if np.isfinite(days) else ""
    means = any(np.isfinite(s.get("buyers", _NAN3)[1]) for s in stats.values())
    fig.suptitle(title, x=0.01, ha="left")
    note(
        fig,
        f"Bar width = number of buyers{span}{' (mean of replications)' if means else ''}; "
        "arrows: conversion from the stage above.",
    )
    return fig


# ============================================================================================== journeys
def _sample_journeys(b: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Prefer buyers that reached sales, mixing outcomes (round-robin over terminal states)."""
    rng = np.random.default_rng(seed)
    handed = b[b["handoff_day"].notna()] if "handoff_day" in b else b.iloc[0:0]
    picked: list[int] = []
    if not handed.empty:
        groups = [
            list(rng.permutation(g.index.to_numpy()))
            for _, g in sorted(handed.groupby("terminal_state", sort=True), key=lambda kv: str(kv[0]))
        ]
        while len(picked) < n and any(groups):
            for g in groups:
                if g and len(picked) < n:
                    picked.append(int(g.pop()))
    if len(picked) < n:
        rest = b.drop(index=picked)
        engaged = rest[rest["engaged_day"].notna()] if "engaged_day" in rest else rest.iloc[0:0]
        for pool in (engaged, rest.drop(index=engaged.index)):
            need = n - len(picked)
            if need <= 0 or pool.empty:
                continue
            picked += [int(i) for i in rng.choice(pool.index.to_numpy(), size=min(need, len(pool)), replace=False)]
    return b.loc[picked].sort_values("arrival_day", kind="stable")


def _column(s: pd.DataFrame, name: str) -> np.ndarray:
    return s[name].to_numpy(float) if name in s else np.full(len(s), np.nan)


def _draw_journeys(ax: Any, s: pd.DataFrame, h: float) -> np.ndarray:
    """Process bars, ready windows, handoff pins, waits, first contacts and outcomes; returns the states."""
    y = np.arange(len(s))
    arr, dl = _column(s, "arrival_day"), _column(s, "deadline_day")
    ax.barh(y, dl - arr, left=arr, height=0.56, color="#E6E6E6", edgecolor="none", zorder=1)
    rd = _column(s, "ready_day")
    ok = np.isfinite(rd)
    ax.barh(y[ok], (dl - rd)[ok], left=rd[ok], height=0.56, color=OKABE_ITO["sky_blue"], alpha=0.45, zorder=2)
    ax.scatter(rd[ok], y[ok], marker="|", s=160, color=OKABE_ITO["sky_blue"], linewidths=2, zorder=3)
    hand, first = _column(s, "handoff_day"), _column(s, "first_contact_day")
    for yi, x0, x1 in zip(y, hand, first, strict=True):  # waiting for sales: handoff -> first contact
        if np.isfinite(x0) and np.isfinite(x1) and x1 > x0:
            ax.plot([x0, x1], [yi, yi], color="#444444", lw=1.2, ls=(0, (2, 2)), zorder=3)
    ok = np.isfinite(hand)  # a pin on top of the bar, so it stays visible when contact follows at once
    ax.scatter(hand[ok], y[ok] - 0.42, marker="v", s=60, color="#222222", linewidths=0, zorder=4)
    ok = np.isfinite(first)
    ax.scatter(first[ok], y[ok], marker="o", s=55, facecolor="white", edgecolor="#222222", linewidths=1.6, zorder=5)
    term = s["terminal_state"].astype(str).map(state_key).to_numpy()
    close = _column(s, "close_day")
    when = np.where(np.isfinite(close), close, _column(s, "terminal_day"))
    if np.isfinite(h):
        when = np.where((term == "open") & ~np.isfinite(when), h, when)
    for state in STATE_ORDER:
        m = (term == state) & np.isfinite(when)
        if m.any():
            ax.scatter(when[m], y[m], marker="D", s=70, color=STATE_COLORS[state], edgecolor="#222222",
                       linewidths=0.8, zorder=6)  # fmt: skip
    return term


def _journey_legend(ax: Any, term: np.ndarray) -> None:
    handles = [
        Patch(facecolor="#E6E6E6", label="Purchase process\n(arrival → deadline)"),
        Patch(facecolor=OKABE_ITO["sky_blue"], alpha=0.45, label="Sales-ready window"),
        Line2D([], [], marker="v", ls="none", color="#222222", markersize=8, label="Handoff to sales"),
        Line2D([], [], color="#444444", lw=1.2, ls=(0, (2, 2)), label="Waiting for sales"),
        Line2D([], [], marker="o", ls="none", mfc="white", mec="#222222", mew=1.6, markersize=8, label="First contact"),
    ]
    handles += [
        Line2D([], [], marker="D", ls="none", color=STATE_COLORS[st], mec="#222222", mew=0.8, markersize=8,
               label=STATE_LABELS[st])
        for st in STATE_ORDER
        if (term == st).any()
    ]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=11, labelspacing=0.7)


@presentation
def journey_timeline(
    buyers: Any, n: int = 30, seed: int = 0, *, horizon: float | None = None, title: str | None = None
) -> Figure:
    """Journeys of a sample of ``n`` buyers (preferring ones that reached sales, with mixed outcomes).

    Each row is one buyer's purchase process, arrival -> decision deadline; the shaded part is its sales-ready
    window (ready_day -> deadline). Markers: handoff to sales, first contact, and the outcome (colour of the
    terminal state). ``buyers``: ``RunResult.buyers`` or a RunResult (which also gives the horizon)."""
    title = title or "Buyer journeys: when buyers are ready vs when sales acts"
    tables = frames(buyers, "buyers")
    b = next(iter(tables.values())) if tables else pd.DataFrame()
    need = {"arrival_day", "deadline_day", "terminal_state"}
    if b.empty or not need <= set(b.columns) or n <= 0:
        return no_data(title, "no buyers" if b.empty or n <= 0 else f"missing columns {sorted(need - set(b.columns))}")
    b = b[b["arrival_day"].notna() & b["deadline_day"].notna()]
    if b.empty:
        return no_data(title, "no buyer has an arrival and a deadline")
    h = horizon if horizon is not None else _horizon_of(buyers)
    s = _sample_journeys(b, n, seed).reset_index(drop=True)
    rows = len(s)
    fig, axes = figure(figsize=(12, max(4.5, 1.6 + 0.24 * rows)))
    ax = axes[0, 0]
    term = _draw_journeys(ax, s, h)
    if np.isfinite(h):
        ax.axvline(h, color=GREY, lw=1.2, ls="--", zorder=0)
        ax.text(h, -0.9, " horizon", ha="left", va="bottom", fontsize=11, color=GREY)
    labels = [f"#{int(i)}" for i in s["buyer_id"]] if "buyer_id" in s else [str(i) for i in s.index]
    if "source_channel" in s:
        labels = [f"{lab} {src}" for lab, src in zip(labels, s["source_channel"].astype(str), strict=True)]
    ax.set_yticks(np.arange(rows), labels, fontsize=9 if rows > 20 else 11)
    ax.set_ylim(rows - 0.4, -1.1)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(DAY_LABEL)
    ax.set_ylabel("Sampled buyer (id, source)")
    fig.suptitle(title, x=0.01, ha="left")
    _journey_legend(ax, term)
    return fig


_horizon_of = horizon  # journey_timeline's keyword argument shadows the helper's name


# ============================================================================================== lost reasons
def _state_table(data: Any, order: Sequence[str]) -> dict[str, dict[str, tuple[float, float, float]]]:
    table = {}
    for name, st in summaries(data).items():
        row = {s: st.get(SUMMARY_STATE_KEYS[s], _NAN3) for s in order}
        if any(np.isfinite(v[0]) for v in row.values()):
            table[name] = row
    return table


def _as_share(row: dict[str, tuple[float, float, float]]) -> dict[str, tuple[float, float, float]]:
    """Percent of the row's total."""
    tot = np.nansum([v[0] for v in row.values()])
    f = 100.0 / tot if tot > 0 else math.nan
    return {s: (v[0] * f, v[1] * f, v[2] * f) for s, v in row.items()}


def _bar_text(v: float, share: bool, decimals: int | None = None) -> str:
    return format_value(v / 100, "share", decimals=decimals) if share else format_value(v, "count")


def _stacked_states(ax: Any, rows: dict[str, dict], order: Sequence[str], share: bool) -> None:
    names = list(rows)
    y = np.arange(len(names))
    left = np.zeros(len(names))
    totals = np.array([np.nansum([v[0] for v in rows[nm].values()]) for nm in names])
    for state in order:
        vals = np.nan_to_num(np.array([rows[nm][state][0] for nm in names], dtype=float), nan=0.0)
        ax.barh(y, vals, left=left, height=0.6, color=STATE_COLORS[state], label=STATE_LABELS[state],
                edgecolor="white", linewidth=1.0)  # fmt: skip
        dark = state in ("open", "too_early", "never_reached", "dropped")
        for i, v in enumerate(vals):
            if totals[i] > 0 and v / totals[i] >= 0.045:
                ax.text(left[i] + v / 2, y[i], _bar_text(v, share, 0), ha="center", va="center", fontsize=12,
                        color=TEXT if dark else "white", fontweight="bold")  # fmt: skip
        left += vals
    ax.set_yticks(y, [title_name(n) for n in names])
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, max(totals.max(), 1e-9) * (1.0 if share else 1.02))
    for t, nm in zip(ax.get_yticklabels(), names, strict=True):
        if nm in SCENARIO_COLORS:
            t.set_color(SCENARIO_COLORS[nm])
            t.set_fontweight("bold")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(order) if len(order) <= 5 else 4, fontsize=12)


def _grouped_states(ax: Any, rows: dict[str, dict], order: Sequence[str], share: bool) -> None:
    names = list(rows)
    colors = colors_for(names)
    k = len(names)
    y = np.arange(len(order))
    h = 0.8 / k
    xmax = 0.0
    for j, nm in enumerate(names):
        m, lo, hi = (np.array([rows[nm][s][i] for s in order], dtype=float) for i in range(3))
        pos = y - 0.4 + h * (j + 0.5)
        ax.barh(pos, np.nan_to_num(m), height=h * 0.92, color=colors[nm], label=title_name(nm))
        has_ci = np.isfinite(lo) & np.isfinite(hi)
        if has_ci.any():
            ax.errorbar(m[has_ci], pos[has_ci], xerr=[m[has_ci] - lo[has_ci], hi[has_ci] - m[has_ci]], fmt="none",
                        ecolor=TEXT, elinewidth=1.2, capsize=3)  # fmt: skip
        for p, v, top in zip(pos, m, np.where(has_ci, hi, m), strict=True):
            if np.isfinite(v):
                ax.text(np.nan_to_num(top) + 0.01 * max(1, np.nanmax(m)), p, _bar_text(v, share), va="center",
                        ha="left", fontsize=11 if k > 2 else 12, color=TEXT)  # fmt: skip
        xmax = max(xmax, np.nanmax(np.where(has_ci, hi, m)) if np.isfinite(m).any() else 0)
    ax.set_yticks(y, [STATE_LABELS[s] for s in order])
    for t, s in zip(ax.get_yticklabels(), order, strict=True):
        t.set_color("#111111" if s != "won" else STATE_COLORS["won"])
    ax.set_ylim(len(y) - 0.5, -0.5)
    ax.set_xlim(0, xmax * 1.15 if xmax > 0 else 1)
    ax.legend(loc="best")


@presentation
def lost_reasons(
    data: Any,
    *,
    kind: str = "grouped",
    share: bool = True,
    states: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """What happened to the in-market buyers: won, or lost (never reached, dropped, too early, too late, to a
    competitor), or still open at the horizon, per scenario.

    ``kind="grouped"`` (default): one group per state, one bar per scenario, every value labelled (with 95 % CI
    whiskers for experiment summaries). ``kind="stacked"``: one bar per scenario, coloured by terminal state.
    ``share``: percent of the buyers in ``states`` (default) or counts. ``states``: the terminal states to show
    (default all; e.g. ``("won", "lost_to_competitor", "too_late", "too_early", "dropped")`` for the buyers whose
    journey ended, without the never-reached and the still-open ones). ``data``: summary dict / RunResult /
    experiment summary / ``{name: summary}``."""
    if kind not in ("stacked", "grouped"):
        raise ValueError(f"kind must be 'stacked' or 'grouped', got {kind!r}")
    order = STATE_ORDER if states is None else tuple(state_key(x) for x in states)
    unknown = [x for x in order if x not in STATE_LABELS]
    if unknown:
        raise ValueError(f"unknown terminal state(s) {unknown}; known: {', '.join(STATE_ORDER)}")
    title = title or "Where the buyers go: won, lost (and why) or still open"
    table = _state_table(data, order)
    if not table:
        return no_data(title, "no terminal-state counts (won, lost_*, open)")
    rows = {nm: _as_share(r) if share else r for nm, r in table.items()}
    whom = "in-market buyers" if states is None else "buyers shown"
    if kind == "stacked":
        fig, axes = figure(figsize=(11, max(3.6, 2.4 + 0.9 * len(rows))))
        _stacked_states(axes[0, 0], rows, order, share)
    else:
        fig, axes = figure(figsize=(11, 6.2))
        _grouped_states(axes[0, 0], rows, order, share)
    ax = axes[0, 0]
    ax.set_xlabel(f"% of {whom}".capitalize() if share else "In-market buyers (count)")
    if share:
        ax.xaxis.set_major_formatter(pct_formatter())
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    fig.suptitle(title, x=0.01, ha="left")
    return fig
