"""The validation report (`run_checks`: CLI ``simfunnel validate-model``, notebook 08): every check as one line,
judged by `check_row` (``|simulated - expected| <= Z * SE`` over independent replications;
docs/pages/validation.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.experiments.statistics import t_quantile_975
from simfunnel.validation.measures import mmc_replications, point_seed, sales_stage_littles_law
from simfunnel.validation.speed_to_lead import (
    HBR_RATIO_1H,
    HBR_RATIO_24H,
    base_speed_to_lead,
    fit_decay,
    jackknife_ratio,
    speed_to_lead_ratios,
)
from simfunnel.validation.theory import mmc_theory

__all__ = [
    "CHECK_COLUMNS",
    "FULL",
    "QUICK",
    "Z",
    "check_row",
    "exact_row",
    "mmc_check_rows",
    "mmc_design",
    "run_checks",
]

Z = 4.0
"""Tolerance multiplier: a check passes when ``|simulated - expected| <= Z * SE`` (SE from the replications)."""

CHECK_COLUMNS = ("check", "expected", "simulated", "ci_low", "ci_high", "tolerance", "passed")


@dataclass(frozen=True)
class _Plan:
    """How many points and replications `run_checks` uses."""

    replications: int
    arrivals: float
    points: tuple[tuple[int, float], ...]
    policy_point: tuple[int, float]
    base_replications: int
    stl_replications: int
    stl_leads: float


QUICK = _Plan(10, 3_000, ((2, 0.6), (5, 0.8)), (5, 0.8), 8, 10, 10_000)
"""`run_checks(quick=True)`: ~10 s on one core."""
FULL = _Plan(20, 5_000, ((1, 0.8), (2, 0.6), (5, 0.8), (10, 0.9), (20, 0.95)), (5, 0.8), 20, 20, 30_000)
"""`run_checks()`: about a minute on one core."""


def mmc_design(rho: float, arrivals: float) -> dict[str, float]:
    """Leads per replication and warm-up share at utilisation rho: from rho = 0.9 on, the queue relaxes slowly
    (in ~1/(c (1 - sqrt(rho))^2) mean contact times: 1,560 at c = 1, rho = 0.95) and the variance of the mean
    wait grows like 1/(1 - rho)^4, so the replications are twice as long and the warm-up 30 %."""
    if rho >= 0.9:
        return {"arrivals": 2 * arrivals, "warmup_share": 0.3}
    return {"arrivals": arrivals, "warmup_share": 0.2}


def check_row(
    check: str,
    expected: float,
    values: Sequence[float] | np.ndarray,
    z: float = Z,
    se_floor: float = 0.0,
    log_scale: bool = False,
) -> dict[str, Any]:
    """One line of the report: the mean of the replication values against ``expected``.

    ``SE = sd / sqrt(R)`` of the replication values, or ``se_floor`` if larger: a lower bound of the SE implied
    by theory, for points where every replication may show the same value (e.g. when almost no lead waits).
    Linear scale: passes when ``|mean - expected| <= tolerance = z * SE``; ``ci_low``/``ci_high`` is the 95 %
    Student-t interval ``mean +- t * SE``.

    ``log_scale=True`` is for positive, right-skewed quantities such as a mean wait under heavy load, whose
    replication means are skewed: a low mean then comes with a low SD, and a symmetric interval would reject a
    correct model too often. The interval is then symmetric in ``ln(mean)``, whose SE is ``SE / mean`` (delta
    method): passes when ``|ln(mean / expected)| <= z SE / mean``; the interval is ``mean * exp(+-t SE / mean)``
    and ``tolerance`` the deviation allowed on the side of ``expected`` (so that ``passed`` is still
    ``|mean - expected| <= tolerance``). Falls back to the linear scale if the mean or ``expected`` is not > 0."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 2:
        mean = float(x.mean()) if n else math.nan
        return {"check": check, "expected": float(expected), "simulated": mean, "ci_low": math.nan,
                "ci_high": math.nan, "tolerance": math.nan, "passed": False}  # fmt: skip
    mean = float(x.mean())
    se = max(float(x.std(ddof=1) / math.sqrt(n)), se_floor)
    t = t_quantile_975(n - 1)
    if log_scale and mean > 0 and expected > 0:
        r = se / mean
        lo, hi = mean * math.exp(-t * r), mean * math.exp(t * r)
        tol = mean * (math.expm1(z * r) if expected >= mean else -math.expm1(-z * r))
        passed = abs(math.log(mean / expected)) <= z * r
    else:
        lo, hi = mean - t * se, mean + t * se
        tol = z * se
        passed = abs(mean - expected) <= tol
    return {
        "check": check,
        "expected": float(expected),
        "simulated": mean,
        "ci_low": lo,
        "ci_high": hi,
        "tolerance": tol,
        "passed": bool(passed),
    }


def exact_row(check: str, expected: float, value: float, tolerance: float) -> dict[str, Any]:
    """A report line for a computed (not simulated) value: passes when within ``tolerance``, no interval."""
    return {
        "check": check,
        "expected": float(expected),
        "simulated": float(value),
        "ci_low": math.nan,
        "ci_high": math.nan,
        "tolerance": float(tolerance),
        "passed": bool(abs(value - expected) <= tolerance),
    }


def mmc_check_rows(servers: int, utilization: float, runs: pd.DataFrame, z: float = Z) -> list[dict[str, Any]]:
    """Erlang C lines for one (c, rho) point: P(wait), Wq (hours, mean contact 1 h) and rep utilisation.
    The SE floor is the SE the prediction implies for independent leads (binomial for P(wait), the M/M/c wait
    sd for Wq): a lower bound of the true SE, which only matters when almost nobody waits."""
    th = mmc_theory(servers, utilization)
    n = float(runs["leads"].sum())
    tag = f"c={servers}, rho={utilization:g}"
    return [
        check_row(
            f"Erlang C: P(wait) [{tag}]",
            th["p_wait"],
            runs["p_wait"],
            z,
            math.sqrt(th["p_wait"] * (1 - th["p_wait"]) / n),
        ),
        check_row(
            f"Erlang C: mean wait Wq, h [{tag}]",
            th["wq_hours"],
            runs["wq_hours"],
            z,
            th["wait_sd_hours"] / math.sqrt(n),
            log_scale=True,
        ),
        check_row(f"M/M/c: rep utilisation = rho [{tag}]", utilization, runs["utilization"], z),
    ]


def run_checks(quick: bool = False, seed: int = 0) -> pd.DataFrame:
    """Every validation check (docs/pages/validation.md) as one table (CLI `simfunnel validate-model`, notebook 08).

    Columns: ``check`` (what is compared, with its unit), ``expected`` (theory or published figure),
    ``simulated`` (mean over replications, or a computed value), ``ci_low``/``ci_high`` (95 % interval of that
    mean), ``tolerance`` (``Z`` = 4 standard errors of the replication mean, or the rounding of a published
    parameter) and ``passed``. Lines:

    - Erlang C at a few (c reps, utilisation rho) points of the M/M/c reduction (mean contact 1 h):
      P(wait), mean wait Wq in hours, rep utilisation;
    - queue-policy invariance: the paired difference (deadline or score minus FIFO, same seeds) in mean wait and
      in P(wait) is 0 - the order of work changes who waits, not how much waiting there is;
    - Little's law ``lam W / L = 1`` for the rep queue of the reduction and for the whole sales stage of the
      base preset;
    - speed to lead: `fit_decay` of the published ratios against the parameters in base.toml, and the
      simulated ratios of qualification (<1 h vs 1-2 h, <1 h vs >= 24 h) against the published 7x and 60x.

    ``quick=True`` uses fewer points and replications (well under 15 s); the default takes about a minute."""
    plan = QUICK if quick else FULL
    rows: list[dict[str, Any]] = []
    fifo_runs: dict[tuple[int, float], pd.DataFrame] = {}

    def fifo_at(c: int, rho: float) -> pd.DataFrame:
        if (c, rho) not in fifo_runs:
            fifo_runs[(c, rho)] = mmc_replications(c, rho, plan.replications, point_seed(seed, c, rho),
                                                   **mmc_design(rho, plan.arrivals))  # fmt: skip
        return fifo_runs[(c, rho)]

    for c, rho in plan.points:
        rows += mmc_check_rows(c, rho, fifo_at(c, rho))
    # --- policy invariance: same seeds as FIFO (common random numbers), paired differences
    c, rho = plan.policy_point
    tag = f"c={c}, rho={rho:g}"
    fifo = fifo_at(c, rho)
    for policy in ("deadline", "score"):
        other = mmc_replications(c, rho, plan.replications, point_seed(seed, c, rho), policy=policy,
                                 **mmc_design(rho, plan.arrivals))  # fmt: skip
        rows.append(
            check_row(f"policy {policy} - fifo: mean wait, h [{tag}]", 0.0, other["wq_hours"] - fifo["wq_hours"])
        )
        rows.append(check_row(f"policy {policy} - fifo: P(wait) [{tag}]", 0.0, other["p_wait"] - fifo["p_wait"]))
    # --- Little's law
    rows.append(check_row(f"Little's law, rep queue: lam Wq / L [{tag}]", 1.0, fifo["little_ratio"]))
    stage = sales_stage_littles_law(plan.base_replications, point_seed(seed, 1))
    rows.append(check_row("Little's law, sales stage of base.toml: lam W / L", 1.0, stage["ratio"]))
    # --- speed to lead
    base_stl = base_speed_to_lead()
    decay, floor = fit_decay(HBR_RATIO_1H, HBR_RATIO_24H)
    rows.append(
        exact_row("speed to lead: fit_decay(7, 60) decay_hours vs base.toml", base_stl.decay_hours, decay, 5e-4)
    )
    rows.append(exact_row("speed to lead: fit_decay(7, 60) floor vs base.toml", base_stl.floor, floor, 5e-5))
    stl = speed_to_lead_ratios(plan.stl_replications, point_seed(seed, 2), leads=plan.stl_leads, speed_to_lead=base_stl)
    r1 = jackknife_ratio(stl["q_lt1h"], stl["n_lt1h"], stl["q_1to2h"], stl["n_1to2h"])
    r24 = jackknife_ratio(stl["q_lt1h"], stl["n_lt1h"], stl["q_ge24h"], stl["n_ge24h"])
    rows.append(check_row("speed to lead: qualified <1 h / 1-2 h (HBR 2011: ~7x)", HBR_RATIO_1H, r1))
    rows.append(check_row("speed to lead: qualified <1 h / >=24 h (HBR 2011: >60x)", HBR_RATIO_24H, r24))
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))
