"""The rep pool against Erlang C (docs/pages/validation.md#erlang-c; docs/pages/references.md "Queueing").

Reduced to one queue (`scenarios/mmc_validation.toml`: Poisson leads, one exponential first contact per lead,
no calendar, nothing else using a rep) the model must behave as an M/M/c queue:

- the share of leads that wait for a rep is Erlang C, ``C(c, a)``, and their mean wait ``C / (c mu - lambda)``;
- the reps are busy a share ``rho = lambda / (c mu)`` of the time;
- the queue order (FIFO, earliest deadline, highest score) changes who waits, not how much waiting there is.

Statistics. Each point runs R independent replications (fixed seeds, one stream per point). Leads arriving in
the first part of a run are discarded - the queue starts empty, which biases early waits down - and so are
those in the last 5 % (their contact may fall after the horizon). A check passes when the replication mean is
within 4 standard errors of Erlang C, the SE coming from the spread of the replication means (successive waits
are strongly correlated, so an SE computed from the leads of one run would be far too small). Mean waits are
compared on the log scale (`check_row(log_scale=True)`): replication means of waits are right-skewed, a low
mean coming with a low spread, and a symmetric interval would reject a correct model too often. Where almost
nobody waits (many reps, light load) every replication may show zero waits and an SE of 0: the SE is then
floored at the SE the prediction itself implies for independent leads, a lower bound of the true SE.

Sizes (mean contact 1 h; the horizon follows from the arrival rate): R = 20 replications of 2,500 leads with a
20 % warm-up up to rho = 0.8. The queue relaxes in about 1/(c (1 - sqrt(rho))^2) mean contact times - 90 at
c = 1, rho = 0.8 against a warm-up of 600 - but at rho = 0.95 it takes 1,560 (c = 1) and the variance of the
mean wait grows like 1/(1 - rho)^4: there, R = 12 longer replications of 12,000 leads with a 30 % warm-up (2.4
relaxation times). An outside check with a textbook FIFO recursion and the same windows (400 runs per design)
found no bias beyond the tolerance and a chance of a false alarm of about 0.1-0.5 % per check.
"""

from __future__ import annotations

import functools
import heapq
import math

import numpy as np
import pytest

from simfunnel.scenario import load_scenario
from simfunnel.simulate import simulate
from simfunnel.validation import (
    MMC_PRESET,
    Z,
    check_row,
    erlang_c,
    erlang_c_wait_sd,
    erlang_c_wq,
    mmc_check_rows,
    mmc_replications,
    mmc_scenario,
    mmc_theory,
    point_seed,
)

SEED = 20_240_611
SERVERS = [1, 2, 5, 10, 20]
LOADS = [0.3, 0.6, 0.8, 0.95]


def design(rho: float) -> dict:
    """Replications, leads per replication and warm-up share at utilisation rho (see the module docstring)."""
    if rho >= 0.9:
        return {"replications": 12, "arrivals": 12_000, "warmup_share": 0.3}
    return {"replications": 20, "arrivals": 2_500, "warmup_share": 0.2}


@functools.cache
def runs_at(c: int, rho: float, replications: int, arrivals: int, warmup_share: float, policy: str = "fifo"):
    """The replications of one point (cached: the FIFO runs of the grid are reused by the policy test)."""
    seed = point_seed(SEED, c, rho)
    return mmc_replications(c, rho, replications, seed, arrivals=arrivals, warmup_share=warmup_share, policy=policy)


def _failures(rows: list[dict]) -> list[str]:
    return [
        f"{r['check']}: expected {r['expected']:.5g}, simulated {r['simulated']:.5g} "
        f"[{r['ci_low']:.5g}, {r['ci_high']:.5g}], tolerance {r['tolerance']:.3g}"
        for r in rows
        if not r["passed"]
    ]


# ------------------------------------------------------------------------------------------- theory
def test_worked_case_of_references():
    """docs/pages/references.md: 30 arrivals/hour, 5-minute mean service (a = 2.5 erlangs)."""
    assert round(erlang_c(5, 2.5), 3) == 0.130
    assert round(erlang_c(6, 2.5), 3) == 0.047
    lam, mu = 30.0, 12.0  # per hour
    assert round(erlang_c_wq(4, lam, mu) * 60, 2) == 1.07  # minutes
    assert round(erlang_c_wq(6, lam, mu) * 60, 3) == 0.068


def textbook_erlang_c(c: int, a: float) -> float:
    """The formula as printed in docs/pages/references.md (factorials; fine for small c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize("c", [1, 2, 3, 5, 8, 13, 20, 30])
def test_erlang_c_equals_the_textbook_formula(c):
    for rho in (0.01, 0.3, 0.6, 0.8, 0.95, 0.999):
        assert erlang_c(c, rho * c) == pytest.approx(textbook_erlang_c(c, rho * c), rel=1e-10)


def test_erlang_c_special_cases():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    assert erlang_c_wq(1, 0.7, 1.0) == pytest.approx(0.7 / 0.3)  # M/M/1: Wq = rho / (mu - lambda)
    assert erlang_c(3, 0.0) == 0.0
    assert erlang_c(3, 3.0) == 1.0 and erlang_c_wq(3, 3.0, 1.0) == math.inf  # unstable
    assert erlang_c(500, 450.0) < 1  # large c does not overflow
    assert erlang_c_wait_sd(1, 0.5, 1.0) == pytest.approx(math.sqrt(0.5 * 1.5) / 0.5)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="servers"):
            erlang_c(bad, 0.5)
    with pytest.raises(ValueError, match="offered load"):
        erlang_c(2, -0.1)
    with pytest.raises(ValueError, match="mu"):
        erlang_c_wq(2, 1.0, 0.0)


# ------------------------------------------------------------------------------------- the reduction
def test_preset_is_the_default_reduction():
    """scenarios/mmc_validation.toml is what `mmc_scenario(5, 0.8)` builds for a 200-day horizon."""
    toml = load_scenario(MMC_PRESET).model_dump()
    built = mmc_scenario(5, 0.8, 1.0, horizon_days=200).model_dump()
    toml.pop("name"), built.pop("name")
    assert built == toml


def test_reduction_leaves_one_queue_and_nothing_else():
    """Every buyer is reached, becomes a lead the moment it engages, is followed up and contacted once; the
    only rep work is that contact; nobody buys, so retention never needs a rep."""
    sc = mmc_scenario(3, 0.9, arrivals=4_000)
    res = simulate(sc, 1)
    b, acts = res.buyers, res.activities
    assert (b["lead_kind"] == "mql").all()
    assert (b["followed_up"]).all()
    assert np.allclose(b["handoff_day"] - b["arrival_day"], 0.01)  # constant engage delay: still Poisson
    contacted = b["first_contact_day"].notna()
    assert contacted.mean() > 0.99  # the rest are still in the queue or with a rep at the horizon
    assert (acts["kind"] == "contact").all()
    assert len(acts) == contacted.sum() and acts["buyer"].is_unique
    assert set(b.loc[contacted, "terminal_state"]) == {"lost_to_competitor"}  # qualified, never won
    assert b["sql_day"].notna().sum() == contacted.sum()  # nobody too early or too late
    assert res.summary["won"] == 0 and res.summary["referrals"] == 0 and len(res.ledger.cust_start) == 0
    # contact times are exponential with mean 1 h: mean and sd both ~1, P(> 2 h) ~ e^-2
    hours = acts["hours"].to_numpy()
    n = len(hours)
    assert abs(hours.mean() - 1) < Z / math.sqrt(n)
    assert abs(hours.std() - 1) < Z * math.sqrt(2) / math.sqrt(n)
    assert abs((hours > 2).mean() - math.exp(-2)) < Z * math.sqrt(math.exp(-2) / n)


@pytest.mark.parametrize(("c", "rho"), [(1, 0.95), (3, 0.9), (10, 0.8)])
def test_rep_pool_is_exactly_a_fifo_c_server_queue(c, rho):
    """Pathwise: feed the model's own arrivals and contact durations through the textbook FIFO recursion for
    c servers (each lead starts at max(arrival, earliest free rep)); every first contact must coincide."""
    res = simulate(mmc_scenario(c, rho, arrivals=6_000), 3)
    b, acts = res.buyers, res.activities
    hours = np.full(len(b), np.nan)
    hours[acts["buyer"].to_numpy()] = acts["hours"].to_numpy()
    order = np.argsort(b["handoff_day"].to_numpy(), kind="stable")
    arrival = b["handoff_day"].to_numpy()[order]
    service_days = hours[order] / 24.0
    first = b["first_contact_day"].to_numpy()[order]
    keep = arrival < 0.9 * res.scenario.simulation.horizon_days
    assert not np.isnan(service_days[keep]).any()
    free = [0.0] * c
    starts = []
    for t, d in zip(arrival[keep], service_days[keep], strict=True):
        start = max(t, heapq.heappop(free))
        starts.append(start)
        heapq.heappush(free, start + d)
    np.testing.assert_allclose(first[keep], starts, rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------------------ Erlang C
@pytest.mark.parametrize("rho", LOADS)
@pytest.mark.parametrize("c", SERVERS)
def test_mmc_matches_erlang_c(c, rho):
    d = design(rho)
    runs = runs_at(c, rho, d["replications"], d["arrivals"], d["warmup_share"])
    assert runs["leads"].min() > 0.8 * (0.95 - d["warmup_share"]) * d["arrivals"]  # the leads in the window
    rows = mmc_check_rows(c, rho, runs)
    assert not _failures(rows), _failures(rows)


@pytest.mark.parametrize("policy", ["deadline", "score"])
def test_queue_policy_leaves_the_waiting_unchanged(policy):
    """Earliest-deadline-first and score-first serve leads in another order than FIFO, but are work-conserving
    and the contact time does not depend on the order: P(wait) and the mean wait stay Erlang C. Compared with
    FIFO on the same seeds (same arrivals, same contact time per lead), the paired difference is 0 within 4 SE;
    the waits are really reordered (their spread changes)."""
    c, rho = 5, 0.8
    d = design(rho)
    fifo = runs_at(c, rho, d["replications"], d["arrivals"], d["warmup_share"])
    other = runs_at(c, rho, d["replications"], d["arrivals"], d["warmup_share"], policy)
    rows = [
        check_row(f"{policy} - fifo: mean wait", 0.0, other["wq_hours"] - fifo["wq_hours"]),
        check_row(f"{policy} - fifo: P(wait)", 0.0, other["p_wait"] - fifo["p_wait"]),
        *mmc_check_rows(c, rho, other),
    ]
    assert not _failures(rows), _failures(rows)
    assert not np.allclose(other["wq_hours"], fifo["wq_hours"])  # the order really changed


def test_mmc_theory_helper():
    th = mmc_theory(5, 0.8, mean_service_hours=2.0)
    assert th["p_wait"] == pytest.approx(erlang_c(5, 4.0))
    assert th["wq_hours"] == pytest.approx(erlang_c(5, 4.0) / (5 * 0.5 - 2.0))
    assert th["L"] == pytest.approx(2.0 * th["wq_hours"])
