"""The sales team over time: who is employed when (a hiring plan, attrition and re-hiring), each rep's skill and
ramp-up. The team changes only at its own events (plan steps, leaving days, hires), never by ticking; with the
defaults (no plan, no attrition, identical reps) it schedules nothing and draws nothing."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simfunnel.model.plans import headcount_steps, plan_value

if TYPE_CHECKING:
    from simfunnel.model.world import World
    from simfunnel.scenario import Sales

TEAM_STREAM = 1_000_033
"""Spawn-key entry of the team's own random stream (skills, leaving days): buyers' draws never move with it."""
ROLES_STREAM = 1_000_037
"""Spawn-key entry of the SDR-to-AE handoff's stream (delays, context loss)."""
ROLES = ("rep", "sdr", "ae")
"""Role names by code: one pool of reps doing everything, or the SDRs and account executives of `sales.roles`."""


def initial_headcount(sales: Sales, warmup: float) -> int:
    """Reps employed at the start of the run (day -warmup of the horizon)."""
    return int(plan_value(headcount_steps(sales), sales.reps, -warmup))


class Team:
    """Rep records by id (hire day, leaving day, skill, whether it ramps up) and the staffing events."""

    def __init__(self, world: World) -> None:
        sales = world.model_scenario.sales
        self.world = world
        self.spec = sales
        self.steps = headcount_steps(sales)
        self.varies = bool(self.steps) or sales.attrition_per_year > 0 or sales.roles is not None
        """True when costs and capacity follow the rep records (a headcount that changes, or role pools)."""
        self.hired: list[float] = []
        self.left: list[float] = []
        self.skill: list[float] = []
        self.ramps: list[bool] = []
        self.role: list[int] = []  # code in ROLES
        self.cost: list[float] = []  # currency/year
        self.active: list[int] = []
        self.pending = 0  # vacancies being refilled
        root = world.root
        self.rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, TEAM_STREAM)))
        )
        if sales.roles is None:
            for _ in range(initial_headcount(sales, world.warmup)):
                self._enrol(0.0, ramps=False)
        else:
            for code, pool in ((1, sales.roles.sdr), (2, sales.roles.ae)):
                for _ in range(pool.reps):
                    self._enrol(0.0, ramps=False, role=code, skill_sd=pool.skill_sd, cost=pool.rep_cost_per_year)

    def start(self) -> None:
        """Schedule the plan's steps and the initial reps' leaving days."""
        env, offset = self.world.env, self.world.warmup
        for day, reps in self.steps:
            t = day + offset
            if t > 0:
                env.timeout(t).callbacks.append(lambda _ev, n=int(reps): self.set_target(n))
        for rep in list(self.active):
            self._schedule_leaving(rep)

    def _enrol(
        self, now: float, ramps: bool, role: int = 0, skill_sd: float | None = None, cost: float | None = None
    ) -> int:
        rep = len(self.hired)
        self.hired.append(now)
        self.left.append(math.nan)
        sd = self.spec.skill_sd if skill_sd is None else skill_sd
        self.skill.append(float(self.rng.normal(0.0, sd)) if sd > 0 else 0.0)
        self.ramps.append(ramps)
        self.role.append(role)
        self.cost.append(self.spec.rep_cost_per_year if cost is None else cost)
        self.active.append(rep)
        return rep

    def _schedule_leaving(self, rep: int) -> None:
        rate = self.spec.attrition_per_year
        if rate > 0:
            stay = float(self.rng.exponential(365.0 / rate))
            self.world.env.timeout(stay).callbacks.append(lambda _ev: self.leave(rep, replace=True))

    def hire(self) -> int:
        """A new rep joins now (ramping up) and starts taking work."""
        world = self.world
        rep = self._enrol(world.env.now, ramps=True)
        world.pool.add(rep)
        self._schedule_leaving(rep)
        self._headcount_changed()
        return rep

    def leave(self, rep: int, replace: bool) -> None:
        """A rep leaves now (after its current activity); a leaver is replaced after time_to_hire_days."""
        if rep not in self.active:
            return  # already let go by a plan cut
        world = self.world
        self.active.remove(rep)
        self.left[rep] = world.env.now
        world.pool.remove(rep)
        self._headcount_changed()
        if replace and math.isfinite(self.spec.time_to_hire_days):
            self.pending += 1
            world.env.timeout(self.spec.time_to_hire_days).callbacks.append(lambda _ev: self._fill())

    def _fill(self) -> None:
        if self.pending > 0:
            self.pending -= 1
            self.hire()

    def set_target(self, target: int) -> None:
        """A plan step: hire up to the target at once, or cancel vacancies and let the latest hires go."""
        have = len(self.active) + self.pending
        for _ in range(target - have):
            self.hire()
        cut = have - target
        if cut > 0:
            cancelled = min(self.pending, cut)
            self.pending -= cancelled
            for _ in range(cut - cancelled):
                self.leave(self.active[-1], replace=False)

    def _headcount_changed(self) -> None:
        self.world.handoff.reps = max(1, len(self.active))  # open leads per rep: the reps employed now

    def employed(self, rep: int) -> bool:
        """Whether rep `rep` still works here."""
        return self.left[rep] != self.left[rep]  # NaN: not left

    def skill_at(self, rep: int, t: float) -> float:
        """Rep `rep`'s skill (logit units) at time t: its drawn skill, less the ramp-up deficit of a new hire."""
        if rep < 0:
            return 0.0
        skill = self.skill[rep]
        weeks = self.spec.ramp_weeks
        if weeks > 0 and self.ramps[rep]:
            done = (t - self.hired[rep]) / (7.0 * weeks)
            if done < 1.0:
                skill -= self.spec.ramp_skill_gap * (1.0 - done)
        return skill


__all__ = ["ROLES", "ROLES_STREAM", "TEAM_STREAM", "Team", "initial_headcount"]
