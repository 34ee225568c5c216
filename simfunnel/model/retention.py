"""Retention: after a purchase a customer has a next need; marketing retention spend and a rep check-in
raise the chance it buys from us again instead of churning; satisfied customers refer new buyers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simfunnel.ledger import CHECKIN, INITIAL_BASE, REFERRAL_LEAD
from simfunnel.model.flow import Flow
from simfunnel.model.handoff import CHECKIN_CLASS, schedule_handoff
from simfunnel.model.leads import LEAD_FIELDS, Lead, LeadDraws, LeadInfo
from simfunnel.model.market import MIN_PROCESS_DAYS, ready_day
from simfunnel.model.streams import buffered, keyed_generator

if TYPE_CHECKING:
    from simfunnel.model.world import World


def repeat_probability(world: World, checked_in: bool) -> float:
    """Base chance + marketing lift (Hill in retention spend per active customer) + check-in lift."""
    ret = world.scenario.retention
    per_customer = world.marketing.item_rate("retention") / max(1, world.customers_active)
    p = ret.base_repeat_prob + ret.marketing(per_customer) + (ret.followup_lift if checked_in else 0.0)
    return min(1.0, p)


CUSTOMER_STREAMS = 1_000_003
"""Spawn-key branch of the per-customer streams (disjoint from the mechanism streams 0..4)."""
INITIAL_CUSTOMER_KEY = 1 << 40
"""Initial customer k draws from key INITIAL_CUSTOMER_KEY + k; a won buyer i from key i."""


class CustomerDraws:
    """A customer's own random stream, keyed by its buyer id: the same customer makes the same draws in every
    scenario of a comparison (common random numbers), whatever order other customers' events run in."""

    __slots__ = ("uniform", "repurchase_days", "checkin_hours")

    def __init__(self, world: World, key: int) -> None:
        root = world.root
        g = keyed_generator(root, CUSTOMER_STREAMS, key, store=world.customer_seeds)
        ret, sales = world.scenario.retention, world.scenario.sales
        self.uniform = buffered(lambda k: g.uniform(size=k), 8)
        self.repurchase_days = buffered(lambda k: ret.repurchase_days.sample(g, k), 4)
        self.checkin_hours = buffered(lambda k: sales.checkin_hours.sample(g, k), 4)


def checkin_process(world: World, draws: CustomerDraws, checked: list[bool], need_day: float):
    """'Asking how it's going': a rep check-in some days after a sale (lowest queue priority). It counts only
    if it happens before the customer's next need; a stale one is skipped without using the rep."""
    env, pool = world.env, world.ae_pool
    yield world.scenario.sales.checkin_delay_days
    rep = pool.acquire_now()
    if rep < 0:
        rep = yield pool.request((CHECKIN_CLASS, env.now))
    start = env.now
    if start >= need_day:
        pool.release(rep)
        return
    hours = draws.checkin_hours()
    end = pool.calendar.finish(start, hours)
    yield end - start
    pool.release(rep)
    world.ledger.activity(rep, start, end, hours, CHECKIN, -1)
    checked[0] = True
    ret = world.scenario.retention
    if draws.uniform() < ret.referral_followup_lift:
        spawn_referral(world)  # a customer asked how it's going refers more often


def customer_process(world: World, k: int, key: int, value: float, channel: int, first_need_in: float | None):
    """Customer k (stream `key`) from its (first) purchase until churn or the horizon."""
    env, ret, ledger = world.env, world.scenario.retention, world.ledger
    draws = CustomerDraws(world, key)
    followup = world.scenario.organisation.post_sale_followup
    checked = [False]
    checkin = None
    if first_need_in is not None:  # an initial customer: bought before day 0, no check-in pending
        need_day = env.now + first_need_in
    else:
        need_day = env.now + draws.repurchase_days()
        if draws.uniform() < ret.referral_prob:
            spawn_referral(world)
        if followup:
            checkin = checkin_process(world, draws, checked, need_day)
    while True:
        if need_day > env.now:
            if checkin is None:
                yield need_day - env.now
            else:  # the check-in starts once this wait is scheduled, as a process started before it would
                yield need_day - env.now, checkin
                checkin = None
        ledger.decided(k, env.now)  # a repurchase decision: buy again or churn
        if draws.uniform() < repeat_probability(world, checked[0]):
            ledger.purchase(env.now, value * ret.repeat_value_fraction, True, channel)
            need_day = env.now + draws.repurchase_days()
            checked = [False]
            if draws.uniform() < ret.referral_prob:
                spawn_referral(world)
            if followup:
                if checkin is not None:  # not started yet (no wait since the last purchase)
                    Flow(env, checkin, world.generators)
                checkin = checkin_process(world, draws, checked, need_day)
            continue
        ledger.cust_end[k] = env.now
        world.customers_active -= 1
        if checkin is not None:
            Flow(env, checkin, world.generators)
        return


def start_customer(world: World, key: int, value: float, channel: int, first_need_in: float | None) -> None:
    """A new customer (won buyer `key`, or initial customer) with its own random stream; a won buyer's first
    purchase is booked now, an initial customer (`first_need_in` given) bought before day 0."""
    led = world.ledger
    k = len(led.cust_start)
    led.cust_start.append(world.env.now)
    led.cust_end.append(math.nan)
    led.cust_decided.append(False)
    world.customers_active += 1
    if first_need_in is None:
        led.purchase(world.env.now, value, False, channel)
    Flow(world.env, customer_process(world, k, key, value, channel, first_need_in), world.generators)


def start_initial_customers(world: World) -> None:
    """The customer base at day 0: each with its first need spread uniformly over one repurchase cycle."""
    ret = world.scenario.retention
    if not ret.initial_customers:
        return
    first_need = world.rng["retention"].uniform(size=ret.initial_customers) * ret.repurchase_days.mean
    world.customer_seeds.expect(range(INITIAL_CUSTOMER_KEY, INITIAL_CUSTOMER_KEY + ret.initial_customers))
    for j, t in enumerate(first_need.tolist()):
        start_customer(world, INITIAL_CUSTOMER_KEY + j, ret.initial_customer_value, INITIAL_BASE, first_need_in=t)
    world.ledger.initial_customers = ret.initial_customers


def spawn_referral(world: World) -> None:
    """A satisfied customer refers a new buyer: warm (known, asks to be called when ready), no spend."""
    sc, m, now = world.scenario, world.market_rng, world.env.now
    world.ledger.referrals += 1
    world.buyers.reserve(1)
    i = world.buyers.n
    world.buyers.n += 1
    world.customer_seeds.expect((i,))  # a referred buyer is a lead: it may be won (see `World._source`)
    cols = world.buyers.cols
    process = max(float(sc.market.process_days.sample(m, 1)[0]), MIN_PROCESS_DAYS)
    lift = world.marketing.nurture_lift
    ready = ready_day(now, process, sc.market.ready_at, lift)
    cols["arrival_day"][i] = now
    cols["deadline_day"][i] = now + process
    cols["value"][i] = float(sc.market.value.sample(m, 1)[0])
    cols["fit"][i] = float(m.beta(sc.market.fit_alpha, sc.market.fit_beta))
    cols["channel"][i] = len(world.marketing.channel_names)  # the 'referral' source
    cols["engaged_day"][i] = now
    cols["known_day"][i] = now
    cols["nurture_lift"][i] = lift
    cols["ready_day"][i] = ready
    cols["commit_day"][i] = ready + float(sc.market.competitor_commit_days.sample(m, 1)[0])
    cols["lead_kind"][i] = REFERRAL_LEAD
    cols["lead_day"][i] = ready
    cols["lead_score"][i] = math.nan
    info = LeadInfo._make(cols[name][i].item() for name in LEAD_FIELDS)
    draws = LeadDraws(
        u_follow=world.u_handoff_live(),
        u_engaged=world.u_sales_live(),
        u_win=world.u_sales_live(),
        contact_hours=float(sc.sales.first_contact_hours.sample(world.rng["sales"], 1)[0]),
        qualification_hours=float(sc.sales.qualification_hours.sample(world.rng["sales"], 1)[0]),
        u_return=float(m.uniform()),
        intent=float(m.beta(sc.market.intent_alpha, sc.market.intent_beta)),
        u_sla=world.u_handoff_live(),
    )
    schedule_handoff(world, Lead(i, info, draws))
