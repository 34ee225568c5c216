"""The report's text sections, one function per section, each returning the template context of its section:
the question and the answer in brief, the scenarios and their assumptions, the headline KPI table.

KPIs, labels, units and directions come from `simfunnel.vocabulary`; numbers from `simfunnel.formatting`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simfunnel.formatting import format_value, unit_text
from simfunnel.present.report.results import NEUTRAL_COUNTS, PLANNED_WAITS, Results, with_judged_parts
from simfunnel.present.report.runs import ReportRuns
from simfunnel.present.report.sources import (
    comment_for,
    describe_field,
    field_sources,
    field_title,
    format_setting,
    parameter_differences,
    same_value,
    team_text,
)
from simfunnel.scenario import Scenario
from simfunnel.vocabulary import HEADLINES, KPI_SECTIONS, KPIS

__all__ = ["answer_section", "assumptions_section", "comparison_table", "join_names", "question_and_title"]

_PLANNED_NOTE = (
    " - with context at handoff, reps call a buyer when it becomes sales-ready, so part of this wait is planned"
)


def join_names(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def question_and_title(runs: ReportRuns, question: str | None, title: str | None) -> tuple[str, str]:
    """The question the report answers and its title (defaults from the scenarios)."""
    names, baseline, others = runs.names, runs.baseline, runs.others
    base = runs.scenarios[baseline]
    org_differs = any(base.organisation != runs.scenarios[o].organisation for o in others)
    if question is None:
        if org_differs and len(others) == 1:
            question = (
                f"What does the {baseline} way of working cost, compared with {others[0]}, and which alignment "
                "levers close the gap?"
            )
        else:
            question = f"How do {join_names(names)} compare on profit, revenue, deals won, the wait for first contact "
            question += "and sales capacity?"
    return question, title or ("Marketing and sales: " + " vs ".join(names))


# ============================================================================================== answer
def answer_section(res: Results, names: list[str], colors: Mapping[str, str], horizon: float) -> dict[str, Any]:
    """The answer in brief: one line per headline KPI and other scenario, and the KPI cards."""
    base, others = res.baseline, names[1:]
    answer = []
    for o in others:
        for m in res.present(with_judged_parts(HEADLINES["headline"])):
            d = res.diff(o, m)
            if d is None:
                continue
            note = _PLANNED_NOTE if m in PLANNED_WAITS and res.planned_waits else ""
            answer.append({
                "label": KPIS[m].label,
                "scenario": o,
                "text": f"{res.mean_text(o, m)} with {o} vs {res.mean_text(base, m)} with {base}: "
                        f"{d.mean}{', ' + d.rel if d.rel else ''} ({d.ci_text}){note}",
                "verdict": d.verdict,
                "css": d.css,
            })  # fmt: skip
    cards = []
    for m in res.present(HEADLINES["cards"]):
        entries = [
            {"scenario": nm, "value": res.mean_text(nm, m), "ci": res.mean_ci_texts(nm, m)[1], "color": colors[nm]}
            for nm in names
        ]
        d = res.diff(others[0], m) if others else None
        delta = {"text": d.mean, "verdict": d.verdict, "css": d.css} if d else None
        unit = KPIS[m].unit
        per = "per won customer" if m == "cac" else (f"over {horizon:,.0f} days" if unit in ("money", "count") else "")
        cards.append({"label": KPIS[m].label, "entries": entries, "delta": delta, "unit": per})
    return {"answer": answer, "cards": cards, "n": res.n}


# ============================================================================================== assumptions
def _common_assumptions(s: Scenario) -> list[dict[str, str]]:
    d = s.to_dict()
    shares = ", ".join(f"{k} {100 * v:.0f} %" for k, v in s.marketing.shares.items())

    def money(v: float) -> str:
        return format_value(v, "money")

    return [
        {"label": "Simulated period", "value": f"{s.simulation.horizon_days:,.0f} days"
         + (f", after a {s.simulation.warmup_days:,.0f}-day warm-up (not counted)" if s.simulation.warmup_days else "")},
        {"label": "In-market buyers", "value": f"{s.market.buyers_per_year:,.0f} per year"},
        {"label": "Purchase process (trigger → decision)", "value": format_setting(d["market"]["process_days"]) + " days"},
        {"label": "Deal value", "value": format_setting(d["market"]["value"])},
        {"label": "Buyer is sales-ready at", "value": f"{100 * s.market.ready_at:.0f} % of the decision made"},
        {"label": "Marketing budget", "value": f"{money(s.marketing.budget_per_year)} per year"},
        {"label": "Budget split", "value": shares},
        {"label": "Sales team", "value": team_text(s)},
        {"label": "Gross margin", "value": f"{100 * s.money.gross_margin:.0f} %"},
        {"label": "Customers at the start", "value": f"{s.retention.initial_customers:,}"},
    ]  # fmt: skip


def _source_notes(sources: Mapping[str, Mapping[str, Any]], names: list[str], dotted: str) -> list[dict[str, Any]]:
    """The TOML comments behind one field, one note per distinct line (naming the scenarios when not all)."""
    by_line: dict[tuple[str, int], dict[str, Any]] = {}
    for nm in names:
        c = comment_for(sources[nm], dotted)
        if c is None:
            continue
        note = by_line.setdefault(
            (c.file, c.line),
            {"scenarios": [], "text": c.comment, "where": f"{Path(c.file).name}:{c.line}", "inherited": c.inherited},
        )
        note["scenarios"].append(nm)
    return [
        {**x, "scenario": None if len(x["scenarios"]) == len(names) else ", ".join(x["scenarios"])}
        for x in by_line.values()
    ]


def assumptions_section(runs: ReportRuns, colors: Mapping[str, str]) -> dict[str, Any]:
    """The scenarios, what they share, and every parameter that differs from the baseline with its source."""
    names, baseline, scns, files = runs.names, runs.baseline, runs.scenarios, runs.files
    sources = {nm: (field_sources(p) if p is not None else {}) for nm, p in files.items()}
    differences = []
    for rec in parameter_differences(scns, baseline).to_dict(orient="records"):
        dotted = rec["field"]
        differences.append({
            "field": dotted,
            "label": field_title(dotted),
            "description": describe_field(dotted),
            "cells": [{"text": format_setting(rec[nm], dotted),
                       "changed": nm != baseline and not same_value(rec[nm], rec[baseline])} for nm in names],
            "notes": _source_notes(sources, names, dotted),
        })  # fmt: skip
    scenarios = [
        {"name": nm, "description": scns[nm].description or "", "color": colors[nm], "baseline": nm == baseline,
         "file": files[nm].name if files[nm] is not None else "(built in Python)"}
        for nm in names
    ]  # fmt: skip
    return {"scenarios": scenarios, "common": _common_assumptions(scns[baseline]), "differences": differences}


# ============================================================================================== KPI table
_NO_DIFF = {"mean": "—", "ci": "", "verdict": "", "css": "neutral"}


def _row_label(metric: str, parent: str, res: Results) -> str:
    """The KPI's label; a part ('… of which queueing for a rep') stands alone when its whole is not shown."""
    label = KPIS[metric].label
    if label.startswith("… of which ") and not res.has(parent):
        rest = label.removeprefix("… of which ")
        return f"Wait for first contact: {rest}"
    return label


def comparison_table(res: Results, names: list[str]) -> list[dict[str, Any]]:
    """The headline KPI table by `KPI_SECTIONS`: each scenario's mean and CI, each other scenario's paired
    difference to the baseline; KPIs the results lack are left out."""
    groups = []
    for group, metrics in KPI_SECTIONS:
        rows = []
        for m in res.present(metrics):
            unit = KPIS[m].unit
            cells = [dict(zip(("mean", "ci"), res.mean_ci_texts(nm, m), strict=True)) for nm in names]
            diffs = []
            for o in names[1:]:
                d = res.diff(o, m)
                diffs.append({"mean": d.mean, "ci": d.ci, "verdict": d.verdict, "css": d.css} if d else _NO_DIFF)
            note = "a count that grows with the customer base: compare the churn rate" if m in NEUTRAL_COUNTS else ""
            rows.append({"label": _row_label(m, metrics[0], res), "unit": "" if unit == "count" else unit_text(unit), "cells": cells,
                         "diffs": diffs, "note": note})  # fmt: skip
        if rows:
            groups.append({"name": group, "rows": rows})
    return groups
