"""What a lead carries from marketing to sales: the buyer's columns a lead process reads, its pre-drawn random
numbers, and the lead's progress through sales (named fields instead of positional tuples)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple


class LeadInfo(NamedTuple):
    """The buyer columns a lead process reads, as plain Python values (numpy scalars slow SimPy down)."""

    arrival_day: float
    deadline_day: float
    ready_day: float
    commit_day: float
    fit: float
    nurture_lift: float
    lead_kind: int
    lead_score: float
    lead_day: float
    value: float
    channel: int
    known_day: float = math.nan  # when marketing came to know the buyer (nurture starts; nan: never known)


LEAD_FIELDS = LeadInfo._fields
"""Buyer columns a lead process reads, in `LeadInfo` order."""


class LeadDraws(NamedTuple):
    """A lead's own random numbers, drawn in bulk in buyer order (common random numbers across scenarios)."""

    u_follow: float  # handoff: followed up if below the follow-up probability
    u_engaged: float  # sales: a hand-raiser still engaged if below the speed-to-lead engagement
    u_win: float  # sales: won if below the win probability
    contact_hours: float  # sales: working hours of a first contact
    qualification_hours: float  # sales: extra working hours when the contact qualifies the buyer
    u_return: float  # market: a buyer dropped as too early comes back if below return_when_ready
    intent: float = 0.5  # market: the buyer's intent in 0..1 (scored by marketing, raises the win odds)
    u_sla: float = 0.5  # handoff: where in the SLA window the rep plans the response (share of the SLA)
    u_stated: float = 1.0  # handoff: the buyer states a timeline if below context.stated_share
    z_timeline: float = 0.0  # handoff: standard-normal error of the stated timeline (log scale)


class Lead(NamedTuple):
    """Buyer `buyer` as a lead: what sales reads about it and its random numbers."""

    buyer: int
    info: LeadInfo
    draws: LeadDraws


@dataclass(slots=True)
class LeadProgress:
    """A worked lead's progress through sales, written to the buyer columns as it happens (`sales.record_progress`):
    after each finished call or sales step, so an open lead keeps its history."""

    contacts: int = 0
    first_contact: float = math.nan
    readiness_at_contact: float = math.nan
    sql_day: float = math.nan
    rep_hours: float = 0.0
    wasted_hours: float = 0.0
    returned: bool = False
    knows_timeline: bool = False  # the rep has the buyer's stated timeline (context)
    deadline_estimate: float = math.nan  # the deadline the rep believes (nan: unknown)
    sla_due: float = math.nan  # the SLA deadline of a hand-raiser or referral (nan: no SLA)
    rep: int = -1  # the rep of the latest finished call or sales step: the deal's owner (-1: none yet)


__all__ = ["LEAD_FIELDS", "Lead", "LeadDraws", "LeadInfo", "LeadProgress"]
