"""Marketing-to-sales handoff: when a lead reaches a rep (real time or weekly list, SLA for hand-raisers),
what the rep knows (context: the buyer's stated timeline, an estimate) and so when the rep calls, whether the rep
follows it up at all (the lead black hole), and its queue key. `schedule_handoff` and `hand_over` run these
decisions in the simulation."""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING, NamedTuple

from simfunnel.ledger import HAND_RAISE, MQL, REFERRAL_LEAD
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.flow import Flow, reserve_id
from simfunnel.model.leads import Lead, LeadInfo
from simfunnel.model.sales import lead_process
from simfunnel.scenario import Scenario

if TYPE_CHECKING:
    from simfunnel.model.world import World

# queue classes: hand-raisers under an SLA first, then leads, then post-sale check-ins
SLA_CLASS, LEAD_CLASS, CHECKIN_CLASS = 0, 1, 2


class CallPlan(NamedTuple):
    """What the rep plans for a lead at handoff: the first call, what the rep believes of its timeline, the SLA."""

    call_day: float  # when the rep places the first call
    knows_timeline: bool  # the buyer stated a timeline (context)
    deadline_estimate: float  # the deadline the rep believes (nan: unknown)
    sla_due: float  # the SLA deadline of a hand-raiser or referral (nan: no SLA)


class Handoff:
    """The handoff policy and the reps' desk: open leads and trust in marketing's leads."""

    def __init__(self, scenario: Scenario, reps: int, calendar: WorkCalendar | None = None) -> None:
        org, ctx = scenario.organisation, scenario.context
        self.realtime = org.handoff == "realtime"
        self.interval = org.batch_interval_days
        self.sla_hours = org.response_sla_hours
        self.sla = math.isfinite(org.response_sla_hours)
        self.calendar = calendar if calendar is not None else WorkCalendar(scenario.sales.calendar)
        self.context = org.pass_context
        self.buyers_stating = ctx.stated_share  # a buyer talking to a rep states a timeline with this chance
        self.stated_share = ctx.stated_share if org.pass_context else 0.0  # ... and passed on at handoff
        # a stated timeline's log-error; CRM notes of earlier contacts sharpen it
        self.timeline_error = ctx.timeline_error * (1.0 - ctx.crm_sharpening * org.crm_logging)
        self.margin = ctx.safety_margin_days
        self.ctx = ctx
        self.sharpen = org.pass_context and ctx.sharpens()  # nurture touches sharpen the estimate (default off)
        # EDF key of a lead without a stated timeline: as if due the typical time left once sales-ready
        self.unknown_time_left = scenario.market.process_days.mean * (1.0 - scenario.market.ready_at)
        self.policy = org.queue_policy
        self.follow = scenario.sales.follow_up
        self.reps = reps
        self.trust = self.follow.initial_trust
        # leads logged in the CRM are tracked by managers, and tracked leads get followed up (Sabnis et al.)
        self.tracking = org.crm_logging * self.follow.tracking_effect
        self.desk = 0  # leads handed to sales and not resolved (ignored leads stay until their deadline)
        self._ignored_deadlines: list[float] = []
        self.batches: dict[float, list[Lead]] = {}  # list day -> leads waiting for that day's list

    def is_priority(self, lead_kind: int) -> bool:
        """Hand-raisers (and referrals, who ask to be called) are routed under the SLA when there is one."""
        return self.sla and (lead_kind == HAND_RAISE or lead_kind == REFERRAL_LEAD)

    def handoff_day(self, lead_day: float, lead_kind: int) -> float:
        """Real time: at once. Batch: on the next list day (multiples of batch_interval_days from day 0)."""
        if self.realtime or self.is_priority(lead_kind):
            return lead_day
        return math.ceil(lead_day / self.interval) * self.interval

    def open_leads_per_rep(self, now: float) -> float:
        ignored = self._ignored_deadlines
        while ignored and ignored[0] <= now:
            heapq.heappop(ignored)
            self.desk -= 1
        return self.desk / self.reps

    def follow_up_prob(self, now: float, lead_kind: int) -> float:
        """Sabnis et al. 2013: follow-up falls with lead volume per rep, rises with trust in marketing and
        with managers tracking follow-up (through CRM logging). A hand-raiser under an SLA is always followed up."""
        if self.is_priority(lead_kind):
            return 1.0
        f = self.follow
        p = f.max_prob * self.trust**f.trust_weight / (1.0 + self.open_leads_per_rep(now) / f.desk_half)
        return p + self.tracking * (1.0 - p)

    def follows_up(self, now: float, lead_kind: int, u_follow: float) -> bool:
        """Whether a rep works the lead at all, given its uniform draw `u_follow`."""
        return u_follow < self.follow_up_prob(now, lead_kind)

    def call_day(self, now: float, ready_day: float) -> float:
        """When the rep calls a buyer believed ready at ``ready_day``: at that day plus the safety margin when it
        is ahead (a planned call-back), at once otherwise or without context."""
        if self.context and now < ready_day:
            return max(now, ready_day + self.margin)
        return now

    def sla_due(self, lead_day: float) -> float:
        """The SLA deadline of a lead that asked to be called: ``response_sla_hours`` working hours later."""
        return self.calendar.finish(lead_day, self.sla_hours)

    def estimate(self, now: float, day: float, z: float, error: float | None = None) -> float:
        """A stated date as the buyer gives it: the time ahead misjudged by a factor exp(error * z) (error: the
        timeline error, sharpened by CRM notes and, for a nurtured lead, by nurture touches)."""
        return now + max(0.0, day - now) * math.exp((self.timeline_error if error is None else error) * z)

    def stated_and_error(self, now: float, info: LeadInfo) -> tuple[float, float]:
        """The chance a lead handed over at `now` has a stated timeline and that timeline's error: the context's,
        sharpened by the nurture touches a funded nurture programme gave it since it became known."""
        if not self.sharpen or info.nurture_lift <= 0:
            return self.stated_share, self.timeline_error
        touches = self.ctx.nurture_touches((now - info.known_day) / 7.0)
        return self.ctx.sharpened(self.stated_share, self.timeline_error, touches)

    def plan(self, now: float, lead: Lead) -> CallPlan:
        """The rep's plan at handoff. Under an SLA a buyer who asked to be called gets a response planned within
        the SLA window (at ``u_sla`` of it, in working hours); with context a buyer who states a timeline (share
        ``context.stated_share``, raised by nurture touches: `stated_and_error`) is known by an estimate, and an
        MQL is called at the estimated ready day plus the safety margin; everyone else is called at once."""
        info, draws = lead.info, lead.draws
        stated, error = self.stated_and_error(now, info)
        knows = draws.u_stated < stated
        deadline = self.estimate(now, info.deadline_day, draws.z_timeline, error) if knows else math.nan
        if self.is_priority(info.lead_kind):
            call = self.calendar.finish(info.lead_day, draws.u_sla * self.sla_hours)
            return CallPlan(max(now, call), knows, deadline, self.sla_due(info.lead_day))
        call = now
        if knows and info.lead_kind == MQL:  # a hand-raiser or a returning buyer says it is ready now
            call = self.call_day(now, self.estimate(now, info.ready_day, draws.z_timeline, error))
        return CallPlan(call, knows, deadline, math.nan)

    def ignore(self, deadline: float) -> None:
        """A lead nobody works ages silently on the desk until its deadline."""
        heapq.heappush(self._ignored_deadlines, deadline)

    def resolved(self) -> None:
        self.desk -= 1

    def learn_trust(self, lead_was_good: bool) -> None:
        """Trust tracks the share of contacted leads that were really sales-ready (moving average)."""
        self.trust += ((1.0 if lead_was_good else 0.0) - self.trust) / self.follow.trust_memory

    def recall_day(self, now: float, lead: Lead, contacts: int) -> float:
        """A recycled too-early lead's call-back: at the first too-early call the rep hears the buyer's timeline (if
        it states one) and calls back at the estimate plus the margin; otherwise, or after a second too-early
        call, nurture hands the buyer back when its activity shows it is ready (the ready day)."""
        info, draws = lead.info, lead.draws
        if contacts == 1 and draws.u_stated < self.buyers_stating:
            return max(now, self.estimate(now, info.ready_day, draws.z_timeline) + self.margin)
        return max(now, info.ready_day)

    def queue_key(
        self, now: float, lead_kind: int, deadline: float, score: float, sla_due: float = math.nan
    ) -> tuple[int, float]:
        """SLA leads first, the nearest SLA deadline first. Earliest deadline first needs the (believed) deadline,
        i.e. context; a lead without a stated timeline (``deadline`` nan) ranks as due the typical time left;
        without context reps fall back to arrival order (a documented no-op, `simfunnel.schema.interactions`)."""
        if self.is_priority(lead_kind):
            return (SLA_CLASS, sla_due if sla_due == sla_due else now)
        cls = LEAD_CLASS
        if self.policy == "deadline" and self.context:
            return (cls, deadline if deadline == deadline else now + self.unknown_time_left)
        if self.policy == "score":
            return (cls, -score if score == score else -1.0)  # referrals carry no score: warm, treated as top
        return (cls, now)


def schedule_handoff(world: World, lead: Lead) -> None:
    """Hand `lead` to sales at its handoff day: one entry of the handoff walker (`World.walker`, no SimPy event
    until it is next) per lead in real time, one per list day for a batch handoff (the leads of a list are handed
    over together). Each entry runs where a timeout scheduled now would have run (`flow.Walker`)."""
    h, env = world.handoff, world.env
    kind = lead.info.lead_kind
    day = h.handoff_day(lead.info.lead_day, kind)
    now = env._now
    if h.realtime or h.is_priority(kind):
        world.walker.push(now + max(0.0, day - now), reserve_id(env), lambda: hand_over(world, [lead], day))
        return
    batch = h.batches.get(day)
    if batch is None:
        batch = h.batches[day] = []
        world.walker.push(now + max(0.0, day - now), reserve_id(env), lambda: hand_over(world, h.batches.pop(day), day))
    batch.append(lead)


def hand_over(world: World, leads: list[Lead], day: float) -> None:
    """Leads reach the reps' desk; each is followed up (its lead process starts) or left in the black hole. The
    follow-up decisions come first, then the worked leads start in order (as processes started here would)."""
    h, env, cols = world.handoff, world.env, world.buyers.cols
    worked = []
    for lead in leads:
        i = lead.buyer
        cols["handoff_day"][i] = day
        h.desk += 1
        if not h.follows_up(env._now, lead.info.lead_kind, lead.draws.u_follow):
            h.ignore(lead.info.deadline_day)  # never worked: the lead ages on the desk until the deadline
            continue
        cols["followed_up"][i] = 1
        worked.append(lead)
    for lead in worked:
        Flow(env, lead_process(world, lead), world.generators)
