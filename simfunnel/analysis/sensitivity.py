"""Global sensitivity: which uncertain inputs drive a KPI, or the *difference* between two policies (SALib).

- design ``sobol``: Sobol first-order (S1) and total-order (ST) indices with bootstrap intervals
  (Saltelli 2010 / Jansen estimators, `SALib.analyze.sobol`). S1: the share of the KPI's variance across worlds
  explained by the input alone; ST: including all its interactions; ST near 0: the input does not matter.
- design ``morris``: elementary effects (`SALib.analyze.morris`): mu* (mean absolute change of the KPI per
  whole quantile range of the input, 0 to 1 of its CDF, in the KPI's unit, with an interval) and sigma
  (non-linearity or interactions). For a uniform input with a linear effect, mu* is the change from low to high.
- ``lhs`` or a parameter sample: the given-data first-order index Var(E[Y | x]) / Var(Y) by binning
  (`simfunnel.analysis.binning`), noise floor subtracted, with bootstrap intervals; no total-order index.

The KPI per world is its mean over the replications; the same code path analyses any runner's output, so the
tests check it on the Ishigami function with known indices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simfunnel.analysis.binning import bin_means, noise_floor
from simfunnel.analysis.design import MORRIS_LEVELS
from simfunnel.experiments.seeds import child_seed, seed_from_parts

if TYPE_CHECKING:
    from simfunnel.analysis.explore import Exploration

__all__ = ["ANALYSIS_KEY", "first_order_binned", "outputs", "sensitivity"]

ANALYSIS_KEY = 2**31 - 3
"""Child key of the bootstrap/permutation stream of the analyses (disjoint from replications and the design)."""


def outputs(exp: Exploration, metric: str, policy: str | None = None, versus: str | None = None) -> pd.Series:
    """The KPI per world that an analysis explains: ``policy``'s mean ``metric`` (default the baseline), or
    ``policy`` minus ``versus`` when ``versus`` is given."""
    if versus is not None:
        return exp.difference(metric, policy, versus)
    policy = policy or exp.baseline
    if policy not in exp.policies:
        raise KeyError(f"{policy!r} is not a policy of this exploration: {', '.join(exp.policies)}")
    return exp.outcome(metric)[policy]


def analysis_rng(exp: Exploration) -> np.random.Generator:
    """The random stream of bootstraps and permutations, from the exploration's seed."""
    return np.random.default_rng(child_seed(seed_from_parts(exp.seed, exp.spawn_key), ANALYSIS_KEY))


def sensitivity(
    exp: Exploration,
    metric: str = "profit",
    policy: str | None = None,
    versus: str | None = None,
    *,
    num_resamples: int = 200,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """One row per input, most influential first; columns by design (see the module docstring):
    sobol ``S1, S1_low, S1_high, ST, ST_low, ST_high``; morris ``mu_star, mu_star_low, mu_star_high, mu, sigma``;
    lhs/file ``S1, S1_low, S1_high``. ``attrs``: method, metric, what (the KPI or difference explained)."""
    y = outputs(exp, metric, policy, versus)
    if y.isna().any():
        bad = list(y.index[y.isna()][:5])
        raise ValueError(f"sensitivity needs every world: {int(y.isna().sum())} failed (worlds {bad}...); see .errors")
    rng = analysis_rng(exp)
    seed = int(rng.integers(2**31 - 1))
    design = exp.design
    values = y.to_numpy(dtype=float)
    if design.design == "sobol":
        table = _sobol(design.problem, values, num_resamples, conf_level, seed)
    elif design.design == "morris":
        table = _morris(design.problem, design.unit, values, num_resamples, conf_level, seed)
    else:
        table = first_order_binned(exp.worlds[list(design.inputs)], values, rng, num_resamples, conf_level)
    table.attrs.update({"method": design.design, "metric": metric, "what": str(y.name or metric)})
    return table


def _sobol(problem: dict[str, Any], y: np.ndarray, resamples: int, conf: float, seed: int) -> pd.DataFrame:
    from SALib.analyze import sobol

    res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples, conf_level=conf, seed=seed)
    out = pd.DataFrame({"input": problem["names"]})
    for key in ("S1", "ST"):
        out[key] = res[key]
        out[f"{key}_low"] = res[key] - res[f"{key}_conf"]
        out[f"{key}_high"] = res[key] + res[f"{key}_conf"]
    return out.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)


def _morris(
    problem: dict[str, Any], unit: np.ndarray, y: np.ndarray, resamples: int, conf: float, seed: int
) -> pd.DataFrame:
    from SALib.analyze import morris

    res = morris.analyze(problem, unit, y, num_resamples=resamples, conf_level=conf, num_levels=MORRIS_LEVELS,
                         seed=seed)  # fmt: skip
    scale = MORRIS_LEVELS / (MORRIS_LEVELS - 1)  # SALib's step 2/3 of the grid is 1/2 of the quantile range
    out = pd.DataFrame({"input": problem["names"], "mu_star": np.asarray(res["mu_star"]) * scale})
    out["mu_star_low"] = out["mu_star"] - np.asarray(res["mu_star_conf"]) * scale
    out["mu_star_high"] = out["mu_star"] + np.asarray(res["mu_star_conf"]) * scale
    out["mu"] = np.asarray(res["mu"]) * scale
    out["sigma"] = np.asarray(res["sigma"]) * scale
    return out.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)


def first_order_binned(
    x: pd.DataFrame, y: np.ndarray, rng: np.random.Generator, resamples: int = 200, conf_level: float = 0.95
) -> pd.DataFrame:
    """Given-data first-order indices Var(E[y | x_i]) / Var(y) by binning, noise floor subtracted, with
    percentile-bootstrap intervals (worlds resampled)."""
    y = np.asarray(y, dtype=float)

    def s1(xi: np.ndarray, yy: np.ndarray) -> float:
        var = yy.var()
        if not var > 0:
            return 0.0
        w, m = bin_means(xi, yy)
        return float(np.sum(w * (m[:, 0] - yy.mean()) ** 2) / var)

    rows = []
    alpha = (1 - conf_level) / 2
    for col in x.columns:
        xi = x[col].to_numpy(dtype=float)
        floor = noise_floor(lambda xp, yy=y: s1(xp, yy), xi, rng)
        est = s1(xi, y) - floor
        boots = []
        for _ in range(resamples):
            idx = rng.integers(0, len(y), len(y))
            boots.append(s1(xi[idx], y[idx]) - floor)
        lo, hi = np.quantile(boots, [alpha, 1 - alpha]) if boots else (np.nan, np.nan)
        rows.append({"input": str(col), "S1": est, "S1_low": lo, "S1_high": hi})
    out = pd.DataFrame(rows, columns=["input", "S1", "S1_low", "S1_high"])
    return out.sort_values("S1", ascending=False, kind="stable").reset_index(drop=True)
