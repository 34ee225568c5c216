"""Marketing-to-sales handoff: when a lead reaches a rep (real time or weekly list, SLA for hand-raisers),
what the rep knows (context), whether the rep follows it up at all (the lead black hole), and its queue key."""

from __future__ import annotations

import heapq
import math

from simfunnel.ledger import HAND_RAISE, REFERRAL_LEAD
from simfunnel.scenario import Scenario

# queue classes: hand-raisers under an SLA first, then leads, then post-sale check-ins
SLA_CLASS, LEAD_CLASS, CHECKIN_CLASS = 0, 1, 2


class Handoff:
    """The handoff policy and the reps' desk: open leads and trust in marketing's leads."""

    def __init__(self, scenario: Scenario, reps: int) -> None:
        org = scenario.organisation
        self.realtime = org.handoff == "realtime"
        self.interval = org.batch_interval_days
        self.sla = math.isfinite(org.response_sla_hours)
        self.context = org.pass_context
        self.policy = org.queue_policy
        self.follow = scenario.sales.follow_up
        self.reps = reps
        self.trust = self.follow.initial_trust
        # leads logged in the CRM are tracked by managers, and tracked leads get followed up (Sabnis et al.)
        self.tracking = org.crm_logging * self.follow.tracking_effect
        self.desk = 0  # leads handed to sales and not resolved (ignored leads stay until their deadline)
        self._ignored_deadlines: list[float] = []

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

    def ignore(self, deadline: float) -> None:
        """A lead nobody works ages silently on the desk until its deadline."""
        heapq.heappush(self._ignored_deadlines, deadline)

    def resolved(self) -> None:
        self.desk -= 1

    def learn_trust(self, lead_was_good: bool) -> None:
        """Trust tracks the share of contacted leads that were really sales-ready (moving average)."""
        self.trust += ((1.0 if lead_was_good else 0.0) - self.trust) / self.follow.trust_memory

    def queue_key(self, now: float, lead_kind: int, deadline: float, score: float) -> tuple[int, float]:
        """Earliest deadline first needs the deadline (context); without it reps fall back to arrival order."""
        cls = SLA_CLASS if self.is_priority(lead_kind) else LEAD_CLASS
        if self.policy == "deadline" and self.context:
            return (cls, deadline)
        if self.policy == "score":
            return (cls, -score if score == score else -1.0)  # referrals carry no score: warm, treated as top
        return (cls, now)
