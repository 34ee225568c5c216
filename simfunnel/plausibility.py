"""Plausible ranges of scenario fields: values a person may have mistyped are warned about, never refused.

The schema (`simfunnel.scenario`) refuses what is impossible (a negative rep count); this table flags what is
possible but unlikely to be meant: a purchase process of 9 days (months typed as days), ``horizon_days = 3``, a
reach of 35 typed for 0.35. Each range carries its reason. `load_scenario` calls `check_plausibility`, which
emits one `PlausibilityWarning` per value outside its range; the CLI prints them as ``warning: ...`` lines.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["PLAUSIBLE_RANGES", "PlausibilityWarning", "PlausibleRange", "Implausible", "check_plausibility",
           "implausible_values"]  # fmt: skip


class PlausibilityWarning(UserWarning):
    """A scenario value that is valid but outside its field's plausible range (probably a typo or a unit slip)."""


@dataclass(frozen=True)
class PlausibleRange:
    """Inclusive range ``low..high`` of a field's value (a distribution's mean), its unit and why."""

    low: float
    high: float
    unit: str
    reason: str

    def text(self) -> str:
        """The range as shown to a person: '14 to 3,650 days'."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.low:,g} to {self.high:,g}{unit}"


def _r(low: float, high: float, unit: str, reason: str) -> PlausibleRange:
    return PlausibleRange(low, high, unit, reason)


PLAUSIBLE_RANGES: Mapping[str, PlausibleRange] = MappingProxyType({
    "simulation.horizon_days": _r(
        30, 3650, "days", "shorter than a month barely sees a purchase process end, longer than ten years outlives "
        "any plan (years or months typed as days?)"),
    "simulation.warmup_days": _r(
        0, 1825, "days", "a warm-up of weeks to a few years settles the pipeline (simfunnel warmup estimates one); "
        "more than five years only costs run time (weeks typed as days?)"),
    "market.process_days": _r(
        14, 3650, "days", "buying processes take weeks to years, a few days is an impulse purchase the funnel "
        "does not describe (months typed as days?)"),
    "market.competitor_commit_days": _r(
        0.5, 1e7, "days", "a buyer who commits to a competitor within hours of being ready leaves no time to sell"),
    "marketing.channels.*.reach.max_effect": _r(
        0, 1, "", "a share of the in-market buyers reached (0.35, not 35)"),
    "marketing.nurture.lift.max_effect": _r(0, 1, "", "a lift of readiness and preference (0.25, not 25)"),
    "marketing.rebalance_days": _r(7, 365, "days", "the channel mix is re-weighted weekly to yearly"),
    "marketing.engage_delay_days": _r(0, 365, "days", "buyers engage within a year of their need (if at all)"),
    "sales.calendar.hours_per_day": _r(
        1, 12, "hours", "selling hours of a working day (to sell around the clock, disable the calendar)"),
    "sales.meeting_hours": _r(0, 8, "hours", "a meeting lasts at most a working day (minutes typed as hours?)"),
    "sales.first_contact_hours": _r(0, 8, "hours", "a first call lasts minutes to an hour (minutes typed as hours?)"),
    "sales.qualification_hours": _r(0, 24, "hours", "qualifying a lead takes hours, not weeks of rep time"),
    "sales.proposal_hours": _r(0, 80, "hours", "a proposal takes at most two working weeks of a rep's time"),
    "sales.checkin_delay_days": _r(1, 365, "days", "a post-sale check-in happens within a year of the sale"),
    "sales.meeting_gap_days": _r(0, 90, "days", "a buyer rarely thinks longer than a quarter between meetings"),
    "sales.training.max_effect": _r(
        0, 3, "logits", "3 logits turns a 50 % win chance into 95 %: more is no training effect"),
    "retention.repurchase_days": _r(
        7, 3650, "days", "the next need comes weeks to years after a purchase (months typed as days?)"),
    "retention.repeat_value_fraction": _r(
        0.05, 3, "", "a repeat purchase worth more than three first deals is unusual (a percent typed?)"),
    "retention.marketing.max_effect": _r(0, 1, "", "a lift of the repeat probability (0.2, not 20)"),
    "organisation.batch_interval_days": _r(1, 31, "days", "a lead list goes to sales daily to monthly"),
    "organisation.response_sla_hours": _r(
        0.05, 72, "working hours", "a response SLA is minutes to days (inf: no SLA)"),
})  # fmt: skip
"""Dotted field path (``*`` for any channel) -> plausible range of its value; for a distribution, of its mean."""


@dataclass(frozen=True)
class Implausible:
    """One value outside its plausible range."""

    field: str
    value: float
    range: PlausibleRange
    of_mean: bool = False

    def message(self, source: str) -> str:
        """'FILE: field: mean 9 days is outside the plausible range 14 to 3,650 days: reason'."""
        what = "mean" if self.of_mean else "value"
        unit = f" {self.range.unit}" if self.range.unit else ""
        return (
            f"{source}: {self.field}: {what} {self.value:,g}{unit} is outside the plausible range "
            f"{self.range.text()}: {self.range.reason}"
        )


def _lookup(data: Any, parts: list[str], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every field matching ``parts`` (``*`` matches any key of a table)."""
    if not parts:
        yield prefix, data
        return
    head, rest = parts[0], parts[1:]
    if not isinstance(data, Mapping):
        return
    keys = list(data) if head == "*" else [head] if head in data else []
    for key in keys:
        yield from _lookup(data[key], rest, f"{prefix}.{key}" if prefix else str(key))


def _number(value: Any) -> tuple[float | None, bool]:
    """(a plain number or the mean of a distribution table, whether it is a mean); None if neither."""
    of_mean = isinstance(value, Mapping) and "kind" in value
    if of_mean:
        kind = value.get("kind")
        if kind == "fixed":
            value = value.get("value")
        elif kind == "uniform":
            low, high = value.get("low"), value.get("high")
            value = (low + high) / 2 if all(isinstance(x, int | float) for x in (low, high)) else None
        else:
            value = value.get("mean")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, of_mean
    return float(value), of_mean


def implausible_values(data: Mapping[str, Any]) -> list[Implausible]:
    """Every finite value of a scenario (as plain data, `Scenario.to_dict()`) outside its plausible range."""
    found = []
    for pattern, rng in PLAUSIBLE_RANGES.items():
        for path, raw in _lookup(data, pattern.split(".")):
            v, of_mean = _number(raw)
            if v is not None and math.isfinite(v) and not rng.low <= v <= rng.high:
                found.append(Implausible(path, v, rng, of_mean))
    return found


def check_plausibility(data: Mapping[str, Any], source: str, stacklevel: int = 2) -> list[Implausible]:
    """Warn (`PlausibilityWarning`) about each implausible value of a scenario read from ``source``."""
    found = implausible_values(data)
    for item in found:
        warnings.warn(item.message(source), PlausibilityWarning, stacklevel=stacklevel + 1)
    return found
