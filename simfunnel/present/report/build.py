"""`build_report`: simulate what the report needs, build each section's context, render one self-contained HTML
file (figures embedded as PNG, CSS inline, no network needed) and optionally print it to PDF.

Cost. A run of the base preset (730 days) takes ~0.2-0.6 s. A full Shapley attribution over the 9 levers would
need ~200 coalitions x n runs, so the report attributes the gap to the four groups of `vocabulary.LEVER_GROUPS`,
exactly (16 coalitions), with ``attribution_n`` replications. Defaults: 20 replications for the comparison and
10 for the attribution (~1-2 minutes on 2 cores); ``quick=True``: 5 and 3 (~20 s). Results come from the result
cache (`simfunnel.experiments.cache`, on by default here) when the same runs were done before, so a re-render is fast.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simfunnel.experiments.cache import CacheLike, resolve_cache
from simfunnel.experiments.draws import ParametersLike, as_draws
from simfunnel.experiments.executors import ExecutorName, TaskExecutor, executor_scope
from simfunnel.present.report import attribution as lever_section
from simfunnel.present.report import robustness as worlds_section
from simfunnel.present.report import sections
from simfunnel.present.report.figures import comparison_figures, section_figures
from simfunnel.present.report.method import checks_section, method_facts
from simfunnel.present.report.pdf import html_to_pdf
from simfunnel.present.report.render import render, write_html
from simfunnel.present.report.results import Results
from simfunnel.present.report.runs import (
    ModelChecks,
    ReportRuns,
    ScenarioInputs,
    load_inputs,
    order_by_baseline,
    simulate_report,
)

__all__ = [
    "DEFAULT_ATTRIBUTION_N",
    "DEFAULT_N",
    "QUICK_ATTRIBUTION_N",
    "QUICK_N",
    "ReportInfo",
    "build_context",
    "build_report",
    "build_report_info",
]

DEFAULT_N = 20
DEFAULT_ATTRIBUTION_N = 10
QUICK_N = 5
QUICK_ATTRIBUTION_N = 3


@dataclass
class ReportInfo:
    """What `build_report` did (also returned by the CLI): timings in seconds and the settings used."""

    path: Path
    n: int
    attribution_n: int | None
    seed: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    pdf: Path | None = None
    cache_dir: Path | None = None
    simulated_runs: int = 0
    robustness_worlds: int | None = None
    parameter_uncertainty: str | None = None


def build_report(scenarios: ScenarioInputs, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Write the client report for ``scenarios`` to ``path`` (one self-contained HTML file) and return the path.

    ``scenarios``: ``{name: Scenario or path}`` or a list of scenario TOML paths (names from the files; the
    parameter sources are read from the files' comments). Keyword arguments as `build_report_info`.
    """
    return build_report_info(scenarios, path, **kwargs).path


def _counts(n: int | None, attribution_n: int | None, quick: bool) -> tuple[int, int]:
    n = (QUICK_N if quick else DEFAULT_N) if n is None else int(n)
    if n < 2:
        raise ValueError("a report needs n >= 2 replications (confidence intervals)")
    k = (QUICK_ATTRIBUTION_N if quick else DEFAULT_ATTRIBUTION_N) if attribution_n is None else attribution_n
    return n, max(2, min(int(k), n))


def build_report_info(
    scenarios: ScenarioInputs,
    path: str | os.PathLike,
    *,
    n: int | None = None,
    seed: int = 1,
    baseline: str | None = None,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    attribution: str = "grouped",
    attribution_n: int | None = None,
    permutations: int = 2,
    attribution_metric: str = "profit",
    validation: bool = True,
    title: str | None = None,
    question: str | None = None,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    progress: bool | None = None,
    cache: CacheLike = True,
    pdf: str | os.PathLike | bool | None = None,
    parameters: ParametersLike = None,
    robustness: bool = False,
    robustness_samples: int | None = None,
) -> ReportInfo:
    """Write the report and return a `ReportInfo` (timings, settings).

    ``baseline``: the scenario the others are compared with (default: the first). ``overrides``: dotted fields
    applied to every scenario (the CLI's ``--set``). ``n``: replications of the comparison (default 20; ``quick``:
    5). ``attribution``: ``"grouped"`` (exact Shapley over `vocabulary.LEVER_GROUPS`), ``"levers"`` (each lever,
    ``permutations`` sampled orders) or ``"off"``; it runs only for two scenarios whose levers differ.
    ``attribution_n``: its replications (default 10; ``quick``: 3; at most ``n``: they are the comparison's first
    replications). ``validation``: include the quick model checks. ``cache``: the result cache (default on).
    ``pdf``: also print a PDF with headless Chromium (True: next to the HTML; or a path).
    ``parameters``: a parameter-sample file or table (`simfunnel.experiments.draws`): replication ``i`` of every
    scenario runs with the same draw, so the comparison's intervals include parameter uncertainty (the method
    section says so; the lever attribution stays at the scenarios' own values).
    ``robustness``: add the "How sure are we?" section (`simfunnel.present.report.robustness`): the scenarios in
    ``robustness_samples`` sampled worlds (default 32; ``quick``: 12), one run per world and policy.
    """
    t_start = time.perf_counter()
    if attribution not in ("grouped", "levers", "off"):
        raise ValueError(f"attribution must be 'grouped', 'levers' or 'off', got {attribution!r}")
    scns, files = load_inputs(scenarios, overrides)
    scns, baseline = order_by_baseline(scns, files, baseline)
    n, attr_n = _counts(n, attribution_n, quick)
    store = resolve_cache(cache)
    runs = ReportRuns(scns, files, baseline, n, parameters=as_draws(parameters))  # simulate_report fills in the rest
    worlds = _check_before_runs(runs, seed, robustness, robustness_samples, quick)
    timings: dict[str, float] = {}
    explored, ex = _simulate_all(
        runs, {"executor": executor, "workers": workers, "address": address, "progress": progress},
        validation=validation, store=store, seed=seed, worlds=worlds, timings=timings, t_start=t_start,
        attribution=attribution, attribution_n=attr_n, permutations=permutations, metric=attribution_metric,
    )  # fmt: skip
    t0 = time.perf_counter()
    ctx = build_context(runs, seed=seed, attribution=attribution, title=title, question=question, quick=quick,
                        store=store, executor=ex)  # fmt: skip
    ctx["robustness"] = (
        worlds_section.robustness_section(explored, attribution_metric, timings.get("robustness"))
        if explored is not None else None
    )  # fmt: skip
    timings["figures"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    ctx["timings"] = {k: f"{v:.1f} s" for k, v in timings.items()}
    ctx["runtime"] = f"{timings['total']:.0f} s"
    out = write_html(render(ctx), path)
    pdf_path = None
    if pdf:
        pdf_path = html_to_pdf(out, out.with_suffix(".pdf") if pdf is True else Path(pdf))
    return ReportInfo(
        path=out, n=n, attribution_n=attr_n if runs.attribution is not None else None, seed=seed,
        seconds=time.perf_counter() - t_start, timings=timings, pdf=pdf_path,
        cache_dir=store.directory if store is not None else None,
        simulated_runs=store.writes if store is not None else -1,
        robustness_worlds=len(explored.worlds) if explored is not None else None,
        parameter_uncertainty=runs.experiment.parameter_uncertainty if runs.experiment is not None else None,
    )  # fmt: skip


def _simulate_all(
    runs: ReportRuns, scope: Mapping[str, Any], *, validation: bool, store: Any, seed: int, worlds: int,
    timings: dict[str, float], t_start: float, **report: Any,
) -> tuple[Any, Any]:  # fmt: skip
    """Everything the report shows, on one executor (``scope``: `executor_scope`'s arguments): the model checks
    alongside, the comparison and attribution (`simulate_report`, ``report``: its options), the robustness worlds
    when ``worlds`` > 0. Returns (the `Exploration` or None, the executor)."""
    explored = checks = None
    try:
        with executor_scope(scope["executor"], workers=scope["workers"], address=scope["address"],
                            progress=scope["progress"]) as ex:  # fmt: skip
            if validation:  # first in the queue: the longest single job, run alongside the simulations
                background = ex.name != "serial"
                checks = ModelChecks(0, store, background, submit=getattr(ex, "submit", None))
            simulate_report(runs, ex, seed=seed, store=store, timings=timings, **report)
            if worlds:
                t0 = time.perf_counter()
                explored = worlds_section.explore_worlds(runs, ex, samples=worlds, seed=seed, store=store)
                timings["robustness"] = time.perf_counter() - t0
            if checks is not None:
                runs.checks = checks.table()
                timings["validation"] = time.perf_counter() - t_start  # ran alongside the simulations
    finally:
        if checks is not None:
            checks.close()
    return explored, ex


def _check_before_runs(runs: ReportRuns, seed: int, robustness: bool, samples: int | None, quick: bool) -> int:
    """Refuse bad draws or an impossible robustness section before any run; the number of worlds (0: none)."""
    from simfunnel.experiments.seeds import root_seed

    if runs.parameters is not None:
        runs.parameters.check(runs.scenarios)
        runs.parameters.check_values(runs.scenarios, root_seed(seed), runs.n)
    if not robustness:
        return 0
    worlds_section.check_worlds(runs)
    worlds = (worlds_section.QUICK_SAMPLES if quick else worlds_section.DEFAULT_SAMPLES) if samples is None else samples
    if runs.parameters is not None:
        worlds = min(int(worlds), len(runs.parameters))  # the worlds are the draws
    if int(worlds) < 2:
        raise ValueError(f"the robustness section needs at least 2 worlds (samples or parameter draws), got {worlds}")
    return int(worlds)


def build_context(
    runs: ReportRuns, *, seed: int, attribution: str, title: str | None, question: str | None, quick: bool,
    store: Any, executor: Any,
) -> dict[str, Any]:  # fmt: skip
    """The template context of every section, from the simulated ``runs``."""
    from simfunnel.present.style import scenario_colors

    names, baseline = runs.names, runs.baseline
    colors = scenario_colors(names)
    horizon = runs.scenarios[baseline].simulation.horizon_days
    span = f"{horizon:,.0f} days" + (f" (about {horizon / 365:.1f} years)" if horizon >= 365 else "")
    warmup = runs.scenarios[baseline].simulation.warmup_days
    warmup_text = f" after a {warmup:,.0f}-day warm-up that no number counts" if warmup > 0 else ""
    planned_waits = any(s.organisation.pass_context for s in runs.scenarios.values())
    res = Results(runs.experiment, baseline, planned_waits)
    question, title = sections.question_and_title(runs, question, title)
    answer = sections.answer_section(res, names, colors, horizon)
    levers = lever_section.attribution_section(runs, res, attribution)
    top = lever_section.largest_lever(levers)
    if top is not None:
        answer["answer"].append(top)
    attr_n = runs.attribution.n_replications if runs.attribution is not None else None
    return {
        "title": title,
        "question": question,
        "generated": _dt.date.today().isoformat(),
        "names": names,
        "baseline": baseline,
        "others": runs.others,
        "colors": colors,
        **answer,
        **sections.assumptions_section(runs, colors),
        "table_groups": sections.comparison_table(res, names),
        "figures": {**comparison_figures(res, runs.representative, res.n),
                    **section_figures(res, runs.representative, res.n)},
        "attribution": levers,
        "robustness": None,  # filled in by build_report_info when the section is asked for
        "attribution_skipped": lever_section.skip_reason(runs, attribution) if levers is None else None,
        "checks": checks_section(runs.checks),
        "method": method_facts(res, seed=seed, span=span, quick=quick, store=store, executor=executor,
                               same_horizon=len({s.simulation.horizon_days for s in runs.scenarios.values()}) == 1,
                               attribution_n=attr_n, parameters=runs.parameters),
        "horizon": span,
        "warmup_text": warmup_text,
        "n": res.n,
        "planned_waits": planned_waits,
    }  # fmt: skip
