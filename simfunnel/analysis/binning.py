"""Conditional means of outcomes given one input, by binning the input's sorted values - shared by the
given-data first-order index (`simfunnel.analysis.sensitivity`) and EVPPI (`simfunnel.analysis.voi`).

Strong & Oakley (2013), "An efficient method for computing single-parameter partial expected value of perfect
information", Medical Decision Making 33(6): E[Y | x] is estimated by the mean of Y within bins of worlds with
neighbouring x (equal-count bins, or one bin per value when x takes few values). With few worlds per bin the
bin means carry noise, which biases both estimators upwards; `noise_floor` measures that bias by running the
same estimator on a randomly permuted x (which carries no information): subtract it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["bin_means", "default_bins", "noise_floor"]


def default_bins(n_worlds: int) -> int:
    """About sqrt(N) bins, between 2 and 50."""
    return int(min(50, max(2, round(np.sqrt(n_worlds)))))


def bin_means(x: np.ndarray, y: np.ndarray, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(weights, means): the share of worlds in each bin of ``x`` and the mean of ``y`` (worlds x columns, or one
    column) in it. Equal-count bins of the sorted ``x``; one bin per value when ``x`` has at most ``bins`` values."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    y2 = y.reshape(len(y), -1)
    bins = bins or default_bins(len(x))
    values = np.unique(x)
    if len(values) <= bins:
        groups = [np.flatnonzero(x == v) for v in values]
    else:
        groups = np.array_split(np.argsort(x, kind="stable"), bins)
    weights = np.array([len(g) for g in groups], dtype=float) / len(x)
    means = np.vstack([y2[g].mean(axis=0) for g in groups])
    return weights, means


def noise_floor(
    statistic: Callable[[np.ndarray], float], x: np.ndarray, rng: np.random.Generator, permutations: int = 20
) -> float:
    """Mean of ``statistic(permuted x)`` over random permutations: the estimator's value for an input that
    carries no information, i.e. its upward bias from noisy bin means."""
    if permutations <= 0:
        return 0.0
    return float(np.mean([statistic(rng.permutation(x)) for _ in range(permutations)]))
