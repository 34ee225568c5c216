"""Sales: the rep pool (a calendar-gated, policy-ordered SimPy resource), the lead's path through it
(first contact, too early / too late, qualification, meetings, proposal) and the win probability."""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

import simpy

from simfunnel.ledger import CONTACT, HAND_RAISE, LOST, RETURNING, SALES_STEP, TOO_EARLY, TOO_LATE, WON
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.market import readiness

if TYPE_CHECKING:
    from simfunnel.model.world import World


class RepPool:
    """`reps` identical reps. A request waits in a heap ordered by its key (the queue policy); reps only
    start work while the calendar is open, and a process at every opening hands out the waiting work."""

    def __init__(self, env: simpy.Environment, reps: int, calendar: WorkCalendar) -> None:
        self.env = env
        self.calendar = calendar
        self.free = list(range(reps - 1, -1, -1))
        self.queue: list[tuple[tuple, int, simpy.Event]] = []
        self._seq = 0
        if calendar.enabled:
            env.process(self._openings())

    def request(self, key: tuple) -> simpy.Event:
        """An event that fires with a rep id once a rep is assigned to this work."""
        event = self.env.event()
        if self.free and self.calendar.is_open(self.env.now):
            event.succeed(self.free.pop())
        else:
            self._seq += 1
            heapq.heappush(self.queue, (key, self._seq, event))
        return event

    def acquire_now(self) -> int:
        """A free rep's id if one can start right now (no event needed), else -1."""
        if self.free and self.calendar.is_open(self.env.now):
            return self.free.pop()
        return -1

    def release(self, rep: int) -> None:
        if self.queue and self.calendar.is_open(self.env.now):
            heapq.heappop(self.queue)[2].succeed(rep)
        else:
            self.free.append(rep)

    def _openings(self):
        env, cal, queue, free = self.env, self.calendar, self.queue, self.free
        while True:
            yield env.timeout(cal.next_opening_after(env.now) - env.now)
            while queue and free:
                heapq.heappop(queue)[2].succeed(free.pop())


def win_probability(w: World, fit: float, r_contact: float, lift: float, time_left_share: float) -> float:
    """Logistic in fit, readiness at contact, context known, rep skill (training) and time left."""
    win = w.scenario.sales.win
    logit = (
        win.intercept
        + win.fit * fit
        + win.readiness * (r_contact - w.scenario.market.ready_at)
        + (win.context if w.handoff.context else 0.0)
        + win.skill * w.skill_uplift
        + win.time_left * time_left_share
        + win.preference * lift
    )
    return 1.0 / (1.0 + math.exp(-logit))


LEAD_FIELDS = ("arrival_day", "deadline_day", "ready_day", "commit_day", "fit", "nurture_lift", "lead_kind",
               "lead_score", "lead_day", "value", "channel")  # fmt: skip
"""Buyer columns a lead process reads, passed in as plain Python values (numpy scalars slow SimPy down)."""


def lead_process(w: World, i: int, info: tuple, draws: tuple[float, ...]):
    """One followed-up lead from handoff to a terminal state. `info` holds the LEAD_FIELDS of buyer i;
    `draws` = (u_follow, u_engaged, u_win, contact hours, qualification hours, u_return)."""
    env, pool, cal, h, ledger = w.env, w.pool, w.calendar, w.handoff, w.ledger
    arrival, deadline, ready, commit, fit, lift, kind, score, lead_day, value, channel = info
    process = deadline - arrival
    u_follow, u_engaged, u_win, contact_h, qual_h, u_return = draws
    return_prob = w.scenario.market.return_when_ready
    returned = False
    ready_at = w.scenario.market.ready_at
    cols = w.buyers.cols
    cols["followed_up"][i] = 1
    hand_raised = kind == HAND_RAISE  # a referred buyer asked to be called: it does not go cold in hours
    recycle = w.scenario.organisation.too_early == "recycle"
    contacts = 0
    rep_hours = wasted = 0.0
    first_contact = math.nan
    while True:
        now = env.now
        if h.context and now < ready:  # the rep knows when the buyer will be ready: call then
            yield env.timeout(ready - now)
        if contacts == 0:
            w.buyers.cols["queued_day"][i] = env.now  # the lead joins the reps' queue (capacity wait starts)
        rep = pool.acquire_now()
        if rep < 0:
            rep = yield pool.request(h.queue_key(env.now, kind, deadline, score))
        start = env.now
        contacts += 1
        if contacts == 1:
            first_contact = start
        r_contact = readiness(start, arrival, process, lift)
        if start >= deadline or start >= commit:
            outcome = TOO_LATE
        elif hand_raised and u_engaged > w.speed_to_lead.engaged((start - lead_day) * 24.0):
            outcome = TOO_LATE  # the hand-raiser went cold while waiting
        elif r_contact < ready_at - 1e-9:  # tolerance: a call placed exactly at the ready day is on time
            outcome = TOO_EARLY
        else:
            outcome = WON  # provisional: qualified
        hours = contact_h + (qual_h if outcome == WON else 0.0)
        end = cal.finish(start, hours)
        yield env.timeout(end - start)
        pool.release(rep)
        ledger.activity(rep, start, end, hours, CONTACT, i)
        rep_hours += hours
        h.learn_trust(outcome == WON)
        if outcome == WON:
            break
        wasted += hours
        if outcome == TOO_EARLY and recycle:
            if ready > env.now:  # back into nurture, call back when ready
                yield env.timeout(ready - env.now)
            continue
        if outcome == TOO_EARLY and u_return < return_prob:
            # dropped by sales, but the buyer comes back by itself once ready (an inbound request)
            returned = True
            back = h.handoff_day(max(ready, env.now), RETURNING)
            yield env.timeout(back - env.now)
            return_prob = 0.0
            continue
        w.close_lead(i, returned, outcome, start, first_contact, contacts, r_contact, math.nan, rep_hours, wasted, 0.0)
        return
    sql_day = start
    steps = [w.meeting_hours() for _ in range(w.scenario.sales.meetings)]
    steps.append(w.proposal_hours())
    for hours in steps:
        yield env.timeout(w.meeting_gap())
        if env.now >= deadline:
            w.close_lead(
                i, returned, TOO_LATE, env.now, first_contact, contacts, r_contact, sql_day, rep_hours, wasted, 0.0
            )
            return
        if hours <= 0.0:
            # A step of zero working hours is not held: it neither queues for nor occupies a rep and is not
            # logged as an activity (a zero-length request would still queue behind other work and show up as a
            # 0-hour activity). `proposal_hours = { kind = "fixed", value = 0 }` and `meetings = 0` thus end the
            # sales cycle at qualification, as in the M/M/c reduction scenarios/mmc_validation.toml.
            continue
        rep = pool.acquire_now()
        if rep < 0:
            rep = yield pool.request(h.queue_key(env.now, kind, deadline, score))
        start = env.now
        end = cal.finish(start, hours)
        yield env.timeout(end - start)
        pool.release(rep)
        ledger.activity(rep, start, end, hours, SALES_STEP, i)
        rep_hours += hours
    now = env.now
    if now >= deadline:
        w.close_lead(i, returned, TOO_LATE, now, first_contact, contacts, r_contact, sql_day, rep_hours, wasted, 0.0)
        return
    p = win_probability(w, fit, r_contact, lift, (deadline - now) / process)
    if u_win < p:
        w.close_lead(i, returned, WON, now, first_contact, contacts, r_contact, sql_day, rep_hours, wasted, value)
        w.start_customer(i, value, channel, first_need_in=None)
    else:
        w.close_lead(i, returned, LOST, now, first_contact, contacts, r_contact, sql_day, rep_hours, wasted, 0.0)


__all__ = ["LEAD_FIELDS", "RepPool", "lead_process", "win_probability"]
