"""A run's buyer journeys as a process-mining event log: one case per buyer marketing reached (engaged) in the
measured window (after any warm-up, as the `engaged` KPI counts them), one event per stage reached and per rep
activity, as CSV, XES or OCEL 2.0 (XES and OCEL through pm4py, imported
only when writing them: ``pip install 'simfunnel[calibrate]'``).

Columns follow the XES standard names pm4py expects: ``case:concept:name`` (buyer id), ``concept:name``
(activity), ``time:timestamp`` (UTC, day 0 = the start date), ``org:resource`` (a rep 'rep-01', 'marketing' for
marketing's steps, the deal owner for the SQL and the deal's end, 'buyer' for the end of a buyer who never
became an SQL); plus ``day`` (model days) and case attributes
``case:channel``, ``case:lead_kind``, ``case:outcome``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simfunnel.data.export import DEFAULT_START, buyer_owners, owner_name

if TYPE_CHECKING:
    from simfunnel.simulate import RunResult

CASE, ACTIVITY, TIMESTAMP, RESOURCE = "case:concept:name", "concept:name", "time:timestamp", "org:resource"
STAGES = (("engaged_day", "engaged"), ("known_day", "known"), ("lead_day", "lead"), ("handoff_day", "handed off"),
          ("sql_day", "sql"))  # fmt: skip
"""Buyer stage columns and their activity names, in journey order (rep activities are 'contact', 'sales step')."""
FORMATS = (".csv", ".xes", ".jsonocel")


def event_log(result: RunResult, start_date: str = DEFAULT_START) -> pd.DataFrame:
    """The event log of a run (module docstring): one row per event, ordered by case, then time."""
    b = result.buyers  # days count from the end of the warm-up: journeys begun in the warm-up are not cases
    b = b[b["engaged_day"].notna() & (b["engaged_day"] >= 0)]
    case_ids = pd.Series([f"B{i:06d}" for i in b["buyer_id"]], index=b.index)
    acts = result.activities
    acts = acts[acts["buyer"].isin(b["buyer_id"])]
    lead_owner, deal_owner = buyer_owners(acts)
    rep = b["buyer_id"].map(deal_owner).fillna(b["buyer_id"].map(lead_owner))
    owner = pd.Series([owner_name(r) if pd.notna(r) else "sales" for r in rep], index=b.index)
    parts = []
    for order, (col, name) in enumerate(STAGES):
        hit = b[col].notna()
        resource = owner[hit] if col == "sql_day" else "marketing"
        parts.append(pd.DataFrame({"buyer": b.loc[hit, "buyer_id"], ACTIVITY: name, "day": b.loc[hit, col],
                                   RESOURCE: resource, "_order": order + (2 if col == "sql_day" else 0)}))  # fmt: skip
    parts.append(pd.DataFrame({"buyer": acts["buyer"], ACTIVITY: acts["kind"].str.replace("_", " "),
                               "day": acts["start"], RESOURCE: [owner_name(r) for r in acts["rep"]],
                               "_order": len(STAGES) - 1}))  # fmt: skip
    ended = b["terminal_state"] != "open"
    end_day = b["close_day"].where(b["terminal_state"] == "won", b["terminal_day"])
    ended &= end_day.notna() & (end_day <= result.scenario.simulation.horizon_days)
    term = b.loc[ended, "terminal_state"]
    parts.append(pd.DataFrame({"buyer": b.loc[ended, "buyer_id"],
                               ACTIVITY: np.where(term == "won", "won", "lost: " + term.str.replace("_", " ")),
                               "day": end_day[ended], RESOURCE: owner[ended].where(b.loc[ended, "sql_day"].notna(), "buyer"),
                               "_order": len(STAGES) + 2}))  # fmt: skip
    log = pd.concat(parts, ignore_index=True).sort_values(["buyer", "day", "_order"], kind="stable")
    info = b.set_index("buyer_id")
    log[CASE] = log["buyer"].map(case_ids.set_axis(b["buyer_id"]))
    log[TIMESTAMP] = pd.Timestamp(start_date, tz="UTC") + pd.to_timedelta(np.round(log["day"] * 86400.0), unit="s")
    log["case:channel"] = log["buyer"].map(info["source_channel"])
    log["case:lead_kind"] = log["buyer"].map(info["lead_kind"])
    log["case:outcome"] = log["buyer"].map(info["terminal_state"])
    cols = [CASE, ACTIVITY, TIMESTAMP, RESOURCE, "day", "case:channel", "case:lead_kind", "case:outcome"]
    return log[cols].reset_index(drop=True)


def _pm4py():
    try:
        import pm4py
    except ImportError:
        raise ImportError("writing XES or OCEL needs pm4py: pip install 'simfunnel[calibrate]'") from None
    return pm4py


def write_event_log(log: pd.DataFrame, path: str | Path) -> Path:
    """Write an `event_log` frame by the file's suffix: .csv (ISO timestamps), .xes (XES) or .jsonocel (OCEL
    2.0 JSON, objects: the buyer and the rep of each event)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"event log format {suffix or path.name!r}: expected one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        log.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
        return path
    pm4py = _pm4py()
    if suffix == ".xes":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "install r4pm to export faster"
            pm4py.write_xes(log, str(path), case_id_key=CASE, show_progress_bar=False)  # no bar of its own
        return path
    reps = log[RESOURCE].where(log[RESOURCE].str.startswith("rep-"))
    frame = log.assign(buyer=log[CASE], rep=reps.fillna(""))
    ocel = pm4py.convert_log_to_ocel(frame, ACTIVITY, TIMESTAMP, object_types=["buyer", "rep"])
    pm4py.write_ocel2_json(ocel, str(path))
    return path
