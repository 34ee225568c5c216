"""What a simulated firm's CRM would hold, written as a CRM export: leads, deals and activities tables (CSV or
Parquet), optionally with the mess of real exports (`MESSY_KEYS`) so that `read_crm` can be tested against a
known truth.

A run with a warm-up is exported as a CRM adopted when the measured window starts: the end of the warm-up is
``start_date``, nothing from the warm-up is written (a deal whose lead came in during the warm-up has no lead row,
as in a mid-stream export), and the export day counts from there.

Mapping of the model to CRM rows (day 0 = ``start_date``; only what happened before the export day is written):
a lead per buyer who became a lead (created = lead day, channel = source channel, owner = rep of the first
contact); a deal per buyer who became an SQL (opened = SQL day, closed = close or terminal day, outcome won/lost/
open at the export day, value, loss reason = terminal state); an activity per rep activity. Reps are named by
their index, ``rep-01``, ``rep-02``, ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simfunnel.data.fields import table_fields

if TYPE_CHECKING:
    from simfunnel.simulate import RunResult

DEFAULT_START = "2025-01-01"
MESSY_KEYS = {
    "missing-channel": "share of leads whose channel is blank, 'unknown' or 'n/a'",
    "duplicate-ids": "share of leads and of deals written twice (identical rows)",
    "close-before-open": "share of closed deals whose close date is before the open date",
    "missing-lead": "share of deals without their lead id",
    "short-years": "share of lead and deal rows with two-digit years (dayfirst/monthfirst only)",
}
"""The kinds of mess `export_crm` can add, with what their number means."""
DATE_FORMATS = {"iso": "%Y-%m-%d %H:%M", "dayfirst": "%d/%m/%Y %H:%M", "monthfirst": "%m/%d/%Y %H:%M"}
HEADER_STYLES = ("canonical", "salesforce", "hubspot", "pipedrive")
LOST_STAGE, WON_STAGE, OPEN_STAGE = "Closed Lost", "Closed Won", "Negotiation"
TABLE_DATES = {"leads": ("created", "mql_date"), "deals": ("opened", "closed"), "activities": ("start", "end")}


def owner_name(rep: int) -> str:
    """The CRM owner of rep index `rep` (0-based): 'rep-01', ..."""
    return f"rep-{int(rep) + 1:02d}"


def parse_messy(text: str | dict | None) -> dict[str, float]:
    """'missing-channel=0.05,duplicate-ids=0.01' (or a dict) -> {key: share}; a key alone means 1."""
    if not text:
        return {}
    pairs = text.items() if isinstance(text, dict) else (p.partition("=")[::2] for p in text.split(",") if p.strip())
    out: dict[str, float] = {}
    for key, value in pairs:
        key = str(key).strip()
        if key not in MESSY_KEYS:
            raise ValueError(f"unknown mess {key!r}; expected one of {', '.join(MESSY_KEYS)}")
        try:
            share = float(value) if str(value).strip() else 1.0
        except ValueError:
            raise ValueError(f"--messy {key}: expected a share between 0 and 1, got {value!r}") from None
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"--messy {key}: expected a share between 0 and 1, got {share}")
        out[key] = share
    return out


def _stamps(days: pd.Series | np.ndarray, start: pd.Timestamp) -> pd.Series:
    """Model days -> timestamps to the minute (floored, so nothing moves past the export day)."""
    minutes = np.floor(np.asarray(days, dtype=float) * 1440.0)
    known = np.isfinite(minutes)  # converted alone: pandas' unit cast warns of an overflow on NaN in some arrays
    out = pd.Series(pd.NaT, index=range(len(minutes)), dtype="datetime64[us]")
    out[known] = (start + pd.to_timedelta(minutes[known].astype(np.int64), unit="min")).astype("datetime64[us]")
    return out


def buyer_owners(acts: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per buyer: the lead owner (rep of the first contact) and the deal owner (most sales-step hours)."""
    own = acts[acts["buyer"] >= 0]
    first = own[own["kind"] == "contact"].sort_values("start", kind="stable").drop_duplicates("buyer")
    lead_owner = first.set_index("buyer")["rep"]
    steps = own[own["kind"] == "sales_step"].groupby(["buyer", "rep"])["hours"].sum().reset_index()
    deal_owner = steps.sort_values(["buyer", "hours"], ascending=[True, False]).drop_duplicates("buyer")
    return lead_owner, deal_owner.set_index("buyer")["rep"]


def crm_tables(result: RunResult, start_date: str = DEFAULT_START, export_day: float | None = None) -> dict:
    """The clean leads, deals and activities tables (canonical columns, timestamps) of a run at `export_day`, in
    days after the warm-up (default: the end of the horizon); records of the warm-up are left out."""
    b = result.buyers
    acts = result.activities
    # the run's tables count days from the end of the warm-up (the warm-up's records have negative days)
    H = float(result.scenario.simulation.horizon_days if export_day is None else export_day)
    start = pd.Timestamp(start_date)
    lead_owner, deal_owner = buyer_owners(acts[(acts["start"] >= 0) & (acts["start"] < H)])
    lb = b[(b["lead_day"] >= 0) & (b["lead_day"] < H)]
    owner = lb["buyer_id"].map(lead_owner).where(lb["first_contact_day"] < H)
    leads = pd.DataFrame({
        "lead_id": [f"L{i:06d}" for i in lb["buyer_id"]],
        "created": _stamps(lb["lead_day"], start),
        "channel": lb["source_channel"].replace({"none": ""}).to_numpy(),
        "mql_date": _stamps(lb["lead_day"].where(lb["lead_kind"] == "mql"), start),
        "owner": [owner_name(r) if not math.isnan(r) else "" for r in owner.astype(float)],
        "lead_type": lb["lead_kind"].to_numpy(),
    })  # fmt: skip
    db = b[(b["sql_day"] >= 0) & (b["sql_day"] < H)]
    won = (db["terminal_state"] == "won") & (db["close_day"] < H)
    lost = ~db["terminal_state"].isin(["won", "open"]) & (db["terminal_day"] < H)
    closed_day = db["close_day"].where(won, db["terminal_day"].where(lost))
    rep = db["buyer_id"].map(deal_owner).fillna(db["buyer_id"].map(lead_owner))
    deals = pd.DataFrame({
        "deal_id": [f"D{i:06d}" for i in db["buyer_id"]],
        "lead_id": [f"L{i:06d}" for i in db["buyer_id"]],
        "owner": [owner_name(r) if not math.isnan(r) else "" for r in rep.astype(float)],
        "opened": _stamps(db["sql_day"], start),
        "closed": _stamps(closed_day, start),
        "outcome": np.where(won, "won", np.where(lost, "lost", "open")),
        "stage": np.where(won, WON_STAGE, np.where(lost, LOST_STAGE, OPEN_STAGE)),
        "value": db["value"].round(2).to_numpy(),
        "loss_reason": db["terminal_state"].where(lost, "").to_numpy(),
    })  # fmt: skip
    a = acts[(acts["start"] >= 0) & (acts["start"] < H)]
    activities = pd.DataFrame({
        "owner": [owner_name(r) for r in a["rep"]],
        "start": _stamps(a["start"], start),
        "end": _stamps(a["end"], start),
        "duration_hours": a["hours"].round(4).to_numpy(),
        "type": a["kind"].to_numpy(),
        "lead_id": [f"L{i:06d}" if i >= 0 else "" for i in a["buyer"]],
    })  # fmt: skip
    return {"leads": leads, "deals": deals, "activities": activities, "export_date": start + pd.Timedelta(days=H)}


@dataclass
class CrmExport:
    """What `export_crm` wrote: the files by table, the mapping file, the export date, and the mess it put in
    as {(quality check, file name): rows} - what `read_crm` should report."""

    files: dict[str, Path]
    mapping: Path
    export_date: pd.Timestamp
    injected: dict[tuple[str, str], int] = field(default_factory=dict)


def _pick(rng: np.random.Generator, mask: np.ndarray, share: float) -> np.ndarray:
    """A random subset (each eligible row with probability `share`) of the rows where `mask` holds."""
    return mask & (rng.random(len(mask)) < share)


def add_mess(tables: dict, mess: dict[str, float], rng: np.random.Generator) -> dict[tuple[str, str], int]:
    """Put the mess of `mess` into `tables` (in place); returns {(quality check, table): rows} read_crm should
    report, including the mess the simulation makes by itself (leads without a channel, open deals)."""
    leads, deals = tables["leads"], tables["deals"]
    out: dict[tuple[str, str], int] = {}
    if share := mess.get("missing-channel", 0.0):
        hit = _pick(rng, (leads["channel"] != "").to_numpy(), share)
        leads.loc[hit, "channel"] = np.resize(np.array(["", "unknown", "n/a"], dtype=object), int(hit.sum()))
    out["missing or unknown channel", "leads"] = int(leads["channel"].isin(["", "unknown", "n/a"]).sum())
    if share := mess.get("missing-lead", 0.0):
        deals.loc[_pick(rng, np.ones(len(deals), dtype=bool), share), "lead_id"] = ""
    out["deal without a lead id", "deals"] = int((deals["lead_id"] == "").sum())
    if share := mess.get("close-before-open", 0.0):
        hit = _pick(rng, deals["closed"].notna().to_numpy(), share)
        back = pd.to_timedelta(rng.integers(1, 31, size=int(hit.sum())), unit="D")
        deals.loc[hit, "closed"] = deals.loc[hit, "opened"].to_numpy() - back.to_numpy()
        out["close date before open date", "deals"] = int(hit.sum())
    out["open deal at the export date (right-censored)", "deals"] = int((deals["outcome"] == "open").sum())
    if share := mess.get("duplicate-ids", 0.0):
        for name in ("leads", "deals"):
            frame = tables[name]
            copies = frame.loc[_pick(rng, np.ones(len(frame), dtype=bool), share)]
            order = rng.permutation(len(frame) + len(copies))
            tables[name] = pd.concat([frame, copies], ignore_index=True).iloc[np.argsort(order, kind="stable")]
            tables[name] = tables[name].reset_index(drop=True)
            out["duplicated id (identical rows)", name] = len(copies)
    return {k: v for k, v in out.items() if v}


def _header_map(table: str, style: str) -> dict[str, str]:
    """Canonical column -> the header `style` exports it under (canonical name where the style has none)."""
    if style == "canonical":
        return {}
    return {f.key: getattr(f, style)[0] for f in table_fields(table) if getattr(f, style)}


def _format_dates(frame: pd.DataFrame, table: str, date_format: str, short: np.ndarray) -> pd.DataFrame:
    fmt = DATE_FORMATS[date_format]
    out = frame.copy()
    for col in TABLE_DATES[table]:
        if col in out:
            long = out[col].dt.strftime(fmt).fillna("")
            brief = out[col].dt.strftime(fmt.replace("%Y", "%y")).fillna("")
            out[col] = np.where(short, brief, long)
    return out


def write_crm(tables: dict, out_dir: str | Path, *, date_format: str = "iso", headers: str = "canonical",
              file_format: str = "csv", short_years: dict[str, np.ndarray] | None = None) -> dict[str, Path]:  # fmt: skip
    """Write leads/deals/activities tables to `out_dir` as ``<table>.csv`` or ``.parquet`` (Parquet keeps real
    timestamps, so `date_format` applies to CSV only); headers in the style of a CRM (`HEADER_STYLES`)."""
    if date_format not in DATE_FORMATS:
        raise ValueError(f"date format {date_format!r}: expected one of {', '.join(DATE_FORMATS)}")
    if headers not in HEADER_STYLES:
        raise ValueError(f"header style {headers!r}: expected one of {', '.join(HEADER_STYLES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for table in ("leads", "deals", "activities"):
        frame = tables[table]
        path = out / f"{table}.{'parquet' if file_format == 'parquet' else 'csv'}"
        if file_format == "parquet":
            frame.rename(columns=_header_map(table, headers)).to_parquet(path, index=False)
        else:
            short = (short_years or {}).get(table, np.zeros(len(frame), dtype=bool))
            text = _format_dates(frame, table, date_format, short)
            text.rename(columns=_header_map(table, headers)).to_csv(path, index=False)
        paths[table] = path
    return paths


def export_crm(result: RunResult, out_dir: str | Path, *, start_date: str = DEFAULT_START,
               export_day: float | None = None, messy: str | dict | None = None, date_format: str = "iso",
               headers: str = "canonical", file_format: str = "csv", seed: int = 0) -> CrmExport:  # fmt: skip
    """Write the CRM export of a simulated run to `out_dir` (leads, deals, activities and a ``mapping.toml``
    naming the date order and export date), with the mess of `messy` (`MESSY_KEYS`, drawn from `seed`)."""
    mess = parse_messy(messy)
    if mess.get("short-years") and date_format == "iso":
        raise ValueError("short-years needs --date-format dayfirst or monthfirst (ISO years have four digits)")
    tables = crm_tables(result, start_date, export_day)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    injected = add_mess(tables, mess, rng)
    short = {
        t: _pick(rng, np.ones(len(tables[t]), dtype=bool), mess.get("short-years", 0.0)) for t in ("leads", "deals")
    }
    paths = write_crm(tables, out_dir, date_format=date_format, headers=headers, file_format=file_format,
                      short_years=short)  # fmt: skip
    names = {t: p.name for t, p in paths.items()}
    found = {(check, names[t]): n for (check, t), n in injected.items()}
    for t, mask in short.items():
        if mask.any() and file_format == "csv":
            found["two-digit years", names[t]] = int(mask.sum())
    when = tables["export_date"]
    mapping = Path(out_dir) / "mapping.toml"
    lines = [f"# CRM export of a simulated run (simfunnel export-crm); start date {start_date}",
             f'export_date = "{when:%Y-%m-%d %H:%M}"']  # fmt: skip
    if date_format != "iso":
        lines.append(f"dayfirst = {'true' if date_format == 'dayfirst' else 'false'}")
    mapping.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return CrmExport(files=paths, mapping=mapping, export_date=when, injected=found)
