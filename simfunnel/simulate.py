"""`simulate(scenario, seed, probe=None)`: one run of the model, checked for conservation, as a `RunResult`.

The probe hook lets a caller look inside the live model without copying `simulate`: a probe is any callable
``probe(world)``, called once with the built `World` before the run starts. It may read the model state, or
schedule its own SimPy processes on ``world.env`` that read it later; it must never change the model state.
`Probe(times, read)` is the ready-made one: it records ``read(world)`` at each of ``times`` (days) in ``.values``.
A probe's own events share the clock with the model's without reordering them, so the run's results are those of
``simulate(scenario, seed)``, except ``sim_events``, which counts the probe's events too."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import simpy

from simfunnel import metrics
from simfunnel.ledger import Ledger
from simfunnel.model.world import World
from simfunnel.scenario import Scenario


@dataclass
class RunResult:
    """One run: `.summary` (KPIs), `.buyers` (one row per buyer), `.timeseries` (weekly), `.channels`
    (attribution), `.activities` (rep work) and `.reps` (per rep), the last five built on first access; `.by_year()` (KPIs per year).
    All of them cover the horizon after any warm-up (`simulation.warmup_days`); `.ledger`, the whole run."""

    scenario: Scenario
    seed: int | None
    summary: dict[str, float]
    ledger: Ledger = field(repr=False)

    @cached_property
    def buyers(self) -> pd.DataFrame:
        return metrics.buyers_frame(self.ledger)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        return metrics.timeseries_frame(self.ledger, self.scenario)

    @cached_property
    def channels(self) -> pd.DataFrame:
        return metrics.channels_frame(self.ledger, self.scenario)

    @cached_property
    def activities(self) -> pd.DataFrame:
        return metrics.activities_frame(self.ledger)

    @cached_property
    def reps(self) -> pd.DataFrame:
        """One row per rep employed in the window: hire/leaving day, skill, deals won, hours, utilisation."""
        return metrics.reps_frame(self.ledger, self.scenario)

    @property
    def lost_by_reason(self) -> dict[str, float]:
        return {reason: self.summary[key] for reason, key in metrics.LOST_KEYS.items()}

    def event_log(self, start_date: str = "2025-01-01") -> pd.DataFrame:
        """The buyer journeys as a process-mining event log, day 0 = `start_date` (`simfunnel.data.event_log`)."""
        from simfunnel.data.eventlog import event_log

        return event_log(self, start_date)

    def by_year(self) -> pd.DataFrame:
        """KPIs per year of the horizon (tidy: year, days, metric, value); see `simfunnel.periods`."""
        from simfunnel.periods import summary_by_year

        return summary_by_year(self.ledger, self.scenario)

    def kpis(self) -> dict[str, object]:
        """Every KPI by its stable name (docs/pages/kpis.md), `lost_by_reason` as a table, per-channel attribution."""
        out: dict[str, object] = dict(self.summary)
        out["lost_by_reason"] = self.lost_by_reason
        out["channels"] = self.channels.to_dict(orient="records")
        return out


ProbeHook = Callable[[World], object]
"""A probe: called once with the built World before the run (see the module docstring)."""


@dataclass
class Probe:
    """Reads ``read(world)`` from the live model at each of ``times`` (days of the run, from the start of any
    warm-up; increasing, before the run's end ``world.horizon``)
    and keeps the readings, in order, in ``values``. Pass it as ``simulate(..., probe=Probe(times, read))``."""

    times: Sequence[float]
    read: Callable[[World], float]
    values: list[float] = field(default_factory=list)

    def __call__(self, world: World) -> None:
        times = [float(t) for t in self.times]
        if any(b <= a for a, b in zip(times, times[1:], strict=False)) or (times and times[-1] >= world.horizon):
            raise ValueError("probe times must be increasing and before the horizon")
        self.values.clear()
        world.env.process(self._reader(world, times))

    def _reader(self, world: World, times: list[float]):
        env = world.env
        for t in times:
            yield env.timeout(t - env.now)
            self.values.append(float(self.read(world)))


def track_processes(env: simpy.Environment) -> list[Generator]:
    """Record the generator of every process started on ``env`` from now on (for `release_processes`)."""
    generators: list[Generator] = []
    start = env.process

    def process(generator: Generator) -> simpy.Process:
        generators.append(generator)
        return start(generator)

    env.process = process  # type: ignore[method-assign]
    return generators


def release_processes(env: simpy.Environment, generators: list[Generator]) -> None:
    """End a finished run's processes so that its memory is freed at once, without waiting for a garbage
    collection: each live process's generator frame refers back to the World, and the World (through the event
    queue and the rep pool) to the process - a reference cycle holding every array of the run. Closing the
    generators (the model has no ``finally`` blocks: nothing runs) and emptying the event queue breaks it."""
    for generator in generators:
        generator.close()
    generators.clear()
    queue = getattr(env, "_queue", None)  # SimPy's heap of scheduled events: callbacks into the processes
    if isinstance(queue, list):
        for item in queue:
            item[-1].callbacks = None  # (time, priority, id, event): the event no longer refers to a process
        queue.clear()
    del env.process


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    *,
    probe: ProbeHook | Sequence[ProbeHook] | None = None,
) -> RunResult:
    """Run the scenario once. Same scenario + same seed = identical results. Raises ConservationError if
    any buyer or unit of money is unaccounted for at the end (a model bug, never expected). `probe`: one probe
    hook or a sequence of them, each called with the World before the run (module docstring; `Probe`)."""
    t0 = time.perf_counter()
    world = World(scenario, seed)
    processes = track_processes(world.env)
    hooks = () if probe is None else (probe,) if callable(probe) else tuple(probe)
    for hook in hooks:
        hook(world)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the run allocates many short-lived generator frames; collection pauses cost ~10 %
    try:
        ledger = world.run()
    finally:
        processes.extend(world.generators)
        world.generators.clear()
        world.walker.clear()
        release_processes(world.env, processes)
        if gc_was_enabled:
            gc.enable()
    ledger.check()
    wall = time.perf_counter() - t0
    int_seed = seed if isinstance(seed, int) else None
    return RunResult(scenario, int_seed, metrics.summary(ledger, scenario, wall), ledger)
