"""Reading the dates of a CRM export: ISO (2025-03-14, 2025-03-14T09:30:00Z), day-first (14/03/2025, 14.03.25
09:30) and month-first (03/14/2025 9:30 PM), with or without times, with two- or four-digit years.

Whether ``03/04/2025`` is 3 April or 4 March is decided once per file, from the values that cannot be read the
other way (a first number above 12 means day-first); a file with no such value is refused unless the mapping
says ``dayfirst = true`` or ``false``. Times with a zone are converted to UTC and the zone dropped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simfunnel.data.quality import CrmDataError

ISO = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
SLASHED = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?$"
)
TWO_DIGIT_PIVOT = 69
"""Two-digit years below this are 20xx, the others 19xx (the POSIX strptime rule)."""


@dataclass(frozen=True)
class DateOrder:
    """The order of day and month in a file's slashed dates and the value that decided it."""

    dayfirst: bool | None  # None: no slashed date in the file
    evidence: str  # "line 5, column 'Created': '13/02/2025'" or "the mapping"
    slashed: int  # how many slashed values the file has


def _clean(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def detect_order(file: str, columns: dict[str, pd.Series], lines: pd.Series, dayfirst: bool | None) -> DateOrder:
    """Decide day-first or month-first for a file from its date `columns` (header -> raw values); `dayfirst` from
    the mapping wins. Raises `CrmDataError` when the file mixes both orders or cannot be decided."""
    day_hint = month_hint = None
    ambiguous = None
    slashed = 0
    day_at = month_at = (0, "")
    for header, values in columns.items():
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        for pos, raw in enumerate(values.tolist()):
            m = SLASHED.match(_clean(raw))
            if not m:
                continue
            slashed += 1
            a, b = int(m.group(1)), int(m.group(2))
            where = f"line {int(lines.iloc[pos])}, column {header!r}: {_clean(raw)!r}"
            if a > 12 >= b and day_hint is None:
                day_hint = where
                day_at = (int(lines.iloc[pos]), header)
            elif b > 12 >= a and month_hint is None:
                month_hint = where
                month_at = (int(lines.iloc[pos]), header)
            elif a != b and a <= 12 and b <= 12 and ambiguous is None:
                ambiguous = (int(lines.iloc[pos]), header, _clean(raw))
    if dayfirst is not None:
        return DateOrder(dayfirst, "the mapping (dayfirst)", slashed)
    if day_hint and month_hint:
        line, header = max(day_at, month_at)
        raise CrmDataError(f"dates are day-first at {day_hint} but month-first at {month_hint}; fix the file or set "
                           "dayfirst = true/false in the mapping", file=file, line=line, column=header)  # fmt: skip
    if day_hint or month_hint:
        return DateOrder(day_hint is not None, day_hint or month_hint or "", slashed)
    if ambiguous:
        line, header, raw = ambiguous
        raise CrmDataError(f"the date {raw!r} could be day-first or month-first and no date in the file decides it; "
                           "set dayfirst = true or dayfirst = false in the mapping file",
                           file=file, line=line, column=header)  # fmt: skip
    return DateOrder(None, "", slashed)


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        return 2000 + y if y < TWO_DIGIT_PIVOT else 1900 + y
    return y


def _stamp(text: str, dayfirst: bool) -> tuple[pd.Timestamp, bool] | None:
    """One value as a timestamp and whether its year had two digits; None when it is not a date."""
    if m := ISO.match(text):
        y, mo, d, hh, mm, ss, tz = m.groups()
        parts = (int(y), int(mo), int(d))
        short = False
    elif m := SLASHED.match(text):
        a, b, y, hh, mm, ss, ampm = m.groups()
        day, month = (int(a), int(b)) if dayfirst else (int(b), int(a))
        parts, tz, short = (_year(y), month, day), None, len(y) == 2
        if ampm and hh:
            hh = str(int(hh) % 12 + (12 if ampm.lower().startswith("p") else 0))
    else:
        return None
    try:
        ts = pd.Timestamp(*parts, int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ts -= sign * pd.Timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return ts, short


def parse_dates(file: str, header: str, values: pd.Series, lines: pd.Series,
                order: DateOrder) -> tuple[pd.Series, np.ndarray]:  # fmt: skip
    """A raw date column as datetime64 (NaT where empty) and which rows had a two-digit year. Raises
    `CrmDataError` at the first unreadable value."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = pd.to_datetime(values)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return out.astype("datetime64[us]").reset_index(drop=True), np.zeros(len(values), dtype=bool)
    stamps: list[object] = []
    short = np.zeros(len(values), dtype=bool)
    dayfirst = bool(order.dayfirst)
    for pos, raw in enumerate(values.tolist()):
        text = _clean(raw)
        if not text:
            stamps.append(pd.NaT)
            continue
        got = _stamp(text, dayfirst)
        if got is None:
            raise CrmDataError(f"cannot read {text!r} as a date (expected e.g. 2025-03-14, 14/03/2025 or "
                               "03/14/2025 with an optional time)", file=file, line=int(lines.iloc[pos]),
                               column=header)  # fmt: skip
        stamps.append(got[0])
        short[pos] = got[1]
    return pd.Series(pd.to_datetime(stamps)).astype("datetime64[us]"), short
