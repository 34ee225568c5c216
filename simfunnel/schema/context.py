"""What the rep learns of a buyer's timeline at handoff when the organisation passes context: an estimate, not
the truth. Some buyers state no timeline, the others misjudge it (more the further away it is); the rep plans
the call on the estimate plus a safety margin. CRM notes logged by earlier reps sharpen the estimate, and so, optionally, do
nurture touches before the handoff (a form field, a webinar poll, an e-mail reply that asks when)."""

from __future__ import annotations

from pydantic import Field

from simfunnel.distributions import FrozenModel


class Context(FrozenModel):
    """Timeline context (read only with ``organisation.pass_context = true``). A buyer who states a timeline
    gives time-to-ready and time-to-deadline as true x exp(error_eff * z), z ~ N(0, 1) per buyer, with
    error_eff = timeline_error * (1 - crm_sharpening * organisation.crm_logging): an error in days that grows with
    how far away the date is. The rep calls an MQL at the estimated ready day + safety_margin_days (at once if the
    buyer says it is ready) and, under ``queue_policy = "deadline"``, ranks it by the estimated deadline.

    Nurture sharpening (off by default): a known buyer in a funded nurture programme gets
    n = nurture_touches_per_week * weeks from becoming known to the handoff touches; the chance it has stated a
    timeline becomes 1 - (1 - stated_share) * (1 - nurture_stated_per_touch)^n and its error shrinks by
    (1 - nurture_error_per_touch)^n."""

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
    nurture_touches_per_week: float = Field(
        0.0,
        ge=0,
        le=7,
        description="Nurture touches per week a known buyer gets before the handoff that ask for its timeline "
        "(touches/week; 0 = nurture does not sharpen the context, the default; needs nurture spend > 0).",
    )
    nurture_stated_per_touch: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Chance that one nurture touch gets a buyer who has not stated a timeline to state one "
        "(share per touch; assumption).",
    )
    nurture_error_per_touch: float = Field(
        0.03,
        ge=0,
        le=1,
        description="Share of the stated timeline's remaining error removed by one nurture touch (share per "
        "touch, multiplicative; assumption).",
    )

    def sharpens(self) -> bool:
        """Whether nurture touches sharpen the estimate at all (False: the default, no effect)."""
        return self.nurture_touches_per_week > 0 and (
            self.nurture_stated_per_touch > 0 or self.nurture_error_per_touch > 0
        )

    def nurture_touches(self, weeks: float) -> float:
        """Expected nurture touches in `weeks` of nurture (no touches for a negative or unknown span)."""
        return self.nurture_touches_per_week * weeks if weeks > 0 else 0.0

    def sharpened(self, stated_share: float, error: float, touches: float) -> tuple[float, float]:
        """The stated share and timeline error after `touches` nurture touches (unchanged for none)."""
        if touches <= 0:
            return stated_share, error
        share = 1.0 - (1.0 - stated_share) * (1.0 - self.nurture_stated_per_touch) ** touches
        return share, error * (1.0 - self.nurture_error_per_touch) ** touches


__all__ = ["Context"]
