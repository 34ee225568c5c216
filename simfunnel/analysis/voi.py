"""Which number to measure next: expected value of (partial) perfect information for "which policy".

Decision: choose the policy with the best expected KPI (net benefit ``NB_p``, e.g. profit) across the worlds.

- EVPI = E[max_p NB_p] - max_p E[NB_p]: what knowing *every* uncertain input before choosing would be worth
  (the expected gain from switching policy in the worlds where the default choice is wrong);
- EVPPI of input i = E_xi[max_p E[NB_p | x_i]] - max_p E[NB_p]: what knowing input i alone would be worth.

E[NB_p | x_i] is estimated with the single-parameter binning estimator of Strong & Oakley (2013, Medical
Decision Making 33(6), `simfunnel.analysis.binning`) from the worlds already simulated - no nested simulation.
Its upward bias from noisy bin means is estimated by the same estimator on a permuted x_i (``noise_floor``) and
subtracted (``evppi_adjusted``, floored at 0). Values are in the KPI's unit over the scenario horizon; EVPPI is
at most EVPI (up to estimation noise). A large EVPPI says: measure this input before choosing; near 0: the
choice does not depend on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simfunnel.analysis.binning import bin_means, noise_floor
from simfunnel.analysis.robustness import oriented
from simfunnel.analysis.sensitivity import analysis_rng

if TYPE_CHECKING:
    from simfunnel.analysis.explore import Exploration

__all__ = ["EVPPI_COLUMNS", "evpi", "evppi", "evppi_one"]

EVPPI_COLUMNS = ("input", "evppi", "noise_floor", "evppi_adjusted", "share_of_evpi")


def evpi(nb: np.ndarray) -> float:
    """EVPI of a worlds x policies net-benefit matrix (higher is better), written as the mean gain over the
    default choice so that it is exactly 0 when one policy is best in every world."""
    choice = int(np.argmax(nb.mean(axis=0)))
    return float(np.mean(nb.max(axis=1) - nb[:, choice]))


def evppi_one(x: np.ndarray, nb: np.ndarray, bins: int | None = None) -> float:
    """EVPPI of one input: binned conditional means of every policy's net benefit, best per bin, weighted
    (as the gain over the default choice per bin, exactly 0 when the default is best in every bin)."""
    choice = int(np.argmax(nb.mean(axis=0)))
    weights, means = bin_means(x, nb, bins)
    return float(np.sum(weights * (means.max(axis=1) - means[:, choice])))


def evppi(exp: Exploration, metric: str = "profit", bins: int | None = None, permutations: int = 20) -> pd.DataFrame:
    """One row per input (`EVPPI_COLUMNS`), largest adjusted EVPPI first; ``attrs``: evpi, metric, choice (the
    policy with the best expected KPI), n_worlds."""
    values, better = oriented(exp, metric)
    nb = values.to_numpy(dtype=float) * better
    worlds = exp.worlds.set_index("world").loc[values.index]
    rng = analysis_rng(exp)
    total = evpi(nb)
    rows = []
    for name in exp.inputs:
        x = worlds[name].to_numpy(dtype=float)
        raw = evppi_one(x, nb, bins)
        floor = noise_floor(lambda xp: evppi_one(xp, nb, bins), x, rng, permutations)
        adjusted = max(0.0, raw - floor)
        rows.append((name, raw, floor, adjusted, adjusted / total if total > 0 else np.nan))
    out = pd.DataFrame(rows, columns=list(EVPPI_COLUMNS))
    out = out.sort_values("evppi_adjusted", ascending=False, kind="stable").reset_index(drop=True)
    choice = str(values.columns[int(np.argmax(nb.mean(axis=0)))])
    out.attrs.update({"evpi": total, "metric": metric, "choice": choice, "n_worlds": len(values)})
    return out
