"""Reps' working calendar: when selling time is available, and when an activity of N working hours ends.

Day 0 of every simulation is a Monday at 00:00; times are in days.
"""

from __future__ import annotations

import math

from simfunnel.scenario import Calendar


class WorkCalendar:
    """Working windows [day + start, day + start + hours) on the working weekdays; disabled = always open."""

    def __init__(self, spec: Calendar) -> None:
        self.enabled = spec.enabled
        self.open_frac = spec.start_hour / 24.0
        self.close_frac = (spec.start_hour + spec.hours_per_day) / 24.0
        self.workday = tuple(d in spec.workdays for d in range(7))
        self.hours_per_week = spec.hours_per_day * len(spec.workdays) if spec.enabled else 24.0 * 7

    def is_open(self, t: float) -> bool:
        """True when reps are at work at time t."""
        if not self.enabled:
            return True
        day = math.floor(t)
        frac = t - day
        return self.workday[day % 7] and self.open_frac <= frac < self.close_frac

    def next_opening_after(self, t: float) -> float:
        """The first start of a working window strictly after t (inf when the calendar is disabled)."""
        if not self.enabled:
            return math.inf
        day = math.floor(t)
        for offset in range(8):
            d = day + offset
            start = d + self.open_frac
            if self.workday[d % 7] and start > t:
                return start
        raise AssertionError("calendar has no working day")  # pragma: no cover - validated in the schema

    def finish(self, t: float, hours: float) -> float:
        """Time at which an activity needing `hours` of working time, started (or queued) at t, ends."""
        remaining = hours / 24.0
        if not self.enabled:
            return t + remaining
        workday, open_frac, close_frac = self.workday, self.open_frac, self.close_frac
        while True:
            day = math.floor(t)
            if workday[day % 7]:
                close = day + close_frac
                if t < close:
                    start = max(t, day + open_frac)
                    available = close - start
                    if remaining <= available + 1e-12:  # a full day's work ends at the close, not next morning
                        return start + remaining
                    remaining -= available
            t = day + 1.0

    def working_hours(self, a: float, b: float) -> float:
        """Working hours between times a <= b."""
        if b <= a:
            return 0.0
        if not self.enabled:
            return (b - a) * 24.0
        total = 0.0
        day = math.floor(a)
        while day < b:
            if self.workday[day % 7]:
                lo = max(a, day + self.open_frac)
                hi = min(b, day + self.close_frac)
                if hi > lo:
                    total += hi - lo
            day += 1
        return total * 24.0
