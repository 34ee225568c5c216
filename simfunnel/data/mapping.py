"""The mapping file (TOML) that names a CRM export's columns, and matching a file's headers to the canonical
columns of `simfunnel.data.fields` (mapping first, then the recognised headers of the common CRMs).

    dayfirst = true              # optional: 03/04/2025 is 3 April (else detected from the data)
    owner_separator = ";"        # optional: between several owners of a deal
    export_date = "2025-06-30"   # optional: when the export was taken (else the latest date in the files)
    missing_channel = ["other"]  # optional: more channel values that mean 'unknown'

    [leads]
    lead_id = "Lead Number"      # canonical key = header in the file
    created = "Created On"

    [deals.outcomes]             # optional: stage or status values -> won / lost / open
    "Signed" = "won"
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simfunnel.data.fields import OUTCOMES, TABLES, normalise, table_fields
from simfunnel.data.quality import CrmDataError

TOP_KEYS = ("dayfirst", "owner_separator", "export_date", "missing_channel", *TABLES)


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file: column names per table, outcome words, and the reading options."""

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    dayfirst: bool | None = None
    owner_separator: str = ";"
    export_date: pd.Timestamp | None = None
    missing_channel: tuple[str, ...] = ()
    file: str | None = None


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(options)}"


def load_mapping(source: str | Path | dict | Mapping | None) -> Mapping:
    """A `Mapping` from a TOML file, a dict of the same shape, or None (recognised headers only)."""
    if source is None:
        return Mapping()
    if isinstance(source, Mapping):
        return source
    name = None
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        name = path.name
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CrmDataError("mapping file not found", file=path) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CrmDataError(f"not a valid TOML mapping file ({exc})", file=path) from None
    return _parse(raw, name)


def _parse(raw: dict, name: str | None) -> Mapping:
    for key in raw:
        if key not in TOP_KEYS:
            raise CrmDataError(f"unknown mapping key {key!r}{_did_you_mean(key, list(TOP_KEYS))}", file=name)
    columns: dict[str, dict[str, str]] = {}
    outcomes: dict[str, str] = {}
    for table in TABLES:
        section = dict(raw.get(table, {}))
        keys = [f.key for f in table_fields(table)]
        if table == "deals" and "outcomes" in section:
            for word, outcome in dict(section.pop("outcomes")).items():
                if outcome not in OUTCOMES:
                    raise CrmDataError(f"[deals.outcomes] {word!r} = {outcome!r}: must be won, lost or open", file=name)
                outcomes[str(word).strip().lower()] = outcome
        for key, header in section.items():
            if key not in keys:
                raise CrmDataError(f"[{table}] unknown key {key!r}{_did_you_mean(key, keys)}", file=name)
            if not isinstance(header, str):
                raise CrmDataError(f"[{table}] {key} must be a column name (a string)", file=name)
        columns[table] = section
    dayfirst = raw.get("dayfirst")
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise CrmDataError("dayfirst must be true or false", file=name)
    export_date = raw.get("export_date")
    return Mapping(
        columns=columns,
        outcomes=outcomes,
        dayfirst=dayfirst,
        owner_separator=str(raw.get("owner_separator", ";")),
        export_date=pd.Timestamp(export_date) if export_date is not None else None,
        missing_channel=tuple(str(v).strip().lower() for v in raw.get("missing_channel", ())),
        file=name,
    )


def resolve_columns(table: str, file: str, headers: list[str], mapping: Mapping) -> dict[str, str]:
    """Canonical key -> header of the file, for every field found. Raises `CrmDataError` (naming the columns
    found and the mapping keys to set) when a mapped column is absent or a required one is not recognised."""
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(normalise(h), h)
    found: dict[str, str] = {}
    claimed: set[str] = set()
    listed = ", ".join(repr(h) for h in headers)
    for key, header in mapping.columns.get(table, {}).items():
        actual = header if header in headers else by_norm.get(normalise(header))
        if actual is None:
            raise CrmDataError(f"the mapping names [{table}] {key} = {header!r} but there is no such column; "
                               f"columns found: {listed}", file=file, column=header)  # fmt: skip
        found[key] = actual
        claimed.add(actual)
    for f in table_fields(table):
        if f.key in found:
            continue
        for alias in f.aliases:
            actual = by_norm.get(normalise(alias))
            if actual is not None and actual not in claimed:
                found[f.key] = actual
                claimed.add(actual)
                break
    missing = [f.key for f in table_fields(table) if f.required and f.key not in found]
    if missing:
        raise CrmDataError(_missing_message(table, missing, headers, listed), file=file)
    _check_swapped(table, file, found, headers, by_norm, mapping)
    return found


DEAL_ONLY = ("stage", "outcome", "is_won", "is_closed", "won_date", "lost_date", "value", "loss_reason", "closed")
LEAD_ONLY = ("channel", "mql_date")


def _matches(table: str, keys: tuple[str, ...], by_norm: dict[str, str]) -> list[str]:
    fields = {f.key: f for f in table_fields(table)}
    return [next(by_norm[normalise(a)] for a in fields[k].aliases if normalise(a) in by_norm)
            for k in keys if any(normalise(a) in by_norm for a in fields[k].aliases)]  # fmt: skip


def _check_swapped(table: str, file: str, found: dict[str, str], headers: list[str], by_norm: dict[str, str],
                   mapping: Mapping) -> None:  # fmt: skip
    """Refuse a deals file given as leads (two or more deal columns) and a leads file given as deals (lead
    columns and nothing that says a deal's outcome), unless the mapping names the columns."""
    if mapping.columns.get(table):
        return
    if table == "leads" and len(deal_cols := _matches("deals", DEAL_ONLY, by_norm)) >= 2:
        raise CrmDataError(f"this looks like a deals export, not leads (it has {', '.join(map(repr, deal_cols))}); "
                           "pass it as the deals file, or name the columns in a mapping file", file=file)  # fmt: skip
    if (
        table == "deals"
        and not _matches("deals", DEAL_ONLY, by_norm)
        and (lead := _matches("leads", LEAD_ONLY, by_norm))
    ):
        raise CrmDataError(f"this looks like a leads export, not deals (it has {', '.join(map(repr, lead))} and "
                           "no stage, status, outcome, close date or value); pass it as the leads file", file=file)  # fmt: skip


def _missing_message(table: str, missing: list[str], headers: list[str], listed: str) -> str:
    keys = " and ".join(missing)
    text = (f"not a recognised {table} export: no column for {keys}; columns found: {listed or 'none'}. "
            f"Name them in a mapping file: [{table}] " + ", ".join(f'{k} = "<column>"' for k in missing))  # fmt: skip
    norms = {normalise(h) for h in headers}
    for other in TABLES:
        if other == table:
            continue
        required = [f for f in table_fields(other) if f.required]
        distinctive = [f for f in table_fields(other) if f.key not in {g.key for g in table_fields(table)}]
        if all(any(normalise(a) in norms for a in f.aliases) for f in required) and any(
            any(normalise(a) in norms for a in f.aliases) for f in distinctive
        ):
            text += f" (this looks like a {other} export: were the files swapped?)"
            break
    return text
