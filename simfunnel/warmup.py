"""How long a warm-up the model needs: every run starts with an empty pipeline (no leads in the reps' queues, no
deals in progress, a customer base that is not the organisation's own steady state), so the first months ramp up.

`estimate_warmup(scenario, seed=1, series="rep_utilization")` runs a long pilot without a warm-up, takes a weekly
output series (averaged over a few replications) and truncates it with MSER-5 (White 1997; White, Cobb & Spratt
2000): batch the series into means of 5 weeks, and cut the first d batches where the "marginal standard error"
MSER(d) = sum_{j>d} (Z_j - mean_{j>d} Z)^2 / (k - d)^2 is smallest, i.e. where dropping more data no longer buys a
smaller error of the mean. The minimum is searched in the first half of the series only; when it sits at the
half-way point the series is still trending and the pilot was too short (``reliable`` is False). A market with
seasonality swings the weekly series over the year; the yearly profile (estimated after the first year) is
removed first, so the cycle is not read as a transient. `welch_moving_average` gives the curve of Welch's (1983)
graphical method, to check the estimate by eye.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simfunnel.scenario import Scenario

BATCH_WEEKS = 5
"""MSER-5: batch means of 5 observations (weeks)."""
WEEKS_PER_YEAR = 52
PILOT_YEARS = 3
"""Default pilot length: three years (or twice the horizon if longer): enough for the yearly cycle (two years after
the first), short enough that the slow growth of a customer base is not read as the transient."""
SERIES = ("rep_utilization", "won", "leads", "new_revenue", "repeat_revenue", "revenue", "customers")
"""Weekly series the estimator can use: columns of `RunResult.timeseries`, and revenue = new + repeat."""


@dataclass(frozen=True)
class MserResult:
    """MSER truncation of one series: ``truncation`` observations to drop, the statistic per batch count."""

    truncation: int
    statistic: np.ndarray
    reliable: bool


def mser(values: np.ndarray, batch_size: int = BATCH_WEEKS) -> MserResult:
    """MSER-``batch_size`` (White 1997) of a series: the number of leading observations to drop (a multiple of
    ``batch_size``). Incomplete last batches are left out; the minimum is searched over the first half of the
    batches, and ``reliable`` is False when it sits at the end of that half (the series is still trending)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    k = len(x) // batch_size
    if k < 4:
        raise ValueError(f"MSER-{batch_size} needs at least {4 * batch_size} observations, got {len(x)}")
    z = x[: k * batch_size].reshape(k, batch_size).mean(axis=1)
    # suffix sums: the mean and the sum of squared deviations of z[d:] for every d in one pass
    s1 = np.cumsum(z[::-1])[::-1]
    s2 = np.cumsum((z * z)[::-1])[::-1]
    n = np.arange(k, 0, -1, dtype=float)
    sse = np.maximum(s2 - s1 * s1 / n, 0.0)
    stat = sse / (n * n)
    half = k // 2
    d = int(np.argmin(stat[: half + 1]))
    return MserResult(truncation=d * batch_size, statistic=stat, reliable=d < half)


def welch_moving_average(values: np.ndarray, window: int = 5) -> np.ndarray:
    """Welch's centred moving average of ``2 * window + 1`` points (shorter, symmetric, near the start)."""
    y = np.asarray(values, dtype=float)
    out = np.full(len(y), np.nan)
    for t in range(len(y) - window):
        w = min(t, window)
        out[t] = y[t - w : t + w + 1].mean()
    return out


def seasonally_adjusted(values: np.ndarray, period: int = WEEKS_PER_YEAR) -> np.ndarray:
    """The series minus its profile over the ``period`` (week of year), estimated after the first period (which
    holds the transient) and re-centred on the series' mean there: a yearly cycle is not mistaken for a trend.
    Needs at least two periods after the first; shorter series come back unchanged."""
    y = np.asarray(values, dtype=float)
    if len(y) < 3 * period:
        return y.copy()
    phase = np.arange(len(y)) % period
    later = np.arange(len(y)) >= period
    profile = np.array([y[later & (phase == p)].mean() for p in range(period)])
    return y - profile[phase] + y[later].mean()


@dataclass(frozen=True)
class WarmupEstimate:
    """A warm-up estimate: ``days`` (whole weeks) to set as ``simulation.warmup_days``, from which weekly series
    and method, on how long a pilot of how many replications, and whether the pilot was long enough."""

    days: float
    series: str
    method: str
    pilot_days: float
    replications: int
    reliable: bool
    values: np.ndarray = field(repr=False)
    """The weekly series of the pilot, averaged over the replications (before any seasonal adjustment)."""

    @property
    def weeks(self) -> int:
        return int(round(self.days / 7))


def pilot_series(
    scenario: Scenario, series: str, *, seed: int = 1, pilot_days: float | None = None, replications: int = 5
) -> tuple[np.ndarray, float]:
    """The weekly ``series`` of a pilot (the scenario without a warm-up over ``pilot_days``, default the longer of
    `PILOT_YEARS` years and twice the horizon), averaged over ``replications`` runs (children of ``seed``); and
    the pilot's length in days (whole weeks)."""
    from simfunnel.simulate import simulate

    if series not in SERIES:
        raise ValueError(f"series must be one of {', '.join(SERIES)}, got {series!r}")
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    days = pilot_days if pilot_days is not None else max(PILOT_YEARS * 365.0, 2 * scenario.simulation.horizon_days)
    days = 7.0 * math.ceil(days / 7.0)
    pilot = scenario.with_overrides({"simulation.warmup_days": 0, "simulation.horizon_days": days})
    rows = []
    for child in np.random.SeedSequence(seed).spawn(replications):
        ts = simulate(pilot, child).timeseries
        rows.append((ts["new_revenue"] + ts["repeat_revenue"]).to_numpy(float) if series == "revenue"
                    else ts[series].to_numpy(float))  # fmt: skip
    return np.mean(rows, axis=0), days


def estimate_warmup(
    scenario: Scenario,
    *,
    seed: int = 1,
    series: str = "rep_utilization",
    pilot_days: float | None = None,
    replications: int = 5,
    seasonal: bool | None = None,
) -> WarmupEstimate:
    """A sufficient warm-up for ``scenario``: MSER-5 on the weekly ``series`` of a pilot (`pilot_series`), in
    whole weeks. ``seasonal`` (default: when the market has seasonality) first removes the yearly cycle
    (`seasonally_adjusted`). Set the result as ``simulation.warmup_days``, rounded up to taste."""
    values, days = pilot_series(scenario, series, seed=seed, pilot_days=pilot_days, replications=replications)
    adjust = scenario.market.seasonality_amplitude > 0 if seasonal is None else seasonal
    res = mser(seasonally_adjusted(values) if adjust else values, BATCH_WEEKS)
    method = "MSER-5 (seasonally adjusted)" if adjust and len(values) >= 3 * WEEKS_PER_YEAR else "MSER-5"
    return WarmupEstimate(7.0 * res.truncation, series, method, days, replications, res.reliable, values)


__all__ = [
    "SERIES",
    "MserResult",
    "WarmupEstimate",
    "estimate_warmup",
    "mser",
    "pilot_series",
    "seasonally_adjusted",
    "welch_moving_average",
]
