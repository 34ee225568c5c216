"""Statistics of the experiments: the Student-t quantile, mean with 95 % interval, Welch's unpaired interval.

Confidence intervals are 95 % Student-t intervals: ``mean +- t(0.975, n-1) * std / sqrt(n)``. The t quantile
comes from `t_quantile_975` (a table for df 1..30, a Cornish-Fisher expansion beyond; no scipy needed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["half_widths", "mean_ci", "t_quantile_975", "welch_half_width"]

# Two-sided 95 % quantiles t(0.975, df) of Student's t for df = 1..30 (standard tables, e.g. NIST/SEMATECH
# e-Handbook 1.3.6.7.2; verified in the tests by integrating the t density).
_T975 = (
    12.706204736174698,
    4.302652729749464,
    3.182446305284263,
    2.7764451051977934,
    2.570581835636314,
    2.4469118511449666,
    2.3646242515927853,
    2.306004135204166,
    2.2621571628540993,
    2.2281388519649385,
    2.200985160082949,
    2.1788128296634177,
    2.1603686564610127,
    2.1447866879169273,
    2.131449545559323,
    2.1199052992210112,
    2.1098155778331806,
    2.10092204024096,
    2.093024054408263,
    2.0859634472658364,
    2.079613844727662,
    2.0738730679040147,
    2.0686576104190406,
    2.0638985616280205,
    2.059538552753294,
    2.055529438642871,
    2.0518305164802833,
    2.048407141795244,
    2.0452296421327034,
    2.0422724563012373,
)
_Z975 = 1.959963984540054


def t_quantile_975(df: float) -> float:
    """t(0.975, df): the multiplier of a two-sided 95 % confidence interval with ``df`` degrees of freedom.

    df 1..30: table (a fractional df is rounded down, which is conservative). df > 30: Cornish-Fisher expansion
    of the t quantile around the normal one (z = 1.95996), error < 1e-6 there, tending to 1.96 as df grows.
    NaN for df < 1 (no interval from one value)."""
    if not df >= 1:  # also NaN
        return math.nan
    if df <= 30:
        return _T975[int(math.floor(df)) - 1]
    z = _Z975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_ci(values: Iterable[float]) -> dict[str, float]:
    """Mean, std (ddof 1), n, 95 % t interval and half-width of the finite-or-inf, non-NaN values."""
    x = np.asarray(list(values), dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else math.nan
    hw = t_quantile_975(n - 1) * std / math.sqrt(n) if n > 1 else math.nan
    return {"mean": mean, "std": std, "n": n, "ci_low": mean - hw, "ci_high": mean + hw, "half_width": hw}


def half_widths(std: pd.Series, n: pd.Series) -> pd.Series:
    """Half-widths of 95 % t intervals, element-wise: ``t(0.975, n-1) * std / sqrt(n)``."""
    t = n.map(lambda k: t_quantile_975(k - 1))
    return (t * std / np.sqrt(n.astype(float))).astype(float)


def welch_half_width(x: np.ndarray, y: np.ndarray) -> float:
    """Half-width of Welch's 95 % interval for mean(x) - mean(y) (Welch-Satterthwaite df)."""
    nx, ny = x.size, y.size
    if nx < 2 or ny < 2:
        return math.nan
    vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
    se2 = vx + vy
    if se2 == 0:
        return 0.0
    df = se2**2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    return float(t_quantile_975(df) * math.sqrt(se2))
