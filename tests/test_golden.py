"""Golden results: a fixed-seed run of every preset must reproduce the stored summary bit for bit, and the
whole record of the run (every buyer's row, every rep activity, purchase and repurchase decision) must hash to the
stored fingerprint - a speed-up that moved one tie or one draw shows here even when the KPIs happen to agree.

Pure refactors and speed-ups must leave these numbers untouched. A change that is meant to alter results
(a model fix, a recalibrated preset) regenerates the file in its own commit, saying why:
``python tests/test_golden.py --update``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from simfunnel import load_scenario, simulate

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden_summaries.json"
FINGERPRINTS = Path(__file__).resolve().parent / "data" / "golden_fingerprints.json"
RECORDS = ("act_rep", "act_start", "act_end", "act_hours", "act_kind", "act_buyer", "pur_day", "pur_amount",
           "pur_repeat", "pur_channel", "cust_start", "cust_end", "cust_decided", "decision_customer", "decision_day")  # fmt: skip
SEED = 1
VOLATILE = {"wall_seconds", "sim_events"}  # sim_events: the engine's work, not a result (fewer events = faster)
PRESETS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))


def golden_summary(preset: str) -> dict[str, float]:
    """The summary of one fixed-seed run of a preset, without the fields that vary between machines."""
    result = simulate(load_scenario(ROOT / "scenarios" / f"{preset}.toml"), seed=SEED)
    return {k: float(v) for k, v in result.summary.items() if k not in VOLATILE}


def fingerprint(preset: str) -> str:
    """SHA-256 of a fixed-seed run's whole ledger: the buyer table's columns and the activity, purchase, customer
    and decision records (as float64 bytes, in order)."""
    ledger = simulate(load_scenario(ROOT / "scenarios" / f"{preset}.toml"), seed=SEED).ledger
    h = hashlib.sha256()
    for name, col in sorted(ledger.buyers.trimmed().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(col).tobytes())
    for name in RECORDS:
        h.update(name.encode())
        h.update(np.asarray(getattr(ledger, name), dtype=float).tobytes())
    return h.hexdigest()


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_reproduces_golden_summary(preset: str) -> None:
    """Every stored KPI of seed 1 equals the stored value exactly (NaN equals NaN); new KPIs may be added."""
    stored = json.loads(GOLDEN.read_text())
    assert preset in stored, f"no golden summary for {preset}: run python tests/test_golden.py --update"
    now = golden_summary(preset)
    expected = {k: float(v) for k, v in stored[preset].items() if k not in VOLATILE}
    # A KPI added later is not a change; a stored KPI that disappears or moves is.
    changed = {k: (v, now.get(k)) for k, v in expected.items() if k not in now or not _same(v, now[k])}
    assert not changed, f"{preset}: changed KPIs (stored, now): {changed}"


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_reproduces_golden_fingerprint(preset: str) -> None:
    """The whole record of seed 1's run is bit for bit the stored one (`fingerprint`)."""
    stored = json.loads(FINGERPRINTS.read_text())
    assert preset in stored, f"no golden fingerprint for {preset}: run python tests/test_golden.py --update"
    assert fingerprint(preset) == stored[preset], f"{preset}: the run's record changed (buyers, activities, ...)"


if __name__ == "__main__":
    if "--update" not in sys.argv:
        sys.exit("usage: python tests/test_golden.py --update")
    data = {p: golden_summary(p) for p in PRESETS}
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True, allow_nan=True) + "\n")
    FINGERPRINTS.write_text(json.dumps({p: fingerprint(p) for p in PRESETS}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN} and {FINGERPRINTS} ({len(data)} presets)")
