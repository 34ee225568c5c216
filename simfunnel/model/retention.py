"""Retention: after a purchase a customer has a next need; marketing retention spend and a rep check-in
raise the chance it buys from us again instead of churning; satisfied customers refer new buyers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simfunnel.ledger import CHECKIN
from simfunnel.model.handoff import CHECKIN_CLASS
from simfunnel.model.streams import Buffered

if TYPE_CHECKING:
    from simfunnel.model.world import World


def repeat_probability(w: World, checked_in: bool) -> float:
    """Base chance + marketing lift (Hill in retention spend per active customer) + check-in lift."""
    ret = w.scenario.retention
    per_customer = w.marketing.item_rate("retention") / max(1, w.customers_active)
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

    def __init__(self, w: World, key: int) -> None:
        root = w.root
        g = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, CUSTOMER_STREAMS, key)))
        )
        ret, sales = w.scenario.retention, w.scenario.sales
        self.uniform = Buffered(lambda k: g.uniform(size=k), 8)
        self.repurchase_days = Buffered(lambda k: ret.repurchase_days.sample(g, k), 4)
        self.checkin_hours = Buffered(lambda k: sales.checkin_hours.sample(g, k), 4)


def checkin_process(w: World, draws: CustomerDraws, checked: list[bool], need_day: float):
    """'Asking how it's going': a rep check-in some days after a sale (lowest queue priority). It counts only
    if it happens before the customer's next need; a stale one is skipped without using the rep."""
    env, pool = w.env, w.pool
    yield env.timeout(w.scenario.sales.checkin_delay_days)
    rep = pool.acquire_now()
    if rep < 0:
        rep = yield pool.request((CHECKIN_CLASS, env.now))
    start = env.now
    if start >= need_day:
        pool.release(rep)
        return
    hours = draws.checkin_hours()
    end = w.calendar.finish(start, hours)
    yield env.timeout(end - start)
    pool.release(rep)
    w.ledger.activity(rep, start, end, hours, CHECKIN, -1)
    checked[0] = True
    ret = w.scenario.retention
    if draws.uniform() < ret.referral_followup_lift:
        w.spawn_referral()  # a customer asked how it's going refers more often


def customer_process(w: World, k: int, key: int, value: float, channel: int, first_need_in: float | None):
    """Customer k (stream `key`) from its (first) purchase until churn or the horizon."""
    env, ret, ledger = w.env, w.scenario.retention, w.ledger
    draws = CustomerDraws(w, key)
    followup = w.scenario.organisation.post_sale_followup
    checked = [False]
    if first_need_in is not None:  # an initial customer: bought before day 0, no check-in pending
        need_day = env.now + first_need_in
    else:
        need_day = env.now + draws.repurchase_days()
        if draws.uniform() < ret.referral_prob:
            w.spawn_referral()
        if followup:
            env.process(checkin_process(w, draws, checked, need_day))
    while True:
        if need_day > env.now:
            yield env.timeout(need_day - env.now)
        if draws.uniform() < repeat_probability(w, checked[0]):
            ledger.purchase(env.now, value * ret.repeat_value_fraction, True, channel)
            need_day = env.now + draws.repurchase_days()
            checked = [False]
            if draws.uniform() < ret.referral_prob:
                w.spawn_referral()
            if followup:
                env.process(checkin_process(w, draws, checked, need_day))
            continue
        ledger.cust_end[k] = env.now
        w.customers_active -= 1
        return
