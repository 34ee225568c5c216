"""The fit report: one self-contained HTML file saying how well a calibrated scenario reproduces the firm's own
CRM data - every panel observed against simulated with its goodness of fit, what the fit could not match, the
estimates, and (with a backtest) how well it predicted the months after a cut date against two naive forecasts.
Built with the client report's machinery (`simfunnel.present.report.render` and `.figures`)."""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simfunnel.calibrate.compare import BAND, PANELS, VERDICT_P, VERDICT_SHARE, FitComparison
from simfunnel.present.report.figures import Figure, png
from simfunnel.present.report.render import render, stylesheet, write_html

if TYPE_CHECKING:
    from simfunnel.calibrate.backtest import Backtest
    from simfunnel.calibrate.run import Calibration
    from simfunnel.data import CrmData

TEMPLATE = "fit_report.html.j2"
CAPTIONS = {
    "leads": "Leads created per month and channel (the six largest channels). Observed with a 90 % Poisson interval.",
    "mix": "Share of all leads per channel over the whole history (the channel mix). The model's CRM learns the "
    "mix from a sample of the wins and keeps it for months, so one history's mix is one random draw.",
    "conversion": "Share of leads that became a deal, overall and by channel. Observed with its Wilson 90 % interval.",
    "survival": "Share of deals still open by days since they were opened. Observed: Kaplan-Meier (lifelines) with "
    "its 90 % confidence band; open deals are right-censored at the export date (ticks), on both sides.",
    "age": "Share of leads that became a deal by how old the lead was at its first recorded activity.",
    "per_rep": "Deals opened per month divided by the owners active that month (from first to last record).",
    "win_rate": "Won / (won + lost) deals, overall and by the lead's channel. Observed with its Wilson 90 % interval.",
}


def _num(v: float, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _p_text(p: float, df: float) -> str:
    if not (isinstance(p, float) and math.isfinite(p)):
        return ""
    eff = f", {df:.0f} effective df" if isinstance(df, float) and math.isfinite(df) else ""
    return f" (p = {p:.2g}{eff})"


def goodness_rows(comparison: FitComparison) -> list[dict[str, str]]:
    """The goodness-of-fit table's rows, formatted: panel, points inside the band, the second statistic with its
    p-value, and the verdict of `simfunnel.calibrate.compare.verdict` (share inside and p-value together)."""
    rows = []
    for r in comparison.goodness.itertuples():
        p = _p_text(r.p_value, r.df_effective)
        rows.append({"panel": PANELS[r.panel].capitalize(), "inside": f"{r.inside} of {r.points}",
                     "share": f"{r.inside_share:.0%}", "expected": f"{r.expected_share:.0%}",
                     "statistic": f"{r.statistic}: {_num(r.statistic_value)}{p}",
                     "verdict": r.verdict, "css": {"good": "better", "fair": "neutral", "poor": "worse"}[r.verdict]})  # fmt: skip
    return rows


def figure_entries(comparison: FitComparison, observed: CrmData) -> list[dict[str, Any]]:
    """One entry per panel: heading, embedded figure, caption with the goodness-of-fit figure."""
    from simfunnel.present.fit import fit_figures

    figs = fit_figures(comparison.table, observed)
    good = comparison.goodness.set_index("panel")
    draws = "parameters drawn from the calibration's sample, one draw per replication" if comparison.drawn else (
        "the calibrated parameters")  # fmt: skip
    out = []
    for key, fig in figs.items():
        g = good.loc[key]
        stat = f"{g['statistic']} = {_num(g['statistic_value'])}{_p_text(g['p_value'], g['df_effective'])}"
        caption = (f"{CAPTIONS[key]} Simulated: {comparison.reps} replications of the calibrated scenario over the "
                   f"same history ({draws}); band {BAND[0]:.0%}-{BAND[1]:.0%}. Goodness of fit: {g['inside']} of "
                   f"{g['points']} observed points inside the simulated 90 % band ({g['inside_share']:.0%}; about "
                   f"{g['expected_share']:.0%} expected with {comparison.reps} replications if the model is right); "
                   f"{stat}; verdict {g['verdict']}.")  # fmt: skip
        out.append({"key": key, "title": PANELS[key].capitalize(),
                    "figure": Figure(png(fig), f"Observed vs simulated: {PANELS[key]}", caption)})  # fmt: skip
    return out


def estimate_rows(cal: Calibration) -> list[dict[str, str]]:
    """The calibration's estimates, formatted."""
    return [{"name": r.name, "value": _num(r.value, 4), "interval": f"{_num(r.low, 4)} to {_num(r.high, 4)}",
             "unit": r.unit, "status": r.status, "source": r.source} for r in cal.frame().itertuples()]  # fmt: skip


def backtest_context(bt: Backtest) -> dict[str, Any]:
    """The backtest section: error table, verdicts, figure, notes."""
    from simfunnel.present.fit import backtest_panel

    rows = []
    for r in bt.errors.itertuples():
        rows.append({"metric": r.metric, "method": r.method, "months": r.months, "mae": _num(r.mae),
                     "mape": "-" if not math.isfinite(r.mape) else f"{r.mape:.0%}",
                     "inside": "-" if not math.isfinite(r.inside_band) else f"{r.inside_band:.0%}",
                     "css": "worse" if r.beats_model else ""})  # fmt: skip
    months = f"{bt.months[0]:%Y-%m} to {bt.months[-1]:%Y-%m}"
    fig = Figure(png(backtest_panel(bt.table, bt.cut)), "Backtest: observed vs forecast monthly values",
                 f"The months {months} after the cut, {bt.reps} replications of the scenario calibrated on the data "
                 f"before {bt.cut:%Y-%m-%d}, with the team and lead volume the data show for those months. Run rate: "
                 f"last quarter's wins per lead (lag {bt.lag_months} months) x observed leads.")  # fmt: skip
    return {"cut": f"{bt.cut:%Y-%m-%d}", "months": months, "rows": rows, "verdicts": bt.verdicts(),
            "figure": fig, "notes": bt.notes}  # fmt: skip


def data_facts(observed: CrmData, cal: Calibration) -> list[tuple[str, str]]:
    """What the data are: size, span, files, quality problems found."""
    c = observed.counts()
    facts = [("Files", ", ".join(f"{k}: {v}" for k, v in observed.files.items()) or "DataFrames"),
             ("History", f"{cal.direct.start:%Y-%m-%d} to {observed.export_date:%Y-%m-%d} "
                         f"({cal.direct.span_days:.0f} days)"),
             ("Records", f"{c['leads']:,.0f} leads, {c['deals']:,.0f} deals ({c['won']:,.0f} won, "
                         f"{c['lost']:,.0f} lost, {c['open']:,.0f} open at the export date)")]  # fmt: skip
    if len(observed.quality):
        facts.append(("Data quality", "; ".join(f"{r.check}: {r.rows if r.rows else r.action}"
                                                for r in observed.quality.itertuples())))  # fmt: skip
    return facts


def build_fit_report(observed: CrmData, cal: Calibration, comparison: FitComparison, path: str | os.PathLike, *,
                     backtest: Backtest | None = None, title: str | None = None, seconds: float | None = None
                     ) -> Path:  # fmt: skip
    """Write the fit report of `cal` on `observed` (observed vs simulated in `comparison`, optionally a
    `backtest`) to `path` as one self-contained HTML file; returns the path."""
    from simfunnel import __version__

    fit = cal.fit
    moments = []
    if fit is not None:
        from simfunnel.calibrate.moments import MOMENTS

        moments = [{"name": k, "what": MOMENTS[k], "observed": _num(fit.observed[k]), "fitted": _num(fit.fitted[k])}
                   for k in MOMENTS if math.isfinite(fit.observed[k])]  # fmt: skip
    ctx = {
        "css": stylesheet(),
        "title": title or "How well the calibrated model fits the CRM data",
        "generated": _dt.date.today().isoformat(),
        "version": __version__,
        "base": cal.base,
        "facts": data_facts(observed, cal),
        "goodness": goodness_rows(comparison),
        "panels": figure_entries(comparison, observed),
        "mismatches": comparison.mismatches,
        "estimates": estimate_rows(cal),
        "moments": moments,
        "not_identified": [e.field for e in (fit.estimates if fit else []) if e.status == "not identified"],
        "notes": [*cal.direct.notes, *(fit.notes if fit else []), *comparison.notes],
        "reps": comparison.reps,
        "verdict_share": [f"{v * 100:.0f}" for v in VERDICT_SHARE],
        "verdict_p": [f"{v:g}" for v in VERDICT_P],
        "drawn": comparison.drawn,
        "backtest": backtest_context(backtest) if backtest is not None else None,
        "runtime": f"{seconds:.0f} s" if seconds is not None else "",
    }
    return write_html(render(ctx, TEMPLATE), path)


__all__ = ["build_fit_report", "backtest_context", "figure_entries", "goodness_rows"]
