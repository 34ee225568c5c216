"""The report's lever section: the Shapley attribution of the gap to the groups of `vocabulary.LEVER_GROUPS`,
as a waterfall and a table.

The waterfall's end points are the attribution's own runs (its empty and full coalitions). Its empty coalition
is the baseline scenario with the headline's seeds, so those runs are the headline's first ``attribution_n``
replications; the caption says so and gives both means, so a reader can reconcile the two numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simfunnel.experiments import Attribution
from simfunnel.formatting import format_kpi, format_value
from simfunnel.present.report.figures import Figure, png
from simfunnel.present.report.results import Results, ci_bounds, in_text, verdict
from simfunnel.present.report.runs import ReportRuns, only_org_differs
from simfunnel.present.report.sources import field_title
from simfunnel.vocabulary import KPIS

__all__ = ["attribution_section", "largest_lever", "skip_reason", "waterfall_caption"]


def skip_reason(runs: ReportRuns, attribution: str) -> str:
    """Why the report has no lever attribution."""
    if attribution == "off":
        return "The lever attribution was switched off for this report."
    if len(runs.names) != 2:
        return "The lever attribution needs exactly two scenarios that differ in their organisation."
    return "The two scenarios have the same organisation: there are no alignment levers to attribute."


def _relabel_steps(fig: Any, labels: list[str]) -> None:
    """Put the group labels on the waterfall's steps (rows 1..k; row 0 is the start, the last the end)."""
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    if len(ticks) < len(labels) + 2:
        return
    ticks[1 : 1 + len(labels)] = labels
    ax.set_yticks(ax.get_yticks(), ticks)
    for i, tl in enumerate(ax.get_yticklabels()):
        tl.set_fontweight("bold" if i in (0, len(ticks) - 1) else "normal")


def waterfall_caption(attr: Attribution, res: Results, how: str, lo: str, end_label: str) -> str:
    """The waterfall's caption: method, replications, and its start and end values with the runs behind them."""
    m, k = attr.metric, attr.n_replications
    start, end = attr.gap["siloed_mean"], attr.gap["all_levers_mean"]
    text = (
        f"{how[0].upper() + how[1:]}, {k} paired replications each; whiskers: 95 % CI. "
        f"Baseline {lo}: {in_text(m)} {format_kpi(m, start)}, the mean of the attribution's {k} "
        f"replications; {end_label.lower()}: {format_kpi(m, end)}."
    )
    if getattr(res.experiment, "parameter_uncertainty", None):
        text += (
            " The attribution runs the scenarios at their own parameter values (no parameter draws), so its end "
            "points differ from the headline comparison, whose intervals include parameter uncertainty."
        )
    elif res.has(m) and k < res.n:
        text += (
            f" These {k} runs are replications 0-{k - 1} of the headline comparison (same random numbers); over all "
            f"{res.n} replications the baseline's mean is {res.mean_text(lo, m)}."
        )
    return text


def _rows(attr: Attribution, labels: dict[str, str]) -> list[dict[str, Any]]:
    m = attr.metric
    rows = []
    for r in attr.table.sort_values("shapley", ascending=False, kind="stable").to_dict(orient="records"):
        text, css = verdict(m, r["ci_low"], r["ci_high"])
        rows.append({
            "label": labels.get(r["lever"], r["lever"]),
            "fields": ", ".join(field_title("organisation." + f) for f in r["fields"].split(", ")),
            "value": format_kpi(m, r["shapley"], signed=True),
            "ci": ci_bounds(m, r["ci_low"], r["ci_high"], signed=True, mean=r["shapley"]),
            "share": format_value(r["share"], "share") if np.isfinite(r["share"]) else "—",
            "css": css,
        })  # fmt: skip
    return rows


def attribution_section(runs: ReportRuns, res: Results, attribution: str) -> dict[str, Any] | None:
    """Context of the lever section (None without an attribution): waterfall, table, gap, method."""
    from simfunnel.present.comparison import attribution_waterfall

    attr = runs.attribution
    if attr is None:
        return None
    lo, hi = runs.names[0], runs.names[1]
    m, g = attr.metric, attr.gap
    other_fields = not only_org_differs(runs.scenarios[lo], runs.scenarios[hi])
    end_label = "All levers" if other_fields else hi.capitalize()
    rows = _rows(attr, runs.lever_labels)
    fig = attribution_waterfall(
        attr, start_label=lo.capitalize(), end_label=end_label,
        title=f"What closes the gap: contribution to {in_text(m)}",
    )  # fmt: skip
    _relabel_steps(fig, [r["label"] for r in rows if r["value"] != "n/a"])
    k = len(attr.table)
    how = (
        f"exact Shapley values over {k} lever groups ({2**k} combinations)"
        if attr.exact
        else f"Shapley values estimated from {attr.permutations} sampled lever orders"
    )
    headline_gap = res.diff(hi, m)
    return {
        "figure": Figure(png(fig), f"Waterfall chart from {lo} to {end_label.lower()}, one step per lever group",
                         waterfall_caption(attr, res, how, lo, end_label)),
        "rows": rows,
        "metric": KPIS[m].label,
        "metric_name": m,
        "metric_text": in_text(m),
        "gap": format_kpi(m, g["mean"], signed=True),
        "gap_ci": ci_bounds(m, g["ci_low"], g["ci_high"], signed=True, mean=g["mean"]).replace(" – ", " to "),
        "headline_gap": headline_gap.mean if headline_gap is not None and attr.n_replications < res.n else None,
        "how": how,
        "n": attr.n_replications,
        "n_headline": res.n,
        "top": rows[0] if rows else None,
        "lo": lo,
        "hi": hi,
        "other_fields": other_fields,
        "grouped": attribution == "grouped",
    }  # fmt: skip


def largest_lever(ctx: dict[str, Any] | None) -> dict[str, Any] | None:
    """The answer-in-brief line naming the largest lever group, from the lever section's context."""
    if ctx is None or ctx["top"] is None:
        return None
    top = ctx["top"]
    return {
        "label": "Largest lever",
        "scenario": ctx["hi"],
        "text": f"{top['label']}: {top['value']} of {in_text(ctx['metric_name'])} ({top['share']} of the gap; "
        f"95 % CI {top['ci']}; {ctx['n']} replications)",
        "verdict": "",
        "css": "neutral",
    }
