"""Steps along a sweep: what one more unit of a swept field brings (e.g. profit per extra rep), measured pair by
pair - replication ``i`` of every grid point saw the same buyers - and where the steps stop paying.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from simfunnel.experiments.statistics import mean_ci

__all__ = ["STEP_COLUMNS", "first_step_not_paying", "sweep_steps"]

STEP_COLUMNS = ("from", "to", "mean", "ci_low", "ci_high")
"""Columns of `sweep_steps`."""


def sweep_steps(sweep: Any, field: str, metric: str = "profit", *, per_unit: bool = True) -> pd.DataFrame:
    """For each step between neighbouring values of ``field`` in a one-field sweep, the paired difference of
    ``metric`` (mean over replications with its 95 % t interval), divided by the step size when ``per_unit``
    (e.g. profit per extra rep). ``sweep``: the `Experiment` of `simfunnel.sweep`."""
    wide = sweep.wide()
    if field not in wide.columns:
        raise KeyError(f"{field!r} is not a swept field of this experiment ({', '.join(sweep.fields)})")
    table = wide.pivot(index="replication", columns=field, values=metric)
    values = sorted(table.columns)
    rows = []
    for a, b in zip(values[:-1], values[1:], strict=True):
        scale = (b - a) if per_unit else 1.0
        stats = mean_ci((table[b] - table[a]) / scale)
        rows.append({"from": a, "to": b, "mean": stats["mean"], "ci_low": stats["ci_low"], "ci_high": stats["ci_high"]})
    return pd.DataFrame(rows, columns=list(STEP_COLUMNS))


def first_step_not_paying(steps: pd.DataFrame) -> pd.Series | None:
    """The first row of `sweep_steps` whose 95 % interval does not lie above zero (the step no longer clearly
    adds), or None when every step still pays."""
    bad = steps[~(steps["ci_low"] > 0)]
    return None if bad.empty else bad.iloc[0]
