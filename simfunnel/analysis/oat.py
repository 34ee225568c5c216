"""One-at-a-time swings of a KPI (or of a policy difference): each input at a low and a high quantile of its
distribution, every other input at its median - the numbers behind a tornado chart.

A tornado is a local view: it does not see interactions (an input that matters only together with another one
looks small), which the Sobol total-order index of `simfunnel.analysis.sensitivity` does see. It is cheap
(``2 k + 1`` worlds for ``k`` inputs) and easy to read: "from the pessimistic to the optimistic value of this
input, the gap moves from A to B". The worlds are run by `explore` as a parameter sample, so every policy sees
the same seeds (common random numbers) and the swings are paired differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.analysis.explore import Exploration, explore
from simfunnel.experiments.options import RunOptions
from simfunnel.experiments.runs import ScenarioLike, as_scenario
from simfunnel.experiments.seeds import SeedLike
from simfunnel.schema.uncertainty import UncertainInput, field_of_path, is_integer_field

__all__ = ["SWING_COLUMNS", "oat_worlds", "one_at_a_time", "swings"]

SWING_COLUMNS = ("input", "low_value", "high_value", "low", "high", "swing")


def _table(
    scenarios: Mapping[str, ScenarioLike] | Sequence[ScenarioLike],
    uncertainty: Mapping[str, UncertainInput | Mapping[str, Any]] | None,
) -> tuple[Any, dict[str, UncertainInput]]:
    """(the baseline scenario, the uncertainty table: given, or the baseline's own)."""
    first = next(iter(scenarios.values())) if isinstance(scenarios, Mapping) else next(iter(scenarios))
    base = as_scenario(first)
    raw = dict(base.uncertainty) if uncertainty is None else dict(uncertainty)
    table = {k: v if isinstance(v, UncertainInput) else UncertainInput.model_validate(dict(v)) for k, v in raw.items()}
    if not table:
        raise ValueError("no uncertain inputs: give the scenario an [uncertainty] table or pass uncertainty=")
    return base, table


def oat_worlds(
    table: Mapping[str, UncertainInput], quantiles: tuple[float, float] = (0.1, 0.9), scenario: Any = None
) -> pd.DataFrame:
    """The ``2 k + 1`` worlds of a one-at-a-time design: row 0 every input at its median, then for each input
    (in order) a row with it at the low and a row at the high quantile. Integer fields of ``scenario`` are rounded."""
    lo_q, hi_q = quantiles
    if not 0 <= lo_q < hi_q <= 1:
        raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {quantiles}")
    names = list(table)
    integer = {n: scenario is not None and is_integer_field(*field_of_path(scenario, n)) for n in names}

    def value(name: str, q: float) -> float:
        return float(table[name].ppf(np.array([q]), integer=integer[name])[0])

    centre = {n: value(n, 0.5) for n in names}
    rows = [dict(centre)]
    for n in names:
        rows += [{**centre, n: value(n, lo_q)}, {**centre, n: value(n, hi_q)}]
    return pd.DataFrame(rows, columns=names)


def swings(
    exp: Exploration, metric: str = "profit", policy: str | None = None, versus: str | None = None
) -> pd.DataFrame:
    """The swing table (`SWING_COLUMNS`, largest swing first) of an exploration run on `oat_worlds`: the KPI
    difference ``policy - versus`` (or ``policy``'s KPI when ``versus`` is None and there is one policy) with
    each input at its low and its high value. ``attrs``: centre (the value at the medians), metric, what."""
    if len(exp.policies) > 1 or versus is not None:
        y = exp.difference(metric, policy, versus)
    else:
        y = exp.outcome(metric)[exp.policies[0]]
    worlds = exp.worlds.set_index("world")
    rows = []
    for j, name in enumerate(exp.inputs):
        lo_w, hi_w = 1 + 2 * j, 2 + 2 * j
        lo, hi = float(y.loc[lo_w]), float(y.loc[hi_w])
        rows.append((name, float(worlds.loc[lo_w, name]), float(worlds.loc[hi_w, name]), lo, hi, abs(hi - lo)))
    out = pd.DataFrame(rows, columns=list(SWING_COLUMNS))
    out = out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update({"centre": float(y.loc[0]), "metric": metric, "what": str(y.name or metric)})
    return out


def one_at_a_time(
    scenarios: Mapping[str, ScenarioLike] | Sequence[ScenarioLike],
    uncertainty: Mapping[str, UncertainInput | Mapping[str, Any]] | None = None,
    metric: str = "profit",
    *,
    policy: str | None = None,
    versus: str | None = None,
    quantiles: tuple[float, float] = (0.1, 0.9),
    n: int = 1,
    seed: SeedLike = None,
    options: RunOptions | None = None,
) -> pd.DataFrame:
    """Run the one-at-a-time worlds (`oat_worlds`) for every policy with ``n`` paired replications and return
    the swings of ``metric`` (`swings`; the difference of the first non-baseline policy to the baseline by
    default). ``attrs`` also holds ``quantiles``. Costs ``(2 k + 1) x policies x n`` simulations."""
    base, table = _table(scenarios, uncertainty)
    frame = oat_worlds(table, quantiles, base)
    exp = explore(scenarios, frame, samples=None, n=n, seed=seed, options=options)
    out = swings(exp, metric, policy, versus)
    out.attrs["quantiles"] = tuple(quantiles)
    return out
