"""`replicate` one scenario (optionally until a precision target is met) and `compare` scenarios with paired
differences (common random numbers) against a baseline."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Unpack

import numpy as np
import pandas as pd

from simfunnel.experiments.draws import ParameterDraws, ParametersLike, as_draws
from simfunnel.experiments.executors import Outcome, TaskExecutor
from simfunnel.experiments.kpis import check_kpi
from simfunnel.experiments.options import ExecutionKwargs, RunOptions, resolve_options
from simfunnel.experiments.runs import DEFAULT_N, Experiment, Point, ScenarioLike, as_scenario, check_n, execute, finish
from simfunnel.experiments.seeds import SeedLike, root_seed
from simfunnel.experiments.statistics import mean_ci, welch_half_width

__all__ = ["DIFF_COLUMNS", "compare", "paired_diffs", "replicate"]

DIFF_COLUMNS = (
    "scenario",
    "baseline",
    "metric",
    "n",
    "mean",
    "mean_baseline",
    "mean_diff",
    "std_diff",
    "ci_low",
    "ci_high",
    "half_width",
    "ci_low_unpaired",
    "ci_high_unpaired",
    "half_width_unpaired",
)
"""Columns of ``Experiment.diffs``: paired (``mean_diff`` ... ``half_width``) and Welch (``*_unpaired``)."""


def replicate(
    scenario: ScenarioLike,
    n: int | None = None,
    seed: SeedLike = None,
    *,
    precision: float | None = None,
    precision_metric: str = "profit",
    max_replications: int = 200,
    batch: int | None = None,
    parameters: ParametersLike = None,
    options: RunOptions | None = None,
    **execution: Unpack[ExecutionKwargs],
) -> Experiment:
    """``n`` independent runs of one scenario (replication ``i`` seeded with child ``i`` of ``seed``).

    Precision mode (``precision=0.02``): start with ``n`` (default 10) replications and add batches of ``batch``
    (default 10; never tied to the worker count, so the stopping point is the same on every executor) until
    the 95 % CI half-width of ``precision_metric`` is within ``precision`` x |mean|, or ``max_replications``
    are done. ``.n_replications`` says how many were needed, ``.precision_met`` whether the target was met.
    ``parameters``: a parameter-sample file or table; replication ``i`` runs with one of its draws
    (`simfunnel.experiments.draws`), so the interval includes parameter uncertainty.
    ``options`` (or the keywords ``executor=``, ``workers=``, ...): see `RunOptions`.
    """
    opts = resolve_options(options, execution, "replicate")
    scn = as_scenario(scenario)
    root = root_seed(seed)
    draws = as_draws(parameters)
    point = Point(0, {"scenario": scn.name}, scn)
    n0 = check_n(DEFAULT_N if n is None else n)
    extra: dict[str, Any] = {}
    if precision is not None:
        if not precision > 0:
            raise ValueError(f"precision must be > 0 (a relative half-width such as 0.02), got {precision}")
        step = DEFAULT_N if batch is None else int(batch)
        if step < 1:
            raise ValueError(f"batch must be >= 1, got {step}")
        check_kpi(precision_metric, "precision_metric", "replicate", custom_runner=opts.runner is not None)
    if draws is not None:
        draws.check({scn.name: scn})
        draws.check_values({scn.name: scn}, root, n0 if precision is None else max_replications)
    with opts.scope() as ex:
        if precision is None:
            outcomes = execute([point], range(n0), root, ex, desc=f"replicate {scn.name}", cache=opts.cache,
                               draws=draws)  # fmt: skip
            total = n0
        else:
            outcomes, total, met = _until_precise(
                point, root, ex, opts, n0, step, precision, precision_metric, max_replications, draws
            )
            extra = {"precision": precision, "precision_metric": precision_metric, "precision_met": met}
    return finish("replicate", [point], outcomes, total, root, ("scenario",), keep_point=False, parameters=draws,
                  **extra)  # fmt: skip


def _until_precise(
    point: Point,
    root: np.random.SeedSequence,
    ex: TaskExecutor,
    opts: RunOptions,
    n0: int,
    step: int,
    precision: float,
    metric: str,
    max_replications: int,
    draws: ParameterDraws | None = None,
) -> tuple[dict[tuple[int, int], Outcome], int, bool]:
    """Batches of ``step`` replications until ``metric``'s half-width is within ``precision`` x |mean|;
    returns (outcomes, replications run, target met)."""
    name = point.scenario.name if point.scenario is not None else "?"
    total = min(n0, max_replications)
    outcomes: dict[tuple[int, int], Outcome] = {}
    met = failed = False
    while True:
        desc = f"replicate {name} (n={total})"
        outcomes = execute([point], range(total), root, ex, desc=desc, skip=outcomes, cache=opts.cache, draws=draws)
        if any(not ok for ok, _ in outcomes.values()):
            failed = True  # reported by finish
            break
        first = outcomes[(0, 0)][1]
        if metric not in first:
            raise KeyError(f"precision_metric {metric!r} is not a KPI; known: {', '.join(first)}")
        # In replication order: the stopping decision must not depend on completion order.
        stats = mean_ci(outcomes[(0, r)][1].get(metric, math.nan) for r in range(total))
        met = stats["n"] > 1 and stats["half_width"] <= precision * abs(stats["mean"])
        if met or total >= max_replications:
            break
        total = min(total + step, max_replications)
    if not met and not failed:
        warnings.warn(
            f"replicate: {metric} did not reach a half-width of {precision:.1%} of its mean "
            f"within {total} replications",
            RuntimeWarning,
            stacklevel=3,
        )
    return outcomes, total, met


def compare(
    scenarios: Mapping[str, ScenarioLike],
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    *,
    baseline: str | None = None,
    parameters: ParametersLike = None,
    options: RunOptions | None = None,
    **execution: Unpack[ExecutionKwargs],
) -> Experiment:
    """Run every scenario ``n`` times with common random numbers (replication ``i`` of each scenario gets the
    same seed child ``i``) and report paired differences against ``baseline`` (default: the first name)
    in ``.diffs``, with Welch (unpaired) intervals alongside to show what pairing buys.
    ``parameters``: a parameter-sample file (what `simfunnel calibrate` writes as ``<stem>.samples.csv``), a
    DataFrame of draws or `ParameterDraws`: replication ``i`` of every scenario runs with the same draw
    (`simfunnel.experiments.draws`), so the paired intervals include parameter uncertainty; the columns are
    checked before any run (`ScenarioError` naming the file and the column). ``.parameters`` keeps the draws.
    ``options`` (or the keywords ``executor=``, ``workers=``, ...): see `RunOptions`."""
    opts = resolve_options(options, execution, "compare")
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    names = [str(k) for k in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must be unique, got {names}")
    baseline = names[0] if baseline is None else str(baseline)
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not one of the scenarios {names}")
    n = check_n(n)
    root = root_seed(seed)
    points = [Point(i, {"scenario": name}, as_scenario(s)) for i, (name, s) in enumerate(scenarios.items())]
    draws = as_draws(parameters)
    if draws is not None:
        by_name = {p.labels["scenario"]: p.scenario for p in points if p.scenario is not None}
        draws.check(by_name)
        draws.check_values(by_name, root, n)
    with opts.scope() as ex:
        outcomes = execute(points, range(n), root, ex, desc="compare", cache=opts.cache, draws=draws)
    exp = finish("compare", points, outcomes, n, root, ("scenario",), keep_point=False, baseline=baseline,
                 parameters=draws)  # fmt: skip
    exp.diffs = paired_diffs(exp.runs, names, baseline)
    return exp


def paired_diffs(runs: pd.DataFrame, names: Sequence[str], baseline: str) -> pd.DataFrame:
    """Per scenario other than ``baseline`` and per metric: the paired difference over common replications (95 %
    t interval) and, for contrast, Welch's unpaired interval of the difference of means."""
    rows: list[dict[str, Any]] = []
    base = runs[runs["scenario"] == baseline]
    if base.empty:
        return pd.DataFrame(columns=list(DIFF_COLUMNS))
    base_w = base.pivot(index="replication", columns="metric", values="value")
    metric_order = list(dict.fromkeys(base["metric"]))
    for name in names:
        if name == baseline:
            continue
        other = runs[runs["scenario"] == name]
        if other.empty:
            continue
        other_w = other.pivot(index="replication", columns="metric", values="value")
        reps = base_w.index.intersection(other_w.index)
        for m in metric_order:
            if m not in other_w.columns:
                continue
            b = base_w.loc[reps, m].to_numpy(dtype=float)
            x = other_w.loc[reps, m].to_numpy(dtype=float)
            ok = ~(np.isnan(b) | np.isnan(x))
            paired = mean_ci(x[ok] - b[ok])
            xs, bs = x[~np.isnan(x)], b[~np.isnan(b)]
            mx = float(xs.mean()) if xs.size else math.nan
            mb = float(bs.mean()) if bs.size else math.nan
            hw_u = welch_half_width(xs, bs)
            rows.append(
                {
                    "scenario": name,
                    "baseline": baseline,
                    "metric": m,
                    "n": paired["n"],
                    "mean": mx,
                    "mean_baseline": mb,
                    "mean_diff": paired["mean"],
                    "std_diff": paired["std"],
                    "ci_low": paired["ci_low"],
                    "ci_high": paired["ci_high"],
                    "half_width": paired["half_width"],
                    "ci_low_unpaired": (mx - mb) - hw_u,
                    "ci_high_unpaired": (mx - mb) + hw_u,
                    "half_width_unpaired": hw_u,
                }
            )
    out = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    return out.astype({"n": np.int64}) if not out.empty else out
