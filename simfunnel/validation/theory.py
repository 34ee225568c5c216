"""Exact queueing theory the model is checked against: Erlang C for an M/M/c queue (`erlang_c`, `erlang_c_wq`,
`erlang_c_wait_sd`, `mmc_theory`) and both sides of Little's law ``L = lambda W`` (`littles_law`) measured on a
window (docs/pages/validation.md#erlang-c, #littles-law)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "HOURS_PER_DAY",
    "check_positive",
    "check_servers",
    "erlang_c",
    "erlang_c_wait_sd",
    "erlang_c_wq",
    "littles_law",
    "mmc_theory",
    "time_average_count",
]

HOURS_PER_DAY = 24.0


def erlang_c(c: int, a: float) -> float:
    """Erlang C: the probability that an arriving customer has to wait in an M/M/c queue.

    ``c`` servers (reps), offered load ``a = lambda / mu`` in erlangs (arrival rate x mean service time).
    ``C(c, a) = [a^c/c! * c/(c-a)] / [sum_{k<c} a^k/k! + a^c/c! * c/(c-a)]`` for ``a < c`` (docs/pages/references.md);
    computed through the Erlang B recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, ``C = c B / (c - a (1 - B))``,
    which never overflows. Worked case (30 arrivals/hour, 5-minute service, a = 2.5): C(5) = 0.130, C(6) = 0.047.
    With ``a >= c`` the queue is unstable and every customer eventually waits: 1.0."""
    c = check_servers(c)
    if not (a >= 0 and math.isfinite(a)):
        raise ValueError(f"offered load a must be a finite number >= 0, got {a!r}")
    if a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1.0 - b))


def erlang_c_wq(c: int, lam: float, mu: float) -> float:
    """Mean wait in the queue of an M/M/c system, ``Wq = C(c, lambda/mu) / (c mu - lambda)``.

    ``lam``: arrival rate, ``mu``: service rate of one server, in the same time unit; the result is in that unit
    (per hour in, hours out). Worked case: lambda = 30/h, mu = 12/h: Wq(4) = 1.07 min, Wq(6) = 0.068 min.
    ``inf`` when ``lam >= c mu`` (unstable)."""
    c = check_servers(c)
    check_positive("mu", mu)
    if not lam >= 0:
        raise ValueError(f"arrival rate lam must be >= 0, got {lam!r}")
    if lam >= c * mu:
        return math.inf
    return erlang_c(c, lam / mu) / (c * mu - lam)


def erlang_c_wait_sd(c: int, lam: float, mu: float) -> float:
    """Standard deviation of one customer's wait in M/M/c: the wait is 0 with probability ``1 - C`` and
    exponential with rate ``c mu - lambda`` otherwise, so ``sd = sqrt(C (2 - C)) / (c mu - lambda)``."""
    c = check_servers(c)
    check_positive("mu", mu)
    if lam >= c * mu:
        return math.inf
    C = erlang_c(c, lam / mu)
    return math.sqrt(C * (2.0 - C)) / (c * mu - lam)


def check_servers(c: Any) -> int:
    """``c`` as an int if it is a whole number of servers >= 1, else ValueError."""
    if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 1:
        raise ValueError(f"number of servers c must be an integer >= 1, got {c!r}")
    return int(c)


def check_positive(name: str, value: float) -> None:
    """ValueError unless ``value`` is a finite number > 0."""
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def mmc_theory(servers: int, utilization: float, mean_service_hours: float = 1.0) -> dict[str, float]:
    """Erlang C predictions for `mmc_scenario`: ``p_wait``, ``wq_hours``, ``wait_sd_hours`` (one lead's wait),
    ``utilization``, ``L`` (mean number waiting, ``lambda Wq``)."""
    mu = 1.0 / mean_service_hours
    lam = utilization * servers * mu
    wq = erlang_c_wq(servers, lam, mu)
    return {
        "p_wait": erlang_c(servers, lam / mu),
        "wq_hours": wq,
        "wait_sd_hours": erlang_c_wait_sd(servers, lam, mu),
        "utilization": utilization,
        "L": lam * wq,
    }


def time_average_count(entry: np.ndarray, exit: np.ndarray, t1: float, t2: float) -> float:
    """Time-average number of items in a stage over ``[t1, t2]``: the exact integral of the count divided by
    ``t2 - t1``, i.e. ``sum_i |[entry_i, exit_i) & [t1, t2]| / (t2 - t1)``. A NaN exit means 'still in the stage
    when the run ended' (valid as long as ``t2`` is not after the horizon); an exit before the entry is an
    empty stay."""
    entry = np.asarray(entry, dtype=float)
    exit = np.asarray(exit, dtype=float)
    ok = ~np.isnan(entry)
    entry, exit = entry[ok], np.where(np.isnan(exit[ok]), np.inf, exit[ok])
    inside = np.minimum(exit, t2) - np.maximum(entry, t1)
    return float(np.clip(inside, 0.0, None).sum() / (t2 - t1))


def littles_law(entry: np.ndarray, exit: np.ndarray, t1: float, t2: float, horizon: float) -> dict[str, float]:
    """Both sides of Little's law ``L = lambda W`` for a stage, measured on the window ``[t1, t2]`` (days).

    ``L``: time-average number in the stage over the window (`time_average_count`). ``lam``: items entering the
    stage in the window per day. ``W``: their mean time in the stage, in days, followed to their exit even if it
    falls after ``t2`` (an item still in the stage at ``horizon`` counts until the horizon: ``n_open`` of them).
    On a finite window the two sides differ by the stays that straddle its edges (carried in at ``t1`` minus
    carried out at ``t2``), which cancel on average in a stationary system; ``ratio = lam W / L``."""
    entry = np.asarray(entry, dtype=float)
    exit = np.asarray(exit, dtype=float)
    if not t1 < t2 <= horizon:
        raise ValueError(f"need t1 < t2 <= horizon, got {t1}, {t2}, {horizon}")
    L = time_average_count(entry, exit, t1, t2)
    inside = (entry >= t1) & (entry < t2)
    stay_end = np.where(np.isnan(exit[inside]), horizon, exit[inside])
    stays = np.clip(stay_end - entry[inside], 0.0, None)
    n = int(inside.sum())
    lam = n / (t2 - t1)
    W = float(stays.mean()) if n else math.nan
    return {
        "L": L,
        "lam": lam,
        "W": W,
        "lam_W": lam * W,
        "ratio": lam * W / L if L > 0 else math.nan,
        "n": float(n),
        "n_open": float(np.isnan(exit[inside]).sum()),
    }
