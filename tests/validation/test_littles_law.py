"""Little's law ``L = lambda W`` (Little 1961, Operations Research 9(3)) for stages of the model
(docs/pages/validation.md#littles-law).

Two levels:

1. *Bookkeeping.* The ledger's per-lead times must describe what the model really did: at random moments, the
   number of leads the ledger places in a stage (entered, not yet left) equals the model's own live counter -
   the reps' queue in the M/M/c reduction, the reps' desk (handed off, not resolved) in the presets. Exact.
2. *The law.* On a window ``[t1, t2]``, ``L`` = time-average number in the stage (the exact integral of the
   ledger's intervals) and ``lambda W`` = leads entering in the window per day x their mean time in the stage
   differ only by the stays that straddle the window's edges, which cancel on average once the system is
   stationary. So over R independent replications ``lambda W / L`` must be 1 within 4 standard errors of the
   replication mean. Windows: the rep queue of the reduction after a 20 % warm-up; the whole sales stage of
   the base preset (every lead handed to sales, from ``handoff_day`` to ``terminal_day``) in the second year of
   a three-year run (`simfunnel.validation.SALES_STAGE_WINDOW`).
"""

from __future__ import annotations

import numpy as np
import pytest

from simfunnel.scenario import load_scenario
from simfunnel.simulate import simulate
from simfunnel.validation import (
    SCENARIO_DIR,
    check_row,
    leads_on_desk,
    littles_law,
    mmc_replications,
    mmc_scenario,
    mmc_theory,
    point_seed,
    sales_stage_littles_law,
    simulate_with_probes,
    time_average_count,
    waiting_leads,
)

SEED = 7_061_961


# ------------------------------------------------------------------------------------------- helpers
def test_time_average_count_is_the_exact_integral():
    entry = np.array([0.0, 1.0, 2.0, 5.0, 9.0, 3.0])
    exit = np.array([4.0, 1.5, np.nan, 6.0, 12.0, 2.0])  # nan: still in the stage; 3 -> 2: an empty stay
    # on [1, 10]: 3 + 0.5 + 8 + 1 + 1 + 0 = 13.5 item-days
    assert time_average_count(entry, exit, 1.0, 10.0) == pytest.approx(13.5 / 9.0)


def test_littles_law_edges_are_the_only_difference():
    """L (T2 - T1) = sum of the stays of the window's arrivals + carried in - carried out, exactly."""
    rng = np.random.default_rng(3)
    entry = np.sort(rng.uniform(0, 100, 500))
    exit = entry + rng.exponential(2.0, 500)
    t1, t2, horizon = 20.0, 80.0, 200.0
    ll = littles_law(entry, exit, t1, t2, horizon)
    carried_in = np.clip(np.minimum(exit, t2) - t1, 0, None)[entry < t1].sum()
    inside = (entry >= t1) & (entry < t2)
    carried_out = np.clip(exit - t2, 0, None)[inside].sum()
    assert ll["L"] * (t2 - t1) == pytest.approx(ll["lam_W"] * (t2 - t1) + carried_in - carried_out)
    assert ll["n"] == inside.sum() and ll["n_open"] == 0
    with pytest.raises(ValueError):
        littles_law(entry, exit, 80.0, 20.0, horizon)


# ------------------------------------------------------------------------------ 1. ledger = model state
def test_ledger_queue_equals_the_models_queue():
    """M/M/c reduction: leads with handoff <= t < first contact (ledger) = requests in the reps' queue (model)."""
    sc = mmc_scenario(5, 0.9, arrivals=5_000)
    H = sc.simulation.horizon_days
    times = np.sort(np.random.default_rng(1).uniform(0.01, 0.9 * H, 400))
    res, queue = simulate_with_probes(sc, 11, times, waiting_leads)
    b = res.buyers
    handoff = b["handoff_day"].to_numpy()
    first = b["first_contact_day"].fillna(np.inf).to_numpy()
    ledger = np.array([((handoff <= t) & (t < first)).sum() for t in times])
    assert queue.max() > 5  # the queue was really used
    np.testing.assert_array_equal(ledger, queue)
    assert res.summary["profit"] == simulate(sc, 11).summary["profit"]  # probing does not change the run


@pytest.mark.parametrize("preset", ["siloed.toml", "aligned.toml"])
def test_ledger_desk_equals_the_models_desk(preset):
    """Presets: leads the ledger has in sales at t (handed off, not terminal) = the model's desk counter,
    with batch handoffs, the black hole, recycling, returning buyers, referrals and check-ins all on.

    One subtlety of the ledger: a lead lost at a contact (too early and dropped, too late, gone cold) has
    ``terminal_day`` = the *start* of that contact, while the rep - and the desk - hold it until the contact
    ends; the ledger's activities give that end."""
    # no warm-up: the probes read the desk from day 0 and the ledger's frames must hold every buyer of the run
    sc = load_scenario(SCENARIO_DIR / preset, {"simulation.warmup_days": 0})
    H = sc.simulation.horizon_days
    times = np.sort(np.random.default_rng(2).uniform(1.0, 0.6 * H, 300))
    res, desk = simulate_with_probes(sc, 5, times, leads_on_desk)
    b, acts = res.buyers, res.activities
    worked = acts["buyer"].to_numpy() >= 0
    last_end = np.full(len(b), -np.inf)
    np.maximum.at(last_end, acts["buyer"].to_numpy()[worked], acts["end"].to_numpy()[worked])
    handed = b["handoff_day"].notna().to_numpy()
    entry = b["handoff_day"].to_numpy()[handed]
    terminal = b["terminal_day"].to_numpy()[handed]
    leave = np.where(np.isnan(terminal), np.inf, np.maximum(terminal, last_end[handed]))
    ledger = np.array([((entry <= t) & (t < leave)).sum() for t in times])
    assert desk.mean() > 100
    np.testing.assert_array_equal(ledger, desk)


# ----------------------------------------------------------------------------------------- 2. the law
def test_littles_law_for_the_rep_queue():
    c, rho = 5, 0.8
    runs = mmc_replications(c, rho, 20, point_seed(SEED, c, rho), arrivals=2_500)
    row = check_row("lam Wq / L", 1.0, runs["little_ratio"])
    assert row["passed"], row
    # and L itself is Erlang C's lambda Wq (0.554 h x 4 leads/h = 2.2 leads waiting on average)
    th = mmc_theory(c, rho)
    row = check_row("L", th["L"], runs["L"])
    assert row["passed"], row


def test_littles_law_for_the_sales_stage_of_the_base_preset():
    stage = sales_stage_littles_law(12, point_seed(SEED, 1))
    assert (stage["n"] > 2_000).all() and stage["n_open"].sum() < stage["n"].sum() * 1e-3
    assert stage["W"].mean() > 30  # a stage of weeks to months, not hours: the edges matter
    row = check_row("lam W / L", 1.0, stage["ratio"])
    assert row["passed"], row
