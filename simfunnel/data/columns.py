"""Turning a raw export table into canonical typed columns: ids and text stripped, dates read (`dates`), numbers
with currency symbols and thousands separators, yes/no flags, owner lists. Each table keeps a ``line`` column:
the row's line in its file."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from simfunnel.data.dates import detect_order, parse_dates
from simfunnel.data.fields import table_fields
from simfunnel.data.mapping import Mapping, resolve_columns
from simfunnel.data.quality import QualityLog, example_row, line_of

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t", "won", "closed"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})
NUMBER_JUNK = re.compile(r"[^\d,.\-]")
HHMM = re.compile(r"^(\d+):(\d{2})(?::(\d{2}))?$")


def text(values: pd.Series) -> pd.Series:
    """Cells as stripped strings, empty -> NA (ints from Excel/Parquet without a trailing '.0')."""

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            return pd.NA
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip()
        return s if s else pd.NA

    return pd.Series([one(v) for v in values.tolist()], dtype="string")


def number(text_value: object) -> float | None:
    """'€ 1.234,50' -> 1234.5; '' -> nan; None when the cell is not a number."""
    if text_value is None or text_value is pd.NA:
        return math.nan
    if isinstance(text_value, int | float | np.number):
        return float(text_value)
    s = NUMBER_JUNK.sub("", str(text_value))
    if not s.strip():
        return math.nan if not str(text_value).strip() else None
    if "," in s and "." in s:
        s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "").replace(",", ".")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        s = s.replace(",", "") if len(tail) == 3 and head and s.count(",") >= 1 else s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None


def flag(value: object) -> object:
    """A yes/no cell as True/False, NA when empty or unreadable."""
    if value is None or value is pd.NA:
        return pd.NA
    if isinstance(value, bool | np.bool_):
        return bool(value)
    s = str(value).strip().lower()
    return True if s in TRUE_WORDS else False if s in FALSE_WORDS else pd.NA


def minutes(value: object) -> float | None:
    """A duration cell in minutes: a number, or HH:MM[:SS]."""
    if isinstance(value, str) and (m := HHMM.match(value.strip())):
        return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3) or 0) / 60
    return number(value)


def canonical(raw: pd.DataFrame, table: str, file: str, mapping: Mapping, log: QualityLog) -> pd.DataFrame:
    """The canonical columns of `table` found in `raw` (a column absent from the file is absent here), plus
    ``line``. Dates follow one day/month order per file (`dates.detect_order`)."""
    found = resolve_columns(table, file, list(raw.columns), mapping)
    lines = pd.Series([line_of(i) for i in range(len(raw))], dtype="int64")
    fields = {f.key: f for f in table_fields(table)}
    date_cols = {found[k]: raw[found[k]] for k, f in fields.items() if f.kind == "date" and k in found}
    order = detect_order(file, date_cols, lines, mapping.dayfirst)
    if order.dayfirst is not None and order.slashed:
        log.note("date order", file, f"read {'day' if order.dayfirst else 'month'}-first, decided by {order.evidence}")
    out = pd.DataFrame({"line": lines})
    out.attrs["columns"] = dict(found)
    short = np.zeros(len(raw), dtype=bool)
    for key, header in found.items():
        kind = fields[key].kind
        if kind == "date":
            parsed, short_rows = parse_dates(file, header, raw[header], lines, order)
            out[key] = parsed.to_numpy()
            short |= short_rows
        elif kind == "number":
            out[key] = _numbers(raw[header], key, header, file, log)
        elif kind == "bool":
            out[key] = pd.Series([flag(v) for v in text(raw[header]).tolist()], dtype="boolean")
        else:
            out[key] = text(raw[header]).to_numpy()
            out[key] = out[key].astype("string")
    if short.any():
        first = int(np.argmax(short))
        log.add("two-digit years", file, int(short.sum()), "read 00-68 as 20xx and 69-99 as 19xx",
                f"line {line_of(first)}")  # fmt: skip
    return out


def _numbers(values: pd.Series, key: str, header: str, file: str, log: QualityLog) -> np.ndarray:
    read = minutes if key == "duration_minutes" else number
    parsed = [read(v) for v in values.tolist()]
    bad = pd.Series([p is None for p in parsed])
    if bad.any():
        frame = pd.DataFrame({header: values})
        log.add(f"unreadable {key}", file, int(bad.sum()), "left empty", example_row(frame, bad))
    return np.array([math.nan if p is None else p for p in parsed], dtype=float)
