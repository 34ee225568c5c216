"""Plausible ranges (issue 10.7): valid but unlikely values are a `PlausibilityWarning`, never a refusal."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from simfunnel.plausibility import PLAUSIBLE_RANGES, PlausibilityWarning, implausible_values
from simfunnel.presets import list_presets
from simfunnel.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.toml"
SHIPPED = [*sorted((ROOT / "scenarios").glob("*.toml")), *(f"preset:{n}" for n in list_presets())]


@pytest.mark.parametrize("spec", SHIPPED, ids=str)
def test_shipped_scenarios_are_plausible(spec):
    """No preset (mmc_validation included) raises a plausibility warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlausibilityWarning)
        load_scenario(spec)


@pytest.mark.parametrize(
    "field, value, shown",
    [
        ("market.process_days.mean", 9, "mean 9 days"),  # months typed as days
        ("simulation.horizon_days", 3, "value 3 days"),  # years typed as days
        ("marketing.channels.search.reach.max_effect", 35, "value 35 "),  # a share typed 35 for 0.35
        ("retention.marketing.max_effect", 20, "value 20 "),
        ("organisation.response_sla_hours", 500, "value 500 working hours"),
    ],
)
def test_implausible_value_warns_with_file_field_value_and_range(field, value, shown):
    with pytest.warns(PlausibilityWarning) as record:
        scenario = load_scenario(BASE, {field: value})
    assert scenario is not None  # a warning, never a refusal
    messages = [str(w.message) for w in record if issubclass(w.category, PlausibilityWarning)]
    assert len(messages) == 1, messages
    msg = messages[0]
    dotted = field.removesuffix(".mean")
    assert msg.startswith(f"{BASE}: {dotted}: "), msg
    assert shown in msg and "plausible range" in msg
    assert (
        PLAUSIBLE_RANGES[dotted if "channels" not in dotted else "marketing.channels.*.reach.max_effect"].reason in msg
    )


def test_inf_sla_is_plausible_and_overrides_in_experiments_do_not_warn():
    base = load_scenario(BASE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlausibilityWarning)
        load_scenario(BASE, {"organisation.response_sla_hours": float("inf")})
        base.with_overrides({"simulation.horizon_days": 3})  # sweeps vary fields: only files are checked


def test_every_range_names_a_field_and_has_a_reason():
    data = load_scenario(BASE).to_dict()
    for pattern, rng in PLAUSIBLE_RANGES.items():
        assert rng.low <= rng.high and rng.reason, pattern
        node = data
        for part in pattern.split("."):
            node = next(iter(node.values())) if part == "*" else node[part]
    assert implausible_values(data) == []
