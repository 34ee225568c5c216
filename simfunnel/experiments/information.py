"""The value of information of context at handoff: how much a KPI gains from passing the buyer's stated timeline
to the rep (``organisation.pass_context``), as a function of how precise the stated timeline is
(``context.timeline_error``, the log-sd of the buyer's estimate). Paired replications (common random numbers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from simfunnel.experiments.options import RunOptions
from simfunnel.experiments.replicate import compare
from simfunnel.experiments.runs import DEFAULT_N, ScenarioLike, as_scenario
from simfunnel.experiments.seeds import SeedLike
from simfunnel.experiments.statistics import mean_ci

VOI_ERRORS = (0.0, 0.1, 0.2, 0.4, 0.8, 1.6)
"""Default precisions of the curve (``context.timeline_error``): exact, +-10 %, ... , a factor of five."""

NO_CONTEXT = "no context"


def value_of_information(
    base: ScenarioLike,
    errors: Sequence[float] = VOI_ERRORS,
    *,
    kpi: str = "profit",
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    overrides: Mapping[str, Any] | None = None,
    options: RunOptions | None = None,
) -> pd.DataFrame:
    """One row per timeline error: the paired gain in ``kpi`` of passing context over not passing it at that
    precision (the error also applies to a recycled lead's call-back, with or without context), its 95 % CI, the
    gain relative to the no-context mean, and the KPI with context. ``overrides`` apply to every point
    (e.g. ``{"context.stated_share": 1.0}`` for the curve if every buyer stated a timeline)."""
    sc = as_scenario(base).with_overrides(dict(overrides or {}))
    scenarios = {}
    for error in errors:
        at = sc.with_overrides({"context.timeline_error": float(error)})
        scenarios[f"{NO_CONTEXT} {float(error):g}"] = at.with_overrides({"organisation.pass_context": False})
        scenarios[f"context {float(error):g}"] = at.with_overrides({"organisation.pass_context": True})
    exp = compare(scenarios, n=n, seed=seed, options=options)
    wide = exp.runs[exp.runs["metric"] == kpi].pivot(index="replication", columns="scenario", values="value")
    rows = []
    for error in errors:
        on, off = wide[f"context {float(error):g}"], wide[f"{NO_CONTEXT} {float(error):g}"]
        ci = mean_ci((on - off).to_numpy(dtype=float))
        rows.append({
            "timeline_error": float(error), "kpi": kpi, "value": float(on.mean()), "no_context": float(off.mean()),
            "gain": ci["mean"], "gain_ci_low": ci["ci_low"], "gain_ci_high": ci["ci_high"],
            "relative_gain": ci["mean"] / abs(float(off.mean())), "n": int(ci["n"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


__all__ = ["NO_CONTEXT", "VOI_ERRORS", "value_of_information"]
