"""The report's figures: drawn by the public functions of `simfunnel.present`, embedded as PNG data URIs, each
with a caption that states how many replications it shows and the baseline's value of its main KPI, so that
every number in the document can be traced to the runs behind it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.formatting import format_kpi
from simfunnel.present.report.results import Results, in_text
from simfunnel.vocabulary import HEADLINES, KPIS

__all__ = ["FIGURE_DPI", "Figure", "baseline_note", "comparison_figures", "png", "section_figures", "wait_kpis"]

FIGURE_DPI = 110


@dataclass
class Figure:
    """An embedded figure: PNG data URI, alt text, caption."""

    src: str
    alt: str
    caption: str
    wide: bool = True


def png(fig: Any, dpi: int = FIGURE_DPI) -> str:
    """A figure as a ``data:image/png;base64,...`` URI (no dates in the metadata: stable bytes); closes it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.12, facecolor="white",
                    metadata={"Software": None})  # fmt: skip
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def baseline_note(res: Results, metrics: Sequence[str]) -> str:
    """'Baseline siloed: profit 3.21M, deals won 380.' (means; the caption states the replications) for the KPIs
    the results carry."""
    parts = [f"{in_text(m)} {res.mean_text(res.baseline, m)}" for m in metrics if res.has(m)]
    if not parts:
        return ""
    return f"Baseline {res.baseline}: {', '.join(parts)}."


def _run_note(run: Any, baseline: str, metrics: Sequence[str]) -> str:
    """'In this run, baseline siloed: revenue 2.1M.' from a representative run's summary."""
    summary = getattr(run, "summary", {}) or {}
    parts = [f"{in_text(m)} {format_kpi(m, summary[m])}" for m in metrics if m in summary and m in KPIS]
    return f"In this run, baseline {baseline}: {', '.join(parts)}." if parts else ""


def wait_kpis(res: Results) -> list[str]:
    """The wait-for-first-contact KPIs the results carry (`HEADLINES["waits"]`), then speed to lead; the legacy
    handoff wait stands in only when the results predate ``contact_wait_days``."""
    waits = res.present(HEADLINES["waits"])
    if "contact_wait_days" not in waits and res.has("lead_wait_days"):
        waits.insert(0, "lead_wait_days")
    return waits + res.present(("speed_to_lead_hours",))


def _contact_waits(run: Any) -> pd.DataFrame:
    """A run's buyers with the handoff day replaced by the day the buyer became a lead, so that the wait
    histogram shows the wait for first contact (becoming a lead -> first call), batching included."""
    b = run.buyers.copy()
    if {"lead_day", "handoff_day"} <= set(b.columns):
        b["handoff_day"] = np.where(b["handoff_day"].notna(), b["lead_day"], np.nan)
    return b


def _mean_wait(b: pd.DataFrame) -> float:
    """Mean wait for first contact over the contacted leads of a `_contact_waits` table."""
    w = (b["first_contact_day"] - b["handoff_day"]).to_numpy(float)
    w = w[np.isfinite(w)]
    return float(w.mean()) if w.size else float("nan")


def _relabel_wait_axis(fig: Any) -> Any:
    """Name the histogram's axis for the wait it now shows."""
    ax = fig.axes[-1] if fig.axes else None
    if ax is not None and ax.get_xlabel():
        ax.set_xlabel(ax.get_xlabel().replace("handoff", "becoming a lead"))
    return fig


def comparison_figures(res: Results, runs: Mapping[str, Any], n: int) -> dict[str, Figure]:
    """The headline comparison's figures: KPI bars, paired differences, revenue over time."""
    from simfunnel.present.comparison import compare_kpis, paired_differences
    from simfunnel.present.money import revenue_over_time

    headline = res.present(HEADLINES["headline"])
    base_note = baseline_note(res, headline[:2])
    figs = {
        "kpis": Figure(
            png(compare_kpis(res.experiment.summary, headline, title="Headline KPIs per scenario")),
            "Bar charts of " + ", ".join(in_text(m) for m in headline) + " per scenario",
            f"Mean of {n} replications per scenario; whiskers: 95 % confidence interval. {base_note}",
        )
    }
    diffs = res.experiment.diffs
    if diffs is not None and not diffs.empty:
        figs["diffs"] = Figure(
            png(paired_differences(diffs, metrics=headline, title="Paired differences")),
            "Forest plot of the paired differences with their 95 % confidence intervals",
            f"Difference to the baseline over {n} paired replications (same random numbers), with its 95 % CI. "
            f"Filled marker: the interval excludes zero. {base_note}",
        )
    figs["revenue"] = Figure(
        png(revenue_over_time(dict(runs))),
        "Weekly revenue and active customers over time per scenario",
        "One representative run per scenario (replication 0, the same random numbers for all). "
        + _run_note(runs[res.baseline], res.baseline, ("revenue", "customers_end")),
    )
    return figs


def section_figures(res: Results, runs: Mapping[str, Any], n: int) -> dict[str, Figure]:
    """The figures of the funnel, timing and capacity sections."""
    from simfunnel.present.capacity import rep_utilization
    from simfunnel.present.comparison import compare_kpis
    from simfunnel.present.funnel import funnel, lost_reasons
    from simfunnel.present.timing import lead_wait

    summary, base = res.experiment.summary, res.baseline
    waits = wait_kpis(res)
    capacity = res.present(("rep_utilization", "leads_followed_up", "rep_hours_wasted"))
    frames = {nm: _contact_waits(r) for nm, r in runs.items()}
    wait_fig = lead_wait(frames, title="Wait for first contact: becoming a lead → first call")
    return {
        "funnel": Figure(
            png(funnel(summary)),
            "Buyer funnel per scenario from in-market buyers to won deals",
            f"Mean of {n} replications. {baseline_note(res, ('mqls', 'won'))}",
        ),
        "lost": Figure(
            png(lost_reasons(summary)),
            "Share of in-market buyers won, lost by reason or still open, per scenario",
            f"Mean of {n} replications with 95 % confidence intervals. 'Never reached': marketing never engaged "
            f"the buyer. {baseline_note(res, ('buyers', 'lost_never_reached'))}",
        ),
        "wait": Figure(
            png(_relabel_wait_axis(wait_fig)),
            "Histogram of the wait for first contact per scenario",
            "One representative run per scenario (replication 0): days from becoming a lead (MQL or hand-raise) "
            f"to the first contact by a rep, over contacted leads. In this run, baseline {base}: mean wait "
            f"{format_kpi('contact_wait_days', _mean_wait(frames[base]))}.",
        ),
        "timing": Figure(
            png(compare_kpis(summary, waits, title="Timing KPIs")),
            "Bar charts of " + ", ".join(in_text(m) for m in waits) + " per scenario",
            f"Mean of {n} replications; whiskers: 95 % confidence interval. Speed to lead: hours from a buyer's "
            f"demo request to the first call. {baseline_note(res, waits[:1])}",
        ),
        "utilisation": Figure(
            png(rep_utilization(dict(runs))),
            "Weekly rep utilisation over time per scenario",
            "One representative run per scenario (replication 0); dashed: the mean over the horizon. "
            + _run_note(runs[base], base, ("rep_utilization",)),
        ),
        "capacity": Figure(
            png(compare_kpis(summary, capacity, title="Capacity KPIs")),
            "Bar charts of rep utilisation, share of leads followed up and rep hours wasted per scenario",
            f"Mean of {n} replications; whiskers: 95 % confidence interval. Wasted hours: rep time spent on buyers "
            f"called too early or too late. {baseline_note(res, capacity[:1])}",
        ),
    }
