"""Budget-share arithmetic: the acquisition share (all channels together), moving budget between one item
(nurture, retention, training) and the acquisition channels, and the split of a budget as a table.

Why one place: "more nurture" or "no retention" must take the money from (or give it to) the acquisition
channels in their current proportions, so that the channel mix - and nothing else - stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from simfunnel.formatting import format_value
from simfunnel.scenario import NON_CHANNEL_SHARES, Scenario

__all__ = ["BUDGET_PARTS", "acquisition_share", "budget_parts", "move_share", "share_table", "with_share"]

BUDGET_PARTS: tuple[str, ...] = ("acquisition", *NON_CHANNEL_SHARES)
"""The parts of a marketing budget: acquisition (every channel together), nurture, retention, training."""


def _channels(shares: Mapping[str, float]) -> list[str]:
    return [k for k in shares.keys() if k not in NON_CHANNEL_SHARES]  # noqa: SIM118 (a pandas Series iterates values)


def acquisition_share(shares: Mapping[str, float]) -> float:
    """The share of the budget spent on acquisition channels (every item that is not nurture, retention or
    training)."""
    return float(sum(shares[c] for c in _channels(shares)))


def budget_parts(shares: Mapping[str, float]) -> dict[str, float]:
    """The shares by part of the budget (`BUDGET_PARTS`): acquisition summed over the channels."""
    return {"acquisition": acquisition_share(shares)} | {p: float(shares.get(p, 0.0)) for p in NON_CHANNEL_SHARES}


def move_share(shares: Mapping[str, float], item: str, share: float) -> dict[str, float]:
    """``shares`` with ``item`` (nurture, retention or training) set to ``share``; the acquisition channels give
    (or take) the difference in proportion to their current shares, so the channel mix and the total stay.
    ValueError when the channels cannot give that much or ``item`` is not a non-channel item."""
    if item not in NON_CHANNEL_SHARES:
        raise ValueError(f"item must be one of {', '.join(NON_CHANNEL_SHARES)}, got {item!r}")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must lie in [0, 1], got {share!r}")
    out = {k: float(v) for k, v in shares.items()}
    channels = _channels(out)
    acq = acquisition_share(out)
    delta = share - out.get(item, 0.0)
    if delta > acq + 1e-12 or (acq <= 0 and delta != 0):
        raise ValueError(f"the acquisition channels hold {acq:.1%} of the budget, cannot give {delta:.1%} to {item}")
    out[item] = float(share)
    for c in channels:
        out[c] = max(0.0, out[c] - delta * out[c] / acq) if acq > 0 else out[c]
    return out


def with_share(scenario: Scenario, item: str, share: float) -> Scenario:
    """``scenario`` with ``item``'s budget share set to ``share``, the difference taken from (or given to) the
    acquisition channels in proportion (`move_share`)."""
    return scenario.with_overrides({"marketing.shares": move_share(scenario.marketing.shares, item, share)})


def share_table(shares: Mapping[str, float], budget: float | None = None) -> pd.DataFrame:
    """A budget split for reading: each item's share (and amount a year when ``budget`` is given), then the
    acquisition total, formatted."""
    items: dict[str, Any] = dict(shares)
    rows = [*items, "acquisition (all channels)"]
    values = [*(float(v) for v in items.values()), acquisition_share(shares)]
    table = pd.DataFrame({"share": [format_value(v, "share") for v in values]}, index=pd.Index(rows, name="item"))
    if budget is not None:
        table["per year"] = [format_value(budget * v, "money") for v in values]
    return table
