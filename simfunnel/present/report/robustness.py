"""The report's optional "How sure are we?" section: the scenarios re-run across sampled worlds
(`simfunnel.analysis.explore`) and read in plain words - how often the alternative pays, what drives the gap,
each policy's regret, the region where the alternative stops paying (PRIM) and which input to measure next
(EVPPI). Every sentence is computed from the exploration's results.

Worlds: a Latin hypercube of ``samples`` worlds over the baseline's ``[uncertainty]`` table, or, when the report
carries parameter draws (``parameters=``), the first ``samples`` draws in the order the comparison uses them.
One replication per world and policy, the same seed child in every world (common random numbers), so the
per-world gap is paired. Cost: ``samples x policies`` runs (32 worlds x 2 base-sized policies: 15-30 s on 2 cores,
measured with ``simfunnel report preset:siloed preset:aligned [--quick] --robustness --no-cache``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simfunnel.formatting import format_kpi, format_value
from simfunnel.present.report.figures import Figure, png
from simfunnel.present.report.results import in_text
from simfunnel.present.report.runs import ReportRuns

__all__ = [
    "DEFAULT_SAMPLES",
    "MIN_DRIVER_WORLDS",
    "QUICK_SAMPLES",
    "check_worlds",
    "explore_worlds",
    "robustness_section",
]

DEFAULT_SAMPLES = 32
"""Worlds of the robustness section by default (a Latin hypercube; one run per world and policy)."""
QUICK_SAMPLES = 12
"""Worlds with ``quick=True``: a smoke test of the section, not for decisions."""
MIN_DRIVER_WORLDS = 12
"""Fewest worlds from which the section ranks the drivers of the gap: below it the first-order estimates scatter
so much (negative shares, shares summing far above 100 %) that the ranking would mislead."""


def check_worlds(runs: ReportRuns) -> None:
    """Refuse at once (ValueError, before any run) a robustness section with nothing to vary or nothing to compare."""
    if len(runs.names) < 2:
        raise ValueError("the robustness section compares policies: give at least two scenarios")
    if runs.parameters is None and not runs.scenarios[runs.baseline].uncertainty:
        raise ValueError(
            f"the robustness section needs uncertain inputs: the baseline {runs.baseline!r} has no [uncertainty] "
            "table; add one (docs: robustness) or pass a parameter-sample file"
        )


def explore_worlds(runs: ReportRuns, ex: Any, *, samples: int, seed: int, store: Any) -> Any:
    """The `Exploration` of the report's scenarios in ``samples`` worlds, on the open executor ``ex``."""
    import warnings

    from simfunnel.analysis import explore
    from simfunnel.experiments import root_seed

    draws = runs.parameters
    if draws is not None:  # the draws the comparison's first replications use, in that order
        rows = draws.rows(root_seed(seed), range(min(samples, len(draws))))
        uncertainty: Any = draws.values.iloc[rows].reset_index(drop=True)
        design = "lhs"  # ignored for a sample
    else:
        uncertainty, design = None, "lhs"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"explore: \d+ of", category=RuntimeWarning)  # stated in the text
        return explore(runs.scenarios, uncertainty, samples=samples, design=design, n=1, seed=seed,
                       baseline=runs.baseline, executor=ex, cache=store)  # fmt: skip


def _label(path: str) -> str:
    from simfunnel.present.robustness import input_label

    return input_label(path)


def _share_sentences(exp: Any, rob: Any, metric: str) -> list[str]:
    """'aligned makes more profit than siloed in 30 of 32 worlds (94 %); the gap ...' per other policy."""
    out = []
    for other in [p for p in exp.policies if p != exp.baseline]:
        row = rob.table.set_index("policy").loc[other]
        gap = exp.difference(metric, other, exp.baseline).dropna()
        wins = int(round(row["share_beats_baseline"] * rob.n_worlds))
        better = "more" if _better(metric) > 0 else "less"
        lo, hi = np.quantile(gap, [0.1, 0.9]) if len(gap) else (math.nan, math.nan)
        out.append(
            f"{other} gives {better} {in_text(metric)} than {exp.baseline} in {wins} of {rob.n_worlds} worlds "
            f"({format_value(row['share_beats_baseline'], 'share')}); the gap averages "
            f"{format_kpi(metric, gap.mean(), signed=True)} and lies between {format_kpi(metric, lo, signed=True)} "
            f"and {format_kpi(metric, hi, signed=True)} in 80 % of the worlds."
        )
    return out


def _better(metric: str) -> int:
    from simfunnel.vocabulary import kpi

    return kpi(metric).better


def _drivers(table: Any, k: int = 3) -> tuple[list[dict[str, str]], str]:
    """The top ``k`` inputs of a sensitivity table as rows, and a sentence on them."""
    rows = [
        {"input": _label(r.input), "path": r.input, "value": format_value(r.S1, "share"),
         "ci": f"{format_value(r.S1_low, 'share')} to {format_value(r.S1_high, 'share')}", "clear": r.S1_low > 0}
        for r in table.head(k).itertuples()
    ]  # fmt: skip
    clear = [r for r in rows if r["clear"]]
    unclear = [r for r in rows if not r["clear"]]

    def listed(items: list[dict[str, Any]]) -> str:
        return ", ".join(f"{r['input']} ({r['value']}, 95 % CI {r['ci']})" for r in items)

    if clear:
        text = f"The gap across worlds depends most on {listed(clear)} (the share of its variance each explains alone)."
        if unclear:
            text += f" Next come {listed(unclear)}, whose intervals still reach zero."
    else:
        text = (
            "No input stands out clearly: every interval of the first-order index reaches zero with this many "
            f"worlds (more worlds separate them). Largest estimates: {listed(rows)}."
        )
    return rows, text


def _regret(rob: Any, metric: str) -> tuple[list[dict[str, str]], str]:
    rows = [
        {"policy": r.policy, "mean": format_kpi(metric, r.mean), "range": f"{format_kpi(metric, r.p10)} to "
         f"{format_kpi(metric, r.p90)}", "regret_mean": format_kpi(metric, r.regret_mean),
         "regret_p90": format_kpi(metric, r.regret_p90), "regret_max": format_kpi(metric, r.regret_max)}
        for r in rob.table.itertuples()
    ]  # fmt: skip
    worst = rob.table.set_index("policy").loc[rob.choice, "regret_max"]
    tail = (
        f"{rob.choice} is the best in every world (no regret)"
        if not worst > 0
        else f"{rob.choice}'s largest regret over the worlds is {format_kpi(metric, worst)}"
    )
    text = (
        f"Robust choice ({rob.rule}): {rob.choice}. Regret is how far a policy falls short of the best policy in "
        f"the same world; {tail}."
    )
    return rows, text


def _box(exp: Any, metric: str) -> tuple[Any, str]:
    """(PRIM box or None, sentence): the region where the first alternative stops paying."""
    other = [p for p in exp.policies if p != exp.baseline][0]
    gain = exp.difference(metric, other, exp.baseline).dropna() * _better(metric)
    if not (gain <= 0).any():
        return None, (
            f"{other} beats {exp.baseline} in every one of the {len(gain)} worlds: within these ranges there is no "
            "region where it stops paying."
        )
    box = exp.discover(metric)
    if box.restricted.empty:
        return None, (
            f"{other} fails to beat {exp.baseline} in {box.n_cases} of {box.n_worlds} worlds, scattered: PRIM finds "
            "no range of the inputs that holds them."
        )
    ranges = " and ".join(
        f"{_label(r.input)} between {r.low:.3g} and {r.high:.3g}" for r in box.restricted.itertuples()
    )
    return box, (
        f"{other} does not beat {exp.baseline} in {box.n_cases} of {box.n_worlds} worlds. Most of them lie where "
        f"{ranges}: this box holds {format_value(box.coverage, 'share')} of those worlds (coverage), and "
        f"{format_value(box.density, 'share')} of the worlds inside it are such worlds (density)."
    )


def _evppi(exp: Any, metric: str) -> tuple[list[dict[str, str]], str]:
    table = exp.evppi(metric)
    total = table.attrs["evpi"]
    if not total > 0:
        return [], (
            f"{table.attrs['choice']} is the best policy in every world, so no measurement would change the "
            "choice: the expected value of perfect information is zero."
        )
    rows = [
        {"input": _label(r.input), "value": format_kpi(metric, r.evppi_adjusted),
         "share": "—" if math.isnan(r.share_of_evpi) else format_value(r.share_of_evpi, "share")}
        for r in table.head(5).itertuples()
    ]  # fmt: skip
    top = table.iloc[0]
    if top["evppi_adjusted"] > 0:
        text = (
            f"Measure {_label(top['input'])} first: knowing it before choosing is worth "
            f"{format_kpi(metric, top['evppi_adjusted'])} of {in_text(metric)} on average "
            f"(of {format_kpi(metric, total)} for knowing everything, the EVPI)."
        )
    else:
        text = (
            f"Knowing everything would be worth {format_kpi(metric, total)} on average (EVPI), but no single input "
            "accounts for it above the noise floor."
        )
    return rows, text


def _figures(exp: Any, gap: Any, box: Any, metric: str) -> dict[str, Figure]:
    """``drivers``: the index bars (when the indices could be estimated); ``box``: the PRIM box (when found)."""
    from simfunnel.present.robustness import prim_box, sobol_bars

    other = [p for p in exp.policies if p != exp.baseline][0]
    out: dict[str, Figure] = {}
    if gap is not None:
        title = f"What drives the gap in {in_text(metric)}: {other} - {exp.baseline}"
        out["drivers"] = Figure(
            png(sobol_bars(gap, title=title)), "Bar chart of the first-order sensitivity index of each uncertain input",
            f"First-order indices of the per-world gap, {len(exp.worlds)} worlds, one replication each; whiskers: "
            "95 % bootstrap intervals.",
        )  # fmt: skip
    if box is not None:
        out["box"] = Figure(
            png(prim_box(exp, box, metric)), "Scatter of the worlds over two inputs with the PRIM box",
            "Each dot a world (one replication per world and scenario); crosses: worlds where the alternative does "
            "not pay; dashed: the PRIM box.",
        )  # fmt: skip
    return out


def robustness_section(exp: Any, metric: str = "profit", seconds: float | None = None) -> dict[str, Any]:
    """The template context of the section, every sentence computed from ``exp`` (an `Exploration`). An analysis
    that cannot run on these worlds (e.g. worlds that failed leave the indices undefined) says why instead."""
    rob = exp.robustness(metric)
    other = [p for p in exp.policies if p != exp.baseline][0]
    gap = None
    try:
        if len(exp.worlds) < MIN_DRIVER_WORLDS:
            raise ValueError(f"{len(exp.worlds)} worlds are too few to rank them (at least {MIN_DRIVER_WORLDS}; "
                             f"the default is {DEFAULT_SAMPLES})")  # fmt: skip
        gap = exp.sensitivity(metric, other, exp.baseline)
        drivers, drivers_text = _drivers(gap)
    except ValueError as exc:
        drivers, drivers_text = [], f"The drivers of the gap could not be estimated from these worlds: {exc}."
    regret, regret_text = _regret(rob, metric)
    try:
        box, box_text = _box(exp, metric)
    except ValueError as exc:
        box, box_text = None, f"Scenario discovery could not run on these worlds: {exc}."
    try:
        voi, voi_text = _evppi(exp, metric)
    except ValueError as exc:
        voi, voi_text = [], f"The value of information could not be estimated from these worlds: {exc}."
    source = "parameter draws" if exp.design.design == "file" else "a Latin hypercube over the [uncertainty] table"
    return {
        "worlds": len(exp.worlds),
        "inputs": [_label(i) for i in exp.inputs],
        "source": source,
        "metric": in_text(metric),
        "seconds": f"{seconds:.0f} s" if seconds is not None else "",
        "failed": len(exp.errors),
        "shares": _share_sentences(exp, rob, metric),
        "drivers": drivers,
        "drivers_text": drivers_text,
        "regret": regret,
        "regret_text": regret_text,
        "box_text": box_text,
        "voi": voi,
        "voi_text": voi_text,
        "figures": _figures(exp, gap, box, metric),
    }
