"""The invariants (docs/pages/architecture.md#invariants) over random valid scenarios (hypothesis): conservation,
one terminal state per buyer, a monotone funnel, utilisation in [0, 1], a rep never doing two things at once, time
never running backwards."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simfunnel import load_scenario, simulate
from simfunnel.ledger import TERMINAL_STATES
from simfunnel.metrics import LOST_KEYS
from simfunnel.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
# The invariants are identities over the whole run from an empty start (stocks at day 0 = the scenario's): no warm-up.
BASE = load_scenario(ROOT / "scenarios" / "base.toml").with_overrides({"simulation.warmup_days": 0})
EPS = 1e-9


@st.composite
def scenarios(draw) -> Scenario:
    """A small base scenario with every organisation lever and the capacity knobs drawn at random."""
    overrides = {
        "simulation.horizon_days": draw(st.floats(60, 200)),
        "market.buyers_per_year": draw(st.floats(500, 4000)),
        "market.return_when_ready": draw(st.floats(0, 1)),
        "sales.reps": draw(st.integers(1, 6)),
        "sales.meetings": draw(st.integers(0, 3)),
        "sales.calendar.enabled": draw(st.booleans()),
        "retention.initial_customers": draw(st.integers(0, 200)),
        "organisation.mql_threshold": draw(st.floats(0, 1)),
        "organisation.handoff": draw(st.sampled_from(["batch", "realtime"])),
        "organisation.batch_interval_days": draw(st.sampled_from([1.0, 3.5, 7.0, 14.0])),
        "organisation.pass_context": draw(st.booleans()),
        "organisation.response_sla_hours": draw(st.sampled_from([math.inf, 0.5, 1.0, 8.0])),
        "organisation.queue_policy": draw(st.sampled_from(["fifo", "deadline", "score"])),
        "organisation.too_early": draw(st.sampled_from(["drop", "recycle"])),
        "organisation.crm_logging": draw(st.floats(0, 1)),
        "organisation.rep_training": draw(st.booleans()),
        "organisation.post_sale_followup": draw(st.booleans()),
    }
    return BASE.with_overrides(overrides)


def check_invariants(sc: Scenario, seed: int) -> None:
    res = simulate(sc, seed=seed)  # Ledger.check (conservation of buyers, customers, money) runs inside
    s, b = res.summary, res.buyers
    H = sc.simulation.horizon_days

    # every buyer in exactly one terminal state
    assert len(b) == s["buyers"]
    assert b["terminal_state"].isin(TERMINAL_STATES).all()
    assert int(b["terminal_state"].value_counts().sum()) == len(b)
    assert s["won"] + sum(s[k] for k in LOST_KEYS.values()) == s["buyers"]

    # the funnel only narrows
    assert s["buyers"] >= s["engaged"] >= s["known"] >= s["mqls"] >= s["sqls"] >= s["won"] >= 0

    # customers: initial + won = at the end + churned
    assert s["customers_end"] + s["churned"] == sc.retention.initial_customers + s["won"]

    # utilisation is a share
    assert 0.0 <= s["rep_utilization"] <= 1.0 + EPS

    # a rep never does two things at once; activities lie in [0, horizon] and run forward
    acts = res.activities
    if len(acts):
        assert (acts["end"] >= acts["start"]).all()
        assert (acts["start"] >= 0).all()
        assert (acts["end"] <= H + EPS).all()
        assert (acts["hours"] >= 0).all()
        assert acts["rep"].between(0, sc.sales.reps - 1).all()
        for _, one in acts.groupby("rep"):
            one = one.sort_values(["start", "end"])
            start, end = one["start"].to_numpy(), one["end"].to_numpy()
            assert (end[:-1] <= start[1:] + EPS).all()
        if not sc.sales.calendar.enabled:
            np.testing.assert_allclose(acts["end"] - acts["start"], acts["hours"] / 24.0, atol=1e-9)

    # each buyer's stages happen in order, inside [arrival, horizon]
    order = ["arrival_day", "engaged_day", "lead_day", "handoff_day", "callback_day", "queued_day",
             "first_contact_day", "sql_day", "close_day"]  # fmt: skip
    for earlier, later in zip(order, order[1:], strict=False):
        both = b[earlier].notna() & b[later].notna()
        assert (b.loc[both, later] >= b.loc[both, earlier] - EPS).all(), (earlier, later)
    for col in order:
        assert (b[col].dropna() <= H + EPS).all(), col
    assert (b["known_day"].dropna() >= b["engaged_day"][b["known_day"].notna()] - EPS).all()
    ended = b["terminal_day"].notna()
    assert (b.loc[ended, "terminal_day"] >= b.loc[ended, "arrival_day"] - EPS).all()
    assert (b["deadline_day"] > b["arrival_day"]).all()
    open_ = b["terminal_state"] == "open"
    assert (b.loc[open_, "deadline_day"] > H).all()

    # the wait to a first contact is batching + planned call-back + rep capacity, per lead and on the means
    contacted = b[b["first_contact_day"].notna()]
    if len(contacted):
        means = s["batch_wait_days"] + s["callback_wait_days"] + s["queue_wait_days"]
        assert means == pytest.approx(s["contact_wait_days"], abs=1e-9)
        assert min(s["batch_wait_days"], s["callback_wait_days"], s["queue_wait_days"]) >= -EPS

    # money: nothing negative, revenue only from won buyers
    assert (b["revenue"] >= 0).all()
    assert (b.loc[b["terminal_state"] != "won", "revenue"] == 0).all()
    assert s["marketing_spend"] >= 0 and s["rep_cost"] >= 0

    # ratios: a churn rate is a share; roi's revenue (buyers won in the run) lies between first purchases and all
    decided = sum(res.ledger.cust_decided)
    assert s["churned"] <= decided and (decided == 0 or 0.0 <= s["churn_rate"] <= 1.0)
    gtm, margin = s["marketing_spend"] + s["rep_cost"], sc.money.gross_margin
    if gtm > 0 and margin > 0:
        acquired = (s["roi"] + 1.0) * gtm / margin
        assert s["new_revenue"] - 1e-6 <= acquired <= s["revenue"] + 1e-6
        if s["marketing_spend"] > 0:
            assert (s["marketing_roi"] + 1.0) * s["marketing_spend"] / margin <= acquired + 1e-6


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_random_scenarios(sc, seed):
    """Whatever the levers and the capacity, simulate conserves and keeps time and reps consistent."""
    check_invariants(sc, seed)


@pytest.mark.parametrize("name", ["siloed", "aligned"])
def test_invariants_hold_for_the_presets(name):
    """The same invariants on the two organisation presets (a smoke test with a known scenario)."""
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides(
        {"simulation.warmup_days": 0, "simulation.horizon_days": 150, "market.buyers_per_year": 4000}
    )
    check_invariants(sc, seed=0)
