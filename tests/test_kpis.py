"""KPI definitions of `simfunnel.metrics` checked by hand: the wait to a first contact and its parts (batching,
planned call-back, rep capacity), on hand-made ledgers and on small simulated scenarios."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simfunnel import load_scenario, simulate
from simfunnel.ledger import MQL, BuyerTable, Ledger
from simfunnel.metrics import SUMMARY_KEYS, summary
from simfunnel.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
WAIT_KEYS = ("contact_wait_days", "contact_wait_days_p90", "batch_wait_days", "callback_wait_days", "queue_wait_days")


# simulation.warmup_days = 0 below: these tests check mechanisms and stocks from an empty start (initial customers,
# day-0 stop days, counts over the whole run) and stay short; the presets' warm-up has its own tests.
@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "base.toml").with_overrides(
        {"simulation.warmup_days": 0, "simulation.horizon_days": 120, "market.buyers_per_year": 3000}
    )


def ledger_of(rows: list[dict[str, float]], horizon: float = 100.0) -> Ledger:
    """A ledger whose buyers are `rows` (column -> value); every buyer is a lead, terminal state 'open'."""
    table = BuyerTable(len(rows))
    table.n = len(rows)
    for i, row in enumerate(rows):
        table.cols["arrival_day"][i] = 0.0
        table.cols["engaged_day"][i] = 0.0
        table.cols["known_day"][i] = 0.0
        table.cols["lead_kind"][i] = MQL
        table.cols["terminal"][i] = 6  # open
        for name, value in row.items():
            table.cols[name][i] = value
    return Ledger(horizon=horizon, buyers=table, channel_names=("search",))


# ----------------------------------------------------------------------------------------------- waits by hand
HAND_WAITS = [
    # weekly list: lead on day 1, on the list of day 7, called at once, rep free half a day later
    {"lead_day": 1.0, "handoff_day": 7.0, "queued_day": 7.0, "first_contact_day": 7.5},
    # real time with context: handed on day 2, the rep plans to call on day 5 (ready), a rep is free on day 6
    {"lead_day": 2.0, "handoff_day": 2.0, "callback_day": 5.0, "queued_day": 5.0, "first_contact_day": 6.0},
    # handed but never contacted: in no wait
    {"lead_day": 3.0, "handoff_day": 7.0, "queued_day": 7.0},
]


def test_contact_wait_splits_into_batch_callback_and_queue_by_hand(base):
    """Two contacted leads: waits 6.5 (6 batch + 0.5 queue) and 4 (3 call-back + 1 queue) days."""
    s = summary(ledger_of(HAND_WAITS), base, 0.0)
    assert s["contact_wait_days"] == pytest.approx((6.5 + 4.0) / 2)
    assert s["batch_wait_days"] == pytest.approx((6.0 + 0.0) / 2)
    assert s["callback_wait_days"] == pytest.approx((0.0 + 3.0) / 2)
    assert s["queue_wait_days"] == pytest.approx((0.5 + 1.0) / 2)
    assert s["contact_wait_days_p90"] == pytest.approx(4.0 + 0.9 * (6.5 - 4.0))
    # kept for compatibility: handoff -> first contact leaves the weekly list out
    assert s["lead_wait_days"] == pytest.approx((0.5 + 4.0) / 2)


def test_wait_kpis_are_nan_without_a_contacted_lead(base):
    s = summary(ledger_of(HAND_WAITS[2:]), base, 0.0)
    assert all(math.isnan(s[k]) for k in WAIT_KEYS)


def test_wait_kpis_are_summary_keys():
    assert set(WAIT_KEYS) <= set(SUMMARY_KEYS)


# ----------------------------------------------------------------------------------------------- simulated
def assert_waits_add_up(res) -> None:
    """Per contacted lead and on the means: batch + callback + queue = contact wait, each part >= 0."""
    b = res.buyers
    contacted = b[b["first_contact_day"].notna()]
    contact = contacted["first_contact_day"] - contacted["lead_day"]
    batch = contacted["handoff_day"] - contacted["lead_day"]
    callback = contacted["queued_day"] - contacted["handoff_day"]
    queue = contacted["first_contact_day"] - contacted["queued_day"]
    np.testing.assert_allclose(batch + callback + queue, contact, atol=1e-9)
    for part in (batch, callback, queue):
        assert (part >= -1e-9).all()
    s = res.summary
    if len(contacted):
        total = s["batch_wait_days"] + s["callback_wait_days"] + s["queue_wait_days"]
        assert total == pytest.approx(s["contact_wait_days"], abs=1e-9)
        assert s["contact_wait_days"] == pytest.approx(contact.mean())
        assert s["contact_wait_days_p90"] >= s["contact_wait_days"] - 1e-9 or len(contacted) < 10
    # a planned call-back is a call-back wait, and only a planned call-back is
    planned = contacted["callback_day"].notna()
    np.testing.assert_allclose(contacted.loc[planned, "queued_day"], contacted.loc[planned, "callback_day"], atol=1e-9)
    assert (callback[~planned] == 0).all()


@pytest.mark.parametrize("preset", ["siloed", "aligned", "base", "b2b_software"])
def test_waits_add_up_per_lead_and_on_the_means(preset):
    sc = load_scenario(ROOT / "scenarios" / f"{preset}.toml").with_overrides(
        {"simulation.warmup_days": 0, "simulation.horizon_days": 200}
    )
    assert_waits_add_up(simulate(sc, seed=4))


def test_realtime_without_context_waits_only_for_reps(base):
    """Real-time handoff and no context: no batching, no call-back; the whole wait is rep capacity."""
    sc = base.with_overrides({"organisation.handoff": "realtime", "organisation.pass_context": False})
    res = simulate(sc, seed=2)
    s = res.summary
    assert s["batch_wait_days"] == 0.0 and s["callback_wait_days"] == 0.0
    assert s["contact_wait_days"] == pytest.approx(s["queue_wait_days"])
    assert res.buyers["callback_day"].isna().all()


def test_weekly_list_wait_is_the_time_to_the_next_list_day(base):
    """Batch handoff every 7 days without an SLA: each contacted lead's batch wait is ceil(lead/7)*7 - lead."""
    sc = base.with_overrides(
        {
            "organisation.handoff": "batch",
            "organisation.batch_interval_days": 7.0,
            "organisation.response_sla_hours": math.inf,
            "organisation.pass_context": False,
            "sales.reps": 40,
        }
    )
    res = simulate(sc, seed=3)
    b = res.buyers[res.buyers["first_contact_day"].notna()]
    assert len(b) > 20
    np.testing.assert_allclose(b["handoff_day"], np.ceil(b["lead_day"] / 7.0) * 7.0)
    assert 0.0 < res.summary["batch_wait_days"] < 7.0
    assert res.summary["batch_wait_days"] == pytest.approx((b["handoff_day"] - b["lead_day"]).mean())
    assert_waits_add_up(res)


def test_context_turns_the_wait_into_a_planned_call_back(base):
    """With exact context (and real time, plenty of reps) the rep calls a not-yet-ready lead on its ready day."""
    sc = base.with_overrides(
        {"organisation.handoff": "realtime", "organisation.pass_context": True, "sales.reps": 40,
         "context.stated_share": 1.0, "context.timeline_error": 0.0, "context.safety_margin_days": 0.0}
    )  # fmt: skip
    res = simulate(sc, seed=3)
    b = res.buyers
    planned = b[b["callback_day"].notna()]
    assert len(planned) > 0
    np.testing.assert_allclose(planned["callback_day"], planned["ready_day"])
    assert (planned["callback_day"] > planned["handoff_day"]).all()
    assert res.summary["callback_wait_days"] > 0.0
    assert_waits_add_up(res)


# ----------------------------------------------------------------------------------------------- ratios by hand
def money_ledger() -> Ledger:
    """One marketing channel ('search', code 0; 'referral' is code 1). Purchases: the initial base 1000, a
    search buyer 200 + repeat 100, a referred buyer 50. Spend 100, rep cost 50. Three customers: one churned at
    its decision, one bought again, one's next need is still ahead."""
    led = ledger_of([{"lead_day": 1.0}])
    led.spend_by_item = {"search": 100.0}
    led.rep_cost = 50.0
    for day, amount, repeat, channel in [(3.0, 1000.0, True, -1), (4.0, 200.0, False, 0), (9.0, 100.0, True, 0),
                                         (5.0, 50.0, False, 1)]:  # fmt: skip
        led.purchase(day, amount, repeat, channel)
    led.cust_start, led.cust_end, led.cust_decided = [0.0, 4.0, 5.0], [6.0, math.nan, math.nan], [True, True, False]
    return led


def test_roi_counts_customers_acquired_in_the_run_against_go_to_market_spend(base):
    """roi = (0.6 x (200 + 100 + 50) - 100 - 50) / (100 + 50) = 0.4: the initial base's 1000 is left out."""
    assert base.money.gross_margin == 0.6
    s = summary(money_ledger(), base, 0.0)
    assert s["roi"] == pytest.approx((0.6 * 350 - 150) / 150)
    assert s["revenue"] == 1350.0  # the old roi, (0.6 x 1350 - 100) / 100 = 7.1, credited marketing with it


def test_marketing_roi_counts_marketing_sourced_buyers_against_marketing_spend(base):
    """marketing_roi = (0.6 x (200 + 100) - 100) / 100 = 0.8: referrals and the initial base are not marketing's."""
    s = summary(money_ledger(), base, 0.0)
    assert s["marketing_roi"] == pytest.approx((0.6 * 300 - 100) / 100)


def test_churn_rate_is_churned_over_customers_with_a_repurchase_decision(base):
    """One of the two customers who had a decision churned: 0.5 (not 1/3: the third could not churn yet)."""
    s = summary(money_ledger(), base, 0.0)
    assert s["churned"] == 1.0
    assert s["churn_rate"] == pytest.approx(0.5)


def test_ratios_are_nan_without_a_denominator(base):
    led = ledger_of([{"lead_day": 1.0}])
    s = summary(led, base, 0.0)
    assert math.isnan(s["churn_rate"]) and math.isnan(s["roi"]) and math.isnan(s["marketing_roi"])


# ----------------------------------------------------------------------------------------------- ratios simulated
def test_without_an_initial_base_roi_is_profit_over_go_to_market_spend(base):
    """Every customer was acquired in the run: roi = profit / (marketing spend + rep cost)."""
    s = simulate(base.with_overrides({"retention.initial_customers": 0}), seed=6).summary
    assert s["won"] > 0
    assert s["roi"] == pytest.approx(s["profit"] / (s["marketing_spend"] + s["rep_cost"]))


def test_without_referrals_or_initial_base_marketing_roi_counts_all_revenue(base):
    """No referrals and no initial base: every customer is marketing-sourced."""
    sc = base.with_overrides(
        {"retention.initial_customers": 0, "retention.referral_prob": 0.0, "retention.referral_followup_lift": 0.0}
    )
    s = simulate(sc, seed=6).summary
    assert s["referrals"] == 0
    margin = sc.money.gross_margin
    assert s["marketing_roi"] == pytest.approx((margin * s["revenue"] - s["marketing_spend"]) / s["marketing_spend"])


def test_loyal_customers_never_churn():
    """Repeat probability 1: customers have decisions but nobody churns (rate 0, not NaN)."""
    sc = load_scenario(ROOT / "scenarios" / "repeat_retail.toml").with_overrides(
        {
            "simulation.warmup_days": 0,
            "simulation.horizon_days": 200,
            "market.buyers_per_year": 500,
            "retention.base_repeat_prob": 1.0,
        }
    )
    s = simulate(sc, seed=1).summary
    assert s["churned"] == 0 and s["churn_rate"] == 0.0


def test_churn_rate_is_the_same_for_a_base_of_any_size():
    """Scaling the customer base (same per-customer behaviour) scales churned, not the churn rate."""
    sc = load_scenario(ROOT / "scenarios" / "repeat_retail.toml").with_overrides(
        {
            "simulation.warmup_days": 0,
            "simulation.horizon_days": 200,
            "market.buyers_per_year": 10.0,
            "marketing.budget_per_year": 0.0,
        }
    )
    small = simulate(sc.with_overrides({"retention.initial_customers": 1000}), seed=1).summary
    large = simulate(sc.with_overrides({"retention.initial_customers": 2600}), seed=1).summary
    assert large["churned"] > 2 * small["churned"]
    assert large["churn_rate"] == pytest.approx(small["churn_rate"], abs=0.05)


def assert_ratios_consistent(res) -> None:
    """Invariants of the ratios: 0 <= churn_rate <= 1; revenue behind roi lies between first-purchase revenue and
    total revenue; marketing-sourced revenue is part of it and covers the marketing-sourced first purchases."""
    s, led = res.summary, res.ledger
    margin = res.scenario.money.gross_margin
    decided = sum(led.cust_decided)
    assert s["churned"] <= decided
    if decided:
        assert 0.0 <= s["churn_rate"] <= 1.0
    gtm = s["marketing_spend"] + s["rep_cost"]
    if gtm > 0 and margin > 0:
        acquired = (s["roi"] + 1.0) * gtm / margin
        assert s["new_revenue"] - 1e-6 <= acquired <= s["revenue"] + 1e-6
        if s["marketing_spend"] > 0:
            marketing = (s["marketing_roi"] + 1.0) * s["marketing_spend"] / margin
            assert marketing <= acquired + 1e-6
            b = res.buyers
            sourced = b["source_channel"].isin(list(led.channel_names))
            assert marketing >= b.loc[sourced, "revenue"].sum() - 1e-6


@pytest.mark.parametrize("preset", ["siloed", "aligned", "repeat_retail", "car_seat"])
def test_ratios_are_consistent_on_presets(preset):
    sc = load_scenario(ROOT / "scenarios" / f"{preset}.toml").with_overrides(
        {"simulation.warmup_days": 0, "simulation.horizon_days": 300}
    )
    assert_ratios_consistent(simulate(sc, seed=2))
