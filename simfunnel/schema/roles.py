"""Sales roles: a two-tier organisation of SDRs (first contact, qualification) and account executives (meetings,
proposal, close, check-ins) in separate pools, with the SDR-to-AE handoff between them (a delay and a chance of
losing the buyer's stated timeline). Optional: without `sales.roles` one pool of `sales.reps` does everything."""

from __future__ import annotations

from pydantic import Field

from simfunnel.distributions import Distribution, Fixed, FrozenModel
from simfunnel.schema.calendar import Calendar
from simfunnel.schema.team import Staffing


class RolePool(Staffing):
    """One role's pool of reps: headcount (and its plan, attrition, re-hiring), working calendar, cost, the spread
    of skill between its reps and their ramp-up (the `Staffing` fields, as for one pool of `sales.reps`)."""

    reps: int = Field(ge=1, le=10_000, description="Reps in this role at the start, reps.")
    rep_cost_per_year: float = Field(ge=0, description="Fully loaded cost per rep of this role, currency/year.")
    calendar: Calendar = Field(default_factory=Calendar, description="When this role's reps work.")


class Roles(FrozenModel):
    """SDRs work the first contacts until a lead qualifies; the qualified lead then waits `handoff_delay_days`
    and goes to the account executives' queue (an AE's skill counts in the win model). With `roles` set, the
    pools replace `sales.reps`, `sales.rep_cost_per_year`, `sales.calendar` and the `sales` staffing fields
    (headcount_plan, ramp, attrition, skill_sd): each pool has its own."""

    sdr: RolePool = Field(description="Sales development reps: first contacts and qualification.")
    ae: RolePool = Field(description="Account executives: meetings, proposal, the close and post-sale check-ins.")
    handoff_delay_days: Distribution = Field(
        default_factory=lambda: Fixed(value=1.0),
        description="Days from qualification to the AE taking the lead (the SDR-to-AE handoff), days.",
    )
    context_loss: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance the AE does not get the buyer's stated timeline from the SDR, share (the context term "
        "of the win model is then lost).",
    )


__all__ = ["RolePool", "Roles"]
