"""Slide-ready matplotlib figures of runs and experiments.

Every function takes the API's outputs (a `RunResult`, its ``summary`` dict, its ``buyers`` / ``timeseries``
tables, or an experiment's tidy ``summary`` / ``diffs`` tables), returns a `matplotlib.figure.Figure` and never
calls ``plt.show()``: in a notebook end the cell with ``plt.show()``; for a deck use `save_figure`.

Figures are drawn in the package's presentation style (``simfunnel.styles.presentation``: large type, no
top/right spines, the Okabe-Ito colour-blind-safe palette, a light grid, constrained layout) whatever the
global style; set ``simfunnel.plots.STYLE = None`` to draw in the caller's rcParams instead, or call
`use_presentation_style` to make the style global. Colours are fixed per scenario name (``siloed`` vermillion,
``aligned`` blue, see `SCENARIO_COLORS`) and per terminal state (`STATE_COLORS`), so the same thing has the
same colour on every slide. Money is shown in ``CURRENCY`` (empty by default: "currency units").

Empty input or all-NaN input never raises: the figure says "No data" and why.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

__all__ = [
    "CURRENCY",
    "OKABE_ITO",
    "SCENARIO_COLORS",
    "STATE_COLORS",
    "STATE_LABELS",
    "STYLE",
    "attribution_waterfall",
    "budget_heatmap",
    "budget_response",
    "compare_kpis",
    "funnel",
    "journey_timeline",
    "lead_wait",
    "lost_reasons",
    "paired_differences",
    "rep_utilization",
    "revenue_over_time",
    "save_figure",
    "scenario_colors",
    "speed_to_lead_curve",
    "staffing_curve",
    "use_presentation_style",
]

STYLE: str | None = "simfunnel.styles.presentation"
"""Style every figure is drawn in (a matplotlib style name or path); None: the caller's rcParams."""

CURRENCY: str = ""
"""Currency symbol for money axes and labels (e.g. "€", "$"); empty: values are plain, axes say "currency"."""

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
_PALETTE = tuple(OKABE_ITO.values())
_GREY = "#666666"
_LIGHT = "#BBBBBB"
_TEXT = "#333333"

SCENARIO_COLORS: dict[str, str] = {
    "siloed": OKABE_ITO["vermillion"],
    "aligned": OKABE_ITO["blue"],
    "base": "#555555",
}
"""Fixed colours of well-known scenario names; add your own (``SCENARIO_COLORS["b2c"] = "#009E73"``)."""

STATE_COLORS: dict[str, str] = {
    "won": OKABE_ITO["bluish_green"],
    "lost_to_competitor": OKABE_ITO["vermillion"],
    "too_late": OKABE_ITO["reddish_purple"],
    "too_early": OKABE_ITO["sky_blue"],
    "dropped": OKABE_ITO["orange"],
    "never_reached": "#8C8C8C",
    "open": "#D9D9D9",
}
"""Colour of each terminal state (names as in ``buyers.terminal_state``; ``lost_*`` summary keys map to them)."""

STATE_LABELS: dict[str, str] = {
    "won": "Won",
    "lost_to_competitor": "Lost to competitor",
    "too_late": "Too late",
    "too_early": "Too early",
    "dropped": "Dropped",
    "never_reached": "Never reached",
    "open": "Open at horizon",
}
_STATE_ORDER = tuple(STATE_LABELS)
_SUMMARY_STATE_KEYS = {
    "won": "won",
    "lost_to_competitor": "lost_to_competitor",
    "too_late": "lost_too_late",
    "too_early": "lost_too_early",
    "dropped": "lost_dropped",
    "never_reached": "lost_never_reached",
    "open": "open",
}

# metric -> (label, unit kind, better direction: +1 higher is better, -1 lower is better, 0 neither)
_METRICS: dict[str, tuple[str, str, int]] = {
    "buyers": ("In-market buyers", "count", 0),
    "engaged": ("Engaged buyers", "count", 1),
    "known": ("Known buyers", "count", 1),
    "mqls": ("MQLs (leads)", "count", 0),
    "sqls": ("SQLs", "count", 1),
    "won": ("Deals won", "count", 1),
    "lost_never_reached": ("Never reached", "count", -1),
    "lost_dropped": ("Dropped", "count", -1),
    "lost_too_early": ("Too early", "count", -1),
    "lost_too_late": ("Too late", "count", -1),
    "lost_to_competitor": ("Lost to competitor", "count", -1),
    "open": ("Open at horizon", "count", 0),
    "revenue": ("Revenue", "money", 1),
    "new_revenue": ("New-customer revenue", "money", 1),
    "repeat_revenue": ("Repeat revenue", "money", 1),
    "repeat_purchases": ("Repeat purchases", "count", 1),
    "customers_end": ("Customers at the end", "count", 1),
    "churned": ("Customers churned", "count", -1),
    "referrals": ("Referrals", "count", 1),
    "marketing_spend": ("Marketing spend", "money", 0),
    "rep_cost": ("Sales rep cost", "money", 0),
    "profit": ("Profit", "money", 1),
    "cac": ("Cost per won customer (CAC)", "money", -1),
    "roi": ("Marketing ROI", "ratio", 1),
    "win_rate": ("Win rate (won / SQL)", "share", 1),
    "mql_to_sql": ("MQL → SQL conversion", "share", 1),
    "lead_wait_days": ("Lead wait, handoff → first contact", "days", -1),
    "lead_wait_days_p90": ("Lead wait, 90th percentile", "days", -1),
    "queue_wait_days": ("Queue wait for a free rep", "days", -1),
    "speed_to_lead_hours": ("Speed to lead (hand-raisers)", "hours", -1),
    "sales_cycle_days": ("Sales cycle, contact → close", "days", -1),
    "rep_utilization": ("Rep utilisation", "share", 0),
    "leads_followed_up": ("Leads followed up by sales", "share", 1),
    "rep_hours": ("Rep hours worked", "hours", 0),
    "rep_hours_wasted": ("Rep hours wasted", "hours", -1),
    "sim_events": ("Simulation events", "count", 0),
    "wall_seconds": ("Wall time", "seconds", -1),
}
_UNIT_TEXT = {"count": "count", "share": "%", "days": "days", "hours": "hours", "ratio": "×", "seconds": "s"}

LEVER_LABELS = {  # display names of the organisation levers (public: notebooks and the explorer use them)
    "mql_threshold": "Agreed MQL threshold",
    "handoff": "Real-time handoff",
    "batch_interval_days": "Batch interval",
    "pass_context": "Context at handoff",
    "response_sla_hours": "Response SLA",
    "queue_policy": "Deadline-first queue",
    "too_early": "Recycle too-early leads",
    "crm_logging": "CRM feedback",
    "rep_training": "Rep training",
    "post_sale_followup": "Post-sale follow-up",
}

_FIELD_LABELS = {
    "sales.reps": "Sales reps (headcount)",
    "sales.rep_cost_per_year": "Cost per rep ({money}/year)",
    "marketing.budget_per_year": "Marketing budget ({money}/year)",
    "market.buyers_per_year": "In-market buyers (per year)",
    "organisation.mql_threshold": "MQL threshold (lead score, 0-1)",
    "organisation.response_sla_hours": "Response SLA (working hours)",
    "organisation.batch_interval_days": "Handoff batch interval (days)",
    "organisation.crm_logging": "CRM logging (share of outcomes)",
    "simulation.horizon_days": "Horizon (days)",
}

_DAY_LABEL = "Day of simulation (days)"


def _pct() -> FuncFormatter:
    """Tick labels of an axis already in percent: '2.5 %', '40 %'."""
    return FuncFormatter(lambda v, _: f"{v:g} %")


# ============================================================================================== style
def use_presentation_style() -> None:
    """Make the presentation style global (``plt.style.use("simfunnel.styles.presentation")``)."""
    plt.style.use("simfunnel.styles.presentation")


def _style_context() -> Any:
    return plt.style.context(STYLE) if STYLE else nullcontext()


def _freeze_ticks(fig: Figure) -> None:
    """Create each axis' first tick now, inside the style context: later ticks copy its properties, so the
    figure keeps the style's tick sizes and colours when drawn or saved outside the context."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks(1)
            axis.get_minor_ticks(1)


def _presentation(func: Callable[..., Figure]) -> Callable[..., Figure]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with _style_context():
            fig = func(*args, **kwargs)
            _freeze_ticks(fig)
        return fig

    return wrapper


# ============================================================================================== colours
def scenario_colors(names: Iterable[str]) -> dict[str, str]:
    """Colour per scenario name: the fixed `SCENARIO_COLORS` first, then the unused Okabe-Ito colours in order."""
    names = list(dict.fromkeys(str(n) for n in names))
    taken = {SCENARIO_COLORS[n] for n in names if n in SCENARIO_COLORS}
    free = [c for c in _PALETTE if c not in taken and c not in SCENARIO_COLORS.values()]
    free += [c for c in _PALETTE if c not in free and c not in taken]  # reuse only when exhausted
    out: dict[str, str] = {}
    i = 0
    for n in names:
        if n in SCENARIO_COLORS:
            out[n] = SCENARIO_COLORS[n]
        else:
            out[n] = free[i % len(free)] if free else _PALETTE[i % len(_PALETTE)]
            i += 1
    return out


def _state_key(name: str) -> str:
    name = str(name)
    if name in STATE_LABELS:
        return name
    if name.startswith("lost_") and name[5:] in STATE_LABELS:
        return name[5:]
    return name


# ============================================================================================== formatting
def _money_unit() -> str:
    return CURRENCY or "currency"


def _metric_info(metric: str) -> tuple[str, str, int]:
    if metric in _METRICS:
        return _METRICS[metric]
    return metric.replace("_", " ").capitalize(), "", 0


def _unit_text(kind: str) -> str:
    return _money_unit() if kind == "money" else _UNIT_TEXT.get(kind, kind)


def _metric_axis_label(metric: str) -> str:
    label, kind, _ = _metric_info(metric)
    unit = _unit_text(kind)
    return f"{label} ({unit})" if unit else label


def _scale(kind: str) -> float:
    return 100.0 if kind == "share" else 1.0


def _human(v: float, digits: int = 3, strip: bool = False) -> str:
    """Compact number with ``digits`` significant figures: 1234567 -> '1.23M', 353000 -> '353k', 950 -> '950',
    999999 -> '1.00M', 0.5 -> '0.5'; ``strip``: drop trailing zeros (axis ticks: '2M' rather than '2.00M')."""
    if v is None or not np.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    r = float(f"{v:.{digits}g}")
    a = abs(r)
    div, suffix = next(((d, u) for d, u in ((1e9, "B"), (1e6, "M"), (1e3, "k")) if a >= d), (1.0, ""))
    if suffix:
        x = r / div
        s = f"{x:.{max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))}f}"
    elif a >= 100:
        s = f"{r:.0f}"
    elif a >= 1:
        s = f"{r:.{digits - 1 - int(math.floor(math.log10(a)))}f}"
    else:
        s = f"{r:.2g}"
    if strip and "." in s:
        s = s.rstrip("0").rstrip(".")
    return s + suffix


def _fmt(v: float, kind: str, signed: bool = False) -> str:
    """A value in its unit, for annotations: '353k', '25.3 %', '15.4 d', '1.77×', '2,181'."""
    if v is None or not np.isfinite(v):
        return "n/a"
    sign = "+" if signed and v > 0 else ""
    if kind == "money":
        s = _human(v)
        if CURRENCY:
            s = s.replace("-", "-" + CURRENCY, 1) if s.startswith("-") else CURRENCY + s
        return sign + s
    if kind == "share":
        return f"{sign}{100 * v:.1f} pp" if signed else f"{100 * v:.1f} %"
    if kind == "days":
        return f"{sign}{v:.1f} d"
    if kind == "hours":
        return f"{sign}{v:.1f} h"
    if kind == "ratio":
        return f"{sign}{v:.2f}×"
    if kind == "seconds":
        return f"{sign}{v:.2f} s"
    if kind == "count":
        return f"{sign}{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{sign}{v:,.1f}"
    return sign + _human(v)


def _axis_formatter(kind: str) -> FuncFormatter:
    if kind == "money":
        return FuncFormatter(lambda x, _: _human(x, strip=True))
    if kind == "share":
        return FuncFormatter(lambda x, _: f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}")
    if kind == "count":
        return FuncFormatter(lambda x, _: f"{x:,.0f}" if abs(x) >= 1 or x == 0 else f"{x:g}")
    return FuncFormatter(lambda x, _: f"{x:g}")


def _field_label(field: str) -> str:
    if field in _FIELD_LABELS:
        return _FIELD_LABELS[field].format(money=_money_unit())
    if field.startswith("marketing.shares."):
        return f"Budget share: {field.rsplit('.', 1)[1]} (%)"
    if field.startswith("organisation."):
        return LEVER_LABELS.get(field.rsplit(".", 1)[1], field)
    return field.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def _lever_label(lever: str) -> str:
    parts = [p.strip() for p in str(lever).replace("+", ",").split(",") if p.strip()]
    return " + ".join(LEVER_LABELS.get(p, p.replace("_", " ").capitalize()) for p in parts) or str(lever)


def _is_share_field(field: str, values: np.ndarray) -> bool:
    return "share" in field and values.size > 0 and np.nanmin(values) >= 0 and np.nanmax(values) <= 1


# ============================================================================================== figures
def _figure(
    nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None, **kw: Any
) -> tuple[Figure, Any]:
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, **kw)
    return fig, axes


def _no_data(title: str, reason: str = "", figsize: tuple[float, float] | None = None) -> Figure:
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    _blank(ax, reason)
    fig.suptitle(title, x=0.01, ha="left")
    return fig


def _blank(ax: Any, reason: str = "") -> None:
    """Turn an axes into a 'No data' panel."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    msg = "No data" + (f"\n{reason}" if reason else "")
    ax.text(0.5, 0.5, msg, ha="center", va="center", fontsize=15, color=_GREY, transform=ax.transAxes)


def _note(fig: Figure, text: str) -> None:
    """A small grey footnote (source, method) under the figure (as the figure's supxlabel, so the constrained
    layout makes room for it)."""
    fig.supxlabel(text, x=0.01, ha="left", fontsize=10, color=_GREY)


def _grid_shape(k: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = min(k, max_cols)
    return math.ceil(k / ncols), ncols


# ============================================================================================== inputs
Stats = dict[str, tuple[float, float, float]]
"""metric -> (mean, ci_low, ci_high); the CI is NaN for a single run."""


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _is_run_result(x: Any) -> bool:
    return hasattr(x, "summary") and isinstance(getattr(x, "summary", None), Mapping) and hasattr(x, "scenario")


def _run_name(x: Any, default: str = "") -> str:
    scn = getattr(x, "scenario", None)
    return str(getattr(scn, "name", default) or default)


def _stats_from_mapping(d: Mapping[str, Any]) -> Stats:
    return {str(k): (_f(v), math.nan, math.nan) for k, v in d.items() if not isinstance(v, Mapping | list | tuple)}


def _key_columns(df: pd.DataFrame) -> list[str]:
    """Columns that name a scenario / sweep point in a tidy table."""
    if "scenario" in df.columns:
        return ["scenario"]
    stat = {"point", "metric", "value", "replication", "mean", "std", "n", "ci_low", "ci_high", "half_width"}
    if "point" in df.columns:
        cols = list(df.columns)
        start = cols.index("point") + 1
        fields = [c for c in cols[start:] if c not in stat]
        stop = next((i for i, c in enumerate(fields) if c in stat), len(fields))
        return fields[:stop] or ["point"]
    return []


def _label_of(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    if keys == ["scenario"] or keys == ["point"]:
        return str(row[keys[0]])
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in keys)


def _stats_from_frame(df: pd.DataFrame) -> dict[str, Stats]:
    keys = _key_columns(df)
    out: dict[str, Stats] = {}
    if "metric" in df.columns:
        val = "mean" if "mean" in df.columns else "value"
        groups = df.groupby(keys, sort=False, dropna=False) if keys else [((), df)]
        for key, sub in groups:
            key = key if isinstance(key, tuple) else (key,)
            name = _label_of(dict(zip(keys, key, strict=True)), keys) if keys else ""
            st: Stats = {}
            if val == "mean":
                lo = sub["ci_low"] if "ci_low" in sub else pd.Series(np.nan, index=sub.index)
                hi = sub["ci_high"] if "ci_high" in sub else pd.Series(np.nan, index=sub.index)
                for m, v, a, b in zip(sub["metric"], sub[val], lo, hi, strict=True):
                    st[str(m)] = (_f(v), _f(a), _f(b))
            else:  # runs: average the replications
                for m, v in sub.groupby("metric", sort=False)["value"].mean().items():
                    st[str(m)] = (_f(v), math.nan, math.nan)
            out[name] = st
        return out
    # wide: one row per scenario, one column per metric
    for i, row in df.reset_index(drop=True).iterrows():
        name = _label_of(row, keys) if keys else ("" if len(df) == 1 else str(i))
        out[name] = _stats_from_mapping({k: v for k, v in row.items() if k not in keys})
    return out


def _summaries(data: Any) -> dict[str, Stats]:
    """Normalise a RunResult, summary dict, pandas Series, tidy/wide DataFrame, Experiment, or a mapping
    {name: any of those} to {name: {metric: (mean, ci_low, ci_high)}}."""
    if data is None:
        return {}
    if _is_run_result(data):
        return {_run_name(data): _stats_from_mapping(data.summary)}
    if isinstance(getattr(data, "summary", None), pd.DataFrame):  # Experiment
        return _stats_from_frame(data.summary)
    if isinstance(data, pd.DataFrame):
        return {} if data.empty else _stats_from_frame(data)
    if isinstance(data, pd.Series):
        return {str(data.name) if data.name is not None else "": _stats_from_mapping(data.to_dict())}
    if isinstance(data, Mapping):
        if not data:
            return {}
        if all(not isinstance(v, Mapping | pd.Series | pd.DataFrame) and not _is_run_result(v) for v in data.values()):
            return {"": _stats_from_mapping(data)}
        out: dict[str, Stats] = {}
        for name, v in data.items():
            sub = _summaries(v)
            if len(sub) == 1:
                out[str(name)] = next(iter(sub.values()))
            else:
                out.update({f"{name}: {k}" if k else str(name): s for k, s in sub.items()})
        return out
    raise TypeError(f"cannot plot a {type(data).__name__}: pass a RunResult, a summary dict or a summary DataFrame")


def _frames(data: Any, attr: str) -> dict[str, pd.DataFrame]:
    """{name: DataFrame} from a DataFrame, a RunResult (its ``attr`` table) or a mapping of those."""
    if data is None:
        return {}
    if isinstance(data, pd.DataFrame):
        return {"": data}
    if hasattr(data, attr) and not isinstance(data, Mapping):
        return {_run_name(data): getattr(data, attr)}
    if isinstance(data, Mapping):
        out = {}
        for name, v in data.items():
            sub = _frames(v, attr)
            if sub:
                out[str(name)] = next(iter(sub.values()))
        return out
    raise TypeError(f"expected a DataFrame, a RunResult or a mapping of them, got {type(data).__name__}")


def _horizon(data: Any) -> float:
    items = data.values() if isinstance(data, Mapping) else [data]
    for x in items:
        scn = getattr(x, "scenario", None)
        h = getattr(getattr(scn, "simulation", None), "horizon_days", None)
        if h is not None:
            return float(h)
    return math.nan


def _colors_for(names: Sequence[str]) -> dict[str, str]:
    named = [n for n in names if n]
    cols = scenario_colors(named)
    cols[""] = OKABE_ITO["blue"]
    return cols


def _title_name(name: str) -> str:
    return name if name else "Run"


# ============================================================================================== funnel
_FUNNEL = (
    ("buyers", "In-market buyers"),
    ("engaged", "Engaged"),
    ("known", "Known"),
    ("mqls", "MQL (lead)"),
    ("sqls", "SQL"),
    ("won", "Won"),
)


@_presentation
def funnel(data: Any, *, title: str | None = None) -> Figure:
    """Stage counts buyers -> engaged -> known -> MQL -> SQL -> won, with the conversion rate between stages.

    ``data``: a RunResult, a summary dict, an experiment summary table (means), or ``{scenario: summary}``
    (one funnel per scenario, side by side, on the same scale)."""
    title = title or "Buyer funnel: from in-market buyers to won deals"
    stats = _summaries(data)
    stats = {k: v for k, v in stats.items() if any(np.isfinite(v.get(m, (math.nan,))[0]) for m, _ in _FUNNEL)}
    if not stats:
        return _no_data(title, "no funnel counts (buyers, engaged, known, mqls, sqls, won)")
    names = list(stats)
    colors = _colors_for(names)
    k = len(names)
    fig, axes = _figure(1, k, figsize=(10 if k <= 2 else 4.6 * k, 5.8), sharex=True, sharey=True)
    top = max(np.nanmax([s.get(m, (math.nan,))[0] for m, _ in _FUNNEL]) for s in stats.values())
    top = top if np.isfinite(top) and top > 0 else 1.0
    n_stage = len(_FUNNEL)
    for j, name in enumerate(names):
        ax = axes[0, j]
        st = stats[name]
        vals = np.array([st.get(m, (math.nan,))[0] for m, _ in _FUNNEL], dtype=float)
        widths = np.nan_to_num(vals, nan=0.0)
        color = colors[name]
        ax.barh(np.arange(n_stage), widths, left=-widths / 2, height=0.62, color=color, alpha=0.9)
        for i, v in enumerate(vals):
            label = _fmt(v, "count") if np.isfinite(v) else "n/a"
            if widths[i] > 0.22 * top:
                ax.text(0, i, label, ha="center", va="center", color="white", fontsize=13, fontweight="bold")
            else:
                ax.text(widths[i] / 2 + 0.02 * top, i, label, ha="left", va="center", color=_TEXT, fontsize=13)
        for i in range(n_stage - 1):
            a, b = vals[i], vals[i + 1]
            rate = b / a if np.isfinite(a) and np.isfinite(b) and a > 0 else math.nan
            txt = f"↓ {100 * rate:.0f} %" if np.isfinite(rate) else "↓ n/a"
            ax.text(0, i + 0.5, txt, ha="center", va="center", color=_GREY, fontsize=11)
        overall = vals[-1] / vals[0] if np.isfinite(vals[0]) and vals[0] > 0 and np.isfinite(vals[-1]) else math.nan
        sub = f"{100 * overall:.1f} % of buyers won" if np.isfinite(overall) else ""
        if k > 1 or name:
            ax.set_title(_title_name(name), color=color, fontsize=16, loc="center")
        ax.set_xlabel(sub, fontsize=13, color=_TEXT)
        ax.set_xlim(-0.55 * top, 0.55 * top)
        ax.set_ylim(n_stage - 0.5, -0.6)
        ax.set_yticks(np.arange(n_stage), [lab for _, lab in _FUNNEL])
        ax.xaxis.set_major_locator(NullLocator())
        ax.grid(False)
        ax.tick_params(axis="y", length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
    horizon = _horizon(data)
    span = f" over {horizon:,.0f} days" if np.isfinite(horizon) else ""
    means = any(np.isfinite(s.get("buyers", (0, math.nan, math.nan))[1]) for s in stats.values())
    fig.suptitle(title, x=0.01, ha="left")
    _note(
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


@_presentation
def journey_timeline(
    buyers: Any, n: int = 30, seed: int = 0, *, horizon: float | None = None, title: str | None = None
) -> Figure:
    """Journeys of a sample of ``n`` buyers (preferring ones that reached sales, with mixed outcomes).

    Each row is one buyer's purchase process, arrival -> decision deadline; the shaded part is its sales-ready
    window (ready_day -> deadline). Markers: handoff to sales, first contact, and the outcome (colour of the
    terminal state). ``buyers``: ``RunResult.buyers`` or a RunResult (which also gives the horizon)."""
    title = title or "Buyer journeys: when buyers are ready vs when sales acts"
    frames = _frames(buyers, "buyers")
    b = next(iter(frames.values())) if frames else pd.DataFrame()
    need = {"arrival_day", "deadline_day", "terminal_state"}
    if b.empty or not need <= set(b.columns) or n <= 0:
        return _no_data(title, "no buyers" if b.empty or n <= 0 else f"missing columns {sorted(need - set(b.columns))}")
    b = b[b["arrival_day"].notna() & b["deadline_day"].notna()]
    if b.empty:
        return _no_data(title, "no buyer has an arrival and a deadline")
    h = horizon if horizon is not None else _horizon(buyers)
    s = _sample_journeys(b, n, seed).reset_index(drop=True)
    rows = len(s)
    fig, axes = _figure(figsize=(12, max(4.5, 1.6 + 0.24 * rows)))
    ax = axes[0, 0]
    y = np.arange(rows)
    arr = s["arrival_day"].to_numpy(float)
    dl = s["deadline_day"].to_numpy(float)
    ax.barh(y, dl - arr, left=arr, height=0.56, color="#E6E6E6", edgecolor="none", zorder=1)
    if "ready_day" in s:
        rd = s["ready_day"].to_numpy(float)
        ok = np.isfinite(rd)
        ax.barh(y[ok], (dl - rd)[ok], left=rd[ok], height=0.56, color=OKABE_ITO["sky_blue"], alpha=0.45, zorder=2)
        ax.scatter(rd[ok], y[ok], marker="|", s=160, color=OKABE_ITO["sky_blue"], linewidths=2, zorder=3)

    def col(name: str) -> np.ndarray:
        return s[name].to_numpy(float) if name in s else np.full(rows, np.nan)

    hand, first = col("handoff_day"), col("first_contact_day")
    for a, c in ((hand, first),):  # waiting for sales: a dotted line from handoff to first contact (or the end)
        end = np.where(np.isfinite(c), c, np.nan)
        for yi, x0, x1 in zip(y, a, end, strict=True):
            if np.isfinite(x0) and np.isfinite(x1) and x1 > x0:
                ax.plot([x0, x1], [yi, yi], color="#444444", lw=1.2, ls=(0, (2, 2)), zorder=3)
    ok = np.isfinite(hand)  # a pin on top of the bar, so it stays visible when contact follows at once
    ax.scatter(hand[ok], y[ok] - 0.42, marker="v", s=60, color="#222222", linewidths=0, zorder=4)
    ok = np.isfinite(first)
    ax.scatter(first[ok], y[ok], marker="o", s=55, facecolor="white", edgecolor="#222222", linewidths=1.6, zorder=5)
    term = s["terminal_state"].astype(str).map(_state_key).to_numpy()
    close = col("close_day")
    tday = col("terminal_day")
    when = np.where(np.isfinite(close), close, tday)
    if np.isfinite(h):
        when = np.where((term == "open") & ~np.isfinite(when), h, when)
    for state in _STATE_ORDER:
        m = (term == state) & np.isfinite(when)
        if m.any():
            ax.scatter(
                when[m],
                y[m],
                marker="D",
                s=70,
                color=STATE_COLORS[state],
                edgecolor="#222222",
                linewidths=0.8,
                zorder=6,
            )
    if np.isfinite(h):
        ax.axvline(h, color=_GREY, lw=1.2, ls="--", zorder=0)
        ax.text(h, -0.9, " horizon", ha="left", va="bottom", fontsize=11, color=_GREY)
    labels = [f"#{int(i)}" for i in s["buyer_id"]] if "buyer_id" in s else [str(i) for i in s.index]
    if "source_channel" in s:
        labels = [f"{lab} {src}" for lab, src in zip(labels, s["source_channel"].astype(str), strict=True)]
    ax.set_yticks(y, labels, fontsize=9 if rows > 20 else 11)
    ax.set_ylim(rows - 0.4, -1.1)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_DAY_LABEL)
    ax.set_ylabel("Sampled buyer (id, source)")
    fig.suptitle(title, x=0.01, ha="left")
    present = [st for st in _STATE_ORDER if (term == st).any()]
    handles = [
        Patch(facecolor="#E6E6E6", label="Purchase process\n(arrival → deadline)"),
        Patch(facecolor=OKABE_ITO["sky_blue"], alpha=0.45, label="Sales-ready window"),
        Line2D([], [], marker="v", ls="none", color="#222222", markersize=8, label="Handoff to sales"),
        Line2D([], [], color="#444444", lw=1.2, ls=(0, (2, 2)), label="Waiting for sales"),
        Line2D([], [], marker="o", ls="none", mfc="white", mec="#222222", mew=1.6, markersize=8, label="First contact"),
    ]
    handles += [
        Line2D(
            [],
            [],
            marker="D",
            ls="none",
            color=STATE_COLORS[st],
            mec="#222222",
            mew=0.8,
            markersize=8,
            label=STATE_LABELS[st],
        )
        for st in present
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=11, labelspacing=0.7)
    return fig


# ============================================================================================== lost reasons
@_presentation
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
    order = _STATE_ORDER if states is None else tuple(_state_key(x) for x in states)
    unknown = [x for x in order if x not in STATE_LABELS]
    if unknown:
        raise ValueError(f"unknown terminal state(s) {unknown}; known: {', '.join(_STATE_ORDER)}")
    title = title or "Where the buyers go: won, lost (and why) or still open"
    stats = _summaries(data)
    table: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, st in stats.items():
        row = {s: st.get(_SUMMARY_STATE_KEYS[s], (math.nan, math.nan, math.nan)) for s in order}
        if any(np.isfinite(v[0]) for v in row.values()):
            table[name] = row
    if not table:
        return _no_data(title, "no terminal-state counts (won, lost_*, open)")
    names = list(table)
    whom = "in-market buyers" if states is None else "buyers shown"
    unit = f"% of {whom}" if share else "buyers (count)"

    def scaled(name: str) -> dict[str, tuple[float, float, float]]:
        row = table[name]
        if not share:
            return row
        tot = np.nansum([v[0] for v in row.values()])
        f = 100.0 / tot if tot > 0 else math.nan
        return {s: (v[0] * f, v[1] * f, v[2] * f) for s, v in row.items()}

    if kind == "stacked":
        fig, axes = _figure(figsize=(11, max(3.6, 2.4 + 0.9 * len(names))))
        ax = axes[0, 0]
        y = np.arange(len(names))
        left = np.zeros(len(names))
        totals = np.array([np.nansum([v[0] for v in scaled(nm).values()]) for nm in names])
        for state in order:
            vals = np.array([scaled(nm)[state][0] for nm in names], dtype=float)
            vals = np.nan_to_num(vals, nan=0.0)
            ax.barh(
                y,
                vals,
                left=left,
                height=0.6,
                color=STATE_COLORS[state],
                label=STATE_LABELS[state],
                edgecolor="white",
                linewidth=1.0,
            )
            for i, v in enumerate(vals):
                if totals[i] > 0 and v / totals[i] >= 0.045:
                    txt = f"{v:.0f} %" if share else f"{v:,.0f}"
                    dark = state in ("open", "too_early", "never_reached", "dropped")
                    ax.text(
                        left[i] + v / 2,
                        y[i],
                        txt,
                        ha="center",
                        va="center",
                        fontsize=12,
                        color=_TEXT if dark else "white",
                        fontweight="bold",
                    )
            left += vals
        ax.set_yticks(y, [_title_name(n) for n in names])
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_xlim(0, max(totals.max(), 1e-9) * (1.0 if share else 1.02))
        ax.set_xlabel(unit.capitalize() if share else "In-market buyers (count)")
        if share:
            ax.xaxis.set_major_formatter(_pct())
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
        for t, nm in zip(ax.get_yticklabels(), names, strict=True):
            if nm in SCENARIO_COLORS:
                t.set_color(SCENARIO_COLORS[nm])
                t.set_fontweight("bold")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(order) if len(order) <= 5 else 4, fontsize=12)
        fig.suptitle(title, x=0.01, ha="left")
        return fig

    # grouped
    colors = _colors_for(names)
    k = len(names)
    fig, axes = _figure(figsize=(11, 6.2))
    ax = axes[0, 0]
    y = np.arange(len(order))
    h = 0.8 / k
    xmax = 0.0
    for j, nm in enumerate(names):
        row = scaled(nm)
        m = np.array([row[s][0] for s in order], dtype=float)
        lo = np.array([row[s][1] for s in order], dtype=float)
        hi = np.array([row[s][2] for s in order], dtype=float)
        pos = y - 0.4 + h * (j + 0.5)
        ax.barh(pos, np.nan_to_num(m), height=h * 0.92, color=colors[nm], label=_title_name(nm))
        has_ci = np.isfinite(lo) & np.isfinite(hi)
        if has_ci.any():
            ax.errorbar(
                m[has_ci],
                pos[has_ci],
                xerr=[m[has_ci] - lo[has_ci], hi[has_ci] - m[has_ci]],
                fmt="none",
                ecolor=_TEXT,
                elinewidth=1.2,
                capsize=3,
            )
        for p, v, top in zip(pos, m, np.where(has_ci, hi, m), strict=True):
            if np.isfinite(v):
                ax.text(
                    np.nan_to_num(top) + 0.01 * max(1, np.nanmax(m)),
                    p,
                    f"{v:.1f} %" if share else f"{v:,.0f}",
                    va="center",
                    ha="left",
                    fontsize=11 if k > 2 else 12,
                    color=_TEXT,
                )
        xmax = max(xmax, np.nanmax(np.where(has_ci, hi, m)) if np.isfinite(m).any() else 0)
    ax.set_yticks(y, [STATE_LABELS[s] for s in order])
    for t, s in zip(ax.get_yticklabels(), order, strict=True):
        t.set_color("#111111" if s != "won" else STATE_COLORS["won"])
    ax.set_ylim(len(y) - 0.5, -0.5)
    ax.set_xlim(0, xmax * 1.15 if xmax > 0 else 1)
    ax.set_xlabel(unit.capitalize() if share else "In-market buyers (count)")
    if share:
        ax.xaxis.set_major_formatter(_pct())
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.legend(loc="best")
    fig.suptitle(title, x=0.01, ha="left")
    return fig


# ============================================================================================== lead wait
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


def _fmt_wait(days: float) -> str:
    if not np.isfinite(days):
        return "n/a"
    return f"{24 * days:.1f} h" if days < 1 else f"{days:.1f} d"


@_presentation
def lead_wait(
    buyers: Any, *, log: bool | None = None, bins: int | Sequence[float] | None = None, title: str | None = None
) -> Figure:
    """Distribution of the wait from handoff to first contact (days), mean and 90th percentile marked; one panel
    per scenario on a shared axis, with the number of leads contacted and not (yet) contacted.

    ``log``: logarithmic wait axis (ticks 1 h, 1 day, 1 week, 1 month ...); default: only when the waits span
    more than two orders of magnitude (hours to months). ``buyers``: a buyers table, a RunResult, or
    ``{name: buyers table}``."""
    title = title or "How long leads wait for sales: handoff → first contact"
    frames = _frames(buyers, "buyers")
    waits: dict[str, np.ndarray] = {}
    uncontacted: dict[str, int] = {}
    for name, b in frames.items():
        if b is None or b.empty or not {"first_contact_day", "handoff_day"} <= set(b.columns):
            continue
        w = (b["first_contact_day"] - b["handoff_day"]).to_numpy(float)
        waits[name] = w[np.isfinite(w)]
        uncontacted[name] = int((b["handoff_day"].notna() & b["first_contact_day"].isna()).sum())
    if not waits or all(w.size == 0 for w in waits.values()):
        return _no_data(title, "no lead was handed off and contacted")
    names = list(waits)
    colors = _colors_for(names)
    pooled = np.concatenate([w for w in waits.values() if w.size])
    top = max(float(np.percentile(pooled, 99.5)), 1 / 24)
    floor_day = 1 / 96  # 15 minutes: shorter waits go into the first bin of a log axis
    if log is None:
        positive = pooled[pooled > 0]
        low = float(np.percentile(positive, 10)) if positive.size else top
        log = top / max(low, floor_day) > 100
    if bins is not None:
        edges = np.histogram_bin_edges(pooled, bins=bins)
    elif log:
        lo = max(floor_day, min(float(np.percentile(pooled[pooled > 0], 1)) if (pooled > 0).any() else top, top / 10))
        edges = np.geomspace(lo, top * 1.05, 36)
    else:
        width = float(np.ceil(top / 35)) if top > 10 else top / 35
        edges = np.arange(0, top + width, width)
    k = len(names)
    fig, axes = _figure(k, 1, figsize=(10, 2.0 + 2.3 * k), sharex=True)
    for i, name in enumerate(names):
        ax = axes[i, 0]
        w = waits[name]
        if w.size == 0:
            _blank(ax, f"{_title_name(name)}: no lead contacted")
            continue
        clipped = np.clip(w, edges[0], edges[-1])
        weights = np.full(w.size, 100.0 / w.size)
        counts, _, _ = ax.hist(
            clipped, bins=edges, weights=weights, color=colors[name], alpha=0.85, edgecolor="white", linewidth=0.6
        )
        ymax = float(np.max(counts)) * 1.15 if np.max(counts) > 0 else 1.0
        ax.set_ylim(0, ymax)
        ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= min(100, ymax)])
        ax.set_ylim(0, ymax)
        mean, p90 = float(np.mean(w)), float(np.percentile(w, 90))
        handles = []
        for x, ls, lab in ((mean, "--", f"mean {_fmt_wait(mean)}"), (p90, ":", f"90 % within {_fmt_wait(p90)}")):
            ax.axvline(min(max(x, edges[0]), edges[-1]), color="#111111", lw=2, ls=ls)
            handles.append(Line2D([], [], color="#111111", lw=2, ls=ls, label=lab))
        ax.legend(handles=handles, loc="best", handlelength=2.2, fontsize=12, framealpha=0.9)
        info = f"{w.size:,} leads contacted"
        if uncontacted.get(name):
            info += f", {uncontacted[name]:,} not (yet) contacted"
        ax.set_title(info, loc="right", fontsize=11, color=_GREY, fontweight="normal")
        if k > 1 or name:
            ax.set_title(_title_name(name), loc="left", color=colors[name], fontsize=15)
        ax.set_ylabel("% of leads")
        ax.yaxis.set_major_formatter(_pct())
    last = axes[-1, 0]
    if log:
        last.set_xscale("log")
        ticks = [(t, lab) for t, lab in _WAIT_TICKS if edges[0] <= t <= edges[-1]]
        last.set_xticks([t for t, _ in ticks], [lab for _, lab in ticks])
        last.xaxis.set_minor_locator(NullLocator())
        last.set_xlabel("Wait from handoff to first contact (log scale)")
    else:
        last.set_xlabel("Wait from handoff to first contact (days)")
    last.set_xlim(edges[0], edges[-1])
    fig.suptitle(title, x=0.01, ha="left")
    return fig


# ============================================================================================== utilisation
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


@_presentation
def rep_utilization(timeseries: Any, *, title: str | None = None) -> Figure:
    """Weekly rep utilisation (% of working hours spent on sales activities) over time, per scenario, with the
    period mean marked and labelled at the right. ``timeseries``: ``RunResult.timeseries``, a RunResult or
    ``{name: timeseries}``."""
    title = title or "Sales capacity: weekly rep utilisation"
    frames = {
        k: v for k, v in _frames(timeseries, "timeseries").items() if {"day", "rep_utilization"} <= set(v.columns)
    }
    frames = {k: v for k, v in frames.items() if v["rep_utilization"].notna().any()}
    if not frames:
        return _no_data(title, "no weekly rep_utilization values")
    names = list(frames)
    colors = _colors_for(names)
    fig, axes = _figure()
    ax = axes[0, 0]
    top, xmax = 0.0, 0.0
    means: list[float] = []
    for name in names:
        df = frames[name].sort_values("day")
        x, u = _step_xy(df["day"].to_numpy(float), 100 * df["rep_utilization"].to_numpy(float))
        ax.plot(x, u, color=colors[name], lw=2.2, drawstyle="steps-post")
        mean = float(np.nanmean(u[:-1]))
        means.append(mean)
        ax.axhline(mean, color=colors[name], lw=1.3, ls="--", alpha=0.9)
        top = max(top, float(np.nanmax(u)))
        xmax = max(xmax, float(x[-1]))
    ylim = max(105.0, top * 1.05)
    for name, mean, pos in zip(names, means, _spread(means, 0.07 * ylim), strict=True):
        label = f"{name}: mean {mean:.0f} %" if name else f"mean {mean:.0f} %"
        ax.annotate(
            label,
            xy=(1.0, mean),
            xycoords=("axes fraction", "data"),
            xytext=(1.01, pos),
            textcoords=("axes fraction", "data"),
            va="center",
            ha="left",
            fontsize=12,
            color=colors[name],
            fontweight="bold",
        )
    horizon = _horizon(timeseries)
    ax.set_ylim(0, ylim)
    ax.set_xlim(0, min(xmax, horizon) if np.isfinite(horizon) else xmax)
    ax.yaxis.set_major_formatter(_pct())
    ax.set_ylabel("Utilisation (% of working hours)")
    ax.set_xlabel(_DAY_LABEL + ", weekly")
    fig.suptitle(title, x=0.01, ha="left")
    return fig


# ============================================================================================== experiments
_DEFAULT_KPIS = ("profit", "revenue", "won", "win_rate", "lead_wait_days", "rep_utilization")


def _tidy_summary(df: Any) -> pd.DataFrame:
    if df is None:
        return pd.DataFrame()
    if isinstance(getattr(df, "summary", None), pd.DataFrame):
        df = df.summary
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a summary DataFrame, got {type(df).__name__}")
    return df


@_presentation
def compare_kpis(summary: Any, metrics: Sequence[str] | None = None, *, title: str | None = None) -> Figure:
    """Small multiples, one panel per KPI: the mean of each scenario with its 95 % confidence interval.

    ``summary``: ``Experiment.summary`` (columns scenario or point + fields, metric, mean, ci_low, ci_high) or
    the Experiment. ``metrics``: KPI names (default: profit, revenue, won, win rate, lead wait, utilisation)."""
    title = title or "Scenarios compared: key results (mean and 95 % CI)"
    df = _tidy_summary(summary)
    stats = _stats_from_frame(df) if not df.empty and "metric" in df.columns else {}
    available = list(dict.fromkeys(m for st in stats.values() for m in st))
    metrics = [m for m in (metrics or _DEFAULT_KPIS) if m in available] if metrics is None else list(metrics)
    if not stats or not metrics:
        return _no_data(title, "empty summary table" if not stats else "none of the metrics is in the table")
    names = list(stats)
    colors = _colors_for(names)
    nrows, ncols = _grid_shape(len(metrics))
    fig, axes = _figure(nrows, ncols, figsize=(max(10, 3.6 * ncols + 1), 0.6 + 3.3 * nrows))
    x = np.arange(len(names))
    for idx, metric in enumerate(metrics):
        ax = axes[idx // ncols, idx % ncols]
        label, kind, _ = _metric_info(metric)
        sc = _scale(kind)
        m = np.array([stats[n].get(metric, (math.nan,) * 3)[0] for n in names], dtype=float) * sc
        lo = np.array([stats[n].get(metric, (math.nan,) * 3)[1] for n in names], dtype=float) * sc
        hi = np.array([stats[n].get(metric, (math.nan,) * 3)[2] for n in names], dtype=float) * sc
        if not np.isfinite(m).any():
            _blank(ax, f"{label}: no values")
            continue
        ax.bar(x, np.nan_to_num(m), width=0.62, color=[colors[n] for n in names], alpha=0.9)
        ci = np.isfinite(lo) & np.isfinite(hi)
        if ci.any():
            ax.errorbar(
                x[ci],
                m[ci],
                yerr=[m[ci] - lo[ci], hi[ci] - m[ci]],
                fmt="none",
                ecolor="#222222",
                elinewidth=1.5,
                capsize=5,
            )
        ends = np.where(ci, np.where(m >= 0, hi, lo), m)
        span = np.nanmax(np.abs(np.concatenate([ends[np.isfinite(ends)], [0.0]])))
        for xi, v, e in zip(x, m, ends, strict=True):
            if np.isfinite(v):
                up = v >= 0
                ax.annotate(
                    _fmt(v / sc, kind),
                    xy=(xi, e if np.isfinite(e) else v),
                    xytext=(0, 4 if up else -4),
                    textcoords="offset points",
                    ha="center",
                    va="bottom" if up else "top",
                    fontsize=12,
                    fontweight="bold",
                    color=_TEXT,
                )
        lo_lim = min(0.0, np.nanmin(np.where(np.isfinite(lo), lo, m)))
        hi_lim = max(0.0, np.nanmax(np.where(np.isfinite(hi), hi, m)))
        pad = 0.16 * (hi_lim - lo_lim or span or 1.0)
        ax.set_ylim(lo_lim - (pad if lo_lim < 0 else 0), hi_lim + (pad if hi_lim > 0 else 0))
        if lo_lim < 0 < hi_lim:
            ax.axhline(0, color="#222222", lw=1)
        ax.set_xticks(
            x,
            [_title_name(n) for n in names],
            rotation=0 if len(names) <= 3 else 30,
            ha="center" if len(names) <= 3 else "right",
        )
        ax.yaxis.set_major_formatter(_axis_formatter(kind))
        ax.set_title(label, fontsize=14, loc="left")
        ax.set_ylabel(_unit_text(kind) if kind else "", fontsize=12)
        ax.grid(axis="x", visible=False)
        ax.set_xlim(-0.6, len(names) - 0.4)
    for idx in range(len(metrics), nrows * ncols):
        axes[idx // ncols, idx % ncols].set_visible(False)
    fig.suptitle(title, x=0.01, ha="left")
    _note(fig, "Bars: mean over replications; whiskers: 95 % confidence interval.")
    return fig


@_presentation
def paired_differences(diffs: Any, metrics: Sequence[str] | None = None, *, title: str | None = None) -> Figure:
    """Forest plot of paired differences (scenario - baseline, common random numbers): mean with its 95 % CI
    and a zero line, one panel per KPI (each in its own unit). Filled markers: the CI excludes zero.

    ``diffs``: ``Experiment.diffs`` (scenario, baseline, metric, mean_diff, ci_low, ci_high) or the Experiment."""
    title = title or "Paired differences vs baseline (mean and 95 % CI)"
    if diffs is not None and isinstance(getattr(diffs, "diffs", None), pd.DataFrame):
        diffs = diffs.diffs
    need = {"scenario", "metric", "mean_diff", "ci_low", "ci_high"}
    if diffs is None or not isinstance(diffs, pd.DataFrame) or diffs.empty or not need <= set(diffs.columns):
        return _no_data(title, "no paired differences")
    available = list(dict.fromkeys(diffs["metric"].astype(str)))
    if metrics is None:
        metrics = [m for m in _DEFAULT_KPIS if m in available] or available[:6]
    metrics = [m for m in metrics if m in available]
    if not metrics:
        return _no_data(title, "none of the metrics is in the table")
    comps = list(dict.fromkeys(diffs["scenario"].astype(str)))
    base = str(diffs["baseline"].iloc[0]) if "baseline" in diffs.columns else "baseline"
    colors = _colors_for(comps)
    rows_per = len(comps)
    heights = [0.55 + 0.42 * rows_per] * len(metrics)
    fig, axes = _figure(len(metrics), 1, figsize=(10, 0.9 + sum(heights)), gridspec_kw={"height_ratios": heights})
    for i, metric in enumerate(metrics):
        ax = axes[i, 0]
        label, kind, better = _metric_info(metric)
        sc = _scale(kind)
        sub = diffs[diffs["metric"].astype(str) == metric].set_index(
            diffs["scenario"].astype(str)[diffs["metric"].astype(str) == metric]
        )
        lows, highs = [], []
        for j, comp in enumerate(comps):
            if comp not in sub.index:
                continue
            r = sub.loc[comp]
            m, lo, hi = _f(r["mean_diff"]) * sc, _f(r["ci_low"]) * sc, _f(r["ci_high"]) * sc
            if not np.isfinite(m):
                ax.text(0, j, "n/a", ha="center", va="center", color=_GREY)
                continue
            sig = np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [j, j], color=colors[comp], lw=3, solid_capstyle="round")
                lows.append(lo)
                highs.append(hi)
            ax.plot([m], [j], marker="o", ms=11, color=colors[comp], mfc=colors[comp] if sig else "white", mew=2.5)
            lows.append(m)
            highs.append(m)
            ci_txt = f"  [{_fmt(lo / sc, kind, True)}, {_fmt(hi / sc, kind, True)}]" if np.isfinite(lo) else ""
            verdict, tcolor = "", _TEXT
            if sig and better:
                good = (m > 0) == (better > 0)
                verdict, tcolor = ("  better", "#007A5E") if good else ("  worse", "#B24700")
            ax.annotate(
                f"{_fmt(m / sc, kind, True)}{ci_txt}{verdict}",
                xy=(1.0, j),
                xycoords=("axes fraction", "data"),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                fontsize=12,
                color=tcolor,
                fontweight="bold" if sig else "normal",
            )
        lo_all = min([0.0, *lows])
        hi_all = max([0.0, *highs])
        pad = 0.08 * (hi_all - lo_all or 1.0)
        ax.set_xlim(lo_all - pad, hi_all + pad)
        ax.axvline(0, color="#222222", lw=1.3, zorder=0)
        ax.set_ylim(rows_per - 0.4, -0.6)
        ax.set_yticks(range(rows_per), [f"{c} − {base}" for c in comps] if rows_per > 1 else [""])
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(_axis_formatter(kind))
        unit = "percentage points" if kind == "share" else _unit_text(kind)
        ax.set_title(f"{label}" + (f" ({unit})" if unit else ""), fontsize=13, loc="left", pad=4)
        ax.spines["left"].set_visible(False)
    comp_txt = comps[0] if len(comps) == 1 else "scenario"
    fig.suptitle(f"{title}\n{comp_txt} − {base}", x=0.01, ha="left", fontsize=17)
    _note(fig, "Filled marker: the 95 % CI excludes zero. Right: difference [95 % CI]; better/worse where significant.")
    return fig


# ============================================================================================== attribution
@_presentation
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
    gap = getattr(attribution, "gap", None)
    metric = metric or getattr(attribution, "metric", None) or "profit"
    label, kind, _ = _metric_info(metric)
    title = title or f"What closes the gap: contribution of each lever to {label.lower()}"
    if isinstance(gap, Mapping):
        if start is None:
            start = _f(next((gap[k] for k in ("siloed_mean", "siloed", "start") if k in gap), math.nan))
        if end is None:
            end = _f(next((gap[k] for k in ("all_levers_mean", "aligned", "end") if k in gap), math.nan))
    if not isinstance(table, pd.DataFrame) or table.empty or "lever" not in table.columns:
        return _no_data(title, "no lever attribution")
    vcol = next((c for c in ("value", "shapley", "mean") if c in table.columns), None)
    if vcol is None:
        return _no_data(title, "no value column (value / shapley)")
    t = pd.DataFrame(
        {
            "lever": table["lever"].astype(str).to_numpy(),
            "value": pd.to_numeric(table[vcol], errors="coerce").to_numpy(float),
            "ci_low": pd.to_numeric(table["ci_low"], errors="coerce").to_numpy(float) if "ci_low" in table else np.nan,
            "ci_high": pd.to_numeric(table["ci_high"], errors="coerce").to_numpy(float)
            if "ci_high" in table
            else np.nan,
        }
    )
    t = t[np.isfinite(t["value"])]
    if t.empty:
        return _no_data(title, "all lever values are NaN")
    if sort:
        t = t.sort_values("value", ascending=False, kind="stable")
    has_totals = start is not None and np.isfinite(start)
    s0 = float(start) if has_totals else 0.0
    steps = t["value"].to_numpy(float)
    total = s0 + steps.sum()
    e0 = float(end) if end is not None and np.isfinite(end) else total
    resid = e0 - total
    rows: list[tuple[str, float, float, float, float, str]] = []  # label, left, width, lo, hi, kind
    if has_totals:
        rows.append((start_label, 0.0, s0, math.nan, math.nan, "start"))
    cum = s0
    for lever, v, lo, hi in t[["lever", "value", "ci_low", "ci_high"]].itertuples(index=False):
        rows.append((_lever_label(lever), cum, v, cum + lo, cum + hi, "step"))
        cum += v
    if abs(resid) > 1e-6 * max(1.0, abs(e0)):
        rows.append(("Other / interactions", cum, resid, math.nan, math.nan, "step"))
        cum += resid
    rows.append(
        (
            end_label if has_totals else "Total gap",
            0.0 if has_totals else 0.0,
            e0 if has_totals else cum - 0.0,
            math.nan,
            math.nan,
            "end",
        )
    )
    n = len(rows)
    fig, axes = _figure(figsize=(11, max(4.5, 1.5 + 0.55 * n)))
    ax = axes[0, 0]
    xs_all = [0.0]
    for i, (lab, left, width, lo, hi, k) in enumerate(rows):
        if k == "start":
            color = SCENARIO_COLORS.get(start_label.lower(), "#555555")
        elif k == "end":
            color = SCENARIO_COLORS.get(end_label.lower(), "#555555") if has_totals else "#555555"
        elif lab == "Other / interactions":
            color = _LIGHT
        else:
            color = OKABE_ITO["bluish_green"] if width >= 0 else OKABE_ITO["reddish_purple"]
        ax.barh(i, width, left=left, height=0.62, color=color, alpha=0.95 if k != "step" else 0.9)
        xs_all += [left, left + width]
        if np.isfinite(lo) and np.isfinite(hi):
            ax.errorbar(
                [left + width],
                [i],
                xerr=[[left + width - lo], [hi - left - width]],
                fmt="none",
                ecolor="#222222",
                elinewidth=1.3,
                capsize=4,
            )
            xs_all += [lo, hi]
        if i < n - 1:
            nxt = left + width if k != "end" else width
            ax.plot([nxt, nxt], [i + 0.31, i + 0.69], color=_GREY, lw=1, ls=":")
    xmin, xmax = min(xs_all), max(xs_all)
    span = xmax - xmin or 1.0
    gap_total = e0 - s0 if has_totals else cum
    for i, (_lab, left, width, lo, hi, k) in enumerate(rows):
        txt = _fmt(width, kind, signed=(k == "step"))
        if k == "step" and np.isfinite(gap_total) and abs(gap_total) > 0:
            txt += f" · {100 * width / gap_total:.0f} %"
        far = max(left + width, hi if np.isfinite(hi) else -math.inf, left) if width >= 0 else None
        if width >= 0:
            ax.text(far + 0.012 * span, i, txt, va="center", ha="left", fontsize=12, fontweight="bold", color=_TEXT)
        else:
            near = min(left + width, lo if np.isfinite(lo) else math.inf, left)
            ax.text(near - 0.012 * span, i, txt, va="center", ha="right", fontsize=12, fontweight="bold", color=_TEXT)
    neg_labels = any(r[2] < 0 for r in rows)  # labels of negative steps sit on the left of their bar
    ax.set_xlim(xmin - (0.22 if neg_labels else 0.02) * span, xmax + 0.22 * span)
    if xmin < 0 < xmax:
        ax.axvline(0, color="#222222", lw=1)
    ax.set_yticks(range(n), [r[0] for r in rows])
    for tl, r in zip(ax.get_yticklabels(), rows, strict=True):
        if r[5] != "step":
            tl.set_fontweight("bold")
    ax.set_ylim(n - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(_axis_formatter(kind))
    unit = _unit_text(kind)
    ax.set_xlabel(_metric_axis_label(metric) if has_totals else f"Change in {label.lower()} ({unit})")
    fig.suptitle(title, x=0.01, ha="left")
    nrep = getattr(attribution, "n_replications", None)
    _note(
        fig,
        "Steps: Shapley value of each lever"
        + (f" (mean of {nrep} replications)" if nrep else "")
        + " and its share of the gap; whiskers: 95 % CI.",
    )
    return fig


# ============================================================================================== sweeps
def _metric_rows(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    if "metric" in df.columns:
        return df[df["metric"].astype(str) == metric]
    return df


def _line_band(ax: Any, x: np.ndarray, m: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str, label: str) -> None:
    order = np.argsort(x, kind="stable")
    x, m, lo, hi = x[order], m[order], lo[order], hi[order]
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.sum() >= 2:
        ax.fill_between(x[ok], lo[ok], hi[ok], color=color, alpha=0.2, linewidth=0)
    elif ok.any():
        ax.errorbar(x[ok], m[ok], yerr=[m[ok] - lo[ok], hi[ok] - m[ok]], fmt="none", ecolor=color, capsize=4)
    fin = np.isfinite(m)
    ax.plot(x[fin], m[fin], color=color, marker="o", lw=2.5, ms=6, label=label)


def _field_kind(field: str) -> str:
    """Unit kind of a swept field: 'money' (budgets, costs), 'share' (budget shares) or '' (plain number)."""
    if field.startswith("marketing.shares.") or field.endswith("_share"):
        return "share"
    if "budget" in field or "cost" in field:
        return "money"
    return ""


def _field_value(field: str, v: Any) -> str:
    """A swept field's value for labels: '900k', '30 %', '8', 'batch'."""
    x = _f(v)
    if not np.isfinite(x) or isinstance(v, str | bool):
        return str(v)
    kind = _field_kind(field)
    if kind == "share" and 0 <= x <= 1:
        return f"{100 * x:g} %"
    if kind == "money":
        return (CURRENCY or "") + _human(x, strip=True)
    return f"{x:g}"


def _group_colors(n: int, ordered: bool) -> list[str]:
    """Line colours for the levels of a second swept field: a viridis ramp for ordered (numeric) levels,
    otherwise Okabe-Ito colours other than the scenario colours blue and vermillion."""
    if n <= 1:
        return [OKABE_ITO["blue"]]
    if ordered:
        cmap = mpl.colormaps["viridis"]
        return [mpl.colors.to_hex(cmap(0.78 - 0.7 * i / (n - 1))) for i in range(n)]
    pal = [c for c in _PALETTE if c not in (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["yellow"])]
    return [pal[i % len(pal)] for i in range(n)]


def _curve_panel(ax: Any, df: pd.DataFrame, x: str, metric: str, annotate_best: bool = True) -> bool:
    """One metric against one swept field (one line per combination of the other fields); False if no data."""
    sub = _metric_rows(df, metric)
    if sub.empty or x not in sub.columns or "mean" not in sub.columns or not np.isfinite(sub["mean"]).any():
        _blank(ax, f"{_metric_info(metric)[0]}: no values")
        return False
    label, kind, better = _metric_info(metric)
    sc = _scale(kind)
    keys = [c for c in _key_columns(df) if c not in (x, "point")]
    keys = [c for c in keys if c in sub.columns and sub[c].nunique(dropna=False) > 1]
    xv = pd.to_numeric(sub[x], errors="coerce")
    categorical = bool(xv.isna().any()) or sub[x].map(lambda v: isinstance(v, bool)).any()
    cats = list(dict.fromkeys(sub[x].astype(str))) if categorical else []
    xkind = "" if categorical else _field_kind(x)
    share_x = xkind == "share" and _is_share_field(x, xv.to_numpy(float))
    groups = list(sub.groupby(keys, sort=True, dropna=False)) if keys else [((), sub)]
    ordered = len(keys) == 1 and pd.to_numeric(sub[keys[0]], errors="coerce").notna().all()
    colors = _group_colors(len(groups), ordered)
    best_pts = []
    for gi, (key, g) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        lab = ", ".join(
            f"{_field_label(k).split(' (')[0]} = {_field_value(k, v)}" for k, v in zip(keys, key, strict=True)
        )
        if categorical:
            xs = np.array([cats.index(v) for v in g[x].astype(str)], float)
        else:
            xs = pd.to_numeric(g[x]).to_numpy(float) * (100 if share_x else 1)
        m = g["mean"].to_numpy(float) * sc
        lo = (g["ci_low"].to_numpy(float) if "ci_low" in g else np.full(len(g), np.nan)) * sc
        hi = (g["ci_high"].to_numpy(float) if "ci_high" in g else np.full(len(g), np.nan)) * sc
        _line_band(ax, xs, m, lo, hi, colors[gi], lab)
        if np.isfinite(m).any():
            j = int(np.nanargmax(m) if better >= 0 else np.nanargmin(m))
            best_pts.append((m[j], xs[j]))
    if categorical:
        ax.set_xticks(range(len(cats)), cats)
    elif xkind == "money":
        ax.xaxis.set_major_formatter(_axis_formatter("money"))
    elif share_x:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} %"))
    if annotate_best and better != 0 and best_pts:
        v, bx = (max if better > 0 else min)(best_pts, key=lambda p: p[0])
        ax.plot([bx], [v], marker="*", ms=18, color=OKABE_ITO["orange"], mec="#222222", mew=0.8, zorder=5)
        if categorical:
            xl = cats[int(bx)]
        else:
            xl = _field_value(x, bx / 100 if share_x else bx)
        ax.annotate(
            f"{'best' if better > 0 else 'lowest'}: {_fmt(v / sc, kind)}\nat {xl}",
            xy=(bx, v),
            xytext=(0, 14),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=11,
            color=_TEXT,
            fontweight="bold",
        )
        ax.margins(y=0.22)
    ax.yaxis.set_major_formatter(_axis_formatter(kind))
    if not categorical and np.allclose(xv, np.round(xv)) and not share_x and xkind != "money":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    lows = pd.to_numeric(sub["ci_low"], errors="coerce") if "ci_low" in sub else sub["mean"]
    if (np.nanmin(np.concatenate([lows.to_numpy(float), sub["mean"].to_numpy(float)])) >= 0) and kind in (
        "share",
        "count",
        "money",
        "days",
        "hours",
    ):
        ax.set_ylim(bottom=0)
    if keys:
        ax.legend(fontsize=11, loc="best")
    return True


@_presentation
def budget_response(
    summary: Any, x: str = "marketing.budget_per_year", metric: str = "profit", *, title: str | None = None
) -> Figure:
    """Mean ``metric`` (with its 95 % CI band) against one swept field ``x``; the best point is starred.
    Other swept fields with several values give one line each.

    ``summary``: ``Experiment.summary`` of a sweep (point, one column per field, metric, mean, ci_low, ci_high),
    the Experiment, or a table without a ``metric`` column (e.g. ``BudgetResult.table``: one row per split)."""
    label, kind, _ = _metric_info(metric)
    title = title or f"{label} as {_field_label(x).split(' (')[0].lower()} changes"
    df = _tidy_summary(summary)
    if df.empty or x not in df.columns or _metric_rows(df, metric).empty:
        return _no_data(title, "empty sweep table" if df.empty else f"no {metric!r} values against {x!r}")
    fig, axes = _figure()
    ax = axes[0, 0]
    _curve_panel(ax, df, x, metric)
    ax.set_xlabel(_field_label(x))
    ax.set_ylabel(_metric_axis_label(metric))
    fig.suptitle(title, x=0.01, ha="left")
    _note(fig, "Line: mean over replications; band: 95 % confidence interval.")
    return fig


@_presentation
def budget_heatmap(summary: Any, x: str, y: str, metric: str = "profit", *, title: str | None = None) -> Figure:
    """Mean ``metric`` over a grid of two swept fields, each cell annotated, the best cell outlined."""
    label, kind, better = _metric_info(metric)
    short = [_field_label(f).split(" (")[0].lower() for f in (x, y)]
    title = title or f"{label} over {short[0]} × {short[1]}"
    df = _tidy_summary(summary)
    sub = _metric_rows(df, metric) if not df.empty else df
    if sub.empty or x not in sub.columns or y not in sub.columns or "mean" not in sub.columns:
        return _no_data(title, "empty sweep table" if df.empty else f"no {metric!r} values over {x!r} × {y!r}")
    grid = sub.pivot_table(index=y, columns=x, values="mean", aggfunc="mean", dropna=False)
    grid = grid.sort_index(axis=0).sort_index(axis=1)
    z = grid.to_numpy(float) * _scale(kind)
    if not np.isfinite(z).any():
        return _no_data(title, "all values are NaN")
    fig, axes = _figure(figsize=(10, 6))
    ax = axes[0, 0]
    zmin, zmax = float(np.nanmin(z)), float(np.nanmax(z))
    if zmin < 0 < zmax:
        norm = TwoSlopeNorm(vcenter=0.0, vmin=zmin, vmax=zmax)
        cmap = mpl.colormaps["RdBu"]
    else:
        norm = mpl.colors.Normalize(vmin=zmin, vmax=zmax if zmax > zmin else zmin + 1)
        cmap = mpl.colormaps["viridis"]
    im = ax.imshow(np.ma.masked_invalid(z), origin="lower", aspect="auto", cmap=cmap, norm=norm)
    ny, nx = z.shape
    fs = 13 if nx * ny <= 30 else (11 if nx * ny <= 64 else 9)
    for i in range(ny):
        for j in range(nx):
            v = z[i, j]
            if not np.isfinite(v):
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=fs, color=_GREY)
                continue
            r, g, b, _ = cmap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(
                j,
                i,
                _fmt(v / _scale(kind), kind),
                ha="center",
                va="center",
                fontsize=fs,
                color="white" if dark else "#111111",
            )
    if better != 0:
        flat = np.where(np.isfinite(z), z, -np.inf if better > 0 else np.inf)
        bi, bj = np.unravel_index(np.argmax(flat) if better > 0 else np.argmin(flat), z.shape)
        ax.add_patch(Rectangle((bj - 0.48, bi - 0.48), 0.96, 0.96, fill=False, edgecolor="#111111", lw=3.5))
        ax.texts[int(bi) * nx + int(bj)].set_fontweight("bold")

    ax.set_xticks(range(nx), [_field_value(x, v) for v in grid.columns])
    ax.set_yticks(range(ny), [_field_value(y, v) for v in grid.index])
    ax.grid(False)
    ax.set_xlabel(_field_label(x))
    ax.set_ylabel(_field_label(y))
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02)
    cb.set_label(_metric_axis_label(metric))
    cb.ax.yaxis.set_major_formatter(_axis_formatter(kind))
    cb.outline.set_visible(False)
    fig.suptitle(title, x=0.01, ha="left")
    _note(fig, "Cells: mean over replications" + ("; outlined: best cell." if better else "."))
    return fig


@_presentation
def staffing_curve(
    summary: Any,
    x: str = "sales.reps",
    metrics: Sequence[str] = ("rep_utilization", "lead_wait_days", "profit"),
    *,
    title: str | None = None,
) -> Figure:
    """Small multiples against a swept field (default the number of reps): each metric's mean with a 95 % CI
    band; the best point of metrics with a direction (e.g. profit) is starred."""
    title = title or f"Sizing the sales team: {_field_label(x).split(' (')[0].lower()}"
    df = _tidy_summary(summary)
    metrics = list(metrics)
    if df.empty or x not in df.columns or not metrics:
        return _no_data(title, "empty sweep table" if df.empty else f"no swept field {x!r}")
    k = len(metrics)
    fig, axes = _figure(1, k, figsize=(max(10, 4.1 * k), 4.9), sharex=True)
    for i, metric in enumerate(metrics):
        ax = axes[0, i]
        _curve_panel(ax, df, x, metric)
        label, kind, _ = _metric_info(metric)
        unit = _unit_text(kind)
        ax.set_title(label, fontsize=14, loc="left")
        ax.set_ylabel(unit, fontsize=12)
        ax.set_xlabel(_field_label(x), fontsize=12)
    fig.suptitle(title, x=0.01, ha="left")
    _note(fig, "Lines: mean over replications; bands: 95 % confidence interval; star: best.")
    return fig


# ============================================================================================== revenue
@_presentation
def revenue_over_time(timeseries: Any, *, window: int = 4, title: str | None = None) -> Figure:
    """Weekly revenue from new and repeat customers (top) and the number of active customers (bottom).

    One scenario: stacked areas (new, repeat). Several (``{name: timeseries}``): total revenue lines (solid) and
    repeat revenue (dashed), one colour per scenario, with each total over the horizon in the legend.
    ``window``: trailing rolling mean in weeks (1 = raw weekly values)."""
    title = title or "Revenue and customers over time"
    need = {"day", "new_revenue", "repeat_revenue"}
    frames = {k: v for k, v in _frames(timeseries, "timeseries").items() if need <= set(v.columns) and not v.empty}
    frames = {k: v.sort_values("day") for k, v in frames.items() if v["day"].notna().any()}
    if not frames:
        return _no_data(title, "no weekly revenue (day, new_revenue, repeat_revenue)")
    names = list(frames)
    colors = _colors_for(names)
    has_cust = any("customers" in f.columns and f["customers"].notna().any() for f in frames.values())
    fig, axes = _figure(
        2 if has_cust else 1,
        1,
        figsize=(10, 6.6 if has_cust else 5.0),
        sharex=True,
        gridspec_kw={"height_ratios": [2.2, 1]} if has_cust else None,
    )
    ax = axes[0, 0]
    w = max(1, int(window))

    def smooth(s: pd.Series) -> np.ndarray:
        return s.astype(float).rolling(w, min_periods=1).mean().to_numpy(float)

    xmax, top = 0.0, 0.0
    for name in names:
        f = frames[name]
        x = f["day"].to_numpy(float)
        width = float(x[1] - x[0]) if x.size > 1 else 7.0
        xmax = max(xmax, float(np.nanmax(x)) + width)
        new, rep = np.nan_to_num(smooth(f["new_revenue"])), np.nan_to_num(smooth(f["repeat_revenue"]))
        tot_new, tot_rep = float(np.nansum(f["new_revenue"])), float(np.nansum(f["repeat_revenue"]))
        # raw weekly values are step functions over their bin; smoothed values are drawn at the bin's end
        xs, step = (x, "post") if w == 1 else (x + width, None)
        if len(names) == 1:
            ax.stackplot(
                xs,
                new,
                rep,
                colors=[OKABE_ITO["blue"], OKABE_ITO["orange"]],
                alpha=0.85,
                step=step,
                labels=[f"New customers ({_fmt(tot_new, 'money')})", f"Repeat purchases ({_fmt(tot_rep, 'money')})"],
            )
        else:
            ds = "steps-post" if w == 1 else "default"
            ax.plot(
                xs,
                new + rep,
                color=colors[name],
                lw=2.5,
                drawstyle=ds,
                label=f"{_title_name(name)}: total ({_fmt(tot_new + tot_rep, 'money')})",
            )
            ax.plot(
                xs,
                rep,
                color=colors[name],
                lw=1.8,
                ls="--",
                drawstyle=ds,
                label=f"{_title_name(name)}: repeat ({_fmt(tot_rep, 'money')})",
            )
        top = max(top, float(np.max(new + rep)) if new.size else 0.0)
    ax.set_ylabel(f"Revenue per week ({_money_unit()})")
    ax.yaxis.set_major_formatter(_axis_formatter("money"))
    ax.set_ylim(0, top * 1.32 if top > 0 else 1.0)  # headroom for the legend
    ax.legend(loc="upper left", ncol=2, fontsize=12)
    fig.suptitle(title + (f" ({w}-week rolling mean)" if w > 1 else ", weekly"), x=0.01, ha="left")
    if has_cust:
        ax2 = axes[1, 0]
        ctop = 0.0
        for name in names:
            f = frames[name]
            if "customers" in f.columns:
                x = f["day"].to_numpy(float)
                width = float(x[1] - x[0]) if x.size > 1 else 7.0
                c = f["customers"].to_numpy(float)
                color = colors[name] if len(names) > 1 else _TEXT
                ax2.plot(x + width, c, color=color, lw=2.2)  # counted at the end of each week
                if np.isfinite(c).any():
                    ctop = max(ctop, float(np.nanmax(c)))
        ax2.set_ylabel("Active customers\n(count)")
        ax2.yaxis.set_major_formatter(_axis_formatter("count"))
        ax2.set_ylim(0, ctop * 1.15 if ctop > 0 else 1.0)
        ax2.set_xlabel(_DAY_LABEL)
    else:
        ax.set_xlabel(_DAY_LABEL)
    ax.set_xlim(0, xmax)
    return fig


# ============================================================================================== speed to lead
_HBR_FIRST_VS_SECOND_HOUR = 7.0
_HBR_FIRST_HOUR_VS_DAY = 60.0


def _bucket_mean(decay: float, floor: float, a: float, b: float) -> float:
    """Mean of floor + (1 - floor) exp(-d / decay) over d uniform in [a, b] hours (b may be inf: the floor)."""
    if not np.isfinite(b):
        return floor
    return floor + (1 - floor) * decay * (math.exp(-a / decay) - math.exp(-b / decay)) / (b - a)


def _observed_buckets(observed: Any) -> pd.DataFrame:
    """Normalise the observed table to columns lo, hi (hours), rate. Also accepts the dict of
    `simfunnel.validation.speed_to_lead_measure` (its ``share_<bucket>`` entries)."""
    if observed is None:
        return pd.DataFrame({c: pd.Series([], dtype=float) for c in ("lo", "hi", "rate")})
    if isinstance(observed, Mapping):
        shares = {k[len("share_") :]: v for k, v in observed.items() if str(k).startswith("share_")}
        observed = pd.Series(shares or dict(observed), dtype=float)
    if isinstance(observed, pd.Series):
        observed = observed.rename("rate").rename_axis("bucket").reset_index()
    if not isinstance(observed, pd.DataFrame) or observed.empty:
        return pd.DataFrame({c: pd.Series([], dtype=float) for c in ("lo", "hi", "rate")})
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


@_presentation
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
    decay_hours, floor = _f(decay_hours), _f(floor)
    if not (np.isfinite(decay_hours) and decay_hours > 0 and np.isfinite(floor) and 0 <= floor <= 1):
        return _no_data(title, f"invalid parameters decay_hours={decay_hours}, floor={floor}")
    max_hours = max(float(max_hours), 25.0)
    zoom = min(max(float(zoom_hours), 2.0), max_hours)
    fig, axes = _figure(1, 2, figsize=(12, 5.8), sharey=True, gridspec_kw={"width_ratios": [1, 1.25]})
    engaged = lambda d: floor + (1 - floor) * np.exp(-d / decay_hours)  # noqa: E731
    b1 = _bucket_mean(decay_hours, floor, 0, 1)
    b2 = _bucket_mean(decay_hours, floor, 1, 2)
    b24 = _bucket_mean(decay_hours, floor, 24, math.inf)
    obs = _observed_buckets(observed)
    obs = obs[np.isfinite(obs["rate"]) & np.isfinite(obs["lo"])].reset_index(drop=True)
    factor = 1.0
    if not obs.empty and scale_observed:
        f0 = obs.iloc[0]
        hi0 = float(f0["hi"]) if np.isfinite(f0["hi"]) else math.inf
        model0 = _bucket_mean(decay_hours, floor, float(f0["lo"]), hi0) if hi0 > f0["lo"] else float(engaged(f0["lo"]))
        factor = model0 / float(f0["rate"]) if f0["rate"] > 0 else 1.0
    y_floor = 100 * min(floor if floor > 0 else float(engaged(max_hours)), b24 if b24 > 0 else 1.0)
    for ax, xmax in ((axes[0, 0], zoom), (axes[0, 1], max_hours)):
        d = np.linspace(0, xmax, 600)
        ax.plot(d, 100 * engaged(d), color=OKABE_ITO["blue"], lw=3, label="Model: engaged(d)", zorder=4)
        for a, b, v, lab in ((0, 1, b1, "within 1 h"), (1, 2, b2, "1-2 h"), (24, max_hours, b24, "24 h or more")):
            if a >= xmax:
                continue
            ax.plot(
                [a, min(b, xmax)],
                [100 * v] * 2,
                color=OKABE_ITO["orange"],
                lw=6,
                solid_capstyle="butt",
                zorder=3,
                label="Model: mean over HBR bucket" if a == 0 else None,
            )
            show = (ax is axes[0, 0] and b <= xmax) or (ax is axes[0, 1] and a >= 24)
            if show:
                ax.annotate(
                    f"{lab}: {100 * v:.{1 if v >= 0.1 else 2}f} %",
                    xy=(a, 100 * v),
                    xytext=(4, 8),
                    textcoords="offset points",
                    ha="left",
                    va="bottom",
                    fontsize=12,
                    color="#7A4F00",
                    fontweight="bold",
                    zorder=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0},
                )
        if not obs.empty:
            hi = np.where(np.isfinite(obs["hi"]), obs["hi"], max_hours).astype(float)
            lo = obs["lo"].to_numpy(float)
            mid = np.where(hi > lo, (lo + hi) / 2, lo)
            y = 100 * obs["rate"].to_numpy(float) * factor
            keep = (lo < xmax) & (y > 0)
            if keep.any():
                mid_c = np.minimum(mid[keep], xmax)
                ax.errorbar(
                    mid_c,
                    y[keep],
                    xerr=[mid_c - lo[keep], np.minimum(hi[keep], xmax) - mid_c],
                    fmt="D",
                    color="#222222",
                    ms=7,
                    elinewidth=1.2,
                    capsize=3,
                    zorder=6,
                    label="Observed qualification rate" + (" (scaled)" if scale_observed else ""),
                )
        ax.set_xlim(0, xmax)
        ax.set_yscale("log")
    left, right = axes[0, 0], axes[0, 1]
    right.axvspan(0, zoom, color="#EEEEEE", zorder=0)
    left.set_xticks(np.arange(0, zoom + 1e-9, 0.5))
    left.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    right.set_xticks([t for t in (0, 6, 12, 18, 24, 36, 48, 72) if t <= max_hours])
    left.set_ylim(max(y_floor / 2.5, 1e-4), 180)
    left.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} %"))
    left.set_ylabel("Still engaged (% of hand-raisers, log scale)")
    left.set_xlabel("Response delay (hours)")
    right.set_xlabel("Response delay (hours)")
    left.set_title(f"First {zoom:g} hours", fontsize=14)
    right.set_title(f"First {max_hours:g} hours", fontsize=14)
    fmt_r = lambda r: "∞" if not np.isfinite(r) else (f"{r:.0f}×" if r >= 10 else f"{r:.1f}×")  # noqa: E731
    r12 = b1 / b2 if b2 > 0 else math.inf
    r124 = b1 / b24 if b24 > 0 else math.inf
    box = (
        "Qualification, within 1 h vs:    model   HBR 2011\n"
        f"  the second hour (1-2 h)        {fmt_r(r12):>5}      ≈ 7×\n"
        f"  24 h or more                   {fmt_r(r124):>5}     > 60×"
    )
    right.text(
        0.97,
        0.96,
        box,
        transform=right.transAxes,
        ha="right",
        va="top",
        fontsize=11.5,
        family="monospace",
        bbox={"facecolor": "white", "edgecolor": "#BBBBBB", "boxstyle": "round,pad=0.6"},
        zorder=7,
    )
    handles, labels = left.get_legend_handles_labels()
    left.legend(handles, labels, loc="lower left", fontsize=11)
    fig.suptitle(title, x=0.01, ha="left")
    _note(
        fig,
        f"engaged(d) = floor + (1 - floor) exp(-d / decay); decay = {decay_hours:g} h, floor = {floor:g}. "
        f"Grey: the range of the left panel.\n"
        "Source of the ratios: Oldroyd, McElheran & Elkington, 'The Short Life of Online Sales Leads', HBR 2011.",
    )
    return fig


# ============================================================================================== saving
def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 200, **kwargs: Any) -> Path:
    """Write ``fig`` to ``path`` (.png, .svg or .pdf; parent folders created) with reproducible bytes: the same
    figure gives the same file on every run (no dates in the metadata, a fixed SVG hash salt)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"save_figure writes .png, .svg or .pdf files, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, Any] = {
        "png": {"Software": f"matplotlib {mpl.__version__} / simfunnel"},
        "svg": {"Date": None},
        "pdf": {"CreationDate": None, "ModDate": None},
    }[fmt]
    metadata.update(kwargs.pop("metadata", {}) or {})
    kwargs.setdefault("bbox_inches", "tight")
    kwargs.setdefault("pad_inches", 0.15)
    kwargs.setdefault("facecolor", "white")
    with mpl.rc_context({"svg.hashsalt": "simfunnel", "pdf.fonttype": 42, "svg.fonttype": "path"}):
        fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata, **kwargs)
    return path
