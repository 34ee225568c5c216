"""A team and a budget that change over time: step plans for sales headcount and the marketing budget, and the
rep-level fields (ramp-up of new hires, attrition and re-hiring, skill that differs between reps). Every field's
default keeps the model as it was (a fixed team of identical reps, a constant budget)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AllowInfNan, Field, model_validator

from simfunnel.distributions import FrozenModel
from simfunnel.errors import FieldValueError

FloatOrInf = Annotated[float, AllowInfNan(True)]


class HeadcountStep(FrozenModel):
    """From `day` on (days since the start of the horizon) the plan is `reps` reps."""

    day: float = Field(ge=0, description="Day of the horizon the step takes effect, days.")
    reps: int = Field(ge=1, le=10_000, description="Planned headcount from that day on, reps.")


class BudgetStep(FrozenModel):
    """From `day` on (days since the start of the horizon) the marketing budget is `budget_per_year`."""

    day: float = Field(ge=0, description="Day of the horizon the step takes effect, days.")
    budget_per_year: float = Field(ge=0, description="Marketing budget from that day on, currency/year.")


def check_plan(steps: tuple, field: str) -> None:
    """Plan steps must be in strictly increasing day order (one value per day)."""
    days = [s.day for s in steps]
    if any(b <= a for a, b in zip(days, days[1:], strict=False)):
        raise FieldValueError(field, f"steps must have strictly increasing days, got {days}")


class Staffing(FrozenModel):
    """Rep-level staffing fields, mixed into `Sales` (see docs/pages/model.md#a-team-that-changes)."""

    headcount_plan: tuple[HeadcountStep, ...] = Field(
        (),
        description="Hiring plan: steps {day, reps}; before the first step the headcount is sales.reps "
        "(empty = sales.reps throughout). Hires join at the step's day; a cut lets the latest hires go.",
    )
    ramp_weeks: float = Field(
        0.0, ge=0, le=104, description="Weeks over which a new hire ramps up to full skill, weeks (0 = at once)."
    )
    ramp_skill_gap: float = Field(
        1.0,
        ge=0,
        le=10,
        description="A new hire's skill deficit on the day of hire, logit units; shrinks linearly to 0 over "
        "ramp_weeks (reps of day 0 are fully ramped).",
    )
    attrition_per_year: float = Field(
        0.0, ge=0, le=5, description="Rate at which a rep leaves, 1/year (exponential time to leaving)."
    )
    time_to_hire_days: FloatOrInf = Field(
        60.0, ge=0, description="Days to replace a rep who left, days (inf = leavers are not replaced)."
    )
    skill_sd: float = Field(
        0.0,
        ge=0,
        le=5,
        description="Spread of skill between reps, logit units (sd of a normal draw per rep, from its own random "
        "stream); the rep who closes a deal adds its skill to the win logit.",
    )

    @model_validator(mode="after")
    def _plan_order(self) -> Staffing:
        check_plan(self.headcount_plan, "headcount_plan")
        return self


__all__ = ["BudgetStep", "HeadcountStep", "Staffing", "check_plan"]
