"""A finished run frees its model state at once (no reference cycles left for the garbage collector), and the
buyer table grows by a quarter, not by doubling (issue 11)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import numpy as np

from simfunnel import load_scenario
from simfunnel.ledger import BuyerTable
from simfunnel.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500, "simulation.warmup_days": 0}


def test_a_finished_run_leaves_no_cycle_holding_the_world():
    scenario = load_scenario(ROOT / "scenarios" / "aligned.toml").with_overrides(SHORT)
    refs: list[weakref.ref] = []
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        result = simulate(scenario, 1, probe=lambda world: refs.append(weakref.ref(world)))
        assert refs[0]() is None  # freed by reference counting alone
        assert result.summary["buyers"] > 0 and len(result.buyers) == result.summary["buyers"]
    finally:
        if was_enabled:
            gc.enable()


def test_results_do_not_change_with_the_cleanup():
    scenario = load_scenario(ROOT / "scenarios" / "siloed.toml").with_overrides(SHORT)
    a, b = simulate(scenario, 7), simulate(scenario, 7)
    assert {k: v for k, v in a.summary.items() if k != "wall_seconds"} == {
        k: v for k, v in b.summary.items() if k != "wall_seconds"
    }


def test_the_buyer_table_grows_by_a_quarter():
    table = BuyerTable(1000)
    table.cols["value"][:1000] = np.arange(1000.0)
    table.n = 1000
    table.reserve(1)
    assert 1001 < len(table.cols["value"]) <= 1001 + max(64, 1001 // 4)
    assert table.cols["value"][999] == 999.0 and np.isnan(table.cols["arrival_day"][1000])
