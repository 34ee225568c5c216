"""Sales: the rep pool (a calendar-gated, policy-ordered SimPy resource), the lead's path through it
(first contact, too early / too late, qualification, meetings, proposal) and the win probability."""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

import simpy

from simfunnel.ledger import CONTACT, HAND_RAISE, LOST, RETURNING, SALES_STEP, TOO_EARLY, TOO_LATE, WON
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.leads import LEAD_FIELDS, Lead, LeadInfo, LeadProgress
from simfunnel.model.market import readiness

if TYPE_CHECKING:
    from simfunnel.model.handoff import Handoff
    from simfunnel.model.world import World


class RepPool:
    """`reps` identical reps (ids `first_id`...). A request waits in a heap ordered by its key (the queue policy);
    reps only start work while the calendar is open, and a process at every opening hands out the waiting work.
    Work for one named rep (deal ownership) waits in that rep's own heap, merged with the shared one by key."""

    def __init__(self, env: simpy.Environment, reps: int, calendar: WorkCalendar, first_id: int = 0) -> None:
        self.env = env
        self.calendar = calendar
        self.free = list(range(first_id + reps - 1, first_id - 1, -1))
        self.queue: list[tuple[tuple, int, simpy.Event]] = []
        self.owned: dict[int, list[tuple[tuple, int, simpy.Event]]] = {}  # rep -> work waiting for that rep
        self.leaving: set[int] = set()  # busy reps who leave the pool when their current activity ends
        self._seq = 0
        if calendar.enabled:
            env.process(self._openings())

    def request(self, key: tuple) -> simpy.Event:
        """An event that fires with a rep id once a rep is assigned to this work."""
        event = self.env.event()
        if self.free and self.calendar.is_open(self.env._now):
            event.succeed(self.free.pop())
        else:
            self._seq += 1
            heapq.heappush(self.queue, (key, self._seq, event))
        return event

    def request_rep(self, rep: int, key: tuple) -> simpy.Event:
        """An event that fires with `rep` once that rep (the deal's owner) is free for this work."""
        event = self.env.event()
        if rep in self.free and self.calendar.is_open(self.env._now):
            self.free.remove(rep)
            event.succeed(rep)
        else:
            self._seq += 1
            heapq.heappush(self.owned.setdefault(rep, []), (key, self._seq, event))
        return event

    def _next_for(self, rep: int) -> list | None:
        """The heap holding `rep`'s next work: its own or the shared one, whichever top comes first."""
        own = self.owned.get(rep)
        if own and (not self.queue or own[0][:2] < self.queue[0][:2]):
            return own
        return self.queue or None

    def acquire_now(self) -> int:
        """A free rep's id if one can start right now (no event needed), else -1."""
        if self.free and self.calendar.is_open(self.env._now):
            return self.free.pop()
        return -1

    def release(self, rep: int) -> None:
        if self.leaving and rep in self.leaving:
            self.leaving.discard(rep)
            return
        if self.owned:
            heap = self._next_for(rep) if self.calendar.is_open(self.env._now) else None
            if heap:
                heapq.heappop(heap)[2].succeed(rep)
            else:
                self.free.append(rep)
            return
        if self.queue and self.calendar.is_open(self.env._now):
            heapq.heappop(self.queue)[2].succeed(rep)
        else:
            self.free.append(rep)

    def add(self, rep: int) -> None:
        """A rep joins the pool (a hire): takes the first waiting work at once when the calendar is open."""
        self.release(rep)

    def remove(self, rep: int) -> None:
        """A rep leaves the pool: at once when free, else when its current activity ends."""
        if rep in self.free:
            self.free.remove(rep)
        else:
            self.leaving.add(rep)
        for item in self.owned.pop(rep, []):  # its deals go back to the shared queue
            heapq.heappush(self.queue, item)

    def _openings(self):
        env, cal, queue, free = self.env, self.calendar, self.queue, self.free
        while True:
            yield env.timeout(cal.next_opening_after(env._now) - env._now)
            if self.owned:
                for rep in reversed(list(free)):
                    heap = self._next_for(rep)
                    if heap:
                        free.remove(rep)
                        heapq.heappop(heap)[2].succeed(rep)
                continue
            while queue and free:
                heapq.heappop(queue)[2].succeed(free.pop())


def win_probability(
    world: World,
    fit: float,
    r_contact: float,
    lift: float,
    time_left_share: float,
    intent: float | None = None,
    knows_timeline: bool | None = None,
    rep_skill: float = 0.0,
) -> float:
    """Logistic in fit, intent, readiness at contact, context known (the buyer's stated timeline; default: the
    organisation passes context), rep skill (training, and `rep_skill`: the closing rep's own skill, logit units,
    `Team.skill_at`) and time left. Intent defaults to the market's mean."""
    win, market = world.scenario.sales.win, world.scenario.market
    mean_intent = market.intent_alpha / (market.intent_alpha + market.intent_beta)
    knows = world.handoff.context if knows_timeline is None else knows_timeline
    logit = (
        win.intercept
        + win.fit * fit
        + win.intent * ((mean_intent if intent is None else intent) - mean_intent)
        + win.readiness * (r_contact - market.ready_at)
        + (win.context if knows else 0.0)
        + win.skill * world.skill_uplift
        + win.time_left * time_left_share
        + win.preference * lift
        + rep_skill
    )
    return 1.0 / (1.0 + math.exp(-logit))


def lead_process(world: World, lead: Lead):
    """One followed-up lead from handoff to a terminal state: contacts until the buyer qualifies (or is lost),
    then the sales cycle (meetings, proposal) and the win decision."""
    world.buyers.cols["followed_up"][lead.buyer] = 1
    progress = LeadProgress()
    qualified = yield from contact_until_qualified(world, lead, progress)
    if qualified:
        yield from sales_cycle(world, lead, progress)


def queue_key(h: Handoff, now: float, info: LeadInfo, progress: LeadProgress) -> tuple[int, float]:
    """The lead's key in the reps' queue now (`Handoff.queue_key` with what the rep knows of it)."""
    return h.queue_key(now, info.lead_kind, progress.deadline_estimate, info.lead_score, progress.sla_due)


def hold(world: World, pool: RepPool, rep: int, hours: float, kind: int, buyer: int, progress: LeadProgress):
    """Rep `rep` works `hours` working hours on the lead from now (its calendar permitting); then the rep is
    released, the activity logged and the rep and hours added to the lead's progress."""
    start = world.env._now
    end = pool.calendar.finish(start, hours)
    yield end - start
    pool.release(rep)
    world.ledger.activity(rep, start, end, hours, kind, buyer)
    progress.rep = rep
    progress.rep_hours += hours


def contact_outcome(world: World, info: LeadInfo, u_engaged: float, start: float, r_contact: float) -> int:
    """What a call at `start` finds: too late (deadline passed, committed elsewhere, a hand-raiser gone cold),
    too early (not ready yet) or a qualified buyer (WON, provisionally)."""
    if start >= info.deadline_day or start >= info.commit_day:
        return TOO_LATE
    # a referred buyer asked to be called: it does not go cold in hours
    if info.lead_kind == HAND_RAISE and u_engaged > world.speed_to_lead.engaged((start - info.lead_day) * 24.0):
        return TOO_LATE  # the hand-raiser went cold while waiting
    if r_contact < world.scenario.market.ready_at - 1e-9:  # tolerance: a call exactly at the ready day is on time
        return TOO_EARLY
    return WON


def contact_until_qualified(world: World, lead: Lead, progress: LeadProgress):
    """Call the lead (planned by the rep: `Handoff.plan`), re-calling a too-early buyer when recycled or when it
    comes back by itself. Returns True once qualified; otherwise closes the lead and returns False."""
    env, pool, h = world.env, world.pool, world.handoff
    i, info, draws = lead
    return_prob = world.scenario.market.return_when_ready
    recycle = world.scenario.organisation.too_early == "recycle"
    plan = h.plan(env._now, lead)
    progress.knows_timeline, progress.deadline_estimate, progress.sla_due = plan[1:]
    while True:
        if progress.contacts == 0 and plan.call_day > env._now:
            world.buyers.cols["callback_day"][i] = plan.call_day  # a planned call-back: the first call waits for it
            yield plan.call_day - env._now
        if progress.contacts == 0:
            world.buyers.cols["queued_day"][i] = env._now  # the lead joins the reps' queue (capacity wait starts)
        rep = pool.acquire_now()
        if rep < 0:
            rep = yield pool.request(queue_key(h, env._now, info, progress))
        start = env._now
        progress.contacts += 1
        if progress.contacts == 1:
            progress.first_contact = start
        r_contact = readiness(start, info.arrival_day, info.deadline_day - info.arrival_day, info.nurture_lift)
        progress.readiness_at_contact = r_contact
        outcome = contact_outcome(world, info, draws.u_engaged, start, r_contact)
        hours = draws.contact_hours + (draws.qualification_hours if outcome == WON else 0.0)
        yield from hold(world, pool, rep, hours, CONTACT, i, progress)
        h.learn_trust(outcome == WON)
        if outcome == WON:
            progress.sql_day = start
        else:
            progress.wasted_hours += hours
        record_progress(world, i, progress)  # the call is history now, whether the lead closes or not
        if outcome == WON:
            return True
        if outcome == TOO_EARLY and recycle:  # back into nurture, a call-back planned (`Handoff.recall_day`)
            recall = h.recall_day(env._now, lead, progress.contacts)
            if recall > env._now:
                yield recall - env._now
            continue
        if outcome == TOO_EARLY and draws.u_return < return_prob:
            # dropped by sales, but the buyer comes back by itself once ready (an inbound request)
            progress.returned = True
            record_progress(world, i, progress)
            back = h.handoff_day(max(info.ready_day, env._now), RETURNING)
            yield back - env._now
            return_prob = 0.0
            continue
        close_lead(world, i, progress, outcome, start)
        return False


def sales_cycle(world: World, lead: Lead, progress: LeadProgress):
    """A qualified lead's meetings and proposal (each a rep activity after a gap; with roles, the account
    executives' after the SDR-to-AE handoff; with deal ownership, all by the rep who took the first), then won
    or lost."""
    env, pool, h = world.env, world.ae_pool, world.handoff
    i, info, draws = lead
    deadline = info.deadline_day
    steps = [world.meeting_hours() for _ in range(world.scenario.sales.meetings)]
    steps.append(world.proposal_hours())
    if world.roles is not None:
        yield from ae_handoff(world, progress)
    owner = -1
    ownership, gap = world.scenario.sales.deal_ownership, world.meeting_gap
    for hours in steps:
        yield gap()
        if env._now >= deadline:
            close_lead(world, i, progress, TOO_LATE, env._now)
            return
        if hours <= 0.0:
            # A step of zero working hours is not held: it neither queues for nor occupies a rep and is not
            # logged as an activity (a zero-length request would still queue behind other work and show up as a
            # 0-hour activity). `proposal_hours = { kind = "fixed", value = 0 }` and `meetings = 0` thus end the
            # sales cycle at qualification, as in the M/M/c reduction scenarios/mmc_validation.toml.
            continue
        if owner >= 0 and world.team.employed(owner):  # deal ownership: wait for the deal's own rep
            rep = yield pool.request_rep(owner, queue_key(h, env._now, info, progress))
        else:
            rep = pool.acquire_now()
            if rep < 0:
                rep = yield pool.request(queue_key(h, env._now, info, progress))
            if ownership:
                owner = rep
        yield from hold(world, pool, rep, hours, SALES_STEP, i, progress)
        world.buyers.cols["rep_hours"][i] = progress.rep_hours
    now = env._now
    if now >= deadline:
        close_lead(world, i, progress, TOO_LATE, now)
        return
    process = deadline - info.arrival_day
    p = win_probability(
        world,
        info.fit,
        progress.readiness_at_contact,
        info.nurture_lift,
        (deadline - now) / process,
        draws.intent,
        progress.knows_timeline,
        world.team.skill_at(progress.rep, now),
    )
    if draws.u_win < p:
        close_lead(world, i, progress, WON, now, info.value)
        world.start_customer(i, info.value, info.channel, first_need_in=None)
    else:
        close_lead(world, i, progress, LOST, now)


def ae_handoff(world: World, progress: LeadProgress):
    """The SDR-to-AE handoff of a qualified lead: a delay, and the buyer's stated timeline lost with a chance."""
    roles = world.roles
    yield world.ae_handoff_delay()
    if world.u_roles() < roles.context_loss:
        progress.knows_timeline = False


def record_progress(world: World, i: int, progress: LeadProgress) -> None:
    """Write a lead's progress to its buyer columns as it happens (after each finished call, when it returns), so
    that a lead still open at the horizon keeps its history and its rep hours."""
    cols = world.buyers.cols  # fetched anew: referrals may have grown (reallocated) the table
    cols["returned"][i] = progress.returned
    cols["first_contact_day"][i] = progress.first_contact
    cols["contacts"][i] = progress.contacts
    cols["readiness_at_contact"][i] = progress.readiness_at_contact
    cols["sql_day"][i] = progress.sql_day
    cols["rep_hours"][i] = progress.rep_hours
    cols["wasted_hours"][i] = progress.wasted_hours
    cols["owner"][i] = progress.rep


def close_lead(world: World, i: int, progress: LeadProgress, state: int, day: float, revenue: float = 0.0) -> None:
    """Record a worked lead's terminal state (and its progress), and feed the CRM (if the rep logs it)."""
    record_progress(world, i, progress)
    cols = world.buyers.cols
    cols["terminal"][i] = state
    cols["terminal_day"][i] = day
    if revenue:
        cols["close_day"][i] = day
        cols["revenue"][i] = revenue
    world.handoff.resolved()
    if world.u_handoff_live() < world.scenario.organisation.crm_logging:
        world.marketing.log_outcome(int(cols["channel"][i]), revenue)


__all__ = [
    "LEAD_FIELDS",
    "RepPool",
    "close_lead",
    "contact_outcome",
    "ae_handoff",
    "contact_until_qualified",
    "hold",
    "lead_process",
    "queue_key",
    "record_progress",
    "sales_cycle",
    "win_probability",
]
