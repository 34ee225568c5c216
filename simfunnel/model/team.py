"""The sales team over time: who is employed when (a hiring plan, attrition and re-hiring), each rep's skill and
ramp-up, per pool (one pool of reps, or the SDR and AE pools of `sales.roles`). The team changes only at its own
events (plan steps, leaving days, hires), never by ticking; with the defaults (no plan, no attrition, identical
reps) it schedules nothing and draws nothing."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from simfunnel.model.plans import headcount_steps, plan_value

if TYPE_CHECKING:
    from simfunnel.model.sales import RepPool
    from simfunnel.model.world import World

TEAM_STREAM = 1_000_033
"""Spawn-key entry of the team's own random stream (skills, leaving days): buyers' draws never move with it."""
ROLES_STREAM = 1_000_037
"""Spawn-key entry of the SDR-to-AE handoff's stream (delays, context loss)."""
ROLES = ("rep", "sdr", "ae")
"""Role names by code: one pool of reps doing everything, or the SDRs and account executives of `sales.roles`."""


def initial_headcount(staffing: Any, warmup: float) -> int:
    """Reps employed at the start of the run (day -warmup of the horizon) of a `Sales` section or a role pool
    (anything with `reps` and `headcount_plan`)."""
    return int(plan_value(headcount_steps(staffing), staffing.reps, -warmup))


class Unit:
    """One pool's staffing: its spec (headcount, plan, attrition, skill, cost), its RepPool, who is employed."""

    def __init__(self, code: int, spec: Any, pool: RepPool) -> None:
        self.code = code
        self.spec = spec
        self.pool = pool
        self.steps = headcount_steps(spec)
        self.active: list[int] = []
        self.pending = 0  # vacancies being refilled


def team_units(world: World) -> list[Unit]:
    """The pools to staff: the one pool of reps (role 'rep'), or the SDRs and AEs; the first is the front pool."""
    sales = world.model_scenario.sales
    if sales.roles is None:
        return [Unit(0, sales, world.pool)]
    return [Unit(1, sales.roles.sdr, world.pool), Unit(2, sales.roles.ae, world.ae_pool)]


class Team:
    """Rep records by id (hire day, leaving day, skill, whether it ramps up, role, cost) and the staffing events."""

    def __init__(self, world: World) -> None:
        # no reference to the World itself: a finished run's memory is freed without a garbage collection
        self.env, self.handoff, self.warmup = world.env, world.handoff, world.warmup
        self.units = team_units(world)
        self.varies = world.model_scenario.sales.roles is not None or any(
            u.steps or u.spec.attrition_per_year > 0 for u in self.units
        )
        """True when costs and capacity follow the rep records (a headcount that changes, or role pools)."""
        self.hired: list[float] = []
        self.left: list[float] = []
        self.skill: list[float] = []
        self.ramps: list[bool] = []
        self.role: list[int] = []  # code in ROLES
        self.cost: list[float] = []  # currency/year
        self.unit_of: list[Unit] = []
        root = world.root
        self.rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, TEAM_STREAM)))
        )
        for unit in self.units:
            for _ in range(initial_headcount(unit.spec, world.warmup)):
                self._enrol(unit, 0.0, ramps=False)

    @property
    def active(self) -> list[int]:
        """Reps employed now (every pool)."""
        return [rep for unit in self.units for rep in unit.active]

    @property
    def pending(self) -> int:
        """Vacancies being refilled now (every pool)."""
        return sum(unit.pending for unit in self.units)

    def start(self) -> None:
        """Schedule the plans' steps and the initial reps' leaving days."""
        env, offset = self.env, self.warmup
        for unit in self.units:
            for day, reps in unit.steps:
                t = day + offset
                if t > 0:
                    env.timeout(t).callbacks.append(lambda _ev, u=unit, n=int(reps): self.set_target(n, u))
            for rep in list(unit.active):
                self._schedule_leaving(rep)

    def _enrol(self, unit: Unit, now: float, ramps: bool) -> int:
        rep = len(self.hired)
        self.hired.append(now)
        self.left.append(math.nan)
        sd = unit.spec.skill_sd
        self.skill.append(float(self.rng.normal(0.0, sd)) if sd > 0 else 0.0)
        self.ramps.append(ramps)
        self.role.append(unit.code)
        self.cost.append(unit.spec.rep_cost_per_year)
        self.unit_of.append(unit)
        unit.active.append(rep)
        return rep

    def _schedule_leaving(self, rep: int) -> None:
        rate = self.unit_of[rep].spec.attrition_per_year
        if rate > 0:
            stay = float(self.rng.exponential(365.0 / rate))
            self.env.timeout(stay).callbacks.append(lambda _ev: self.leave(rep, replace=True))

    def hire(self, unit: Unit | None = None) -> int:
        """A new rep joins `unit` (default: the front pool) now, ramping up, and starts taking work."""
        unit = self.units[0] if unit is None else unit
        rep = self._enrol(unit, self.env.now, ramps=True)
        unit.pool.add(rep)
        self._schedule_leaving(rep)
        self._headcount_changed()
        return rep

    def leave(self, rep: int, replace: bool) -> None:
        """A rep leaves now (after its current activity); a leaver is replaced after time_to_hire_days."""
        unit = self.unit_of[rep]
        if rep not in unit.active:
            return  # already let go by a plan cut
        env = self.env
        unit.active.remove(rep)
        self.left[rep] = env.now
        unit.pool.remove(rep)
        self._headcount_changed()
        if replace and math.isfinite(unit.spec.time_to_hire_days):
            unit.pending += 1
            env.timeout(unit.spec.time_to_hire_days).callbacks.append(lambda _ev: self._fill(unit))

    def _fill(self, unit: Unit) -> None:
        if unit.pending > 0:
            unit.pending -= 1
            self.hire(unit)

    def set_target(self, target: int, unit: Unit | None = None) -> None:
        """A plan step: hire up to the target at once, or cancel vacancies and let the latest hires go."""
        unit = self.units[0] if unit is None else unit
        have = len(unit.active) + unit.pending
        for _ in range(target - have):
            self.hire(unit)
        cut = have - target
        if cut > 0:
            cancelled = min(unit.pending, cut)
            unit.pending -= cancelled
            for _ in range(cut - cancelled):
                self.leave(unit.active[-1], replace=False)

    def _headcount_changed(self) -> None:
        # open leads per rep of the follow-up model: the front pool's reps employed now
        self.handoff.reps = max(1, len(self.units[0].active))

    def employed(self, rep: int) -> bool:
        """Whether rep `rep` still works here."""
        return self.left[rep] != self.left[rep]  # NaN: not left

    def skill_at(self, rep: int, t: float) -> float:
        """Rep `rep`'s skill (logit units) at time t: its drawn skill, less the ramp-up deficit of a new hire."""
        if rep < 0:
            return 0.0
        skill = self.skill[rep]
        spec = self.unit_of[rep].spec
        if spec.ramp_weeks > 0 and self.ramps[rep]:
            done = (t - self.hired[rep]) / (7.0 * spec.ramp_weeks)
            if done < 1.0:
                skill -= spec.ramp_skill_gap * (1.0 - done)
        return skill


__all__ = ["ROLES", "ROLES_STREAM", "TEAM_STREAM", "Team", "Unit", "initial_headcount", "team_units"]
