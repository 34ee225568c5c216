"""`read_crm(leads, deals, activities, mapping, export_date)`: a firm's CRM export as canonical tables with a
data-quality summary, the base for calibrating a scenario to the firm's own data.

A problem that can be handled in a stated way (duplicates, missing channels, close before open, orphan deals,
open deals, two-digit years, ...) is fixed and listed in ``CrmData.quality``; one that cannot (a file that is
not what the mapping says, an unreadable or undecidable date) raises `CrmDataError` naming file, line, column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simfunnel.data import checks
from simfunnel.data.columns import canonical
from simfunnel.data.files import read_table
from simfunnel.data.mapping import Mapping, load_mapping
from simfunnel.data.quality import QualityLog
from simfunnel.data.team import check_team, owner_spans, team_by_month

Source = str | Path | pd.DataFrame

LEAD_COLUMNS = ("lead_id", "created", "channel", "mql_date", "owner", "deal_id", "before_team", "line")
DEAL_COLUMNS = ("deal_id", "lead_id", "owner", "opened", "closed", "outcome", "stage", "value", "loss_reason",
                "censored", "lead_found", "line")  # fmt: skip
ACTIVITY_COLUMNS = ("owner", "start", "end", "duration_hours", "type", "lead_id", "deal_id", "line")


@dataclass
class CrmData:
    """A CRM export in canonical columns. ``leads``: LEAD_COLUMNS; ``deals``: DEAL_COLUMNS (outcome won/lost/
    open, censored = open at the export date); ``activities``: ACTIVITY_COLUMNS or None; ``quality``: the
    data-quality summary; ``team_by_month``: owners active per month; ``columns``: the header read for each
    canonical column, by table. ``line`` is each row's line in its file."""

    leads: pd.DataFrame
    deals: pd.DataFrame | None
    activities: pd.DataFrame | None
    quality: pd.DataFrame
    team_by_month: pd.DataFrame
    export_date: pd.Timestamp
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, float]:
        """Headline counts: leads, deals, won, lost, open, revenue (sum of won values)."""
        d = self.deals if self.deals is not None else pd.DataFrame({"outcome": [], "value": []})
        won = d["outcome"] == "won"
        return {
            "leads": float(len(self.leads)),
            "deals": float(len(d)),
            "won": float(won.sum()),
            "lost": float((d["outcome"] == "lost").sum()),
            "open": float((d["outcome"] == "open").sum()),
            "revenue": float(d.loc[won, "value"].sum()),
        }


def _ordered(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for col in columns:
        if col not in frame:
            frame[col] = pd.NA
    return frame[list(columns)].reset_index(drop=True)


def _load(source: Source, table: str, mapping: Mapping, log: QualityLog) -> tuple[pd.DataFrame, str, dict]:
    raw, name = read_table(source, table, log)
    frame = canonical(raw, table, name, mapping, log)
    return frame, name, dict(frame.attrs.get("columns", {}))


def _leads(source: Source, mapping: Mapping, log: QualityLog) -> tuple[pd.DataFrame, str, dict]:
    leads, name, used = _load(source, "leads", mapping, log)
    leads = checks.drop_undated(leads, "created", "lead_id", name, log)
    leads = checks.deduplicate(leads, "lead_id", name, log)
    checks.clean_channels(leads, name, mapping, log)
    return leads, name, used


def _deals(source: Source, mapping: Mapping, log: QualityLog) -> tuple[pd.DataFrame, str, dict]:
    deals, name, used = _load(source, "deals", mapping, log)
    deals = checks.drop_undated(deals, "opened", "deal_id", name, log)
    deals = checks.deduplicate(deals, "deal_id", name, log)
    checks.derive_outcome(deals, name, mapping, log)
    checks.check_closing(deals, name, log)
    checks.check_values(deals, name, log)
    return deals, name, used


def _activities(source: Source, mapping: Mapping, log: QualityLog) -> tuple[pd.DataFrame, str, dict]:
    acts, name, used = _load(source, "activities", mapping, log)
    acts = checks.drop_undated(acts, "start", "owner", name, log)
    noowner = acts["owner"].isna()
    log.add("activity without owner", name, int(noowner.sum()), "dropped", "")
    acts = acts.loc[~noowner].reset_index(drop=True)
    hours = pd.Series(np.nan, index=acts.index)
    if "duration_hours" in acts:
        hours = acts["duration_hours"].astype(float)
    if "duration_minutes" in acts:
        hours = hours.fillna(acts["duration_minutes"].astype(float) / 60.0)
    if "end" in acts:
        hours = hours.fillna((acts["end"] - acts["start"]).dt.total_seconds() / 3600.0)
    acts["duration_hours"] = hours
    return acts, name, used


def _export_date(given: object, mapping: Mapping, frames: list[tuple[pd.DataFrame | None, list[str]]],
                 log: QualityLog, file: str) -> pd.Timestamp:  # fmt: skip
    if given is not None:
        return pd.Timestamp(given)
    if mapping.export_date is not None:
        return mapping.export_date
    latest = max(
        (f[c].max() for f, cols in frames if f is not None for c in cols if c in f and f[c].notna().any()),
        default=pd.Timestamp.now().normalize(),
    )
    log.note("export date", file, f"not given: assumed the latest date in the files, {latest:%Y-%m-%d %H:%M}")
    return pd.Timestamp(latest)


def read_crm(leads: Source, deals: Source | None = None, activities: Source | None = None,
             mapping: str | Path | dict | Mapping | None = None, export_date: object = None) -> CrmData:  # fmt: skip
    """Read a CRM export (CSV, Parquet or Excel files, or DataFrames) into `CrmData`. `mapping`: a TOML mapping
    file or dict naming columns (without one, the usual headers of Salesforce, HubSpot, Pipedrive are
    recognised); `export_date`: when the export was taken (default: mapping, else the latest date found)."""
    m = load_mapping(mapping)
    log = QualityLog()
    lead_frame, lead_name, used = _leads(leads, m, log)
    files, columns = {"leads": lead_name}, {"leads": used}
    deal_frame = act_frame = None
    if deals is not None:
        deal_frame, files["deals"], columns["deals"] = _deals(deals, m, log)
        checks.link_leads(lead_frame, deal_frame, (lead_name, files["deals"]), log)
    if activities is not None:
        act_frame, files["activities"], columns["activities"] = _activities(activities, m, log)
    frames = [(lead_frame, ["created", "mql_date"]), (deal_frame, ["opened", "closed"]), (act_frame, ["start"])]
    when = _export_date(export_date, m, frames, log, lead_name)
    if deal_frame is not None:
        checks.censor(deal_frame, when, files["deals"], log)
        checks.check_future(deal_frame, ["opened", "closed"], when, files["deals"], log)
    checks.check_future(lead_frame, ["created", "mql_date"], when, lead_name, log)
    spans = owner_spans(lead_frame, deal_frame, act_frame, m.owner_separator)
    team = team_by_month(spans, lead_frame, deal_frame, when)
    check_team(spans, lead_frame, files, log)
    return CrmData(
        leads=_ordered(lead_frame, LEAD_COLUMNS),
        deals=_ordered(deal_frame, DEAL_COLUMNS) if deal_frame is not None else None,
        activities=_ordered(act_frame, ACTIVITY_COLUMNS) if act_frame is not None else None,
        quality=log.frame(),
        team_by_month=team,
        export_date=when,
        columns=columns,
        files=files,
    )
