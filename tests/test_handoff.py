"""Marketing-to-sales handoff (`simfunnel.model.handoff.Handoff`): when a lead reaches a rep, whether the rep
follows it up (the lead black hole), trust in marketing's leads and the queue key of each policy."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simfunnel import load_scenario
from simfunnel.ledger import HAND_RAISE, MQL, REFERRAL_LEAD, RETURNING
from simfunnel.model.handoff import CHECKIN_CLASS, LEAD_CLASS, SLA_CLASS, Handoff
from simfunnel.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "base.toml").with_overrides(
        {"simulation.horizon_days": 120, "market.buyers_per_year": 3000}
    )


def make(base: Scenario, reps: int = 4, **org) -> Handoff:
    sc = base.with_overrides({f"organisation.{k}": v for k, v in org.items()})
    return Handoff(sc, reps)


# ----------------------------------------------------------------------------------------------- timing
@pytest.mark.parametrize(
    ("lead_day", "expected"), [(0.0, 0.0), (0.01, 7.0), (3.2, 7.0), (6.999, 7.0), (7.0, 7.0), (7.5, 14.0)]
)
def test_batch_handoff_lands_on_the_next_list_day(base, lead_day, expected):
    """A weekly list: an MQL waits for the next multiple of batch_interval_days (a lead on a list day goes on
    that day's list)."""
    h = make(base, handoff="batch", batch_interval_days=7.0, response_sla_hours=math.inf)
    assert h.handoff_day(lead_day, MQL) == expected


def test_batch_interval_is_a_field(base):
    """A fortnightly list lands on multiples of 14; a half-week list on multiples of 3.5."""
    assert make(base, handoff="batch", batch_interval_days=14.0).handoff_day(15.0, MQL) == 28.0
    assert make(base, handoff="batch", batch_interval_days=3.5).handoff_day(8.0, MQL) == 10.5


@pytest.mark.parametrize("kind", [MQL, HAND_RAISE, REFERRAL_LEAD, RETURNING])
def test_realtime_handoff_is_immediate(base, kind):
    """Real time: every lead reaches sales the moment it becomes a lead."""
    h = make(base, handoff="realtime", response_sla_hours=math.inf)
    assert h.handoff_day(12.345, kind) == 12.345


@pytest.mark.parametrize("kind", [HAND_RAISE, REFERRAL_LEAD])
def test_sla_routes_hand_raisers_in_real_time_even_with_a_batch_handoff(base, kind):
    """Under a response SLA, a buyer who asked to be called skips the weekly list; MQLs still wait for it."""
    h = make(base, handoff="batch", response_sla_hours=1.0)
    assert h.is_priority(kind)
    assert h.handoff_day(12.345, kind) == 12.345
    assert not h.is_priority(MQL)
    assert h.handoff_day(12.345, MQL) == 14.0


def test_without_sla_hand_raisers_wait_for_the_list(base):
    """Without an SLA a demo request is just another lead on the next list."""
    h = make(base, handoff="batch", response_sla_hours=math.inf)
    assert not h.is_priority(HAND_RAISE)
    assert h.handoff_day(12.345, HAND_RAISE) == 14.0


def test_sla_hand_raisers_queue_in_the_top_priority_class(base):
    """Hand-raisers under an SLA are queued in class 0, ahead of every other lead (class 1) and check-ins (2)."""
    h = make(base, response_sla_hours=1.0, queue_policy="fifo")
    assert SLA_CLASS < LEAD_CLASS < CHECKIN_CLASS
    assert h.queue_key(5.0, HAND_RAISE, 50.0, 0.2)[0] == SLA_CLASS
    assert h.queue_key(5.0, REFERRAL_LEAD, 50.0, 0.2)[0] == SLA_CLASS
    assert h.queue_key(1.0, MQL, 10.0, 0.9)[0] == LEAD_CLASS
    assert h.queue_key(9.0, HAND_RAISE, 99.0, 0.0) < h.queue_key(1.0, MQL, 10.0, 0.9)
    no_sla = make(base, response_sla_hours=math.inf)
    assert no_sla.queue_key(5.0, HAND_RAISE, 50.0, 0.2)[0] == LEAD_CLASS


# ----------------------------------------------------------------------------------------------- follow-up
def test_follow_up_probability_formula(base):
    """p = max_prob x trust^w / (1 + open leads per rep / desk_half), then tracking closes part of the gap."""
    h = make(base, reps=4, crm_logging=0.4)
    f = base.sales.follow_up
    h.desk = 40
    p = f.max_prob * f.initial_trust**f.trust_weight / (1 + 10 / f.desk_half)
    tracking = 0.4 * f.tracking_effect
    assert h.follow_up_prob(0.0, MQL) == pytest.approx(p + tracking * (1 - p))


def test_follow_up_falls_with_open_leads_per_rep(base):
    """The fuller the desk, the less likely a new lead gets worked."""
    h = make(base, reps=4)
    probs = []
    for desk in (0, 10, 100, 1000, 10000):
        h.desk = desk
        probs.append(h.follow_up_prob(0.0, MQL))
    assert all(a > b for a, b in zip(probs, probs[1:], strict=False))


def test_follow_up_depends_on_leads_per_rep_not_total_leads(base):
    """The same desk shared by twice as many reps is followed up more."""
    few, many = make(base, reps=2), make(base, reps=8)
    few.desk = many.desk = 200
    assert many.follow_up_prob(0.0, MQL) > few.follow_up_prob(0.0, MQL)


def test_follow_up_rises_with_trust(base):
    """Reps who trust marketing's leads work more of them."""
    h = make(base, crm_logging=0.0)
    h.desk = 50
    probs = []
    for trust in (0.0, 0.2, 0.5, 0.9, 1.0):
        h.trust = trust
        probs.append(h.follow_up_prob(0.0, MQL))
    assert all(a < b for a, b in zip(probs, probs[1:], strict=False))


def test_follow_up_rises_with_crm_logging(base):
    """Logged, tracked leads are followed up more often (managers see them)."""
    probs = []
    for logging in (0.0, 0.3, 0.7, 1.0):
        h = make(base, crm_logging=logging)
        h.desk = 50
        probs.append(h.follow_up_prob(0.0, MQL))
    assert all(a < b for a, b in zip(probs, probs[1:], strict=False))


def test_full_tracking_closes_the_black_hole(base):
    """Every lead logged and fully tracked: every lead is followed up."""
    sc = base.with_overrides({"organisation.crm_logging": 1.0, "sales.follow_up.tracking_effect": 1.0})
    h = Handoff(sc, 3)
    h.desk = 10_000
    h.trust = 0.0
    assert h.follow_up_prob(0.0, MQL) == pytest.approx(1.0)


def test_zero_max_prob_without_tracking_follows_nothing_up(base):
    """max_prob 0 and no CRM logging: no MQL is followed up (a complete lead black hole)."""
    sc = base.with_overrides({"organisation.crm_logging": 0.0, "sales.follow_up.max_prob": 0.0})
    assert Handoff(sc, 3).follow_up_prob(0.0, MQL) == 0.0


def test_sla_hand_raisers_are_always_followed_up(base):
    """A demo request under an SLA is always answered, however full the desk."""
    sc = base.with_overrides(
        {"organisation.response_sla_hours": 1.0, "organisation.crm_logging": 0.0, "sales.follow_up.max_prob": 0.0}
    )
    h = Handoff(sc, 3)
    h.desk = 10_000
    assert h.follow_up_prob(0.0, HAND_RAISE) == 1.0
    assert h.follow_up_prob(0.0, MQL) == 0.0


def test_ignored_leads_stay_on_the_desk_until_their_deadline(base):
    """A lead nobody works counts as open until its deadline, then leaves the desk."""
    h = make(base, reps=2)
    for deadline in (10.0, 20.0, 30.0):
        h.desk += 1
        h.ignore(deadline)
    assert h.open_leads_per_rep(5.0) == 1.5
    assert h.open_leads_per_rep(10.0) == 1.0  # the first deadline has passed
    assert h.open_leads_per_rep(25.0) == 0.5
    h.desk += 1  # a worked lead ...
    assert h.open_leads_per_rep(99.0) == 0.5
    h.resolved()  # ... leaves the desk when it is resolved
    assert h.open_leads_per_rep(99.0) == 0.0


# ----------------------------------------------------------------------------------------------- trust
def test_trust_moves_toward_good_outcomes(base):
    """Every sales-ready lead raises trust by 1/trust_memory of the gap to 1."""
    h = make(base)
    memory = base.sales.follow_up.trust_memory
    t0 = h.trust
    h.learn_trust(True)
    assert h.trust == pytest.approx(t0 + (1 - t0) / memory)
    for _ in range(2000):
        h.learn_trust(True)
    assert h.trust == pytest.approx(1.0, abs=1e-6)
    assert h.trust <= 1.0


def test_trust_moves_toward_bad_outcomes(base):
    """Every lead that was not ready lowers trust by 1/trust_memory of the gap to 0; trust stays in [0, 1]."""
    h = make(base)
    seen = [h.trust]
    for _ in range(500):
        h.learn_trust(False)
        seen.append(h.trust)
    assert all(a > b for a, b in zip(seen, seen[1:], strict=False))
    assert 0.0 <= h.trust < 1e-3


def test_trust_settles_at_the_share_of_good_leads(base):
    """Alternating good and bad leads keeps trust near 1/2."""
    h = make(base)
    for i in range(2000):
        h.learn_trust(i % 2 == 0)
    assert h.trust == pytest.approx(0.5, abs=0.02)


# ----------------------------------------------------------------------------------------------- queue keys
def test_fifo_orders_by_time(base):
    """FIFO: the key is the time the lead joined the queue, whatever its deadline or score."""
    h = make(base, queue_policy="fifo", pass_context=True)
    assert h.queue_key(3.0, MQL, 500.0, 0.1) == (LEAD_CLASS, 3.0)
    assert h.queue_key(3.0, MQL, 500.0, 0.1) < h.queue_key(4.0, MQL, 10.0, 0.9)


def test_deadline_policy_orders_by_deadline_with_context(base):
    """Earliest deadline first when the rep knows the deadline."""
    h = make(base, queue_policy="deadline", pass_context=True)
    assert h.queue_key(3.0, MQL, 500.0, 0.1) == (LEAD_CLASS, 500.0)
    assert h.queue_key(4.0, MQL, 10.0, 0.9) < h.queue_key(3.0, MQL, 500.0, 0.1)


def test_deadline_policy_without_context_falls_back_to_fifo(base):
    """Without context the rep does not know the deadline and works the queue in arrival order."""
    h = make(base, queue_policy="deadline", pass_context=False)
    assert h.queue_key(3.0, MQL, 500.0, 0.1) == (LEAD_CLASS, 3.0)


def test_score_policy_serves_the_highest_score_first(base):
    """Score first: keys sort by descending lead score."""
    h = make(base, queue_policy="score", pass_context=False)
    keys = [h.queue_key(t, MQL, 100.0, s) for t, s in ((1.0, 0.3), (2.0, 0.9), (3.0, 0.6))]
    order = sorted(range(3), key=lambda i: keys[i])
    assert order == [1, 2, 0]
