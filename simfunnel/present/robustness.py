"""Figures of "how sure are we?": what drives a policy difference across sampled worlds (`tornado`,
`sobol_bars`), how far each policy falls short of the best in groups of similar worlds (`regret_heatmap`) and
where a policy does not pay (`prim_box`). They take the outputs of `simfunnel.analysis` (an `Exploration`, its
``sensitivity`` table, a swing table of `simfunnel.analysis.oat`); empty or degenerate input gives a 'No data'
panel saying why.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from simfunnel.formatting import format_value, unit_text
from simfunnel.present.labels import axis_formatter, kpi_info, metric_axis_label
from simfunnel.present.style import GREY, LIGHT, OKABE_ITO, TEXT, figure, no_data, note, presentation

if TYPE_CHECKING:
    from simfunnel.analysis.explore import Exploration
    from simfunnel.analysis.prim import PrimBox

__all__ = ["input_label", "prim_box", "regret_heatmap", "regret_table", "sobol_bars", "top_inputs", "tornado"]

LOW_COLOR = OKABE_ITO["vermillion"]
HIGH_COLOR = OKABE_ITO["blue"]


def input_label(path: str) -> str:
    """A short readable label of an uncertain input's dotted path: 'sales.win.context' -> 'Win: context'."""
    parts = str(path).split(".")
    if len(parts) == 1:
        return parts[0].replace("_", " ")
    if parts[-1] in ("mean", "sd") and len(parts) > 2:
        group, name = parts[-3], f"{parts[-2]} ({parts[-1]})"
    else:
        group, name = parts[-2], parts[-1]
    return f"{group.replace('_', ' ').capitalize()}: {name.replace('_', ' ')}"


def _axis_label(metric: str, what: str = "") -> str:
    """'Profit (€): aligned - siloed' from an analysis' ``what`` ('profit: aligned - siloed')."""
    pair = what.split(": ", 1)[1] if ": " in what else ""
    return metric_axis_label(metric) + (f": {pair}" if pair else "")


def _range_label(row: Any) -> str:
    lo, hi = getattr(row, "low_value", np.nan), getattr(row, "high_value", np.nan)
    rng = f"\n({float(lo):.3g} -> {float(hi):.3g})" if np.isfinite(float(lo)) and np.isfinite(float(hi)) else ""
    return input_label(row.input) + rng


# ============================================================================================== tornado
@presentation
def tornado(swings: pd.DataFrame, metric: str = "profit", title: str | None = None) -> Figure:
    """One bar per input from the KPI (difference) at the input's low value to that at its high value, the
    others at their medians (a swing table of `simfunnel.analysis.oat.one_at_a_time`), largest swing on top."""
    title = title or "What moves the result, one input at a time"
    need = {"input", "low", "high"}
    if swings is None or not need <= set(swings.columns) or swings.empty:
        return no_data(title, "no one-at-a-time swings (run simfunnel.analysis.oat.one_at_a_time)")
    data = swings[np.isfinite(swings["low"].astype(float)) & np.isfinite(swings["high"].astype(float))]
    if data.empty:
        return no_data(title, "every swing failed (no finite values)")
    data = data.assign(_swing=(data["high"] - data["low"]).abs()).sort_values("_swing", kind="stable")
    centre = float(swings.attrs.get("centre", np.nan))
    _, unit, _ = kpi_info(metric)
    fig, axes = figure(figsize=(10, 1.2 + 0.6 * len(data)))
    ax = axes[0, 0]
    y = np.arange(len(data))
    ref = centre if np.isfinite(centre) else float(np.median(data[["low", "high"]].to_numpy()))
    for yi, row in zip(y, data.itertuples(), strict=True):
        bars = [(row.low, LOW_COLOR), (row.high, HIGH_COLOR)]
        for value, color in sorted(bars, key=lambda b: -abs(b[0] - ref)):  # the shorter bar on top
            ax.barh(yi, value - ref, left=ref, color=color, height=0.6)
    ax.axvline(ref, color=TEXT, lw=1.2)
    ax.set_yticks(y, [_range_label(row) for row in data.itertuples()])
    ax.xaxis.set_major_formatter(axis_formatter(unit))
    ax.set_xlabel(_axis_label(metric, str(swings.attrs.get("what", ""))))
    ax.margins(x=0.15)
    q = swings.attrs.get("quantiles")
    low_text = f"low ({q[0]:.0%} quantile)" if q else "low value"
    high_text = f"high ({q[1]:.0%} quantile)" if q else "high value"
    ax.legend(handles=[Patch(color=LOW_COLOR, label=f"input at its {low_text}"),
                       Patch(color=HIGH_COLOR, label=f"input at its {high_text}")],
              loc="lower right", fontsize=10)  # fmt: skip
    fig.suptitle(title, x=0.01, ha="left")
    if np.isfinite(centre):
        note(fig, f"Line: every input at its median ({format_value(centre, unit, signed=True)}); "
                  "in brackets: the input's low -> high value.")  # fmt: skip
    return fig


# ============================================================================================== Sobol
@presentation
def sobol_bars(table: pd.DataFrame, title: str | None = None) -> Figure:
    """First-order (S1) and total-order (ST) Sobol indices per input with their intervals (the table of
    ``Exploration.sensitivity`` on a Sobol design; a Latin-hypercube table has S1 only), largest ST first."""
    title = title or "Which assumptions drive the result (Sobol indices)"
    if table is None or table.empty or "S1" not in table.columns:
        return no_data(title, "no Sobol indices (a Morris or empty table)")
    key = "ST" if "ST" in table.columns else "S1"
    data = table[np.isfinite(table[key].astype(float))].sort_values(key, ascending=True, kind="stable")
    if data.empty:
        return no_data(title, "every index is undefined (no variance across worlds?)")
    fig, axes = figure(figsize=(10, 1.4 + 0.6 * len(data)))
    ax = axes[0, 0]
    y = np.arange(len(data))
    parts = [("S1", "first order: the input alone", OKABE_ITO["sky_blue"], -0.2)]
    if "ST" in data.columns:
        parts.append(("ST", "total: with its interactions", OKABE_ITO["blue"], 0.2))
    h = 0.38 if len(parts) == 2 else 0.6
    for col, label, color, off in parts:
        off = off if len(parts) == 2 else 0.0
        v = data[col].to_numpy(dtype=float)
        ax.barh(y + off, v, height=h, color=color, label=label)
        lo, hi = data.get(f"{col}_low"), data.get(f"{col}_high")
        if lo is not None and hi is not None:
            lo, hi = lo.to_numpy(dtype=float), hi.to_numpy(dtype=float)
            err = np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)])
            ax.errorbar(v, y + off, xerr=err, fmt="none", ecolor=TEXT, capsize=3, lw=1)
    ax.axvline(0, color=TEXT, lw=1)
    ax.set_yticks(y, [input_label(i) for i in data["input"]])
    ax.set_xlabel("Share of the variance across worlds")
    ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=10, frameon=False)
    fig.suptitle(title, x=0.01, ha="left")
    what = table.attrs.get("what")
    note(fig, (f"Explained: {what}. " if what else "") + "Whiskers: 95 % bootstrap intervals.")
    return fig


# ============================================================================================== regret
def top_inputs(exp: Exploration, metric: str = "profit", k: int = 2) -> list[str]:
    """The ``k`` inputs most associated with the difference of the first non-baseline policy to the baseline
    (absolute Spearman rank correlation across the worlds; every input when fewer than ``k``)."""
    inputs = list(exp.inputs)
    if len(exp.policies) < 2 or len(inputs) <= k:
        return inputs[:k]
    y = exp.difference(metric).dropna()
    worlds = exp.worlds.set_index("world").loc[y.index, inputs]
    ranks = worlds.rank().corrwith(y.rank()).abs().fillna(0.0)
    return list(ranks.sort_values(ascending=False, kind="stable").index[:k])


def _bins(x: pd.Series, bins: int) -> tuple[pd.Series, list[str]]:
    """Quantile bins of ``x`` ('low', 'mid', 'high' for three) as codes and their names."""
    names = {1: ["all"], 2: ["low", "high"], 3: ["low", "mid", "high"]}.get(bins, [f"q{i + 1}" for i in range(bins)])
    ranks = x.rank(method="first")
    codes = np.minimum(((ranks - 1) * bins // len(x)).astype(int), bins - 1) if len(x) else ranks.astype(int)
    return codes, names


def regret_table(
    exp: Exploration, metric: str = "profit", inputs: list[str] | None = None, bins: int = 3
) -> pd.DataFrame:
    """Mean regret (how far short of the best policy in the same world, in the KPI's unit) per policy (rows)
    and cluster of worlds (columns): quantile bins of the two ``inputs`` (default `top_inputs`).
    ``attrs``: inputs, worlds per cluster (``counts``)."""
    from simfunnel.analysis.robustness import oriented

    values, better = oriented(exp, metric)
    inputs = list(inputs or top_inputs(exp, metric))
    v = values.to_numpy(dtype=float) * better
    regret = pd.DataFrame(v.max(axis=1, keepdims=True) - v, index=values.index, columns=values.columns)
    worlds = exp.worlds.set_index("world").loc[values.index]
    labels = pd.Series("", index=values.index)
    for name in inputs:
        codes, names = _bins(worlds[name], bins)
        part = codes.map(lambda c, names=names: names[c])
        labels = part if (labels == "").all() else labels + " / " + part
    rank = {"low": 0, "mid": 1, "high": 2}
    order = sorted(labels.unique(), key=lambda s: [rank.get(w, 0) for w in s.split(" / ")])
    table = regret.groupby(labels).mean().reindex(order).T
    table.attrs.update({"inputs": inputs, "counts": labels.value_counts().reindex(order).to_dict(), "metric": metric})
    return table


@presentation
def regret_heatmap(
    exp: Exploration | None, metric: str = "profit", inputs: list[str] | None = None, bins: int = 3,
    title: str | None = None,
) -> Figure:  # fmt: skip
    """Policies x clusters of worlds (quantile bins of the two most important inputs), coloured by mean
    regret: where each policy falls short of the best, and by how much."""
    title = title or "Regret: how far each policy falls short of the best, by kind of world"
    if exp is None or exp.results.empty:
        return no_data(title, "no worlds")
    try:
        table = regret_table(exp, metric, inputs, bins)
    except ValueError as exc:
        return no_data(title, str(exc))
    if table.empty or table.shape[1] == 0:
        return no_data(title, "no world completed for every policy")
    _, unit, _ = kpi_info(metric)
    fig, axes = figure(figsize=(max(8, 1.3 * table.shape[1] + 3), 1.8 + 1.0 * table.shape[0]))
    ax = axes[0, 0]
    vals = table.to_numpy(dtype=float)
    top = np.nanmax(vals) if np.isfinite(vals).any() and np.nanmax(vals) > 0 else 1.0
    im = ax.imshow(vals, cmap="Oranges", vmin=0, vmax=top, aspect="auto")
    for (i, j), v in np.ndenumerate(vals):
        ax.text(j, i, format_value(v, unit), ha="center", va="center", fontsize=10,
                color="white" if v > 0.6 * top else TEXT)  # fmt: skip
    counts = table.attrs.get("counts", {})
    ax.set_xticks(range(table.shape[1]), [f"{c}\n({counts.get(c, 0)})" for c in table.columns], fontsize=10)
    names = " / ".join(input_label(i) for i in table.attrs.get("inputs", []))
    ax.set_xlabel(f"Worlds by {names} (number of worlds)", fontsize=11)
    ax.set_yticks(range(table.shape[0]), list(table.index))
    ax.grid(False)
    bar = fig.colorbar(im, ax=ax, fraction=0.04)
    bar.set_label(f"Mean regret ({unit_text(unit)})" if unit else "Mean regret")
    bar.formatter = axis_formatter(unit)
    bar.update_ticks()
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Columns: equal-count bins of each input (low / mid / high). 0: the best policy in every such world.")
    return fig


# ============================================================================================== PRIM
@presentation
def prim_box(
    exp: Exploration | None, box: PrimBox | None = None, metric: str = "profit", policy: str | None = None,
    versus: str | None = None, margin: float = 0.0, inputs: list[str] | None = None, title: str | None = None,
) -> Figure:  # fmt: skip
    """The worlds over two inputs (the box's restricted inputs first, then `top_inputs`), coloured by whether
    ``policy`` beats ``versus`` by more than ``margin``, with the PRIM box (``box``, default
    ``exp.discover(...)``) drawn on them."""
    title = title or "Where does it stop paying?"
    if exp is None or exp.results.empty or len(exp.policies) < 2:
        return no_data(title, "needs worlds and two policies")
    from simfunnel.analysis.robustness import oriented

    policy, versus = exp.pair(policy, versus)
    values, better = oriented(exp, metric)
    if values.empty:
        return no_data(title, "no world completed for every policy")
    gain = (values[policy] - values[versus]) * better
    if box is None and (gain <= margin).any():
        box = exp.discover(metric, policy, versus, margin=margin)
    chosen = list(inputs or [])
    if box is not None and not inputs:
        chosen = list(box.restricted["input"])[:2]
    chosen += [i for i in top_inputs(exp, metric, 2 + len(chosen)) if i not in chosen]
    if len(chosen) < 2:
        return no_data(title, "needs at least two uncertain inputs")
    xa, xb = chosen[:2]
    worlds = exp.worlds.set_index("world").loc[values.index]
    pays = (gain > margin).to_numpy()
    fig, axes = figure(figsize=(9, 7))
    ax = axes[0, 0]
    _, unit, _ = kpi_info(metric)
    edge = f" by more than {format_value(margin, unit)}" if margin else ""
    ax.scatter(worlds[xa][pays], worlds[xb][pays], s=28, color=OKABE_ITO["blue"], alpha=0.8,
               label=f"{policy} beats {versus}{edge} ({int(pays.sum())})")  # fmt: skip
    ax.scatter(worlds[xa][~pays], worlds[xb][~pays], s=40, color=OKABE_ITO["vermillion"], marker="X",
               label=(f"it adds {format_value(margin, unit)} or less" if margin > 0 else "it does not")
               + f" ({int((~pays).sum())})")  # fmt: skip
    ax.set_xlabel(input_label(xa))
    ax.set_ylabel(input_label(xb))
    if box is not None:
        _draw_box(ax, box, xa, xb)
        extra = len(box.restricted) > 2
        text = f"PRIM box: {box.describe()}" + (" (the box also limits other inputs: a dot inside the dashed "
                                                "rectangle can lie outside it)" if extra else "")  # fmt: skip
        note(fig, textwrap.fill(text, 110))
    else:
        note(fig, f"{policy} beats {versus}{edge} in every one of the {len(gain)} worlds: no box to find.")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize=10, frameon=False)
    fig.suptitle(title, x=0.01, ha="left")
    return fig


def _draw_box(ax: Any, box: PrimBox, xa: str, xb: str) -> None:
    """The box's limits on the two drawn inputs (an unrestricted input spans its whole range)."""
    lim = box.limits.set_index("input")
    if xa not in lim.index or xb not in lim.index:
        return
    (a0, a1), (b0, b1) = (lim.loc[xa, ["low", "high"]].astype(float), lim.loc[xb, ["low", "high"]].astype(float))
    ax.add_patch(Rectangle((a0, b0), a1 - a0, b1 - b0, fill=True, facecolor=LIGHT, alpha=0.25,
                           edgecolor=TEXT, lw=2, ls="--", zorder=0))  # fmt: skip
    ax.text(a0, b1, f" box: coverage {format_value(box.coverage, 'share')}, density "
            f"{format_value(box.density, 'share')}", ha="left", va="bottom", fontsize=10, color=GREY)  # fmt: skip
