"""Figures of model validation: the simulated rep pool against queueing theory (Erlang C). The speed-to-lead
check is drawn by `simfunnel.present.timing.speed_to_lead_curve`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simfunnel.formatting import format_compact
from simfunnel.present.labels import pct_formatter
from simfunnel.present.style import figure, no_data, note, presentation, scenario_colors

__all__ = ["ERLANG_METRICS", "erlang_c"]

ERLANG_METRICS: dict[str, tuple[str, str, float]] = {
    "p_wait": ("Chance of waiting", "Leads that wait for a rep (%)", 100.0),
    "wq_hours": ("Mean wait", "Mean wait for a rep (minutes, log scale)", 60.0),
}
"""Metric of the Erlang C table -> (panel title, axis label, factor to the axis unit)."""


def _theory_lines(ax: Any, metric: str, reps: list[int], grid: np.ndarray, theory: Callable, colors: dict) -> None:
    factor = ERLANG_METRICS[metric][2]
    for c in reps:
        values = np.asarray([theory(c, float(r))[metric] for r in grid], dtype=float)
        ax.plot(100 * grid, factor * values, color=colors[c], lw=2.5, label=f"Erlang C, {c} reps")


def _simulated_points(ax: Any, table: pd.DataFrame, metric: str, reps: list[int], colors: dict) -> None:
    factor = ERLANG_METRICS[metric][2]
    for c in reps:
        sub = table[(table["reps"] == c) & (table["metric"] == metric)].sort_values("utilisation")
        if sub.empty:
            continue
        m = factor * sub["simulated"].to_numpy(float)
        lo = factor * sub["ci_low"].to_numpy(float) if "ci_low" in sub else m
        hi = factor * sub["ci_high"].to_numpy(float) if "ci_high" in sub else m
        ax.errorbar(100 * sub["utilisation"].to_numpy(float), m, yerr=[m - lo, hi - m], fmt="o", color=colors[c],
                    mfc="white", mew=2, ms=8, capsize=4, label=f"simulated, {c} reps")  # fmt: skip


@presentation
def erlang_c(
    table: pd.DataFrame,
    theory: Callable[[int, float], Mapping[str, float]] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """The simulated rep pool against Erlang C (M/M/c): the chance a lead waits for a rep and the mean wait,
    against the reps' utilisation; lines: theory per team size, dots: simulated means with their 95 % CI.

    ``table``: one row per (``reps``, ``utilisation``, ``metric``) with ``metric`` in ``p_wait`` / ``wq_hours``
    and columns ``simulated``, ``ci_low``, ``ci_high``. ``theory(reps, utilisation)``: a dict with ``p_wait``
    and ``wq_hours`` (default `simfunnel.validation.mmc_theory`, mean first call 1 h)."""
    title = title or "The rep pool against Erlang C (M/M/c, mean first call 1 h)"
    need = {"reps", "utilisation", "metric", "simulated"}
    if not isinstance(table, pd.DataFrame) or table.empty or not need <= set(table.columns):
        return no_data(title, f"no simulated queue (columns {', '.join(sorted(need))})")
    if theory is None:
        from simfunnel.validation import mmc_theory as theory
    reps = sorted(int(c) for c in table["reps"].unique())
    by_name = scenario_colors([f"c={c}" for c in reps])
    colors = {c: by_name[f"c={c}"] for c in reps}
    util = table["utilisation"].to_numpy(float)
    grid = np.linspace(min(0.3, float(np.nanmin(util))), max(0.95, float(np.nanmax(util))), 200)
    fig, axes = figure(1, 2, figsize=(13, 5))
    for ax, metric in zip(axes[0], ERLANG_METRICS, strict=True):
        panel, ylabel, _ = ERLANG_METRICS[metric]
        _theory_lines(ax, metric, reps, grid, theory, colors)
        _simulated_points(ax, table, metric, reps, colors)
        ax.set_title(panel, fontsize=15)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("Rep utilisation rho (%)")
        ax.xaxis.set_major_formatter(pct_formatter())
    axes[0, 0].yaxis.set_major_formatter(pct_formatter())
    axes[0, 1].set_yscale("log")
    axes[0, 1].yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_compact(v, strip=True)))
    axes[0, 0].legend(fontsize=11)
    fig.suptitle(title, x=0.01, ha="left")
    note(fig, "Lines: Erlang C; dots: simulated mean over replications with its 95 % confidence interval.")
    return fig
