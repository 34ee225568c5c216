"""Speed to lead (docs/pages/validation.md): the chance that a hand-raiser is still engaged after a response
delay, ``floor + (1 - floor) exp(-d / decay_hours)``, fitted to Oldroyd et al. (HBR 2011, `fit_decay`), and the
reduced scenario and measurement that reproduce the published qualification ratios (`speed_to_lead_ratios`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from simfunnel.scenario import Scenario, SpeedToLead, load_scenario
from simfunnel.simulate import RunResult, simulate
from simfunnel.validation.measures import BASE_PRESET, MMC_PRESET, replication_seeds
from simfunnel.validation.theory import HOURS_PER_DAY, check_positive

__all__ = [
    "HBR_RATIO_1H",
    "HBR_RATIO_24H",
    "SPEED_BUCKETS",
    "base_speed_to_lead",
    "bucket_engagement",
    "fit_decay",
    "jackknife_ratio",
    "speed_to_lead_measure",
    "speed_to_lead_model_ratios",
    "speed_to_lead_ratios",
    "speed_to_lead_scenario",
]

# Oldroyd, McElheran & Elkington, "The Short Life of Online Sales Leads", HBR March 2011 (docs/pages/references.md):
HBR_RATIO_1H = 7.0
"""Leads a firm tried to contact within 1 hour qualified "nearly 7x" as often as leads contacted 1-2 hours later."""
HBR_RATIO_24H = 60.0
"""... and "more than 60x" as often as leads contacted after 24 hours or more."""


def speed_to_lead_scenario(
    leads: float = 80_000,
    max_delay_hours: float = 32.0,
    overload: float = 2.0,
    speed_to_lead: SpeedToLead | None = None,
    *,
    preset: str | Path | None = None,
) -> Scenario:
    """Hand-raisers answered by one overloaded rep, so that the response delays sweep evenly from 0 to
    ``max_delay_hours`` (the M/M/c reduction with ``reps = 1``, hand-raisers only, calendar off).

    Every buyer requests a demo (``hand_raise_rate = 1``, ``mql_threshold = 1``: no MQLs) the moment it engages,
    and the single rep answers requests in arrival order. Each first contact takes a fixed ``s`` hours while
    requests arrive ``overload`` times as fast as the rep can answer them (``lambda s = overload``), so the
    backlog - the delay before contact - grows steadily at ``overload - 1`` hours per hour. Requests arrive
    only until the delay has reached ``max_delay_hours`` (then acquisition stops), about ``leads`` of them:
    every delay between 0 and ``max_delay_hours`` is about equally frequent, i.e. uniform within each hour
    bucket, which is what `fit_decay` assumes. Qualification, meetings and proposal take no rep time, and no
    deadline or competitor interferes: the only thing deciding whether a contacted lead qualifies is
    ``u <= speed_to_lead.engaged(delay)`` with ``u`` the lead's own uniform draw (`simfunnel.model.sales`).

    The default delays (32 h) put ~1/32 of the leads in each of the <1 h and 1-2 h buckets and a quarter
    beyond 24 h, which balances the few qualified leads in the 1-2 h and >= 24 h buckets."""
    check_positive("leads", leads)
    check_positive("max_delay_hours", max_delay_hours)
    if not overload > 1:
        raise ValueError(f"overload must be > 1 (the backlog must grow), got {overload!r}")
    stl = speed_to_lead or SpeedToLead()
    stop_days = max_delay_hours / (overload - 1.0) / HOURS_PER_DAY  # arrivals in [0, stop_days)
    lam_per_day = leads / stop_days
    service_hours = overload / lam_per_day * HOURS_PER_DAY
    horizon = overload * stop_days * 1.1 + 0.05  # the last request is answered at ~overload * stop_days
    base = load_scenario(preset or MMC_PRESET)
    return base.with_overrides(
        {
            "name": "speed to lead (one overloaded rep)",
            "simulation.horizon_days": horizon,
            # one market cohort holds every arrival of [0, stop_days), evaluated at day 0 with acquisition on;
            # acquisition stops half-way, so the next cohort (from stop_days on) reaches nobody
            "simulation.cohort_days": stop_days,
            "marketing.acquisition_stop_day": stop_days / 2.0,
            "market.buyers_per_year": lam_per_day * 365.0,
            "marketing.hand_raise_rate": 1.0,
            "organisation.mql_threshold": 1.0,
            "sales.reps": 1,
            "sales.first_contact_hours": {"kind": "fixed", "value": service_hours},
            "marketing.speed_to_lead.decay_hours": stl.decay_hours,
            "marketing.speed_to_lead.floor": stl.floor,
        }
    )


def bucket_engagement(lo_hours: float, hi_hours: float, decay_hours: float, floor: float) -> float:
    """Mean of ``engaged(d) = floor + (1 - floor) exp(-d / decay_hours)`` over a delay ``d`` uniform on
    ``[lo_hours, hi_hours)``: ``floor + (1 - floor) * decay (e^{-lo/decay} - e^{-hi/decay}) / (hi - lo)``.
    ``hi_hours = inf`` (a delay anywhere beyond ``lo_hours``): the mean lies between the floor and
    ``engaged(lo_hours)``, which is returned; beyond 24 h with decay 0.487 h the two differ by < 1e-21."""
    check_positive("decay_hours", decay_hours)
    if math.isinf(hi_hours):
        return floor + (1.0 - floor) * math.exp(-lo_hours / decay_hours)
    if not hi_hours > lo_hours >= 0:
        raise ValueError(f"need 0 <= lo_hours < hi_hours, got {lo_hours}, {hi_hours}")
    tail = decay_hours * (math.exp(-lo_hours / decay_hours) - math.exp(-hi_hours / decay_hours)) / (hi_hours - lo_hours)
    return floor + (1.0 - floor) * tail


def speed_to_lead_model_ratios(decay_hours: float, floor: float) -> tuple[float, float]:
    """The qualification ratios the mechanism implies for delays uniform within each hour bucket:
    (<1 h vs 1-2 h, <1 h vs 24-25 h)."""
    e0 = bucket_engagement(0.0, 1.0, decay_hours, floor)
    return e0 / bucket_engagement(1.0, 2.0, decay_hours, floor), e0 / bucket_engagement(24.0, 25.0, decay_hours, floor)


def fit_decay(ratio_1h: float = HBR_RATIO_1H, ratio_24h: float = HBR_RATIO_24H) -> tuple[float, float]:
    """``(decay_hours, floor)`` of ``engaged(d) = floor + (1 - floor) exp(-d / decay_hours)`` that reproduce the
    published qualification ratios (Oldroyd et al., HBR 2011): leads answered within 1 hour qualify ``ratio_1h``
    times as often as leads answered 1-2 hours later and ``ratio_24h`` times as often as leads answered after
    24 hours or more. Defaults 7 and 60 give (0.487, 0.0071): the values in `scenarios/base.toml`.

    Derivation. A lead qualifies in proportion to the chance it is still engaged when first contacted (every
    other factor is the same across buckets and cancels in a ratio). HBR reports buckets, not delays; assume
    the delay is uniform within each one-hour bucket ``[k, k+1)``. With ``x = exp(-1/decay)``,
    ``A = decay (1 - x)`` and ``g = floor / (1 - floor)``, the mean engagement in bucket k is
    ``(1 - floor) (g + A x^k)``, so::

        ratio_1h  = (g + A) / (g + A x)        ->  g = A (1 - ratio_1h x) / (ratio_1h - 1)
        ratio_24h = (g + A) / (g + A x^24)     ->  g = A (1 - ratio_24h x^24) / (ratio_24h - 1)

    (any delay of 24 h or more gives the same: ``x^24 < 1e-21`` here). Equating the two ``g`` leaves one
    equation in ``x`` on ``(0, 1/ratio_1h)``, solved by bisection; ``x^24`` is negligible, so in closed form
    ``x = (1 - (ratio_1h - 1)/(ratio_24h - 1)) / ratio_1h = 53/413`` for 7 and 60, ``decay = -1/ln x = 0.48705 h``
    (engagement halves every 20 minutes) and ``floor = g / (1 + g) = 0.0071443``: 0.7 % of hand-raisers stay
    interested however long they wait."""
    r1, r24 = float(ratio_1h), float(ratio_24h)
    if not (1 < r1 < r24 and math.isfinite(r24)):
        raise ValueError(f"need 1 < ratio_1h < ratio_24h < inf, got {ratio_1h}, {ratio_24h}")

    def gap(x: float) -> float:
        return (1.0 - r1 * x) * (r24 - 1.0) - (1.0 - r24 * x**24) * (r1 - 1.0)

    lo, hi = 1e-300, 1.0 / r1  # gap(lo) = r24 - r1 > 0 > gap(hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if gap(mid) > 0:
            lo = mid
        else:
            hi = mid
    x = 0.5 * (lo + hi)
    decay = -1.0 / math.log(x)
    g = decay * (1.0 - x) * (1.0 - r1 * x) / (r1 - 1.0)
    return decay, g / (1.0 + g)


SPEED_BUCKETS = {"lt1h": (0.0, 1.0), "1to2h": (1.0, 2.0), "ge24h": (24.0, math.inf)}
"""Response-delay buckets of HBR 2011, hours: within 1 h, 1-2 h, 24 h or more."""


def speed_to_lead_measure(result: RunResult) -> dict[str, float]:
    """Per bucket of realised response delay ``(first_contact_day - lead_day)`` in hours: contacted hand-raisers
    (``n_*``), qualified ones (``q_*``, those with an ``sql_day``) and the share qualified (``share_*``); and the
    ratios ``ratio_1h = share_lt1h / share_1to2h`` and ``ratio_24h = share_lt1h / share_ge24h``. Also the share
    the mechanism predicts from the realised delays, ``pred_*`` (mean of ``engaged(delay)``)."""
    b = result.buyers
    hand = (b["lead_kind"] == "hand_raiser").to_numpy()
    first = b["first_contact_day"].to_numpy(float)
    ok = hand & ~np.isnan(first)
    delay = (first[ok] - b["lead_day"].to_numpy(float)[ok]) * HOURS_PER_DAY
    qualified = ~np.isnan(b["sql_day"].to_numpy(float)[ok])
    stl = result.scenario.marketing.speed_to_lead
    out: dict[str, float] = {"contacted": float(ok.sum()), "max_delay_hours": float(delay.max()) if len(delay) else 0.0}
    for name, (lo, hi) in SPEED_BUCKETS.items():
        m = (delay >= lo) & (delay < hi)
        n = int(m.sum())
        out[f"n_{name}"] = float(n)
        out[f"q_{name}"] = float(qualified[m].sum())
        out[f"share_{name}"] = float(qualified[m].mean()) if n else math.nan
        pred = stl.floor + (1.0 - stl.floor) * np.exp(-delay[m] / stl.decay_hours)
        out[f"pred_{name}"] = float(pred.mean()) if n else math.nan
    out["ratio_1h"] = _safe_ratio(out["share_lt1h"], out["share_1to2h"])
    out["ratio_24h"] = _safe_ratio(out["share_lt1h"], out["share_ge24h"])
    return out


def _safe_ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def jackknife_ratio(q_num: np.ndarray, n_num: np.ndarray, q_den: np.ndarray, n_den: np.ndarray) -> np.ndarray:
    """Jackknife pseudo-values of the pooled ratio of two shares, ``(sum q_num / sum n_num) / (sum q_den / sum
    n_den)``, from per-replication counts (qualified ``q``, contacted ``n``). Their mean is the bias-corrected
    ratio and ``sd / sqrt(R)`` its standard error: the usual estimate when the ratio of a few dozen qualified leads
    per replication would be too skewed to average directly."""
    q1, n1, q0, n0 = (np.asarray(v, dtype=float) for v in (q_num, n_num, q_den, n_den))
    R = len(q1)

    def ratio(k: np.ndarray) -> float:
        return (q1[k].sum() / n1[k].sum()) / (q0[k].sum() / n0[k].sum())

    every = np.ones(R, dtype=bool)
    full = ratio(every)
    pseudo = np.empty(R)
    for i in range(R):
        rest = every.copy()
        rest[i] = False
        pseudo[i] = R * full - (R - 1) * ratio(rest)
    return pseudo


def speed_to_lead_ratios(
    replications: int = 5,
    seed: int | np.random.SeedSequence = 0,
    *,
    leads: float = 80_000,
    max_delay_hours: float = 32.0,
    speed_to_lead: SpeedToLead | None = None,
) -> pd.DataFrame:
    """Simulated HBR 2011 ratios: ``replications`` runs of `speed_to_lead_scenario` (defaults: the speed-to-lead
    parameters of `scenarios/base.toml`, decay 0.487 h, floor 0.0071), one row per replication with the
    columns of `speed_to_lead_measure` plus ``replication``. The published figures are ``HBR_RATIO_1H`` (7) and
    ``HBR_RATIO_24H`` (60); the mechanism with the rounded base parameters implies 7.01 and 60.4 for delays
    uniform within each hour (`speed_to_lead_model_ratios`)."""
    sc = speed_to_lead_scenario(leads, max_delay_hours, speed_to_lead=speed_to_lead)
    rows = []
    for i, s in enumerate(replication_seeds(seed, replications)):
        rows.append({"replication": i, **speed_to_lead_measure(simulate(sc, s))})
    return pd.DataFrame(rows)


def base_speed_to_lead() -> SpeedToLead:
    """The speed-to-lead parameters of scenarios/base.toml (the schema defaults, which equal them, if the file is
    not there, e.g. in an installed package)."""
    if BASE_PRESET.is_file():
        return load_scenario(BASE_PRESET).marketing.speed_to_lead
    return SpeedToLead()
