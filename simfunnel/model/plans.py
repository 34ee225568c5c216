"""Step plans (headcount, budget) read through one accessor: the value in force on a day, the days it changes and
its integral over a span. Plan days count from the start of the horizon; before the first step the plan's base
value holds (`sales.reps`, `marketing.budget_per_year`)."""

from __future__ import annotations

from collections.abc import Sequence


def plan_value(steps: Sequence[tuple[float, float]], base: float, day: float) -> float:
    """The value in force on `day` (days of the horizon): the last step at or before it, else `base`."""
    value = base
    for step_day, step_value in steps:
        if step_day > day:
            break
        value = step_value
    return value


def plan_integral(steps: Sequence[tuple[float, float]], base: float, lo: float, hi: float) -> float:
    """The integral of the plan's value over [lo, hi] (days of the horizon), value x days."""
    if hi <= lo:
        return 0.0
    edges = [lo, *(d for d, _ in steps if lo < d < hi), hi]
    return sum(plan_value(steps, base, a) * (b - a) for a, b in zip(edges, edges[1:], strict=False))


def headcount_steps(sales: object) -> list[tuple[float, float]]:
    """The headcount plan of a `Sales` section as (day, reps) pairs."""
    return [(s.day, float(s.reps)) for s in sales.headcount_plan]  # type: ignore[attr-defined]


def budget_steps(marketing: object) -> list[tuple[float, float]]:
    """The budget plan of a `Marketing` section as (day, budget per year) pairs."""
    return [(s.day, s.budget_per_year) for s in marketing.budget_plan]  # type: ignore[attr-defined]


__all__ = ["budget_steps", "headcount_steps", "plan_integral", "plan_value"]
