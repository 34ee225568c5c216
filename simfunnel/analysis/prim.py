"""Scenario discovery with PRIM: a box of input ranges that holds most of the worlds of interest.

PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999, "Bump hunting in high-dimensional data",
Statistics and Computing 9), as used for scenario discovery (Bryant & Lempert 2010, Technological Forecasting
& Social Change 77): start from the box holding every world; repeatedly peel off the ``peel_alpha`` share of the
worlds at the low or high end of one input, choosing the peel that leaves the highest share of cases (density)
in the box, until fewer than ``min_mass`` of the worlds remain. Each step is a candidate box:

- *coverage*: the share of all cases of interest inside the box (how much of the problem it explains);
- *density*: the share of the box's worlds that are cases (how pure the description is);
- *mass*: the share of all worlds inside the box.

The box reported balances the two: the candidate with the highest coverage x density; with a ``threshold``, the
candidate with the highest coverage among those with density >= threshold (when none is that dense, again the
highest coverage x density). The trajectory holds every candidate, for a different trade-off. Written here rather than taken from
ema_workbench, whose installation pulls in a plotting and machine-learning stack for ~100 lines of algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simfunnel.formatting import format_value

if TYPE_CHECKING:
    from simfunnel.analysis.explore import Exploration

__all__ = ["PrimBox", "discover", "prim"]


@dataclass(frozen=True)
class PrimBox:
    """A PRIM box: ``limits`` (input, low, high, data_low, data_high, restricted) - worlds with every input in
    [low, high] are inside; ``restricted`` inputs are the ones that describe the box - with its coverage,
    density and mass, and the whole peeling ``trajectory`` (step, coverage, density, mass, restricted)."""

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    n_cases: int
    n_worlds: int
    trajectory: pd.DataFrame
    threshold: float | None
    cases: str = "cases"

    @property
    def restricted(self) -> pd.DataFrame:
        """The limits of the inputs the box restricts."""
        return self.limits[self.limits["restricted"]].reset_index(drop=True)

    def describe(self) -> str:
        """One line: the restricted ranges with coverage and density."""
        ranges = " and ".join(f"{r.input} in [{r.low:.4g}, {r.high:.4g}]" for r in self.restricted.itertuples())
        share = {k: format_value(getattr(self, k), "share") for k in ("coverage", "density", "mass")}
        return (f"{ranges or 'no restriction (the whole space)'}: coverage {share['coverage']}, density "
                f"{share['density']}, {share['mass']} of the worlds")  # fmt: skip


def _peel_candidates(x: np.ndarray, inside: np.ndarray, alpha: float) -> list[tuple[int, int, np.ndarray]]:
    """Every one-step peel of the box, as (input, side 0 = low / 1 = high, worlds kept): for each input, drop
    the lowest or the highest ``alpha`` of the box's worlds."""
    out = []
    for j in range(x.shape[1]):
        xj = x[inside, j]
        lo, hi = np.quantile(xj, alpha), np.quantile(xj, 1 - alpha)
        for side, keep in ((0, x[:, j] > lo), (1, x[:, j] < hi)):
            new = inside & keep
            if 0 < new.sum() < inside.sum():
                out.append((j, side, new))
    return out


def prim(
    x: pd.DataFrame,
    y: np.ndarray,
    peel_alpha: float = 0.05,
    min_mass: float = 0.05,
    threshold: float | None = None,
    prune_tolerance: float = 0.05,
) -> PrimBox:
    """PRIM over worlds ``x`` (one column per input) with ``y`` True for the cases of interest; the chosen box
    is then pruned (`prune`) of restrictions that cost less than ``prune_tolerance`` of its density."""
    y = np.asarray(y, dtype=bool)
    xs = x.to_numpy(dtype=float)
    if len(y) != len(xs) or not len(y):
        raise ValueError("prim needs one case flag per world and at least one world")
    total_cases = int(y.sum())
    inside = np.ones(len(y), dtype=bool)
    bounds = np.vstack([xs.min(axis=0), xs.max(axis=0)])  # row 0: low limits, row 1: high limits
    boxes = [(inside, bounds.copy())]
    while inside.mean() > min_mass:
        candidates = [c for c in _peel_candidates(xs, inside, peel_alpha) if c[2].mean() >= min_mass]
        if not candidates:
            break
        j, side, inside = max(candidates, key=lambda c: (y[c[2]].mean(), c[2].sum()))
        bounds[side, j] = xs[inside, j].min() if side == 0 else xs[inside, j].max()
        boxes.append((inside, bounds.copy()))
    full = boxes[0][1]
    stats = [_stats(b, y, total_cases) for b, _ in boxes]
    rows = [(i, *s, int(((lim[0] > full[0]) | (lim[1] < full[1])).sum())) for i, ((_, lim), s) in
            enumerate(zip(boxes, stats, strict=True))]  # fmt: skip
    trajectory = pd.DataFrame(rows, columns=["step", "coverage", "density", "mass", "restricted"])
    pick = _pick(trajectory, threshold)
    limits = prune(xs, y, boxes[pick][1], full, prune_tolerance)
    coverage, density, mass = _stats(_inside(xs, limits), y, total_cases)
    table = pd.DataFrame({"input": [str(c) for c in x.columns], "low": limits[0], "high": limits[1],
                          "data_low": full[0], "data_high": full[1],
                          "restricted": (limits[0] > full[0]) | (limits[1] < full[1])})  # fmt: skip
    return PrimBox(table, coverage, density, mass, total_cases, len(y), trajectory, threshold)


def _pick(trajectory: pd.DataFrame, threshold: float | None) -> int:
    """The step reported: max coverage x density; with a threshold, max coverage at density >= threshold."""
    t = trajectory.fillna({"coverage": 0.0})
    dense = t[t["density"] >= threshold] if threshold is not None else t.iloc[:0]
    if len(dense):
        return int(dense.sort_values(["coverage", "step"], ascending=[False, True], kind="stable").iloc[0]["step"])
    score = t["coverage"] * t["density"]
    return int(t.loc[score == score.max(), "step"].iloc[0])


def _inside(xs: np.ndarray, limits: np.ndarray) -> np.ndarray:
    return np.all((xs >= limits[0]) & (xs <= limits[1]), axis=1)


def prune(xs: np.ndarray, y: np.ndarray, limits: np.ndarray, full: np.ndarray, tolerance: float) -> np.ndarray:
    """Drop, one at a time, the restriction whose removal costs the least density, while the box keeps at least
    (1 - tolerance) of its density: peeling restricts many inputs a little by chance, and a description should
    name only the inputs that matter (Bryant & Lempert 2010 prune such dimensions the same way)."""
    limits = limits.copy()
    target = (1 - tolerance) * y[_inside(xs, limits)].mean()
    while True:
        restricted = [j for j in range(xs.shape[1]) if limits[0, j] > full[0, j] or limits[1, j] < full[1, j]]
        best, best_density = None, -1.0
        for j in restricted:
            trial = limits.copy()
            trial[:, j] = full[:, j]
            density = y[_inside(xs, trial)].mean()
            if density >= target and density > best_density:
                best, best_density = j, density
        if best is None:
            return limits
        limits[:, best] = full[:, best]


def _stats(inside: np.ndarray, y: np.ndarray, total_cases: int) -> tuple[float, float, float]:
    cases = float(y[inside].sum())
    coverage = cases / total_cases if total_cases else float("nan")
    return coverage, cases / inside.sum(), float(inside.mean())


def discover(
    exp: Exploration,
    metric: str = "profit",
    policy: str | None = None,
    versus: str | None = None,
    margin: float = 0.0,
    **kwargs: float,
) -> PrimBox:
    """The box of worlds where ``policy`` (default: the first non-baseline) does not beat ``versus`` (default:
    the baseline) by more than ``margin`` in ``metric`` (in the KPI's direction); ``kwargs`` go to `prim`."""
    from simfunnel.analysis.robustness import oriented

    policy, versus = exp.pair(policy, versus)
    values, better = oriented(exp, metric)
    gain = (values[policy] - values[versus]) * better
    worlds = exp.worlds.set_index("world").loc[values.index, list(exp.inputs)]
    box = prim(worlds.reset_index(drop=True), (gain <= margin).to_numpy(), **kwargs)
    label = f"worlds where {policy} does not beat {versus} on {metric}" + (
        f" by more than {margin:g}" if margin else ""
    )
    return PrimBox(**{**box.__dict__, "cases": label})
