"""`simulate(scenario, seed)`: one run of the model, checked for conservation, as a `RunResult`."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from simfunnel import metrics
from simfunnel.ledger import Ledger
from simfunnel.model.world import World
from simfunnel.scenario import Scenario


@dataclass
class RunResult:
    """One run: `.summary` (KPIs), `.buyers` (one row per buyer), `.timeseries` (weekly), `.channels`
    (attribution) and `.activities` (rep work), the last four built on first access."""

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

    @property
    def lost_by_reason(self) -> dict[str, float]:
        return {reason: self.summary[key] for reason, key in metrics.LOST_KEYS.items()}

    def kpis(self) -> dict[str, object]:
        """Every KPI by its DESIGN.md name (with `lost_by_reason` as a table and per-channel attribution)."""
        out: dict[str, object] = dict(self.summary)
        out["lost_by_reason"] = self.lost_by_reason
        out["channels"] = self.channels.to_dict(orient="records")
        return out


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence | None = None) -> RunResult:
    """Run the scenario once. Same scenario + same seed = identical results. Raises ConservationError if
    any buyer or unit of money is unaccounted for at the end (a model bug, never expected)."""
    t0 = time.perf_counter()
    world = World(scenario, seed)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the run allocates many short-lived generator frames; collection pauses cost ~10 %
    try:
        ledger = world.run()
    finally:
        if gc_was_enabled:
            gc.enable()
    ledger.check()
    wall = time.perf_counter() - t0
    int_seed = seed if isinstance(seed, int) else None
    return RunResult(scenario, int_seed, metrics.summary(ledger, scenario, wall), ledger)
