"""Figures of time: how long a buyer waits for the first contact (the split into batching, queueing and planned
call-back; the distribution of the waits) and the speed-to-lead mechanism against the HBR 2011 ratios."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullLocator

from simfunnel.formatting import format_ci, format_value
from simfunnel.present.data import frames, summaries
from simfunnel.present.labels import pct_formatter, to_float, wait_text
from simfunnel.present.style import (
    GREY,
    OKABE_ITO,
    SCENARIO_COLORS,
    TEXT,
    blank,
    colors_for,
    figure,
    no_data,
    note,
    presentation,
    title_name,
)
from simfunnel.vocabulary import HEADLINES, KPIS

__all__ = ["WAIT_COLORS", "contact_wait", "information_curve", "lead_wait", "observed_buckets", "speed_to_lead_curve"]

WAIT_COLORS: dict[str, str] = {
    "batch_wait_days": OKABE_ITO["orange"],
    "queue_wait_days": OKABE_ITO["reddish_purple"],
    "callback_wait_days": OKABE_ITO["sky_blue"],
}
"""Colour of each part of the wait for first contact."""

_NAN3 = (math.nan, math.nan, math.nan)


# ============================================================================================== wait split
def _part_label(metric: str) -> str:
    """'… of which batching' -> 'Batching'."""
    text = KPIS[metric].label.removeprefix("… of which ").strip()
    return text[:1].upper() + text[1:]


@presentation
def contact_wait(data: Any, *, title: str | None = None) -> Figure:
    """The buyer's wait from becoming a lead to the first contact by a rep, per scenario, as a stacked split:
    batching (lead -> handoff), queueing for a rep, planned call-back; the total with its 95 % CI at the end.

    Reads the KPIs of `HEADLINES["waits"]` (``contact_wait_days`` and its parts) from a RunResult, a summary
    dict, an experiment summary or ``{name: summary}``; summaries without them give a 'No data' panel."""
    total_kpi, *parts = HEADLINES["waits"]
    title = title or f"{KPIS[total_kpi].label}: from becoming a lead to the first contact by a rep"
    rows = {}
    for name, st in summaries(data).items():
        vals = [st.get(p, _NAN3)[0] for p in parts]
        if all(np.isfinite(vals)):
            total = st.get(total_kpi, _NAN3)
            rows[name] = (vals, total if np.isfinite(total[0]) else (float(np.sum(vals)), math.nan, math.nan))
    if not rows:
        return no_data(title, f"the summaries have no {', '.join(parts)}\n(run summaries older than the wait split)")
    names = list(rows)
    fig, axes = figure(figsize=(11, max(3.4, 2.3 + 0.85 * len(names))))
    ax = axes[0, 0]
    y = np.arange(len(names))
    ends = [max(r[1][2] if np.isfinite(r[1][2]) else r[1][0], float(np.sum(r[0]))) for r in rows.values()]
    span = max(max(ends), 1e-9)
    left = np.zeros(len(names))
    for i, part in enumerate(parts):
        v = np.array([rows[n][0][i] for n in names], dtype=float)
        ax.barh(y, v, left=left, height=0.6, color=WAIT_COLORS[part], label=_part_label(part), edgecolor="white")
        for yi, (x0, vi) in enumerate(zip(left, v, strict=True)):
            lo = rows[names[yi]][1][1]  # keep segment labels clear of the total's CI whisker
            if vi >= 0.09 * span and not x0 + vi / 2 + 0.05 * span > (lo if np.isfinite(lo) else math.inf):
                ax.text(x0 + vi / 2, yi, wait_text(vi), ha="center", va="center", fontsize=12, color=TEXT)
        left += v
    for yi, name in enumerate(names):
        m, lo, hi = rows[name][1]
        if np.isfinite(lo) and np.isfinite(hi):
            ax.errorbar([m], [yi], xerr=[[m - lo], [hi - m]], fmt="none", ecolor="#222222", elinewidth=1.4, capsize=5)
        text = format_ci(m, lo, hi, "days") if m >= 1 else wait_text(m)
        ax.text(ends[yi] + 0.015 * span, yi, text, va="center", ha="left", fontsize=12, fontweight="bold", color=TEXT)
    ax.set_yticks(y, [title_name(n) for n in names])
    for t, nm in zip(ax.get_yticklabels(), names, strict=True):
        if nm in SCENARIO_COLORS:
            t.set_color(SCENARIO_COLORS[nm])
            t.set_fontweight("bold")
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, span * 1.38)
    ax.set_xlabel(KPIS[total_kpi].axis_label)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(parts), fontsize=12)
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Mean over contacted leads (and replications); at the right: the total [95 % CI].")
    return fig


# ============================================================================================== distribution
_WAIT_TICKS = (
    (1 / 96, "15 min"),
    (1 / 24, "1 h"),
    (4 / 24, "4 h"),
    (1.0, "1 day"),
    (7.0, "1 week"),
    (30.0, "1 month"),
    (91.0, "3 months"),
    (365.0, "1 year"),
)


def _waits(tables: Mapping[str, pd.DataFrame]) -> tuple[dict[str, np.ndarray], dict[str, int], str]:
    """Per table, the waits lead -> first contact (handoff -> first contact for tables without ``lead_day``),
    the leads not (yet) contacted, and the column the wait starts at."""
    start = "lead_day" if all("lead_day" in b.columns for b in tables.values() if b is not None) else "handoff_day"
    waits: dict[str, np.ndarray] = {}
    uncontacted: dict[str, int] = {}
    for name, b in tables.items():
        if b is None or b.empty or not {"first_contact_day", start} <= set(b.columns):
            continue
        w = (b["first_contact_day"] - b[start]).to_numpy(float)
        waits[name] = w[np.isfinite(w)]
        uncontacted[name] = int((b[start].notna() & b["first_contact_day"].isna()).sum())
    return waits, uncontacted, start


def _wait_edges(pooled: np.ndarray, log: bool | None, bins: int | Sequence[float] | None) -> tuple[np.ndarray, bool]:
    top = max(float(np.percentile(pooled, 99.5)), 1 / 24)
    floor_day = 1 / 96  # 15 minutes: shorter waits go into the first bin of a log axis
    if log is None:
        positive = pooled[pooled > 0]
        low = float(np.percentile(positive, 10)) if positive.size else top
        log = top / max(low, floor_day) > 100
    if bins is not None:
        return np.histogram_bin_edges(pooled, bins=bins), log
    if log:
        lo = max(floor_day, min(float(np.percentile(pooled[pooled > 0], 1)) if (pooled > 0).any() else top, top / 10))
        return np.geomspace(lo, top * 1.05, 36), log
    width = float(np.ceil(top / 35)) if top > 10 else top / 35
    return np.arange(0, top + width, width), log


def _wait_panel(ax: Any, w: np.ndarray, edges: np.ndarray, color: str) -> None:
    clipped = np.clip(w, edges[0], edges[-1])
    counts, _, _ = ax.hist(clipped, bins=edges, weights=np.full(w.size, 100.0 / w.size), color=color, alpha=0.85,
                           edgecolor="white", linewidth=0.6)  # fmt: skip
    ymax = float(np.max(counts)) * 1.15 if np.max(counts) > 0 else 1.0
    ax.set_ylim(0, ymax)
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= min(100, ymax)])
    ax.set_ylim(0, ymax)
    mean, p90 = float(np.mean(w)), float(np.percentile(w, 90))
    handles = []
    for x, ls, lab in ((mean, "--", f"mean {wait_text(mean)}"), (p90, ":", f"90 % within {wait_text(p90)}")):
        ax.axvline(min(max(x, edges[0]), edges[-1]), color="#111111", lw=2, ls=ls)
        handles.append(Line2D([], [], color="#111111", lw=2, ls=ls, label=lab))
    ax.legend(handles=handles, loc="best", handlelength=2.2, fontsize=12, framealpha=0.9)
    ax.set_ylabel("% of leads")
    ax.yaxis.set_major_formatter(pct_formatter())


@presentation
def lead_wait(
    buyers: Any, *, log: bool | None = None, bins: int | Sequence[float] | None = None, title: str | None = None
) -> Figure:
    """Distribution of the buyer's wait for first contact (from becoming a lead to the first contact by a rep),
    mean and 90th percentile marked; one panel per scenario on a shared axis, with the number of leads contacted
    and not (yet) contacted. Buyers tables without ``lead_day`` give the older handoff -> first contact wait.

    ``log``: logarithmic wait axis (ticks 1 h, 1 day, 1 week, 1 month ...); default: only when the waits span
    more than two orders of magnitude (hours to months). ``buyers``: a buyers table, a RunResult, or
    ``{name: buyers table}``. `contact_wait` shows what the wait is made of."""
    waits, uncontacted, start = _waits(frames(buyers, "buyers"))
    what = KPIS["contact_wait_days"].label if start == "lead_day" else "Wait from handoff to first contact"
    title = title or (
        "How long buyers wait for the first contact: becoming a lead → first contact by a rep"
        if start == "lead_day"
        else "How long leads wait for sales: handoff → first contact"
    )
    if not waits or all(w.size == 0 for w in waits.values()):
        return no_data(title, "no lead was contacted")
    names = list(waits)
    colors = colors_for(names)
    edges, log = _wait_edges(np.concatenate([w for w in waits.values() if w.size]), log, bins)
    k = len(names)
    fig, axes = figure(k, 1, figsize=(10, 2.0 + 2.3 * k), sharex=True)
    for i, name in enumerate(names):
        ax = axes[i, 0]
        if waits[name].size == 0:
            blank(ax, f"{title_name(name)}: no lead contacted")
            continue
        _wait_panel(ax, waits[name], edges, colors[name])
        info = f"{format_value(waits[name].size, 'count')} leads contacted"
        if uncontacted.get(name):
            info += f", {format_value(uncontacted[name], 'count')} not (yet) contacted"
        ax.set_title(info, loc="right", fontsize=11, color=GREY, fontweight="normal")
        if k > 1 or name:
            ax.set_title(title_name(name), loc="left", color=colors[name], fontsize=15)
    last = axes[-1, 0]
    if log:
        last.set_xscale("log")
        ticks = [(t, lab) for t, lab in _WAIT_TICKS if edges[0] <= t <= edges[-1]]
        last.set_xticks([t for t, _ in ticks], [lab for _, lab in ticks])
        last.xaxis.set_minor_locator(NullLocator())
    last.set_xlabel(f"{what} ({'log scale' if log else 'days'})")
    last.set_xlim(edges[0], edges[-1])
    fig.suptitle(title, x=0.01, ha="left")
    return fig


# ============================================================================================== speed to lead
def _bucket_mean(decay: float, floor: float, a: float, b: float) -> float:
    """Mean of floor + (1 - floor) exp(-d / decay) over d uniform in [a, b] hours (b may be inf: the floor)."""
    if not np.isfinite(b):
        return floor
    return floor + (1 - floor) * decay * (math.exp(-a / decay) - math.exp(-b / decay)) / (b - a)


def _empty_buckets() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=float) for c in ("lo", "hi", "rate")})


def observed_buckets(observed: Any) -> pd.DataFrame:
    """Normalise an observed speed-to-lead table to columns lo, hi (hours), rate. Also accepts the dict of
    `simfunnel.validation.speed_to_lead_measure` (its ``share_<bucket>`` entries)."""
    if observed is None:
        return _empty_buckets()
    if isinstance(observed, Mapping):
        shares = {k[len("share_") :]: v for k, v in observed.items() if str(k).startswith("share_")}
        observed = pd.Series(shares or dict(observed), dtype=float)
    if isinstance(observed, pd.Series):
        observed = observed.rename("rate").rename_axis("bucket").reset_index()
    if not isinstance(observed, pd.DataFrame) or observed.empty:
        return _empty_buckets()
    df = observed
    rate_col = next((c for c in ("rate", "qualification_rate", "qualified", "value") if c in df.columns), None)
    if rate_col is None:
        raise ValueError("observed needs a 'rate' column (share of leads qualified)")
    if {"hours_low", "hours_high"} <= set(df.columns):
        lo, hi = df["hours_low"].astype(float), df["hours_high"].astype(float)
    elif "hours" in df.columns:
        lo = hi = df["hours"].astype(float)
    else:
        col = "bucket" if "bucket" in df.columns else df.columns[0]
        parsed = [_parse_bucket(str(v)) for v in df[col]]
        lo = pd.Series([p[0] for p in parsed], dtype=float)
        hi = pd.Series([p[1] for p in parsed], dtype=float)
    return pd.DataFrame(
        {"lo": lo.to_numpy(float), "hi": hi.to_numpy(float), "rate": pd.to_numeric(df[rate_col]).to_numpy(float)}
    )


def _parse_bucket(s: str) -> tuple[float, float]:
    """'0-1', '1-2 h', '24+', '>=24', '<1', and 'lt1h', '1to2h', 'ge24h' -> (lo, hi) hours."""
    t = s.lower().replace("h", "").replace(" ", "").replace("–", "-").replace("to", "-")
    for word, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if t.startswith(word):
            t = sym + t[len(word) :]
    try:
        if t.endswith("+"):
            return float(t[:-1]), math.inf
        if t.startswith(">="):
            return float(t[2:]), math.inf
        if t.startswith(">"):
            return float(t[1:]), math.inf
        if t.startswith("<"):
            return 0.0, float(t.lstrip("<="))
        if "-" in t:
            a, b = t.split("-", 1)
            return float(a), float(b)
        return float(t), float(t)
    except ValueError:
        return math.nan, math.nan


def _hbr_buckets(ax: Any, decay: float, floor: float, xmax: float, max_hours: float, labelled: str) -> None:
    """The model's mean over the HBR response buckets (orange bars), labelled in the panel ``labelled``
    ('zoom': the buckets that end inside it; 'wide': the 24 h+ bucket)."""
    buckets = ((0, 1, 1, "within 1 h"), (1, 2, 2, "1-2 h"), (24, max_hours, math.inf, "24 h or more"))
    for a, b, b_mean, lab in buckets:  # b: where the bar ends; b_mean: the bucket's end (24 h+: open)
        if a >= xmax:
            continue
        v = _bucket_mean(decay, floor, a, b_mean)
        ax.plot([a, min(b, xmax)], [100 * v] * 2, color=OKABE_ITO["orange"], lw=6, solid_capstyle="butt", zorder=3,
                label="Model: mean over HBR bucket" if a == 0 else None)  # fmt: skip
        if (labelled == "zoom" and b <= xmax) or (labelled == "wide" and a >= 24):
            text = f"{lab}: {format_value(v, 'share', decimals=1 if v >= 0.1 else 2)}"
            ax.annotate(text, xy=(a, 100 * v), xytext=(4, 8), textcoords="offset points", ha="left", va="bottom",
                        fontsize=12, color="#7A4F00", fontweight="bold", zorder=8,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0})  # fmt: skip


def _observed_marks(ax: Any, obs: pd.DataFrame, factor: float, xmax: float, max_hours: float, scaled: bool) -> None:
    hi = np.where(np.isfinite(obs["hi"]), obs["hi"], max_hours).astype(float)
    lo = obs["lo"].to_numpy(float)
    mid = np.where(hi > lo, (lo + hi) / 2, lo)
    y = 100 * obs["rate"].to_numpy(float) * factor
    keep = (lo < xmax) & (y > 0)
    if keep.any():
        mid_c = np.minimum(mid[keep], xmax)
        ax.errorbar(mid_c, y[keep], xerr=[mid_c - lo[keep], np.minimum(hi[keep], xmax) - mid_c], fmt="D",
                    color="#222222", ms=7, elinewidth=1.2, capsize=3, zorder=6,
                    label="Observed qualification rate" + (" (scaled)" if scaled else ""))  # fmt: skip


def _ratio_text(r: float) -> str:
    return "∞" if not np.isfinite(r) else format_value(r, "ratio", decimals=0 if r >= 10 else 1)


def _ratio_box(ax: Any, decay: float, floor: float) -> None:
    """The model's qualification ratios beside the published ones (HBR 2011)."""
    b1, b2, b24 = (_bucket_mean(decay, floor, a, b) for a, b in ((0, 1), (1, 2), (24, math.inf)))
    r12 = b1 / b2 if b2 > 0 else math.inf
    r124 = b1 / b24 if b24 > 0 else math.inf
    box = (
        "Qualification, within 1 h vs:    model   HBR 2011\n"
        f"  the second hour (1-2 h)        {_ratio_text(r12):>5}      ≈ 7×\n"
        f"  24 h or more                   {_ratio_text(r124):>5}     > 60×"
    )
    ax.text(0.97, 0.96, box, transform=ax.transAxes, ha="right", va="top", fontsize=11.5, family="monospace",
            bbox={"facecolor": "white", "edgecolor": "#BBBBBB", "boxstyle": "round,pad=0.6"}, zorder=7)  # fmt: skip


def _speed_axes(left: Any, right: Any, zoom: float, max_hours: float, y_floor: float) -> None:
    right.axvspan(0, zoom, color="#EEEEEE", zorder=0)
    left.set_xticks(np.arange(0, zoom + 1e-9, 0.5))
    left.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    right.set_xticks([t for t in (0, 6, 12, 18, 24, 36, 48, 72) if t <= max_hours])
    left.set_ylim(max(y_floor / 2.5, 1e-4), 180)
    left.yaxis.set_major_formatter(pct_formatter())
    left.set_ylabel("Still engaged (% of hand-raisers, log scale)")
    left.set_xlabel("Response delay (hours)")
    right.set_xlabel("Response delay (hours)")
    left.set_title(f"First {zoom:g} hours", fontsize=14)
    right.set_title(f"First {max_hours:g} hours", fontsize=14)


@presentation
def speed_to_lead_curve(
    decay_hours: Any = 0.487,
    floor: float = 0.0071,
    observed: Any = None,
    *,
    max_hours: float = 48.0,
    zoom_hours: float = 3.0,
    scale_observed: bool = True,
    title: str | None = None,
) -> Figure:
    """The speed-to-lead mechanism: share of hand-raisers still engaged after a response delay d,
    engaged(d) = floor + (1 - floor) exp(-d / decay_hours), on a log scale; left panel the first ``zoom_hours``,
    right panel 0..``max_hours``. Bars: the mean over the response buckets of Oldroyd, McElheran & Elkington
    (HBR 2011), whose ratios (within 1 h ~7x the second hour, >60x 24 h or more) are set beside the model's.

    ``decay_hours`` may also be a `SpeedToLead` section or a Scenario. ``observed``: optional table of response
    buckets and qualification rates (columns ``hours_low``, ``hours_high``, ``rate``; or ``bucket`` labels like
    "0-1", "1-2", "24+", and ``rate``); with ``scale_observed`` it is scaled to the model in its first bucket,
    since a qualification rate is the engaged share times a constant."""
    stl = getattr(getattr(decay_hours, "marketing", None), "speed_to_lead", None) or decay_hours
    if hasattr(stl, "decay_hours"):
        decay_hours, floor = float(stl.decay_hours), float(stl.floor)
    title = title or "Speed to lead: the chance a hand-raiser is still engaged"
    decay, floor = to_float(decay_hours), to_float(floor)
    if not (np.isfinite(decay) and decay > 0 and np.isfinite(floor) and 0 <= floor <= 1):
        return no_data(title, f"invalid parameters decay_hours={decay}, floor={floor}")
    max_hours = max(float(max_hours), 25.0)
    zoom = min(max(float(zoom_hours), 2.0), max_hours)
    fig, axes = figure(1, 2, figsize=(12, 5.8), sharey=True, gridspec_kw={"width_ratios": [1, 1.25]})
    engaged = lambda d: floor + (1 - floor) * np.exp(-d / decay)  # noqa: E731
    obs = observed_buckets(observed)
    obs = obs[np.isfinite(obs["rate"]) & np.isfinite(obs["lo"])].reset_index(drop=True)
    factor = 1.0
    if not obs.empty and scale_observed:
        lo0, rate0 = float(obs["lo"].iloc[0]), float(obs["rate"].iloc[0])
        hi0 = float(obs["hi"].iloc[0]) if np.isfinite(obs["hi"].iloc[0]) else math.inf
        model0 = _bucket_mean(decay, floor, lo0, hi0) if hi0 > lo0 else float(engaged(lo0))
        factor = model0 / rate0 if rate0 > 0 else 1.0
    b24 = _bucket_mean(decay, floor, 24, math.inf)
    y_floor = 100 * min(floor if floor > 0 else float(engaged(max_hours)), b24 if b24 > 0 else 1.0)
    for ax, xmax, which in ((axes[0, 0], zoom, "zoom"), (axes[0, 1], max_hours, "wide")):
        d = np.linspace(0, xmax, 600)
        ax.plot(d, 100 * engaged(d), color=OKABE_ITO["blue"], lw=3, label="Model: engaged(d)", zorder=4)
        _hbr_buckets(ax, decay, floor, xmax, max_hours, which)
        if not obs.empty:
            _observed_marks(ax, obs, factor, xmax, max_hours, scale_observed)
        ax.set_xlim(0, xmax)
        ax.set_yscale("log")
    _speed_axes(axes[0, 0], axes[0, 1], zoom, max_hours, y_floor)
    _ratio_box(axes[0, 1], decay, floor)
    axes[0, 0].legend(loc="lower left", fontsize=11)
    fig.suptitle(title, x=0.01, ha="left")
    note(
        fig,
        f"engaged(d) = floor + (1 - floor) exp(-d / decay); decay = {format_value(decay, 'hours')}, floor = "
        f"{format_value(floor, 'share', decimals=2)}. Grey: the range of the left panel.\n"
        "Source of the ratios: Oldroyd, McElheran & Elkington, 'The Short Life of Online Sales Leads', HBR 2011.",
    )
    return fig


@presentation
def information_curve(frame: Any, *, title: str | None = None) -> Figure:
    """The value of a buyer's stated timeline: the paired gain of passing context at handoff (mean with its 95 %
    CI) against the timeline's error, from `simfunnel.experiments.value_of_information`."""
    title = title or "What a buyer's stated timeline is worth, by its precision"
    df = pd.DataFrame(frame)
    if df.empty or "timeline_error" not in df.columns:
        return no_data(title, "empty value-of-information table")
    df = df.sort_values("timeline_error")
    kpi = str(df["kpi"].iloc[0]) if "kpi" in df.columns else "profit"
    unit = KPIS[kpi].unit if kpi in KPIS else ""
    x, m = df["timeline_error"].to_numpy(float), df["gain"].to_numpy(float)
    lo, hi = df["gain_ci_low"].to_numpy(float), df["gain_ci_high"].to_numpy(float)
    fig, axes = figure(1, 1, figsize=(9.5, 5.0))
    ax = axes[0, 0]
    ax.axhline(0.0, color=GREY, lw=1)
    ax.fill_between(x, lo, hi, color=OKABE_ITO["blue"], alpha=0.18, lw=0)
    ax.plot(x, m, marker="o", color=OKABE_ITO["blue"], lw=2.2)
    for xi, mi in zip(x, m, strict=True):
        ax.annotate(format_value(mi, unit, signed=True), xy=(xi, mi), xytext=(0, 8), textcoords="offset points",
                    ha="center", fontsize=11, color=TEXT)  # fmt: skip
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, unit)))
    label = KPIS[kpi].label if kpi in KPIS else kpi
    ax.set_ylabel(f"{label}: gain from context", fontsize=12)
    ax.set_xlabel("Error of the buyer's stated timeline (log-sd: 0 exact, 0.4 about ±40 %)", fontsize=12)
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Paired replications (common random numbers); band: 95 % confidence interval of the gain.")
    return fig
