"""One vocabulary for every layer above the model: the KPIs and the alignment levers, with their labels, units,
directions, definitions and groups.

The CLI, the report, the figures, the explorer, the experiments and the notebooks read names, labels and
groups from here, so that a KPI is called the same and a lever belongs to the same group everywhere.
`KPIS` lists every KPI of `RunResult.summary`; `LEVERS` every field of `Scenario.organisation` that a strategist
switches between the siloed and the aligned organisation; `LEVER_GROUPS` is the one grouping used for attribution.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "HEADLINES",
    "KPIS",
    "KPI_SECTIONS",
    "LEVERS",
    "LEVER_GROUPS",
    "UNITS",
    "KPI",
    "Lever",
    "UnknownNameError",
    "check_kpi",
    "check_lever",
    "kpi",
    "lever",
    "lever_group_label",
    "lever_settings",
]

Unit = Literal["count", "money", "share", "days", "hours", "ratio", "seconds"]
UNITS: Mapping[str, str] = MappingProxyType(
    {"count": "count", "money": "currency", "share": "%", "days": "days", "hours": "hours", "ratio": "×",
     "seconds": "s"}
)  # fmt: skip
"""Unit kind -> the text shown after a value or on an axis ("currency" is replaced by the currency symbol)."""


class UnknownNameError(KeyError, ValueError):
    """A KPI or lever name that is not in the vocabulary; the message lists the names and suggests the closest."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _unknown(kind: str, name: str, known: Iterable[str]) -> UnknownNameError:
    known = list(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return UnknownNameError(f"{name!r} is not a {kind}{hint or '.'} The {kind}s are: {', '.join(known)}")


def _entry(kind: str, name: str, table: Mapping[str, Any]) -> Any:
    """``table[name]``, else `UnknownNameError` naming the ``kind`` with a did-you-mean."""
    try:
        return table[name]
    except KeyError:
        raise _unknown(kind, name, table) from None


_DATA: dict[str, Any] = tomllib.loads((Path(__file__).with_name("vocabulary.toml")).read_text(encoding="utf-8"))
"""The registry's rows (simfunnel/vocabulary.toml: one table per KPI, lever and lever group)."""


# ============================================================================================== KPIs
@dataclass(frozen=True)
class KPI:
    """A key performance indicator of one run: its stable name, display label, unit, and which way is better
    (+1 higher, -1 lower, 0 neither: a volume or a cost that is neither good nor bad by itself)."""

    name: str
    label: str
    unit: Unit
    better: int
    definition: str

    @property
    def axis_label(self) -> str:
        """Label with its unit, for an axis or a table header: 'Profit (currency)'."""
        unit = UNITS[self.unit]
        return f"{self.label} ({unit})" if unit and self.unit != "count" else self.label


KPIS: Mapping[str, KPI] = MappingProxyType(
    {
        name: KPI(name, row["label"], row["unit"], row["better"], row["definition"])
        for name, row in _DATA["kpis"].items()
    }
)
"""Every KPI by its stable name, in display order."""

HEADLINES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "headline": ("profit", "revenue", "won", "win_rate", "contact_wait_days", "rep_utilization"),
    "cards": ("profit", "revenue", "won", "cac"),
    "waits": ("contact_wait_days", "batch_wait_days", "queue_wait_days", "callback_wait_days"),
    "explorer": ("profit", "revenue", "won", "win_rate", "contact_wait_days", "rep_utilization"),
    "table": (
        "buyers", "mqls", "sqls", "won", "lost_never_reached", "lost_dropped", "lost_too_early", "lost_too_late",
        "lost_to_competitor", "open", "revenue", "new_revenue", "repeat_revenue", "customers_end", "churn_rate",
        "referrals", "marketing_spend", "rep_cost", "profit", "cac", "roi", "marketing_roi", "win_rate",
        "mql_to_sql", "contact_wait_days", "batch_wait_days", "queue_wait_days", "callback_wait_days",
        "speed_to_lead_hours", "sales_cycle_days", "rep_utilization", "leads_followed_up", "rep_hours_wasted",
    ),
})  # fmt: skip
"""Named sets of KPIs: `headline` (figures, README), `cards` (report answer cards), `waits` (the wait split),
`explorer`, `table` (CLI and report tables; JSON and CSV carry every KPI)."""

KPI_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Money", ("profit", "revenue", "new_revenue", "repeat_revenue", "marketing_spend", "rep_cost", "cac", "roi",
               "marketing_roi")),
    ("Funnel", ("mqls", "sqls", "won", "mql_to_sql", "win_rate")),
    ("Timing", ("contact_wait_days", "batch_wait_days", "queue_wait_days", "callback_wait_days",
                "contact_wait_days_p90", "speed_to_lead_hours", "sales_cycle_days")),
    ("Capacity", ("rep_utilization", "leads_followed_up", "rep_hours_wasted")),
    ("Customers", ("customers_end", "churn_rate", "churned", "referrals")),
)  # fmt: skip
"""The report's KPI table, by section."""


def kpi(name: str) -> KPI:
    """The KPI called ``name``; `UnknownNameError` with a suggestion if there is none."""
    return _entry("KPI", name, KPIS)


def check_kpi(name: str) -> str:
    """``name`` if it is a KPI, else `UnknownNameError` ("did you mean"); for validating user input early."""
    return kpi(name).name


# ============================================================================================== levers
Setting = Literal["siloed", "aligned"]


@dataclass(frozen=True)
class Lever:
    """An alignment lever: a field of `Scenario.organisation` that differs between a siloed and an aligned firm."""

    name: str
    label: str
    description: str
    group: str

    @property
    def field(self) -> str:
        """The dotted scenario field the lever sets (for `Scenario.with_overrides` and sweeps)."""
        return f"organisation.{self.name}"

    def setting(self, which: Setting) -> Any:
        """The lever's value in the shipped ``siloed`` or ``aligned`` preset."""
        return lever_settings(which)[self.name]


_GROUPS: dict[str, tuple[str, str]] = {  # group key -> (label, what it is about)
    key: (row["label"], row["about"]) for key, row in _DATA["lever_groups"].items()
}


LEVERS: Mapping[str, Lever] = MappingProxyType(
    {name: Lever(name, row["label"], row["description"], row["group"]) for name, row in _DATA["levers"].items()}
)
"""Every alignment lever by name (a field of `Scenario.organisation`)."""

LEVER_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {label: tuple(n for n, lv in LEVERS.items() if lv.group == key) for key, (label, _) in _GROUPS.items()}
)
"""The one grouping of the levers for attribution (report, notebooks, CLI): group label -> lever names."""


def lever(name: str) -> Lever:
    """The lever called ``name``; `UnknownNameError` with a suggestion if there is none."""
    return _entry("lever", name, LEVERS)


def check_lever(name: str) -> str:
    """``name`` if it is a lever, else `UnknownNameError` ("did you mean")."""
    return lever(name).name


def lever_group_label(levers: Iterable[str]) -> str:
    """Display label of a set of levers: the group's label when it is exactly one group, else the lever labels."""
    names = tuple(levers)
    for label, members in LEVER_GROUPS.items():
        if set(members) == set(names):
            return label
    return " + ".join(LEVERS[n].label if n in LEVERS else n for n in names)


@cache
def lever_settings(which: Setting) -> Mapping[str, Any]:
    """Every lever's value in the shipped ``siloed`` or ``aligned`` preset (read from the preset, never copied)."""
    if which not in ("siloed", "aligned"):
        raise ValueError(f"which must be 'siloed' or 'aligned', got {which!r}")
    from simfunnel.scenario import load_scenario

    org = load_scenario(f"preset:{which}").organisation
    return MappingProxyType({name: getattr(org, name) for name in LEVERS})
