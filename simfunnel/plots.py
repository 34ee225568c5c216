"""Slide-ready matplotlib figures of runs and experiments (re-exported from `simfunnel.present`).

Deprecated as a home: the figures live in `simfunnel.present` by family (`present.funnel`, `present.timing`,
`present.capacity`, `present.comparison`, `present.money`, `present.validation`), their style and colours in
`present.style`; new code imports from there. Every name this module had keeps working.

Every function takes the API's outputs (a `RunResult`, its ``summary`` dict, its ``buyers`` / ``timeseries``
tables, or an experiment's tidy ``summary`` / ``diffs`` tables), returns a `matplotlib.figure.Figure` and never
calls ``plt.show()``: in a notebook end the cell with ``plt.show()``; for a deck use `save_figure`. Empty or
all-NaN input never raises: the figure says "No data" and why.

Settings (one of each, read when a figure is drawn):

- Currency symbol: ``simfunnel.formatting.CURRENCY = "€"`` (figures, report, CLI and notebooks share it).
  ``simfunnel.plots.CURRENCY = "€"`` still works: it sets the same setting.
- Style: ``simfunnel.present.style.STYLE = None`` draws in the caller's rcParams (``simfunnel.plots.STYLE``
  sets the same); `use_presentation_style` makes the presentation style global.

Old private names kept as aliases: ``_METRICS`` (use `simfunnel.vocabulary.KPIS`), ``_metric_info`` (use
`present.labels.kpi_info`), ``_fmt`` (use `simfunnel.formatting.format_value`), ``_lever_label``,
``_field_label``, ``_FIELD_LABELS`` (use `present.labels.lever_label`, `field_label`, `FIELD_LABELS`) and
``_observed_buckets`` (use `present.timing.observed_buckets`).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from simfunnel import formatting
from simfunnel.formatting import format_value
from simfunnel.present import style as _style
from simfunnel.present.capacity import rep_utilization, staffing_curve
from simfunnel.present.comparison import attribution_waterfall, compare_kpis, paired_differences
from simfunnel.present.funnel import funnel, journey_timeline, lost_reasons
from simfunnel.present.labels import FIELD_LABELS as _FIELD_LABELS
from simfunnel.present.labels import LEVER_LABELS
from simfunnel.present.labels import field_label as _field_label
from simfunnel.present.labels import kpi_info as _metric_info
from simfunnel.present.labels import lever_label as _lever_label
from simfunnel.present.money import acquisition_stop, budget_heatmap, budget_response, budget_splits, revenue_over_time
from simfunnel.present.style import (
    OKABE_ITO,
    SCENARIO_COLORS,
    STATE_COLORS,
    STATE_LABELS,
    save_figure,
    scenario_colors,
    use_presentation_style,
)
from simfunnel.present.timing import contact_wait, lead_wait, speed_to_lead_curve
from simfunnel.present.timing import observed_buckets as _observed_buckets
from simfunnel.present.validation import erlang_c
from simfunnel.vocabulary import KPIS as _KPIS

__all__ = [
    "CURRENCY",  # noqa: F822 (a setting forwarded by _PlotsModule)
    "LEVER_LABELS",
    "OKABE_ITO",
    "SCENARIO_COLORS",
    "STATE_COLORS",
    "STATE_LABELS",
    "STYLE",  # noqa: F822
    "acquisition_stop",
    "attribution_waterfall",
    "budget_heatmap",
    "budget_response",
    "budget_splits",
    "compare_kpis",
    "contact_wait",
    "erlang_c",
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

_METRICS: dict[str, tuple[str, str, int]] = {name: (k.label, k.unit, k.better) for name, k in _KPIS.items()}
"""Deprecated: KPI -> (label, unit, better); use `simfunnel.vocabulary.KPIS`."""


def _fmt(v: Any, kind: str, signed: bool = False) -> str:
    """Deprecated: `simfunnel.formatting.format_value` (``signed`` may be given by position here)."""
    return format_value(v, kind, signed=signed)


_ALIASES = (_fmt, _FIELD_LABELS, _field_label, _metric_info, _lever_label, _observed_buckets)  # kept public above
_SETTINGS = {"CURRENCY": (formatting, "CURRENCY"), "STYLE": (_style, "STYLE")}


class _PlotsModule(ModuleType):
    """This module, with ``CURRENCY`` and ``STYLE`` forwarded to the one setting each (reads and writes)."""

    def __getattr__(self, name: str) -> Any:
        if name in _SETTINGS:
            owner, attr = _SETTINGS[name]
            return getattr(owner, attr)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SETTINGS:
            owner, attr = _SETTINGS[name]
            setattr(owner, attr, value)
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PlotsModule
