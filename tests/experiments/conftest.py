"""Shared helpers of the experiment-layer tests: short scenarios and a counter of model runs."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from simfunnel import load_scenario

ROOT = Path(__file__).resolve().parents[2]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500, "simulation.warmup_days": 0}


def short(name: str = "base"):
    return load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides(SHORT)


@pytest.fixture
def model_runs(monkeypatch):
    """Counts calls of the model's `simulate` (serial runs happen in this process)."""
    module = importlib.import_module("simfunnel.simulate")
    real = module.simulate
    calls: list[int] = []

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "simulate", counting)
    return calls
