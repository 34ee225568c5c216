"""MkDocs hook: reference tables generated from the code at build time, so the docs cannot drift from it.

A page asks for a table with an HTML comment on a line of its own:

- ``<!-- simfunnel:scenario-fields -->``: every scenario field (dotted path, type, unit, default, bounds,
  description) walked from the pydantic models in `simfunnel.scenario`;
- ``<!-- simfunnel:kpis -->``: every KPI of `simfunnel.metrics.SUMMARY_KEYS` with its unit and definition, taken
  from the registry `simfunnel.vocabulary.KPIS` when that module exists, else from `FALLBACK_KPIS` below;
- ``<!-- simfunnel:levers -->``: the organisation levers with their values in the siloed and aligned presets;
- ``<!-- simfunnel:presets -->``: the scenario files in ``scenarios/`` with a few headline parameters;
- ``<!-- simfunnel:crm-fields -->``: the canonical CRM columns of `simfunnel.data.fields` and the recognised
  export headers of each.

A KPI without a definition is logged as a warning, which fails ``mkdocs build --strict`` (and so CI).
"""

from __future__ import annotations

import importlib
import logging
import math
import sys
import typing
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # document the checkout being built, not whatever simfunnel is installed

from annotated_types import Ge, Gt, Le, Lt  # noqa: E402 - after the path set-up
from pydantic import BaseModel  # noqa: E402
from pydantic_core import PydanticUndefined  # noqa: E402

log = logging.getLogger("mkdocs.hooks.reference_tables")

MARKERS = ("scenario-fields", "kpis", "levers", "presets", "crm-fields")

# ----------------------------------------------------------------------------------------- scenario fields
# Units by dotted path ("<name>" stands for any channel name). Time: days unless the name says hours; money in
# the scenario's one currency; "/year" = per 365 days.
UNITS: dict[str, str] = {
    "simulation.horizon_days": "days",
    "simulation.cohort_days": "days",
    "market.buyers_per_year": "buyers/year",
    "market.seasonality_amplitude": "share of the mean rate",
    "market.seasonality_peak_day": "day of year",
    "market.process_days": "days",
    "market.value": "currency",
    "market.fit_alpha": "-",
    "market.fit_beta": "-",
    "market.ready_at": "share of the process (readiness)",
    "market.return_when_ready": "probability",
    "market.competitor_commit_days": "days",
    "marketing.budget_per_year": "currency/year",
    "marketing.shares": "share of the budget",
    "marketing.channels.<name>.reach.max_effect": "probability (share reached)",
    "marketing.channels.<name>.reach.half_saturation": "currency/year (channel spend)",
    "marketing.channels.<name>.reach.shape": "-",
    "marketing.channels.<name>.quality": "multiplier",
    "marketing.acquisition_stop_day": "day",
    "marketing.engage_delay_days": "days",
    "marketing.known_rate": "probability",
    "marketing.hand_raise_rate": "probability",
    "marketing.hand_raise_office_hours": "share",
    "marketing.nurture.lift.max_effect": "readiness/preference lift (multiplier - 1)",
    "marketing.nurture.lift.half_saturation": "currency/year (nurture spend)",
    "marketing.nurture.lift.shape": "-",
    "marketing.scoring.fit_weight": "weight (0-1)",
    "marketing.scoring.noise_sd": "score units",
    "marketing.scoring.min_noise_fraction": "share of noise_sd",
    "marketing.scoring.learning_half_outcomes": "logged outcomes",
    "marketing.speed_to_lead.decay_hours": "hours (wall clock)",
    "marketing.speed_to_lead.floor": "probability",
    "marketing.rebalance_days": "days",
    "marketing.mix_learning_rate": "share per rebalance",
    "sales.reps": "reps",
    "sales.rep_cost_per_year": "currency/rep/year",
    "sales.calendar.enabled": "-",
    "sales.calendar.workdays": "weekday numbers (0 = Monday)",
    "sales.calendar.start_hour": "hour of day",
    "sales.calendar.hours_per_day": "hours",
    "sales.first_contact_hours": "working hours",
    "sales.qualification_hours": "working hours",
    "sales.meetings": "meetings",
    "sales.meeting_hours": "working hours",
    "sales.meeting_gap_days": "days",
    "sales.proposal_hours": "working hours",
    "sales.checkin_hours": "working hours",
    "sales.checkin_delay_days": "days",
    "sales.follow_up.max_prob": "probability",
    "sales.follow_up.desk_half": "open leads per rep",
    "sales.follow_up.initial_trust": "share (0-1)",
    "sales.follow_up.trust_weight": "exponent",
    "sales.follow_up.tracking_effect": "share of the gap",
    "sales.follow_up.trust_memory": "contacts",
    "sales.win.intercept": "logit",
    "sales.win.fit": "logit per unit of fit",
    "sales.win.readiness": "logit per unit of readiness",
    "sales.win.context": "logit",
    "sales.win.skill": "logit per unit of skill uplift",
    "sales.win.time_left": "logit per share of process left",
    "sales.win.preference": "logit per unit of nurture lift",
    "sales.training.max_effect": "skill uplift",
    "sales.training.half_saturation": "currency/rep/year (training spend)",
    "sales.training.shape": "-",
    "retention.repurchase_days": "days",
    "retention.repeat_value_fraction": "share of the first deal value",
    "retention.base_repeat_prob": "probability",
    "retention.marketing.max_effect": "probability (added)",
    "retention.marketing.half_saturation": "currency/customer/year (retention spend)",
    "retention.marketing.shape": "-",
    "retention.followup_lift": "probability (added)",
    "retention.referral_prob": "probability per purchase",
    "retention.referral_followup_lift": "probability per check-in",
    "retention.initial_customers": "customers",
    "retention.initial_customer_value": "currency",
    "money.gross_margin": "share of revenue",
    "organisation.mql_threshold": "score (0-1)",
    "organisation.handoff": "-",
    "organisation.batch_interval_days": "days",
    "organisation.pass_context": "-",
    "organisation.response_sla_hours": "working hours (only finite vs inf matters today)",
    "organisation.queue_policy": "-",
    "organisation.too_early": "-",
    "organisation.crm_logging": "share of outcomes",
    "organisation.rep_training": "-",
    "organisation.post_sale_followup": "-",
}

EXTRA_DESCRIPTIONS: dict[str, str] = {
    "sales.first_contact_hours": "Rep time of a first contact (every contact attempt).",
    "sales.qualification_hours": "Rep time added to a contact that qualifies the lead.",
    "sales.meeting_hours": "Rep time of each meeting.",
    "sales.proposal_hours": "Rep time of the proposal (the last sales step).",
    "sales.checkin_hours": "Rep time of a post-sale check-in.",
    "sales.win.intercept": "Win-model logit: constant.",
    "sales.win.fit": "Win-model logit: coefficient of buyer fit.",
    "sales.win.readiness": "Win-model logit: coefficient of (readiness at contact - ready_at).",
    "sales.win.context": "Win-model logit: added when the context was passed at handoff.",
    "sales.win.skill": "Win-model logit: coefficient of the training skill uplift.",
    "sales.win.time_left": "Win-model logit: coefficient of the share of the process left at the decision.",
    "sales.win.preference": "Win-model logit: coefficient of the buyer's nurture lift.",
    "money.gross_margin": "Gross margin on revenue.",
}


def _type_name(ann: Any) -> str:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' for a in args)
    if origin is dict:
        return "table: name -> number"
    if origin is tuple:
        if args and _is_model(args[0]):
            return "list of tables"
        return "list of integers"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and args:
        return "[distribution](#distributions)"
    if ann is float:
        return "number"
    if ann is int:
        return "integer"
    if ann is bool:
        return "true/false"
    if ann is str:
        return "string"
    return f"`{getattr(ann, '__name__', ann)}`"


def _bounds(info: Any) -> str:
    parts = []
    for m in info.metadata:
        if isinstance(m, Ge):
            parts.append(f"≥ {m.ge:g}")
        elif isinstance(m, Gt):
            parts.append(f"> {m.gt:g}")
        elif isinstance(m, Le):
            parts.append(f"≤ {m.le:g}")
        elif isinstance(m, Lt):
            parts.append(f"< {m.lt:g}")
    return ", ".join(parts)


def _default(info: Any) -> str:
    if info.default_factory is not None:
        value = info.default_factory()
    elif info.default is PydanticUndefined:
        return "**required**"
    else:
        value = info.default
    if isinstance(value, BaseModel):
        if "kind" in type(value).model_fields:
            return f"`{value!r}`"
        return "(section defaults)"
    if isinstance(value, float) and math.isinf(value):
        return "`inf`"
    if isinstance(value, tuple):
        return f"`{list(value)}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def scenario_rows(model: Any, prefix: str = "") -> list[tuple[str, ...]]:
    """(path, type, unit, default, bounds, description) of every leaf field under `model`."""
    rows: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = prefix + key
        ann = info.annotation
        if _is_model(ann):
            rows.extend(scenario_rows(ann, path + "."))
            continue
        optional = [a for a in typing.get_args(ann) if a is not type(None)]
        if type(None) in typing.get_args(ann) and len(optional) == 1 and _is_model(optional[0]):
            desc = (info.description or "").replace("|", "\\|")
            rows.append((f"`{path}`", "table (optional)", "", "(none)", "", desc))
            rows.extend(scenario_rows(optional[0], path + "."))  # an optional section: its fields when given
            continue
        if typing.get_origin(ann) is tuple and typing.get_args(ann) and _is_model(typing.get_args(ann)[0]):
            desc = (info.description or "").replace("|", "\\|")
            rows.append((f"`{path}`", _type_name(ann), "", _default(info), "", desc))
            rows.extend(scenario_rows(typing.get_args(ann)[0], path + "[]."))  # the fields of each list entry
            continue
        if typing.get_origin(ann) is dict and _is_model(typing.get_args(ann)[1]):
            rows.extend(scenario_rows(typing.get_args(ann)[1], path + ".<name>."))
            continue
        desc = (info.description or EXTRA_DESCRIPTIONS.get(path, "")).replace("|", "\\|").replace("\n", " ")
        unit = UNITS.get(path, "")
        rows.append((f"`{path}`", _type_name(ann), unit, _default(info), _bounds(info), desc))
    return rows


def scenario_table() -> str:
    from simfunnel.scenario import Scenario

    rows = [
        (
            "`extends`",
            "string",
            "-",
            "(none)",
            "",
            "File whose fields this file starts from (path relative to this file).",
        )
    ]
    rows += scenario_rows(Scenario)
    head = "| field | type | unit | default | allowed | meaning |\n|---|---|---|---|---|---|\n"
    return head + "\n".join("| " + " | ".join(r) + " |" for r in rows) + "\n"


# ------------------------------------------------------------------------------------------------ KPIs
# (unit, better, definition) for each KPI, used only while `simfunnel.vocabulary` does not exist. Read from
# `simfunnel.metrics.summary`; H = horizon, "leads" = buyers with a lead day (MQL, hand-raiser or referral).
FALLBACK_KPIS: dict[str, tuple[str, str, str]] = {
    "buyers": ("buyers", "", "In-market buyers of the horizon (market arrivals plus referred buyers), reached or not."),
    "engaged": (
        "buyers",
        "higher",
        "Buyers reached by a channel who engaged before their deadline (referrals included).",
    ),
    "known": ("buyers", "higher", "Engaged buyers who became known (anonymous -> known)."),
    "mqls": (
        "leads",
        "",
        "Buyers who became a lead of any kind (MQL by score, hand-raiser, referral) within the horizon.",
    ),
    "sqls": ("leads", "higher", "Leads qualified at a first contact (an `sql_day`)."),
    "won": ("deals", "higher", "Buyers who bought from us (first purchases)."),
    "lost_never_reached": ("buyers", "lower", "Deadline passed without the buyer ever becoming a lead."),
    "lost_dropped": ("buyers", "lower", "Leads handed to sales and never followed up (the lead black hole)."),
    "lost_too_early": (
        "buyers",
        "lower",
        'Contacted before sales-ready and written off (too_early = "drop", no return).',
    ),
    "lost_too_late": (
        "buyers",
        "lower",
        "Contacted after the deadline, after committing to a competitor, gone cold (hand-raiser) or a sales cycle that ran past the deadline; also leads still unworked at their deadline.",
    ),
    "lost_to_competitor": (
        "buyers",
        "lower",
        "Went through the whole sales cycle and chose a competitor (the win draw failed).",
    ),
    "open": ("buyers", "", "Deadline after the horizon and not yet decided."),
    "revenue": ("currency", "higher", "`new_revenue + repeat_revenue` booked within the horizon."),
    "new_revenue": ("currency", "higher", "First-purchase revenue (deal values of won buyers)."),
    "repeat_revenue": ("currency", "higher", "Repeat purchases: `repeat_value_fraction` x first deal value each."),
    "repeat_purchases": ("purchases", "higher", "Number of repeat purchases."),
    "customers_end": ("customers", "higher", "Customers (initial and won) not churned at the horizon."),
    "churned": ("customers", "lower", "Customers who did not buy again at a next need."),
    "referrals": ("buyers", "higher", "Referred buyers created by purchases and check-ins."),
    "marketing_spend": (
        "currency",
        "",
        "Marketing spend over the horizon, all items (channels, nurture, retention, training).",
    ),
    "rep_cost": ("currency", "", "`sales.reps x sales.rep_cost_per_year x H / 365`."),
    "profit": ("currency", "higher", "`gross_margin x revenue - marketing_spend - rep_cost`."),
    "cac": ("currency/deal", "lower", "`(marketing_spend + rep_cost) / won`."),
    "roi": (
        "ratio",
        "higher",
        "`(gross_margin x revenue - marketing_spend) / marketing_spend` (return on marketing spend; rep cost not deducted).",
    ),
    "win_rate": ("share", "higher", "`won / sqls`."),
    "mql_to_sql": ("share", "higher", "`sqls / mqls`."),
    "lead_wait_days": (
        "days",
        "lower",
        "Mean `first_contact_day - handoff_day` of contacted leads (calendar days; includes waiting for readiness when context is passed, and the capacity queue).",
    ),
    "lead_wait_days_p90": ("days", "lower", "90th percentile of the same wait."),
    "queue_wait_days": ("days", "lower", "Mean `first_contact_day - queued_day`: the wait for a free rep only."),
    "speed_to_lead_hours": (
        "hours (wall clock)",
        "lower",
        "Mean `first_contact_day - lead_day` in hours for contacted hand-raisers and referrals.",
    ),
    "sales_cycle_days": ("days", "", "Mean `close_day - first_contact_day` of won deals."),
    "rep_utilization": ("share", "", "Working hours on activities in [0, H] / (reps x working hours in [0, H])."),
    "leads_followed_up": ("share", "higher", "Followed-up leads / leads handed to sales."),
    "rep_hours": ("hours", "", "Working hours of every rep activity (contacts, sales steps, check-ins)."),
    "rep_hours_wasted": (
        "hours",
        "lower",
        "Rep hours of contacts that did not qualify (too early, too late, gone cold).",
    ),
    "sim_events": ("events", "", "SimPy events processed (a cost measure of the run)."),
    "wall_seconds": ("seconds", "", "Wall-clock time of the run (the only KPI that differs between identical runs)."),
    # Planned (issue 9): the integrator replaces these by the registry's wording once it lands.
    "contact_wait_days": ("days", "lower", "Planned: wait from handoff to first contact."),
    "batch_wait_days": ("days", "lower", "Planned: wait from lead to handoff caused by a batch handoff."),
    "callback_wait_days": ("days", "lower", "Planned: wait for a call-back when the rep waits for readiness."),
    "contact_wait_days_p90": ("days", "lower", "Planned: 90th percentile of contact_wait_days."),
    "churn_rate": ("share", "lower", "Planned: churned customers / customers."),
    "marketing_roi": ("ratio", "higher", "Planned: return on marketing spend."),
}


def _vocabulary() -> Any | None:
    try:
        return importlib.import_module("simfunnel.vocabulary")
    except ImportError:
        return None


def _better(value: Any) -> str:
    """+1 / "higher" -> up arrow, -1 / "lower" -> down arrow, anything else -> blank."""
    if value in (1, "higher"):
        return "↑"
    if value in (-1, "lower"):
        return "↓"
    return ""


def _unit(vocab: Any, kind: str) -> str:
    shown = getattr(vocab, "UNITS", {}).get(kind, kind)
    return kind if shown in (kind, "count") else f"{kind} ({shown})"


def kpi_table() -> str:
    from simfunnel.metrics import SUMMARY_KEYS

    vocab = _vocabulary()
    registry = dict(getattr(vocab, "KPIS", {})) if vocab is not None else {}
    names = list(registry) + [k for k in SUMMARY_KEYS if k not in registry]
    rows = []
    for name in names:
        if name in registry:
            k = registry[name]
            unit, better, definition = _unit(vocab, k.unit), _better(k.better), f"**{k.label}.** {k.definition}"
        elif name in FALLBACK_KPIS:
            unit, better, definition = FALLBACK_KPIS[name]
            better = _better(better)
        else:
            log.warning("KPI %r has no definition (simfunnel.vocabulary.KPIS or FALLBACK_KPIS in %s)", name, __file__)
            unit = better = definition = ""
        if name not in SUMMARY_KEYS:
            definition += " *(in the registry, not yet in `RunResult.summary`)*"
        definition = definition.replace("|", "\\|")
        rows.append(f'| <span id="kpi-{name}"></span>`{name}` | {unit} | {better} | {definition} |')
    source = (
        "`simfunnel.vocabulary.KPIS` and `simfunnel.metrics.SUMMARY_KEYS`"
        if registry
        else ("`simfunnel.metrics.SUMMARY_KEYS`")
    )
    head = f"*Generated at build time from {source}.*\n\n| KPI | unit | better | definition |\n|---|---|---|---|\n"
    return head + "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------------------- presets, levers
def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:g}"
    return str(value)


def lever_table() -> str:
    from simfunnel.scenario import LEVERS, Organisation, load_scenario

    siloed = load_scenario(REPO / "scenarios" / "siloed.toml").organisation
    aligned = load_scenario(REPO / "scenarios" / "aligned.toml").organisation
    vocab = _vocabulary()
    groups = {}
    if vocab is not None and hasattr(vocab, "LEVER_GROUPS"):
        groups = {n: label for label, members in vocab.LEVER_GROUPS.items() for n in members}
    rows = [
        "| field `organisation.*` | siloed.toml | aligned.toml | attribution group | meaning |",
        "|---|---|---|---|---|",
    ]
    for name in (*LEVERS, "batch_interval_days"):
        desc = (Organisation.model_fields[name].description or "").replace("|", "\\|")
        rows.append(
            f"| `{name}` | `{_fmt(getattr(siloed, name))}` | `{_fmt(getattr(aligned, name))}` | "
            f"{groups.get(name, '')} | {desc} |"
        )
    return "\n".join(rows) + "\n"


def preset_table() -> str:
    from simfunnel.scenario import load_scenario

    rows = ["| file | what it is | buyers/year | process days | reps | budget/year |", "|---|---|---|---|---|---|"]
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        s = load_scenario(path)
        rows.append(
            f"| `{path.name}` | {s.description} | {s.market.buyers_per_year:,.0f} | "
            f"{s.market.process_days.mean:,.0f} (mean) | {s.sales.reps} | {s.marketing.budget_per_year:,.0f} |"
        )
    return "\n".join(rows) + "\n"


def crm_fields_table() -> str:
    from simfunnel.data.fields import fields_markdown

    return fields_markdown()


GENERATORS = {"scenario-fields": scenario_table, "kpis": kpi_table, "levers": lever_table, "presets": preset_table,
              "crm-fields": crm_fields_table}  # fmt: skip


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each ``<!-- simfunnel:NAME -->`` line by its generated table."""
    for name, make in GENERATORS.items():
        marker = f"<!-- simfunnel:{name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
