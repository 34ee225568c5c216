"""Shared helpers of the experiment-layer tests: short scenarios and a counter of model runs."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from simfunnel import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SHORT = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500}


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
