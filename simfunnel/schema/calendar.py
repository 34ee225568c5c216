"""When reps work (a section of `Sales`, and of each role pool): working weekdays and hours; off = around the clock."""

from __future__ import annotations

from pydantic import Field, model_validator

from simfunnel.distributions import FrozenModel
from simfunnel.errors import FieldValueError


class Calendar(FrozenModel):
    """When reps work. Day 0 of the simulation is a Monday."""

    enabled: bool = Field(True, description="Off: reps work around the clock (for M/M/c validation).")
    workdays: tuple[int, ...] = Field((0, 1, 2, 3, 4), description="Weekdays worked, 0 = Monday .. 6 = Sunday.")
    start_hour: float = Field(9.0, ge=0, lt=24, description="Hour the working day starts.")
    hours_per_day: float = Field(8.0, gt=0, le=24, description="Selling hours per working day.")

    @model_validator(mode="after")
    def _valid_days(self) -> Calendar:
        if (
            not self.workdays
            or any(d not in range(7) for d in self.workdays)
            or len(set(self.workdays)) != len(self.workdays)
        ):
            raise FieldValueError(
                "workdays", f"must be distinct integers 0..6 (0 = Monday), at least one; got {list(self.workdays)}"
            )
        if self.start_hour + self.hours_per_day > 24:
            raise FieldValueError(
                "hours_per_day",
                f"start_hour + hours_per_day must be <= 24 (the working day ends by midnight), "
                f"got {self.start_hour:g} + {self.hours_per_day:g}",
            )
        return self


__all__ = ["Calendar"]
