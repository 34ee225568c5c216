"""`Estimate`: one calibrated quantity with its 90 % interval and the data it came from, the currency between
the direct estimates, the simulation-based fit and the written scenario; plus the interval helpers they share."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

Z90 = 1.6448536269514722
"""The standard normal quantile of a two-sided 90 % interval."""

ESTIMATE_COLUMNS = ("name", "value", "low", "high", "unit", "source", "field", "status", "note")


@dataclass(frozen=True)
class Estimate:
    """A calibrated quantity: `value` with its 90 % interval [`low`, `high`], `source` (the data and method it
    came from), `field` (the scenario field it sets, '' for a quantity only reported) and `status`
    ('estimated', 'fitted', 'not identified', 'kept')."""

    name: str
    value: float
    low: float
    high: float
    unit: str = ""
    source: str = ""
    field: str = ""
    status: str = "estimated"
    note: str = ""

    def covers(self, truth: float) -> bool:
        """Whether `truth` lies inside the 90 % interval."""
        return bool(self.low <= truth <= self.high)


def estimates_frame(estimates: list[Estimate]) -> pd.DataFrame:
    """The estimates as a table with `ESTIMATE_COLUMNS`."""
    return pd.DataFrame([asdict(e) for e in estimates], columns=list(ESTIMATE_COLUMNS))


def wilson(successes: float, trials: float, z: float = Z90) -> tuple[float, float, float]:
    """Share successes/trials with its Wilson score interval (nan for no trials); better than the normal
    interval for small counts and shares near 0 or 1."""
    if trials <= 0:
        return math.nan, math.nan, math.nan
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def poisson_interval(count: float, z: float = Z90) -> tuple[float, float]:
    """A 90 % interval for a Poisson mean from one count (Wilson-Hilferty approximation of the exact one)."""
    low = 0.0 if count <= 0 else count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    c1 = count + 1
    high = c1 * (1 - 1 / (9 * c1) + z / (3 * math.sqrt(c1))) ** 3
    return low, high


def quantile_interval(draws: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """The central `level` interval of a sample of draws."""
    tail = (1 - level) / 2
    lo, hi = np.quantile(np.asarray(draws, dtype=float), [tail, 1 - tail])
    return float(lo), float(hi)


__all__ = ["ESTIMATE_COLUMNS", "Z90", "Estimate", "estimates_frame", "poisson_interval", "quantile_interval", "wilson"]
