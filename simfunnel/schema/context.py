"""What the rep learns of a buyer's timeline at handoff when the organisation passes context: an estimate, not
the truth. Some buyers state no timeline, the others misjudge it (more the further away it is); the rep plans
the call on the estimate plus a safety margin, and CRM notes logged by earlier reps sharpen the estimate."""

from __future__ import annotations

from pydantic import Field

from simfunnel.distributions import FrozenModel


class Context(FrozenModel):
    """Timeline context (read only with ``organisation.pass_context = true``). A buyer who states a timeline
    gives time-to-ready and time-to-deadline as true x exp(error_eff * z), z ~ N(0, 1) per buyer, with
    error_eff = timeline_error * (1 - crm_sharpening * organisation.crm_logging): an error in days that grows with
    how far away the date is. The rep calls an MQL at the estimated ready day + safety_margin_days (at once if the
    buyer says it is ready) and, under ``queue_policy = "deadline"``, ranks it by the estimated deadline."""

    stated_share: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Share of buyers who state a timeline when asked (assumption: many cannot say, e.g. the "
        "car-seat buyer who does not know when the baby comes); the others are called at once, as without context.",
    )
    timeline_error: float = Field(
        0.3,
        ge=0,
        le=3,
        description="Log-sd of a stated timeline (multiplicative error; 0 = exact): 0.3 puts 68 % of stated "
        "dates within x0.74..x1.35 of the true time ahead (assumption).",
    )
    crm_sharpening: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the timeline error removed when every outcome is logged in the CRM (share; "
        "scaled by organisation.crm_logging; assumption).",
    )
    safety_margin_days: float = Field(
        2.0,
        ge=-60,
        le=60,
        description="Days after the estimated ready day at which the rep plans the call (organisation's choice; "
        "later is fewer too-early calls, more buyers lost to a competitor in the meantime).",
    )


__all__ = ["Context"]
