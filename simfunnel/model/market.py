"""In-market buyers: Poisson arrivals (with seasonality), purchase process length, deadline, value, fit,
and the time each buyer becomes sales-ready and, if nobody calls, commits to a competitor."""

from __future__ import annotations

import math

import numpy as np

from simfunnel.scenario import Market

MIN_PROCESS_DAYS = 1.0 / 96  # 15 minutes: a purchase process is never shorter


def arrival_days(market: Market, horizon: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times of a Poisson process with rate buyers_per_year/365 and a yearly cosine
    seasonality, drawn in bulk by thinning."""
    amp = market.seasonality_amplitude
    peak_rate = market.buyers_per_year / 365.0 * (1.0 + amp)
    n = rng.poisson(peak_rate * horizon)
    times = np.sort(rng.uniform(0.0, horizon, n))
    if amp > 0:
        accept = (1.0 + amp * np.cos(2 * math.pi * (times - market.seasonality_peak_day) / 365.0)) / (1.0 + amp)
        times = times[rng.uniform(size=n) < accept]
    return times


def buyer_attributes(market: Market, arrivals: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-buyer draws in bulk: process length, deadline, value, fit, competitor commitment delay."""
    n = len(arrivals)
    process = np.maximum(market.process_days.sample(rng, n), MIN_PROCESS_DAYS)
    return {
        "arrival_day": arrivals,
        "process_days": process,
        "deadline_day": arrivals + process,
        "value": market.value.sample(rng, n),
        "fit": rng.beta(market.fit_alpha, market.fit_beta, n),
        "commit_delay": market.competitor_commit_days.sample(rng, n),
    }


def ready_day(arrival: np.ndarray | float, process: np.ndarray | float, ready_at: float, lift: np.ndarray | float):
    """When readiness = min(1, progress * (1 + lift)) first reaches `ready_at` (progress = share of the
    purchase process elapsed). Nurture lift makes a buyer ready earlier."""
    return arrival + process * ready_at / (1.0 + lift)


def readiness(t: float, arrival: float, process: float, lift: float) -> float:
    """Share of the decision made at time t (0 at the need trigger, 1 once the mind is made up)."""
    return min(1.0, max(0.0, (t - arrival) / process) * (1.0 + lift))
