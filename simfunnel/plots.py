"""Slide-ready matplotlib figures of runs and experiments (re-exported from `simfunnel.present`).

Deprecated as a home: the figures live in `simfunnel.present` by family (`present.funnel`, `present.timing`,
`present.capacity`, `present.comparison`, `present.money`, `present.validation`,
`present.robustness`), their style and colours in
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
from simfunnel.compat import forward
from simfunnel.formatting import format_value
from simfunnel.present import style as _style
from simfunnel.vocabulary import KPIS as _KPIS

_FAMILIES = ("funnel", "timing", "capacity", "comparison", "money", "validation", "robustness", "style", "labels")
_forward, _dir = forward(
    [f"simfunnel.present.{family}" for family in _FAMILIES],
    {"_FIELD_LABELS": "FIELD_LABELS", "_field_label": "field_label", "_metric_info": "kpi_info",
     "_lever_label": "lever_label", "_observed_buckets": "observed_buckets"},
)  # fmt: skip
_SETTINGS = {"CURRENCY": (formatting, "CURRENCY"), "STYLE": (_style, "STYLE")}

_METRICS: dict[str, tuple[str, str, int]] = {name: (k.label, k.unit, k.better) for name, k in _KPIS.items()}
"""Deprecated: KPI -> (label, unit, better); use `simfunnel.vocabulary.KPIS`."""


def _fmt(v: Any, kind: str, signed: bool = False) -> str:
    """Deprecated: `simfunnel.formatting.format_value` (``signed`` may be given by position here)."""
    return format_value(v, kind, signed=signed)


class _PlotsModule(ModuleType):
    """This module, forwarding to `simfunnel.present`, with ``CURRENCY`` and ``STYLE`` forwarded to the one setting
    each (reads and writes)."""

    def __getattr__(self, name: str) -> Any:
        if name in _SETTINGS:
            owner, attr = _SETTINGS[name]
            return getattr(owner, attr)
        if name == "__all__":
            return sorted([*_forward("__all__"), *_SETTINGS])
        return _forward(name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_dir(), *_SETTINGS})

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SETTINGS:
            owner, attr = _SETTINGS[name]
            setattr(owner, attr, value)
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PlotsModule
