"""Where a profit gap comes from: `profit_bridge` splits the profit difference of two runs with the same buyers
(common random numbers) by each buyer's fate in the first run, plus repeat purchases and costs; and
`with_organisation` derives the siloed and the aligned variant of a client's scenario.

Why by fate: "aligned earns more" is only actionable once it says which buyers it wins - the leads a siloed firm
dropped, called too early or too late, or lost to a competitor. With common random numbers both runs see the same
in-market buyers (same arrival and deadline), so each buyer of the first run is found again in the second.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.ledger import TERMINAL_STATES
from simfunnel.scenario import Scenario
from simfunnel.vocabulary import KPIS

__all__ = [
    "BRIDGE_COLUMNS",
    "CARRIED_LABEL",
    "FATE_LABELS",
    "carried_over",
    "matched_buyers",
    "profit_bridge",
    "with_organisation",
]

FATE_LABELS: dict[str, str] = {
    "won": KPIS["won"].label,
    "never_reached": KPIS["lost_never_reached"].label,
    "dropped": KPIS["lost_dropped"].label,
    "too_early": KPIS["lost_too_early"].label,
    "too_late": KPIS["lost_too_late"].label,
    "lost_to_competitor": KPIS["lost_to_competitor"].label,
    "open": KPIS["open"].label,
}
"""Display label of each terminal state of a buyer (from the vocabulary's KPI labels)."""

BRIDGE_COLUMNS = ("buyers", "won_base", "won_other", "profit")
"""Columns of `profit_bridge`: buyers with that fate in the first run, how many of them each run won, and the
row's contribution to the profit difference."""

_KEY = ("arrival_day", "deadline_day")
CARRIED_LABEL = "In the market from the warm-up"
"""Row of `profit_bridge` for buyers who arrived during the warm-up and were still in the market after it."""


def with_organisation(base: Scenario, preset: Scenario) -> Scenario:
    """``base`` with every organisation field taken from ``preset``: the client's market, budget and team run
    under another organisation (e.g. the shipped siloed or aligned one)."""
    org = preset.organisation.model_dump()
    return base.with_overrides({f"organisation.{name}": value for name, value in org.items()})


def carried_over(buyers: pd.DataFrame) -> pd.Series:
    """Buyers who arrived during the warm-up and were still in the market when it ended (negative arrival day)."""
    return buyers["arrival_day"] < 0


def matched_buyers(base: Any, other: Any) -> pd.DataFrame:
    """The in-market buyers of two runs side by side, matched by arrival and deadline (identical under common
    random numbers): ``fate_base``, ``fate_other``, ``revenue_base``, ``revenue_other`` (first-deal revenue).
    Referral buyers (created by customers, so different in each run) and buyers carried over from a warm-up
    (which of them are still in the market when it ends depends on the organisation) are left out."""
    frames = []
    for run, tag in ((base, "base"), (other, "other")):
        b = run.buyers
        b = b[(b["source_channel"] != "referral") & ~carried_over(b)]
        frames.append(
            b[[*_KEY, "terminal_state", "revenue"]].rename(
                columns={"terminal_state": f"fate_{tag}", "revenue": f"revenue_{tag}"}
            )
        )
    merged = frames[0].merge(frames[1], on=list(_KEY), how="outer", validate="one_to_one")
    if merged[["fate_base", "fate_other"]].isna().any().any():
        raise ValueError("the two runs do not have the same in-market buyers: run them with the same seed")
    return merged.fillna({"revenue_base": 0.0, "revenue_other": 0.0})


def profit_bridge(base: Any, other: Any) -> pd.DataFrame:
    """The profit difference ``other - base`` of two runs with the same seed, row by row: gross margin on the
    first-deal revenue of the buyers by their fate in ``base`` (won, dropped, too early, ...), of the referral
    buyers, of the buyers still in the market from a warm-up (`CARRIED_LABEL`; only with a warm-up), of repeat
    purchases, then the marketing spend and the rep cost; the last row is the total, equal to
    the difference of the runs' ``profit`` (checked). Columns: `BRIDGE_COLUMNS`.

    ``base``, ``other``: `RunResult` of two scenarios that differ in the organisation (or the levers), not in
    the market, run with the same seed (e.g. ``simulate(s, exp.seed_for(0))``)."""
    margin = float(base.scenario.money.gross_margin)
    if not math.isclose(margin, float(other.scenario.money.gross_margin)):
        raise ValueError("the two runs have different gross margins; the bridge needs one")
    m = matched_buyers(base, other)
    rows: dict[str, dict[str, float]] = {}
    for fate in TERMINAL_STATES:
        sub = m[m["fate_base"] == fate]
        rows[FATE_LABELS[fate]] = {
            "buyers": float(len(sub)),
            "won_base": float((sub["fate_base"] == "won").sum()),
            "won_other": float((sub["fate_other"] == "won").sum()),
            "profit": margin * float(sub["revenue_other"].sum() - sub["revenue_base"].sum()),
        }
    s, o = base.summary, other.summary
    referral = [r.buyers["source_channel"] == "referral" for r in (base, other)]
    groups = {"Referral buyers": referral}
    carried = [carried_over(r.buyers) & ~ref for r, ref in zip((base, other), referral, strict=True)]
    if any(c.any() for c in carried):
        groups[CARRIED_LABEL] = carried
    for label, (in_base, in_other) in groups.items():
        b, x = base.buyers[in_base], other.buyers[in_other]
        rows[label] = {
            "buyers": float(len(b)),
            "won_base": float((b["terminal_state"] == "won").sum()),
            "won_other": float((x["terminal_state"] == "won").sum()),
            "profit": margin * float(x["revenue"].sum() - b["revenue"].sum()),
        }
    nan = {"buyers": math.nan, "won_base": math.nan, "won_other": math.nan}
    rows[KPIS["repeat_revenue"].label] = nan | {"profit": margin * (o["repeat_revenue"] - s["repeat_revenue"])}
    rows[KPIS["marketing_spend"].label] = nan | {"profit": -(o["marketing_spend"] - s["marketing_spend"])}
    rows[KPIS["rep_cost"].label] = nan | {"profit": -(o["rep_cost"] - s["rep_cost"])}
    table = pd.DataFrame.from_dict(rows, orient="index")[list(BRIDGE_COLUMNS)]
    total = float(table["profit"].sum())
    gap = float(o["profit"] - s["profit"])
    if not math.isclose(total, gap, rel_tol=1e-6, abs_tol=1e-6 * max(1.0, abs(s["profit"]))):
        raise ValueError(f"the bridge does not add up: {total:,.2f} against a profit difference of {gap:,.2f}")
    counted = table[["buyers", "won_base", "won_other"]].iloc[: len(TERMINAL_STATES) + len(groups)].sum()
    table.loc["Profit difference"] = [*counted.to_numpy(dtype=float), gap]
    table.index.name = "buyer's fate in the first run"
    return table.astype({c: np.float64 for c in BRIDGE_COLUMNS})
