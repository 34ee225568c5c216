"""Marketing: the Hill response, budget shares, spend, CRM learning and the journey before sales
(`simfunnel.scenario.HillCurve`, `simfunnel.model.marketing`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simfunnel import load_scenario, simulate
from simfunnel.ledger import HAND_RAISE, MQL, NO_LEAD, BuyerTable
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.marketing import MarketingState, effective_shares, expected_spend
from simfunnel.scenario import NON_CHANNEL_SHARES, HillCurve, Scenario

ROOT = Path(__file__).resolve().parents[1]
# simulation.warmup_days = 0 below: these tests check mechanisms and stocks from an empty start (initial customers,
# day-0 stop days, counts over the whole run) and stay short; the presets' warm-up has its own tests.
SMALL = {"simulation.warmup_days": 0, "simulation.horizon_days": 120, "market.buyers_per_year": 3000}


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "base.toml").with_overrides(SMALL)


# ----------------------------------------------------------------------------------------------- Hill curve
@pytest.mark.parametrize("shape", [0.5, 1.0, 2.5])
def test_hill_is_zero_without_spend(shape):
    """No spend, no effect (and a negative spend is no spend)."""
    h = HillCurve(max_effect=0.4, half_saturation=1000.0, shape=shape)
    assert h(0.0) == 0.0
    assert h(-50.0) == 0.0


@pytest.mark.parametrize("shape", [0.5, 1.0, 2.5])
def test_hill_reaches_half_its_maximum_at_half_saturation(shape):
    """At spend K the effect is max/2, whatever the slope."""
    h = HillCurve(max_effect=0.4, half_saturation=1000.0, shape=shape)
    assert h(1000.0) == pytest.approx(0.2)


@pytest.mark.parametrize("shape", [0.5, 1.0, 2.5])
def test_hill_is_increasing_and_saturates_below_its_maximum(shape):
    """More spend never buys less; the effect approaches max_effect and never exceeds it."""
    h = HillCurve(max_effect=0.4, half_saturation=1000.0, shape=shape)
    xs = np.geomspace(1.0, 1e9, 200)
    ys = np.array([h(x) for x in xs])
    assert (np.diff(ys) > 0).all()
    assert (ys < 0.4).all()
    assert h(1e12) == pytest.approx(0.4, rel=1e-3)


def test_hill_has_diminishing_returns():
    """With a slope <= 1 every extra unit of spend buys less than the one before (concave)."""
    h = HillCurve(max_effect=1.0, half_saturation=500.0, shape=1.0)
    xs = np.linspace(0.0, 10_000.0, 101)
    gains = np.diff([h(x) for x in xs])
    assert (np.diff(gains) < 0).all()


def test_hill_with_slope_above_one_is_s_shaped():
    """With a slope > 1 returns first rise (threshold effect) and then diminish."""
    h = HillCurve(max_effect=1.0, half_saturation=500.0, shape=3.0)
    xs = np.linspace(0.0, 3000.0, 301)
    gains = np.diff([h(x) for x in xs])
    peak = int(np.argmax(gains))
    assert 0 < peak < len(gains) - 1
    assert (np.diff(gains[: peak + 1]) > 0).all()
    assert (np.diff(gains[peak:]) < 0).all()


def test_hill_with_zero_maximum_has_no_effect():
    """max_effect = 0 switches a response off."""
    assert HillCurve(max_effect=0.0, half_saturation=1.0)(1e6) == 0.0


# ----------------------------------------------------------------------------------------------- budget shares
def test_effective_shares_respread_training_without_the_training_lever(base):
    """Without rep training the training share is spread pro rata over the other items; shares still sum to 1."""
    assert not base.organisation.rep_training
    given = base.marketing.shares
    eff = effective_shares(base)
    assert given["training"] > 0
    assert eff["training"] == 0.0
    assert sum(eff.values()) == pytest.approx(1.0)
    rest = 1.0 - given["training"]
    for k, v in given.items():
        if k != "training":
            assert eff[k] == pytest.approx(v / rest)
    # relative proportions between the other items are kept
    assert eff["search"] / eff["nurture"] == pytest.approx(given["search"] / given["nurture"])


def test_effective_shares_unchanged_with_the_training_lever(base):
    """With rep training the budget is spent as given."""
    sc = base.with_overrides({"organisation.rep_training": True})
    assert effective_shares(sc) == dict(sc.marketing.shares)


def test_effective_shares_unchanged_without_a_training_share(base):
    """With nothing budgeted for training there is nothing to spread."""
    shares = dict(base.marketing.shares)
    shares["search"] += shares.pop("training")
    sc = base.with_overrides({"marketing.shares": {**shares, "training": 0.0}})
    assert effective_shares(sc) == dict(sc.marketing.shares)


def test_all_budget_on_training_without_the_lever_conserves_money(base):
    """A valid scenario with every unit of budget on training but no training lever runs without error."""
    shares = {k: 0.0 for k in base.marketing.shares}
    shares["training"] = 1.0
    sc = base.with_overrides({"marketing.shares": shares})
    result = simulate(sc, seed=1)
    assert result.summary["marketing_spend"] == pytest.approx(expected_spend(sc, sc.simulation.horizon_days))


# ----------------------------------------------------------------------------------------------- spend
def test_expected_spend_without_a_stop_is_the_prorated_budget(base):
    """Without a stop the whole budget is spent at a constant rate: budget x horizon / 365."""
    assert expected_spend(base, 100.0) == pytest.approx(base.marketing.budget_per_year * 100.0 / 365.0)


def test_expected_spend_stops_acquisition_from_the_stop_day(base):
    """From acquisition_stop_day on, only nurture, retention and training are paid for."""
    sc = base.with_overrides({"marketing.acquisition_stop_day": 40.0})
    eff = effective_shares(sc)
    acq = sum(v for k, v in eff.items() if k not in NON_CHANNEL_SHARES)
    budget = sc.marketing.budget_per_year
    assert expected_spend(sc, 100.0) == pytest.approx(budget * 100 / 365 - budget * acq * 60 / 365)
    assert expected_spend(sc, 30.0) == pytest.approx(budget * 30 / 365)  # stop after the horizon: no effect


def test_expected_spend_with_acquisition_stopped_from_day_0(base):
    """Stopped from day 0: the acquisition share is never spent."""
    sc = base.with_overrides({"marketing.acquisition_stop_day": 0.0})
    eff = effective_shares(sc)
    others = sum(eff[k] for k in NON_CHANNEL_SHARES)
    assert expected_spend(sc, 73.0) == pytest.approx(sc.marketing.budget_per_year * others * 73 / 365)


def test_simulated_spend_by_item_follows_the_stop_day(base):
    """In a run, each channel is paid until the stop day and each other item until the horizon."""
    sc = base.with_overrides(
        {"simulation.warmup_days": 0, "simulation.horizon_days": 90, "marketing.acquisition_stop_day": 40.0}
    )
    spent = simulate(sc, seed=3).ledger.spend_by_item
    eff = effective_shares(sc)
    budget = sc.marketing.budget_per_year
    for name in sc.marketing.channels:  # no rebalance before day 91: the mix is the initial one
        assert spent[name] == pytest.approx(budget * eff[name] * 40 / 365)
    for item in NON_CHANNEL_SHARES:
        assert spent[item] == pytest.approx(budget * eff[item] * 90 / 365)


def test_accrue_books_spend_at_constant_rates(base):
    """A year of accrual spends each item's share of the annual budget; accruing twice to t adds nothing."""
    ms = MarketingState(base)
    ms.accrue(365.0)
    ms.accrue(365.0)
    eff = effective_shares(base)
    for name, value in ms.spent.items():
        assert value == pytest.approx(base.marketing.budget_per_year * eff[name])


def test_reach_per_channel_is_the_hill_curve_of_its_spend(base):
    """Each channel's reach is its Hill curve at its current spend rate."""
    ms = MarketingState(base)
    eff = effective_shares(base)
    for j, name in enumerate(ms.channel_names):
        spend = base.marketing.budget_per_year * eff[name]
        assert ms.reach[j] == pytest.approx(base.marketing.channels[name].reach(spend))


def test_reach_is_zero_without_spend(base):
    """A zero budget reaches nobody; so does a channel with a zero share, and a stopped acquisition."""
    assert (MarketingState(base.with_overrides({"marketing.budget_per_year": 0.0})).reach == 0).all()
    shares = dict(base.marketing.shares)
    shares["search"], shares["content"] = 0.0, shares["content"] + shares["search"]
    ms = MarketingState(base.with_overrides({"marketing.shares": shares}))
    assert ms.reach[ms.channel_names.index("search")] == 0.0
    assert ms.reach[ms.channel_names.index("content")] > 0.0
    ms.stop_acquisition(10.0)
    assert (ms.reach == 0).all()
    assert (ms.channel_rates() == 0).all()


def test_zero_budget_run_has_no_engaged_buyers(base):
    """A run without marketing money (and no customers to refer anyone) engages nobody and spends nothing."""
    sc = base.with_overrides({"marketing.budget_per_year": 0.0, "retention.initial_customers": 0})
    s = simulate(sc, seed=2).summary
    assert s["buyers"] > 0
    assert s["engaged"] == s["known"] == s["mqls"] == s["won"] == 0
    assert s["marketing_spend"] == 0
    assert s["lost_never_reached"] + s["open"] == s["buyers"]


# ----------------------------------------------------------------------------------------------- CRM learning
def test_noise_falls_with_logged_outcomes_toward_the_floor(base):
    """Scoring noise starts at noise_sd, halves its learnable part after learning_half_outcomes logged
    outcomes and approaches min_noise_fraction x noise_sd."""
    sc = base.marketing.scoring
    ms = MarketingState(base)
    assert ms.noise_sd() == pytest.approx(sc.noise_sd)
    seen = [ms.noise_sd()]
    for _ in range(int(sc.learning_half_outcomes)):
        ms.log_outcome(0, 0.0)
        seen.append(ms.noise_sd())
    assert (np.diff(seen) < 0).all()
    floor = sc.noise_sd * sc.min_noise_fraction
    assert ms.noise_sd() == pytest.approx(floor + (sc.noise_sd - floor) / 2)
    ms.logged_outcomes = 10**9
    assert ms.noise_sd() == pytest.approx(floor, rel=1e-6)
    assert ms.noise_sd() > floor


def test_no_learning_when_the_floor_is_the_start(base):
    """min_noise_fraction = 1: logged outcomes teach the score nothing."""
    sc = base.with_overrides({"marketing.scoring.min_noise_fraction": 1.0})
    ms = MarketingState(sc)
    for _ in range(500):
        ms.log_outcome(1, 100.0)
    assert ms.noise_sd() == pytest.approx(sc.marketing.scoring.noise_sd)


def test_log_outcome_counts_leads_and_revenue_per_channel(base):
    """Logged outcomes are attributed to their channel; referrals (code past the channels) only count."""
    ms = MarketingState(base)
    ms.log_outcome(1, 500.0)
    ms.log_outcome(1, 0.0)
    ms.log_outcome(len(ms.channel_names), 900.0)  # a referral
    assert ms.logged_outcomes == 3
    assert ms.logged_leads.tolist() == [0, 2, 0, 0]
    assert ms.logged_revenue.tolist() == [0, 500.0, 0, 0]


def test_rebalance_moves_the_mix_toward_logged_revenue(base):
    """With enough logged wins the mix moves toward the channel that earned revenue; it still sums to 1."""
    ms = MarketingState(base)
    before = ms.mix.copy()
    assert not ms.rebalance(30.0)  # nothing logged: no move
    for _ in range(10):
        ms.log_outcome(0, 10_000.0)
    assert ms.rebalance(30.0)
    assert ms.mix.sum() == pytest.approx(1.0)
    assert ms.mix[0] > before[0]
    assert (ms.mix[1:] < before[1:]).all()
    rate = base.marketing.mix_learning_rate
    assert ms.mix[0] == pytest.approx((1 - rate) * before[0] + rate)


def test_rebalance_needs_enough_logged_wins(base):
    """A few lucky logged outcomes do not move the budget."""
    ms = MarketingState(base)
    ms.log_outcome(2, 1000.0)
    assert not ms.rebalance(30.0)


# ----------------------------------------------------------------------------------------------- evaluate_cohort
def _cohort(sc: Scenario, n: int = 4000, seed: int = 0, calendar: WorkCalendar | None = None, **u_over):
    """Evaluate one cohort of n synthetic buyers; returns the state, the buyer columns and the lead indices."""
    rng = np.random.default_rng(seed)
    ms = MarketingState(sc, calendar)
    table = BuyerTable(n)
    cols = table.cols
    arrival = np.sort(rng.uniform(0.0, 1.0, n))
    cols["arrival_day"][:n] = arrival
    cols["deadline_day"][:n] = arrival + rng.uniform(30.0, 300.0, n)
    cols["fit"][:n] = rng.beta(2.0, 2.0, n)
    table.n = n
    u = {
        "reach": rng.uniform(size=n),
        "channel": rng.uniform(size=n),
        "engage_delay": rng.exponential(5.0, n),
        "known": rng.uniform(size=n),
        "hand": rng.uniform(size=n),
        "score_z": rng.standard_normal(n),
        "hand_office": rng.uniform(size=n),
        "hand_time": rng.uniform(size=n),
        "commit_delay": rng.exponential(30.0, n),
    }
    u.update(u_over)
    leads = ms.evaluate_cohort(cols, 0, n, u)
    return ms, table.trimmed(), leads


def test_threshold_zero_makes_every_known_buyer_a_lead_when_known(base):
    """MQL threshold 0 (and no noise, no hand-raisers) and activity from readiness 0: each known buyer is an MQL
    the moment it is known."""
    sc = base.with_overrides(
        {"organisation.mql_threshold": 0.0, "marketing.hand_raise_rate": 0.0, "marketing.scoring.noise_sd": 0.0,
         "marketing.scoring.mql_readiness": 0.0, "marketing.scoring.activity_sd": 0.0}
    )  # fmt: skip
    _, b, leads = _cohort(sc)
    known = ~np.isnan(b["known_day"])
    assert 0 < known.sum() < len(known)
    assert leads.tolist() == np.flatnonzero(known).tolist()
    assert (b["lead_kind"][known] == MQL).all()
    assert (b["lead_kind"][~known] == NO_LEAD).all()
    np.testing.assert_array_equal(b["lead_day"][known], b["known_day"][known])
    assert np.isnan(b["lead_day"][~known]).all()


def test_threshold_one_without_noise_leaves_only_hand_raisers(base):
    """MQL threshold 1 and no noise: no score reaches it, so the only leads are buyers who raise their hand."""
    sc = base.with_overrides(
        {"organisation.mql_threshold": 1.0, "marketing.hand_raise_rate": 0.3, "marketing.scoring.noise_sd": 0.0}
    )
    u_hand = np.random.default_rng(9).uniform(size=4000)
    ms, b, leads = _cohort(sc, n=4000, hand=u_hand)
    assert (b["lead_kind"] != MQL).all()
    known = ~np.isnan(b["known_day"])
    quality = ms.quality[np.maximum(b["channel"], 0)]
    hand = known & (u_hand < 0.3 * quality)
    assert hand.sum() > 0
    assert leads.tolist() == np.flatnonzero(hand).tolist()
    assert (b["lead_kind"][hand] == HAND_RAISE).all()
    # without a calendar a hand-raiser asks as soon as it is both engaged and sales-ready
    np.testing.assert_allclose(b["lead_day"][hand], np.maximum(b["ready_day"][hand], b["engaged_day"][hand]))


def test_reached_share_follows_the_combined_reach(base):
    """A buyer is reached with probability 1 - prod(1 - reach_c), and credited to channel c in proportion to
    reach_c."""
    n = 40_000
    ms, b, _ = _cohort(base, n=n, engage_delay=np.zeros(n))
    reached = b["channel"] >= 0
    p_any = 1.0 - np.prod(1.0 - ms.reach)
    assert reached.mean() == pytest.approx(p_any, abs=4 * math.sqrt(p_any * (1 - p_any) / n))
    share = np.bincount(b["channel"][reached], minlength=len(ms.reach)) / reached.sum()
    np.testing.assert_allclose(share, ms.reach / ms.reach.sum(), atol=0.015)


def test_known_buyers_get_the_nurture_lift_and_become_ready_sooner(base):
    """Nurture lifts known buyers only; the lift brings their sales-ready day forward."""
    ms, b, _ = _cohort(base)
    known = ~np.isnan(b["known_day"])
    assert ms.nurture_lift > 0
    assert (b["nurture_lift"][known] == ms.nurture_lift).all()
    assert (b["nurture_lift"][~known] == 0).all()
    process = b["deadline_day"] - b["arrival_day"]
    ready_at = base.market.ready_at
    np.testing.assert_allclose(b["ready_day"], b["arrival_day"] + process * ready_at / (1 + b["nurture_lift"]))


def test_no_spend_no_cohort(base):
    """With no acquisition spend nobody in the cohort is reached and no lead is returned."""
    sc = base.with_overrides({"marketing.budget_per_year": 0.0})
    _, b, leads = _cohort(sc)
    assert len(leads) == 0
    assert (b["channel"] == -1).all()
    assert np.isnan(b["engaged_day"]).all()


def test_office_hours_hand_raisers_ask_during_working_hours(base):
    """With a calendar, demo requests made 'in office hours' land inside a working window."""
    sc = base.with_overrides(
        {"marketing.hand_raise_rate": 0.5, "marketing.hand_raise_office_hours": 1.0, "organisation.mql_threshold": 1.0}
    )
    cal = WorkCalendar(sc.sales.calendar)
    _, b, leads = _cohort(sc, calendar=cal)
    hand = leads[b["lead_kind"][leads] == HAND_RAISE]
    assert len(hand) > 50
    for t in b["lead_day"][hand].tolist():
        day = math.floor(t)
        frac = (t - day) * 24
        assert day % 7 in sc.sales.calendar.workdays
        assert 9.0 - 1e-9 <= frac <= 17.0 + 1e-9
