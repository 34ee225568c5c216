"""Labels and number formats of the figures, read from the one vocabulary (`simfunnel.vocabulary`) and the one
formatter (`simfunnel.formatting`): KPI labels and units, scenario-field and lever labels, axis tick formats.

Figures never format a number themselves: annotations use `simfunnel.formatting.format_value` /
`format_ci`, axis ticks the formatters here (which use the same rules).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import FuncFormatter

from simfunnel import formatting
from simfunnel.formatting import format_compact, format_value, unit_text
from simfunnel.vocabulary import KPIS, LEVER_GROUPS, LEVERS, lever_group_label

__all__ = [
    "DAY_LABEL",
    "FIELD_LABELS",
    "LEVER_LABELS",
    "axis_formatter",
    "field_kind",
    "field_label",
    "field_value",
    "is_share_field",
    "kpi_info",
    "lever_label",
    "metric_axis_label",
    "pct_formatter",
    "scale",
    "to_float",
    "wait_text",
]

DAY_LABEL = "Day of simulation (days)"

LEVER_LABELS: dict[str, str] = {name: lv.label for name, lv in LEVERS.items()}
"""Display name of each alignment lever (from `simfunnel.vocabulary.LEVERS`; kept for compatibility)."""

FIELD_LABELS: dict[str, str] = {
    "sales.reps": "Sales reps (headcount)",
    "sales.rep_cost_per_year": "Cost per rep ({money}/year)",
    "marketing.budget_per_year": "Marketing budget ({money}/year)",
    "market.buyers_per_year": "In-market buyers (per year)",
    "organisation.batch_interval_days": "Handoff batch interval (days)",
    "simulation.horizon_days": "Horizon (days)",
}
"""Axis labels of swept scenario fields that are not levers (``{money}``: the currency unit); the levers'
labels come from `simfunnel.vocabulary.LEVERS` (their description)."""


def to_float(x: Any) -> float:
    """``float(x)``, NaN when it is not a number."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


# ============================================================================================== KPIs
def kpi_info(metric: str) -> tuple[str, str, int]:
    """(label, unit, better direction) of a KPI from the vocabulary; an unknown name gets a readable label,
    no unit and no direction (figures of custom metrics still draw)."""
    k = KPIS.get(metric)
    if k is not None:
        return k.label, k.unit, k.better
    return metric.replace("_", " ").capitalize(), "", 0


def metric_axis_label(metric: str) -> str:
    """'Profit (€)', 'Win rate (won / SQL) (%)', 'Deals won': the KPI's label with its unit."""
    label, unit, _ = kpi_info(metric)
    return f"{label} ({unit_text(unit)})" if unit and unit != "count" else label


def scale(unit: str) -> float:
    """Factor from a value to its axis: shares are drawn in percent."""
    return 100.0 if unit == "share" else 1.0


def pct_formatter() -> FuncFormatter:
    """Tick labels of an axis already in percent: '2.5 %', '40 %'."""
    return FuncFormatter(lambda v, _: f"{format_compact(v, strip=True)} %")


def axis_formatter(unit: str) -> FuncFormatter:
    """Tick labels of an axis in ``unit`` (shares already scaled to percent): '2M', '40', '1,200'."""
    if unit == "money":
        return FuncFormatter(lambda x, _: format_compact(x, strip=True))
    if unit == "count":
        return FuncFormatter(lambda x, _: f"{x:,.0f}" if abs(x) >= 1 or x == 0 else f"{x:g}")
    return FuncFormatter(lambda x, _: format_compact(x, strip=True))


def wait_text(days: float) -> str:
    """A wait in its natural unit: hours below a day ('5.3 h'), else days ('2.4 d')."""
    d = to_float(days)
    return format_value(24 * d, "hours") if np.isfinite(d) and abs(d) < 1 else format_value(d, "days")


# ============================================================================================== fields
def field_label(field: str) -> str:
    """Axis label of a dotted scenario field: 'Sales reps (headcount)', 'MQL threshold (lead score, 0-1)'."""
    if field in FIELD_LABELS:
        return FIELD_LABELS[field].format(money=unit_text("money"))
    if field.startswith("marketing.shares."):
        return f"Budget share: {field.rsplit('.', 1)[1]} (%)"
    if field.startswith("organisation."):
        name = field.rsplit(".", 1)[1]
        return LEVERS[name].description if name in LEVERS else name.replace("_", " ").capitalize()
    return field.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def lever_label(lever: str) -> str:
    """Display label of a lever or of a set of levers ('pass_context+too_early'): the group's label when the
    set is exactly one group (`simfunnel.vocabulary.lever_group_label`), else the levers' labels."""
    text = str(lever)
    if text in LEVER_GROUPS or text in LEVERS:
        return text if text in LEVER_GROUPS else LEVERS[text].label
    parts = [p.strip() for p in text.replace("+", ",").split(",") if p.strip()]
    if not parts:
        return str(lever)
    known = [p if p in LEVERS else p.replace("_", " ").capitalize() for p in parts]
    return lever_group_label(known)


def field_kind(field: str) -> str:
    """Unit of a swept field: 'money' (budgets, costs), 'share' (budget shares) or '' (plain number)."""
    if field.startswith("marketing.shares.") or field.endswith("_share"):
        return "share"
    if "budget" in field or "cost" in field:
        return "money"
    return ""


def field_value(field: str, v: Any) -> str:
    """A swept field's value for labels and ticks: '900k' (with the currency symbol), '30 %', '8', 'batch'."""
    x = to_float(v)
    if not np.isfinite(x) or isinstance(v, str | bool):
        return str(v)
    kind = field_kind(field)
    if kind == "share" and 0 <= x <= 1:
        return f"{format_compact(100 * x, strip=True)} %"
    if kind == "money":
        return (formatting.CURRENCY or "") + format_compact(x, strip=True)
    return f"{x:g}"


def is_share_field(field: str, values: np.ndarray) -> bool:
    """Whether a swept field holds shares in [0, 1] (drawn in percent)."""
    return "share" in field and values.size > 0 and np.nanmin(values) >= 0 and np.nanmax(values) <= 1
