"""Retention (`simfunnel.model.retention`): repeat purchases, churn, rep check-ins after a sale, referrals,
and what happens to the customer base when acquisition stops."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from simfunnel import load_scenario, simulate
from simfunnel.model.retention import repeat_probability
from simfunnel.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "scenarios").glob("*.toml"))


# simulation.warmup_days = 0 below: these tests check mechanisms and stocks from an empty start (initial customers,
# day-0 stop days, counts over the whole run) and stay short; the presets' warm-up has its own tests.
@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "base.toml").with_overrides(
        {"simulation.warmup_days": 0, "simulation.horizon_days": 120, "market.buyers_per_year": 3000}
    )


@pytest.fixture(scope="module")
def retail() -> Scenario:
    """Many customers with short repurchase cycles: repeat effects show within a short horizon."""
    return load_scenario(ROOT / "scenarios" / "repeat_retail.toml").with_overrides(
        {
            "simulation.warmup_days": 0,
            "simulation.horizon_days": 240,
            "market.buyers_per_year": 1000,
            "retention.initial_customers": 2000,
        }
    )


def _customers_conserved(res) -> None:
    s = res.summary
    assert s["customers_end"] + s["churned"] == res.scenario.retention.initial_customers + s["won"]


# ----------------------------------------------------------------------------------------------- repeat probability
def _world(sc: Scenario, active: int) -> SimpleNamespace:
    rate = sc.marketing.budget_per_year * sc.marketing.shares["retention"]
    return SimpleNamespace(scenario=sc, customers_active=active, marketing=SimpleNamespace(item_rate=lambda item: rate))


def test_repeat_probability_adds_the_check_in_lift(base):
    """A checked-in customer comes back with followup_lift more probability than one left alone."""
    w = _world(base, 300)
    gap = repeat_probability(w, True) - repeat_probability(w, False)
    assert gap == pytest.approx(base.retention.followup_lift)


def test_repeat_probability_falls_as_retention_spend_is_spread_thinner(base):
    """The same retention budget over more customers buys each of them less loyalty, down to the base rate."""
    probs = [repeat_probability(_world(base, n), False) for n in (1, 10, 100, 1000, 10**6)]
    assert all(a > b for a, b in zip(probs, probs[1:], strict=False))
    assert probs[-1] == pytest.approx(base.retention.base_repeat_prob, abs=1e-3)
    assert probs[0] <= base.retention.base_repeat_prob + base.retention.marketing.max_effect


def test_repeat_probability_is_capped_at_one(base):
    """Lifts never push the repeat probability past 1."""
    sc = base.with_overrides({"retention.base_repeat_prob": 0.95, "retention.followup_lift": 0.5})
    assert repeat_probability(_world(sc, 1), True) == 1.0


# ----------------------------------------------------------------------------------------------- post-sale follow-up
@pytest.mark.parametrize("seed", [1, 2])
def test_post_sale_followup_creates_check_ins_and_repeat_purchases(retail, seed):
    """Paired runs (same seed): rep check-ins after each sale happen only with the lever on, and raise the
    number of repeat purchases."""
    on = simulate(retail.with_overrides({"organisation.post_sale_followup": True}), seed=seed)
    off = simulate(retail.with_overrides({"organisation.post_sale_followup": False}), seed=seed)
    checkins_on = on.activities[on.activities.kind == "checkin"]
    assert len(checkins_on) > 500
    assert (off.activities.kind != "checkin").all()
    assert (checkins_on.buyer == -1).all()
    np.testing.assert_allclose(checkins_on.hours, retail.sales.checkin_hours.value)
    assert on.summary["repeat_purchases"] > 1.1 * off.summary["repeat_purchases"]
    assert on.summary["repeat_revenue"] > off.summary["repeat_revenue"]
    assert on.summary["referrals"] > off.summary["referrals"]  # a customer asked how it's going refers more
    _customers_conserved(on)
    _customers_conserved(off)


def test_initial_customers_repeat_at_their_first_deal_value(retail):
    """An initial customer's repeat purchase is worth initial_customer_value x repeat_value_fraction."""
    res = simulate(retail.with_overrides({"market.buyers_per_year": 100}), seed=3)
    pur = res.ledger.purchases()
    initial = pur["repeat"] & (pur["channel"] == -1)
    assert initial.sum() > 500
    ret = retail.retention
    np.testing.assert_allclose(pur["amount"][initial], ret.initial_customer_value * ret.repeat_value_fraction)
    assert res.summary["repeat_revenue"] == pytest.approx(float(pur["amount"][pur["repeat"]].sum()))


def test_no_customers_no_repeat_business(base):
    """Without initial customers and without wins nobody buys again, churns or refers."""
    sc = base.with_overrides({"retention.initial_customers": 0, "marketing.budget_per_year": 0.0})
    s = simulate(sc, seed=1).summary
    assert s["repeat_purchases"] == s["repeat_revenue"] == s["churned"] == s["customers_end"] == 0
    assert s["referrals"] == 0


def test_churn_only_when_nobody_comes_back(base):
    """base_repeat_prob 1: every customer whose need comes up buys again; nobody churns."""
    sc = base.with_overrides({"retention.base_repeat_prob": 1.0, "retention.initial_customers": 200})
    res = simulate(sc, seed=2)
    assert res.summary["churned"] == 0
    assert res.summary["repeat_purchases"] > 0
    _customers_conserved(res)


# ----------------------------------------------------------------------------------------------- acquisition stop
@pytest.fixture(scope="module")
def stopped(base) -> object:
    sc = base.with_overrides(
        {
            "simulation.warmup_days": 0,
            "simulation.horizon_days": 365,
            "marketing.acquisition_stop_day": 0.0,
            "retention.initial_customers": 300,
        }
    )
    return simulate(sc, seed=1)


def test_stopped_acquisition_spends_nothing_on_channels(stopped):
    """Stopped from day 0: no channel is paid for; referrals still bring a few (free) leads."""
    spent = stopped.ledger.spend_by_item
    assert all(spent[c] == 0 for c in stopped.scenario.marketing.channels)
    assert (stopped.channels.spend[stopped.channels.channel != "referral"] == 0).all()
    assert stopped.summary["referrals"] > 0


def test_stopped_acquisition_buyers_come_only_through_referrals(stopped):
    """After the first cohort nobody is reached by a channel: all later leads are referrals."""
    b = stopped.buyers
    leads = b[b.lead_day.notna()]
    channel_leads = leads[leads.source_channel != "referral"]
    assert (channel_leads.arrival_day < stopped.scenario.simulation.cohort_days).all()
    reached = b[~b.source_channel.isin(["none", "referral"])]
    assert (reached.arrival_day < stopped.scenario.simulation.cohort_days).all()


def test_acquisition_stopped_from_day_0_reaches_nobody(stopped):
    """With acquisition stopped from day 0, no buyer is reached through a paid channel."""
    b = stopped.buyers
    assert (b.source_channel.isin(["none", "referral"])).all()


def test_customer_base_decays_without_acquisition(stopped):
    """Without acquisition the customer base shrinks: churn is not replaced by new customers."""
    s = stopped.summary
    initial = stopped.scenario.retention.initial_customers
    assert s["churned"] > 0
    assert s["customers_end"] < 0.8 * initial
    customers = stopped.timeseries.customers.to_numpy()
    assert customers[-1] < customers[0]
    assert (np.diff(customers) <= 2).all()  # at most the odd referral win per week
    _customers_conserved(stopped)


# ----------------------------------------------------------------------------------------------- conservation
@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_customers_are_conserved(path):
    """initial customers + buyers won = customers at the end + customers churned."""
    sc = load_scenario(path).with_overrides({"simulation.warmup_days": 0, "simulation.horizon_days": 150})
    if sc.market.buyers_per_year > 20_000:
        sc = sc.with_overrides({"market.buyers_per_year": 20_000})
    _customers_conserved(simulate(sc, seed=7))
