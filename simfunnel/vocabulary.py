"""One vocabulary for every layer above the model: the KPIs and the alignment levers, with their labels, units,
directions, definitions and groups.

The CLI, the report, the figures, the explorer, the experiments and the notebooks read names, labels and
groups from here, so that a KPI is called the same and a lever belongs to the same group everywhere.
`KPIS` lists every KPI of `RunResult.summary`; `LEVERS` every field of `Scenario.organisation` that a strategist
switches between the siloed and the aligned organisation; `LEVER_GROUPS` is the one grouping used for attribution.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
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


def _k(name: str, label: str, unit: Unit, better: int, definition: str) -> tuple[str, KPI]:
    return name, KPI(name, label, unit, better, definition)


KPIS: Mapping[str, KPI] = MappingProxyType(dict([
    _k("buyers", "In-market buyers", "count", 0, "Buyers who entered the market in the horizon (after any warm-up), reached by us or not."),
    _k("engaged", "Engaged buyers", "count", 1, "Buyers reached by marketing (anonymous engagement)."),
    _k("known", "Known buyers", "count", 1, "Engaged buyers who identified themselves (anonymous -> known)."),
    _k("mqls", "MQLs (leads)", "count", 0,
       "Marketing-qualified leads: known buyers whose lead score crossed the MQL threshold, plus hand-raisers "
       "and referrals."),
    _k("sqls", "SQLs", "count", 1, "Sales-qualified leads: leads a rep contacted and qualified."),
    _k("won", "Deals won", "count", 1, "First purchases from us (repeat purchases are counted separately)."),
    _k("lost_never_reached", "Never reached", "count", -1, "Buyers marketing never reached; they bought elsewhere."),
    _k("lost_dropped", "Dropped", "count", -1,
       "Leads handed to sales that no rep followed up (the lead black hole, Sabnis et al. 2013)."),
    _k("lost_too_early", "Too early", "count", -1,
       "Leads contacted before the buyer was ready and written off (siloed: dropped, not recycled)."),
    _k("lost_too_late", "Too late", "count", -1,
       "Leads contacted after the buyer's deadline or after the buyer went cold."),
    _k("lost_to_competitor", "Lost to competitor", "count", -1,
       "Buyers who committed to a competitor before we won them, or whose deal was lost."),
    _k("open", "Open at horizon", "count", 0, "Buyers still in their purchase process at the end of the horizon."),
    _k("revenue", "Revenue", "money", 1, "New-customer plus repeat revenue booked in the horizon."),
    _k("new_revenue", "New-customer revenue", "money", 1, "Revenue of first purchases (deals won)."),
    _k("repeat_revenue", "Repeat revenue", "money", 1, "Revenue of repeat purchases by customers."),
    _k("repeat_purchases", "Repeat purchases", "count", 1, "Number of repeat purchases."),
    _k("customers_end", "Customers at the end", "count", 1, "Active customers at the end of the horizon."),
    _k("churned", "Customers churned", "count", -1,
       "Customers who left in the horizon (a count: compare firms of different size by `churn_rate`)."),
    _k("churn_rate", "Churn rate", "share", -1,
       "Customers churned / customers who had a repurchase decision in the horizon."),
    _k("referrals", "Referrals", "count", 1, "Referral leads customers brought in."),
    _k("marketing_spend", "Marketing spend", "money", 0, "Marketing budget spent (channels, nurture, retention, "
       "training)."),
    _k("rep_cost", "Sales rep cost", "money", 0, "Reps x cost per rep x horizon in years."),
    _k("profit", "Profit", "money", 1, "Gross margin x revenue - marketing spend - rep cost."),
    _k("cac", "Cost per won customer (CAC)", "money", -1, "(Marketing spend + rep cost) / deals won."),
    _k("roi", "Return on go-to-market spend", "ratio", 1,
       "(Gross margin x revenue from customers acquired in the run - marketing spend - rep cost) / "
       "(marketing spend + rep cost)."),
    _k("marketing_roi", "Marketing ROI", "ratio", 1,
       "(Gross margin x revenue from marketing-sourced customers acquired in the run - marketing spend) / "
       "marketing spend."),
    _k("win_rate", "Win rate (won / SQL)", "share", 1, "Deals won / sales-qualified leads."),
    _k("mql_to_sql", "MQL → SQL conversion", "share", 1, "SQLs / MQLs."),
    _k("contact_wait_days", "Wait for first contact", "days", -1,
       "Mean days from becoming a lead (MQL or hand-raise) to the first contact by a rep, over contacted leads: "
       "batching + queueing + planned call-back."),
    _k("contact_wait_days_p90", "Wait for first contact, 90th percentile", "days", -1,
       "90th percentile of the wait from becoming a lead to the first contact."),
    _k("batch_wait_days", "… of which batching", "days", -1,
       "Mean days from becoming a lead to being handed to sales (the weekly list in a siloed firm)."),
    _k("queue_wait_days", "… of which queueing for a rep", "days", -1,
       "Mean days from joining the reps' queue to the first contact (capacity wait)."),
    _k("callback_wait_days", "… of which planned call-back", "days", -1,
       "Mean days a rep deliberately waits to call when the buyer is expected to be ready (aligned)."),
    _k("lead_wait_days", "Handoff → first contact (legacy)", "days", -1,
       "Mean days from handoff to first contact; kept for compatibility (excludes batching, includes call-backs)."),
    _k("lead_wait_days_p90", "Handoff → first contact, p90 (legacy)", "days", -1,
       "90th percentile of the handoff -> first contact wait; kept for compatibility."),
    _k("speed_to_lead_hours", "Speed to lead (hand-raisers)", "hours", -1,
       "Mean hours from a hand-raise or referral to the first contact (Oldroyd et al., HBR 2011)."),
    _k("sla_breach_share", "SLA breaches (hand-raisers)", "share", -1,
       "Share of hand-raisers and referrals first contacted after the response SLA (working hours); NaN without one."),
    _k("sales_cycle_days", "Sales cycle, contact → close", "days", -1, "Mean days from first contact to a won deal."),
    _k("rep_utilization", "Rep utilisation", "share", 0, "Share of the reps' working hours spent on activities."),
    _k("leads_followed_up", "Leads followed up by sales", "share", 1,
       "Share of leads handed to sales that a rep chose to follow up."),
    _k("rep_hours", "Rep hours worked", "hours", 0, "Hours reps spent on activities."),
    _k("rep_hours_wasted", "Rep hours wasted", "hours", -1, "Rep hours spent on contacts that were too early or "
       "too late."),
    _k("sim_events", "Simulation events", "count", 0, "SimPy events processed (a cost of the run, not a result)."),
    _k("wall_seconds", "Wall time", "seconds", -1, "Seconds the run took (varies by machine; never compared)."),
]))  # fmt: skip
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
    "lead_definition": ("Lead definition + CRM feedback", "what counts as a lead, and learning from the outcomes"),
    "handoff": ("Handoff timing + context + recycling", "when and with what information a lead reaches a rep"),
    "response": ("Response SLA + deadline-first queue", "how fast and in which order reps respond"),
    "skills": ("Rep training + post-sale follow-up", "rep skill and after-sales care"),
}


def _l(name: str, label: str, description: str, group: str) -> tuple[str, Lever]:
    return name, Lever(name, label, description, group)


LEVERS: Mapping[str, Lever] = MappingProxyType(dict([
    _l("mql_threshold", "Agreed MQL threshold", "MQL threshold (lead score, 0-1)", "lead_definition"),
    _l("crm_logging", "CRM feedback", "CRM logging (share of outcomes)", "lead_definition"),
    _l("handoff", "Real-time handoff", "Handoff of leads to sales", "handoff"),
    _l("pass_context", "Context at handoff", "Context passed at handoff", "handoff"),
    _l("too_early", "Recycle too-early leads", "Leads called too early", "handoff"),
    _l("response_sla_hours", "Response SLA", "Response SLA for hand-raisers (working hours)", "response"),
    _l("queue_policy", "Deadline-first queue", "Order in which reps work their queue", "response"),
    _l("rep_training", "Rep training", "Rep training by marketing", "skills"),
    _l("post_sale_followup", "Post-sale follow-up", "Post-sale follow-up by reps", "skills"),
]))  # fmt: skip
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
