"""Scale: a 1,000,000-buyer run completes and its memory grows linearly, within a documented bound per buyer.

Each size runs in a fresh interpreter (peak RSS is per process). The bound, MAX_BYTES_PER_BUYER, is what the
ledger's preallocated columns (26 numbers per buyer) plus the bulk per-buyer draws need, with headroom; the
benchmark (`tests/benchmarks/bench_engine.py --memory-sizes ...`) reports the measured slope.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

MAX_BYTES_PER_BUYER = 1024
"""Documented bound on peak memory per simulated buyer (measured: ~350 bytes)."""

CODE = """
import json
from pathlib import Path
from simfunnel.scenario import load_scenario
from simfunnel.simulate import simulate

def hwm_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

def rss_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

s = load_scenario("scenarios/base.toml", {"market.buyers_per_year": %r, "simulation.horizon_days": 730})
Path("/proc/self/clear_refs").write_text("5")  # reset the peak (high-water mark) to the current RSS
before = rss_kb()
r = simulate(s, seed=1)
print(json.dumps({"buyers": r.summary["buyers"], "before_kb": before, "peak_kb": hwm_kb()}))
"""


def _peak(buyers_per_year: float) -> dict:
    out = subprocess.run([sys.executable, "-c", CODE % buyers_per_year], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_memory_grows_linearly_and_a_million_buyers_fit():
    """Peak RSS at ~100k, ~300k and ~1M buyers lies on a line whose slope is under the documented bound."""
    rows = [_peak(b) for b in (50_000, 150_000, 500_000)]
    buyers = np.array([r["buyers"] for r in rows])
    growth = np.array([(r["peak_kb"] - r["before_kb"]) * 1024 for r in rows], dtype=float)
    assert buyers[-1] > 990_000  # a million-buyer run completed (conservation checked inside simulate)
    slope, intercept = np.polyfit(buyers, growth, 1)
    assert slope < MAX_BYTES_PER_BUYER
    # linear: the middle size is predicted by the line through the outer two within 25 % of its growth
    predicted = growth[0] + (growth[2] - growth[0]) * (buyers[1] - buyers[0]) / (buyers[2] - buyers[0])
    assert abs(growth[1] - predicted) <= 0.25 * growth[1] + 5e6
