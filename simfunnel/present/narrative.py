"""Sentences and labelled tables for the notebooks and other narratives: a paired difference as
'mean (95 % CI lo to hi)', KPI tables with the vocabulary's labels and the formatter's numbers, the funnel, the
levers, an attribution.

Every number goes through `simfunnel.formatting` and every label comes from `simfunnel.vocabulary`, so a notebook
prints a KPI the way the report, the CLI and the figures do, and stays short: it calls these functions and says
what the result means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.formatting import format_kpi, format_kpi_ci, format_value
from simfunnel.present.report.results import verdict
from simfunnel.present.report.sources import team_text
from simfunnel.vocabulary import HEADLINES, KPIS, LEVER_GROUPS, LEVERS, kpi, lever_group_label

__all__ = [
    "FUNNEL_STAGES",
    "attribution_table",
    "ci_phrase",
    "diff_row",
    "diff_table",
    "diff_text",
    "effect_text",
    "funnel_table",
    "kpi_table",
    "lever_table",
    "plural",
    "scenario_value",
    "setting_text",
    "splits_table",
    "summary_table",
    "team_text",
    "wait_split_text",
]

FUNNEL_STAGES: tuple[str, ...] = ("buyers", "engaged", "known", "mqls", "sqls", "won")
"""The KPIs of the funnel, top to bottom (in-market buyers to deals won)."""


def ci_phrase(metric: str, mean: Any, lo: Any, hi: Any, *, signed: bool = True) -> str:
    """A KPI's mean and 95 % interval for running text: '+1.23M (95 % CI +1.05M to +1.41M)', '+2.1 pp (95 % CI
    +0.4 to +3.8)'; one precision for all three (`simfunnel.formatting.format_kpi_ci`); just the mean when the
    interval is unknown."""
    text = format_kpi_ci(metric, mean, lo, hi, signed=signed)
    m, sep, bounds = text.partition(" [")
    if not sep:
        return m
    low, high = bounds.removesuffix("]").split(", ", 1)
    return f"{m} (95 % CI {low} to {high})"


def diff_row(experiment: Any, metric: str, scenario: str | None = None) -> pd.Series:
    """The paired-difference row (``Experiment.diffs``) of ``metric`` for ``scenario`` against the baseline;
    ``scenario`` may be omitted when the comparison has one scenario besides the baseline."""
    diffs = experiment.diffs
    if diffs is None or diffs.empty:
        raise ValueError("the experiment has no paired differences (use compare)")
    names = list(dict.fromkeys(diffs["scenario"]))
    if scenario is None:
        if len(names) != 1:
            raise ValueError(f"several scenarios against the baseline, name one of: {', '.join(names)}")
        scenario = names[0]
    rows = diffs[(diffs["scenario"] == scenario) & (diffs["metric"] == metric)]
    if rows.empty:
        known = ", ".join(names)
        raise KeyError(f"no paired difference of {metric!r} for scenario {scenario!r} (scenarios: {known})")
    return rows.iloc[0]


def diff_text(experiment: Any, metric: str, scenario: str | None = None) -> str:
    """The paired difference (scenario minus baseline) of one KPI for running text:
    '+1.23M (95 % CI +1.05M to +1.41M)'."""
    r = diff_row(experiment, metric, scenario)
    return ci_phrase(metric, r["mean_diff"], r["ci_low"], r["ci_high"])


def effect_text(experiment: Any, metric: str, scenario: str | None = None) -> str:
    """`diff_text` with its verdict: '+1.23M (95 % CI +1.05M to +1.41M): better'; 'higher' / 'lower' for a KPI
    that is neither good nor bad; 'no clear difference' when the interval holds zero."""
    r = diff_row(experiment, metric, scenario)
    text = ci_phrase(metric, r["mean_diff"], r["ci_low"], r["ci_high"])
    return f"{text}: {verdict(metric, float(r['ci_low']), float(r['ci_high']))[0]}"


def wait_split_text(experiment: Any, scenario: str | None = None) -> str:
    """The paired difference of the wait for first contact and of each of its parts, with verdicts: the total
    and its planned call-back are longer / shorter (a planned call is a choice, not a delay: ``better = 0`` in
    the vocabulary), batching and queueing for a rep (capacity) are better / worse."""
    present = set(experiment.diffs["metric"]) if experiment.diffs is not None else set()
    parts = []
    for m in (m for m in HEADLINES["waits"] if m in present):
        label = kpi(m).label.removeprefix("… ")
        parts.append(f"{label} {effect_text(experiment, m, scenario)}")
    if not parts:
        raise KeyError("the experiment has none of the wait KPIs")
    return "; ".join(parts)


def _means(data: Any, key: str | None) -> tuple[pd.DataFrame, str]:
    """(one row per scenario/point and one column per metric of the means, the key column) of an experiment's
    tidy summary (or the summary itself)."""
    summary = getattr(data, "summary", data)
    if not isinstance(summary, pd.DataFrame) or "metric" not in summary.columns:
        raise TypeError("expected an Experiment or its tidy summary (columns: key(s), metric, mean, ...)")
    if key is None:
        keys = [c for c in getattr(data, "keys", ()) if c != "point"] or ["scenario"]
        key = keys[0]
    wide = summary.pivot_table(index=key, columns="metric", values="mean", sort=False, dropna=False)
    return wide, key


def kpi_table(
    data: Any,
    metrics: Sequence[str],
    *,
    key: str | None = None,
    order: Sequence[Any] | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Mean KPIs of an experiment as a table for reading: one row per scenario (or swept value of ``key``), one
    column per KPI headed by its label, every value formatted in its unit ('3.21M', '25.3 %', '4.2 d').

    ``data``: an `Experiment` (compare or sweep) or its ``summary``; ``order``: the rows to show, in order
    (default: as run); ``name``: the index title (default: the key)."""
    wide, key = _means(data, key)
    rows = list(order) if order is not None else list(wide.index)
    out = pd.DataFrame(
        {kpi(m).label: [format_kpi(m, wide.loc[r, m]) if m in wide.columns else "n/a" for r in rows]
         for m in metrics},
        index=pd.Index(rows, name=name or key),
    )  # fmt: skip
    return out


def summary_table(summary: Mapping[str, float], metrics: Sequence[str]) -> pd.DataFrame:
    """The KPIs of one run (``RunResult.summary``) as a two-column table: the KPI's label and its value."""
    return pd.DataFrame(
        {"value": [format_kpi(m, summary.get(m, math.nan)) for m in metrics]},
        index=pd.Index([kpi(m).label for m in metrics], name="KPI"),
    )


def diff_table(experiment: Any, metrics: Sequence[str], scenario: str | None = None) -> pd.DataFrame:
    """A comparison by KPI: the baseline's mean, the scenario's mean and the paired difference with its 95 %
    interval, formatted; the columns are named after the two scenarios."""
    rows = [diff_row(experiment, m, scenario) for m in metrics]
    base, other = rows[0]["baseline"], rows[0]["scenario"]
    return pd.DataFrame(
        {
            str(base): [format_kpi(m, r["mean_baseline"]) for m, r in zip(metrics, rows, strict=True)],
            str(other): [format_kpi(m, r["mean"]) for m, r in zip(metrics, rows, strict=True)],
            "difference (95 % CI)": [
                format_kpi_ci(m, r["mean_diff"], r["ci_low"], r["ci_high"], signed=True)
                for m, r in zip(metrics, rows, strict=True)
            ],
        },
        index=pd.Index([kpi(m).label for m in metrics], name="KPI (mean per run)"),
    )


def funnel_table(summary: Mapping[str, float], stages: Sequence[str] = FUNNEL_STAGES) -> pd.DataFrame:
    """The funnel of one run: buyers at each stage, as % of the in-market buyers and % of the stage above."""
    counts = np.array([float(summary[s]) for s in stages])
    top = counts[0] if counts[0] else math.nan
    above = [""] + [format_value(c / p, "share") if p else "n/a" for p, c in zip(counts[:-1], counts[1:], strict=True)]
    return pd.DataFrame(
        {
            "buyers": [format_kpi(s, c) for s, c in zip(stages, counts, strict=True)],
            "% of in-market buyers": [format_value(c / top, "share") for c in counts],
            "% of the stage above": above,
        },
        index=pd.Index([KPIS[s].label for s in stages], name="stage"),
    )


def setting_text(value: Any, unit: str = "") -> str:
    """A scenario setting in words: 'on' / 'off', 'none' for an infinite limit, numbers without float noise and
    followed by ``unit`` ('1 h')."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and math.isinf(value):
        return "none"
    if isinstance(value, int | float):
        return f"{value:,.6g}" + (f" {unit}" if unit else "")
    return str(value)


def lever_table(siloed: Any, aligned: Any, names: Sequence[str] = ("siloed", "aligned")) -> pd.DataFrame:
    """The alignment levers side by side: one row per lever (its label from the vocabulary), its setting in
    each of two scenarios (or `Organisation` sections), and its lever group."""
    orgs = [getattr(s, "organisation", s) for s in (siloed, aligned)]
    return pd.DataFrame(
        {
            names[0]: [setting_text(getattr(orgs[0], n), "h" if n.endswith("_hours") else "") for n in LEVERS],
            names[1]: [setting_text(getattr(orgs[1], n), "h" if n.endswith("_hours") else "") for n in LEVERS],
            "lever group": [next(label for label, members in LEVER_GROUPS.items() if n in members) for n in LEVERS],
        },
        index=pd.Index([lv.label for lv in LEVERS.values()], name="lever"),
    )


def attribution_table(attribution: Any) -> pd.DataFrame:
    """A Shapley attribution for reading, largest contribution first: each lever (group) by its label, its
    contribution with the 95 % interval, and its share of the gap."""
    metric = attribution.metric
    t = attribution.table.sort_values("shapley", ascending=False)
    return pd.DataFrame(
        {
            f"{kpi(metric).label} contribution (95 % CI)": [
                format_kpi_ci(metric, r["shapley"], r["ci_low"], r["ci_high"], signed=True) for _, r in t.iterrows()
            ],
            "share of the gap": [format_value(s, "share", decimals=0) for s in t["share"]],
        },
        index=pd.Index([lever_group_label(str(x).split("+")) for x in t["lever"]], name="lever group"),
    )


def plural(k: float, word: str, words: str | None = None) -> str:
    """'1 rep', '4 reps' (``words``: the plural when it is not ``word`` + 's')."""
    many = words or f"{word}s"
    return f"{format_value(k, 'count')} {word if k == 1 else many}"


def scenario_value(scenario: Any, path: str) -> Any:
    """The value of a dotted scenario field ('sales.reps', 'organisation.handoff')."""
    value = scenario
    for part in path.split("."):
        value = value[part] if isinstance(value, Mapping) else getattr(value, part)
    return value


def splits_table(splits: pd.DataFrame) -> pd.DataFrame:
    """The table of `simfunnel.best_splits` for reading: per split (column), the share of each budget part
    (acquisition = every channel together, nurture, retention, training), then each KPI row by its label,
    formatted."""
    from simfunnel.experiments.shares import BUDGET_PARTS, budget_parts

    kpis = [i for i in splits.index if i in KPIS]
    items = [i for i in splits.index if i not in KPIS]
    parts = {col: budget_parts(splits.loc[items, col]) for col in splits.columns}
    rows = {f"{p} share": [format_value(parts[c][p], "share") for c in splits.columns] for p in BUDGET_PARTS}
    rows |= {KPIS[k].label: [format_kpi(k, splits.loc[k, c]) for c in splits.columns] for k in kpis}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(splits.columns)).rename_axis("per run")
