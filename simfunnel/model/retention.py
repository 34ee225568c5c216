"""Retention: after a purchase a customer has a next need; marketing retention spend and a rep check-in
raise the chance it buys from us again instead of churning; satisfied customers refer new buyers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simfunnel.ledger import CHECKIN
from simfunnel.model.handoff import CHECKIN_CLASS

if TYPE_CHECKING:
    from simfunnel.model.world import World


def repeat_probability(w: World, checked_in: bool) -> float:
    """Base chance + marketing lift (Hill in retention spend per active customer) + check-in lift."""
    ret = w.scenario.retention
    per_customer = w.marketing.item_rate("retention") / max(1, w.customers_active)
    p = ret.base_repeat_prob + ret.marketing(per_customer) + (ret.followup_lift if checked_in else 0.0)
    return min(1.0, p)


def customer_process(w: World, k: int, value: float, channel: int, first_need_in: float | None):
    """Customer k from its (first) purchase until churn or the horizon."""
    env, ret, ledger = w.env, w.scenario.retention, w.ledger
    followup = w.scenario.organisation.post_sale_followup
    purchase_day = env.now
    if first_need_in is not None:  # an initial customer: bought before day 0, no check-in pending
        yield env.timeout(first_need_in)
        purchase_day = env.now - 1e-9
        need_day = env.now
        checked = False
    else:
        need_day = None
    while True:
        if need_day is None:
            checked = False
            if followup:
                yield env.timeout(w.scenario.sales.checkin_delay_days)
                rep = yield w.pool.request((CHECKIN_CLASS, env.now))
                start = env.now
                hours = w.checkin_hours()
                end = w.calendar.finish(start, hours)
                yield env.timeout(end - start)
                w.pool.release(rep)
                ledger.activity(rep, start, end, hours, CHECKIN, -1)
                checked = True
            if w.u_retention() < ret.referral_prob + (ret.referral_followup_lift if checked else 0.0):
                w.spawn_referral()
            need_day = purchase_day + w.repurchase_days()
            if need_day > env.now:
                yield env.timeout(need_day - env.now)
        if w.u_retention() < repeat_probability(w, checked):
            amount = value * ret.repeat_value_fraction
            ledger.purchase(env.now, amount, True, channel)
            purchase_day = env.now
            need_day = None
            continue
        ledger.cust_end[k] = env.now
        w.customers_active -= 1
        return
