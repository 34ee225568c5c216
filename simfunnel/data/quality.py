"""What `read_crm` found wrong in an export and did about it: `CrmDataError` (refused: names file, line, column)
and `QualityLog` (handled: one row per check in the data-quality summary).

Lines are the file's own line numbers: the header is line 1, the first data row line 2 (a spreadsheet's row
number too), so a user can find the row in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

QUALITY_COLUMNS = ("check", "file", "rows", "action", "example")
"""Columns of the data-quality summary (`CrmData.quality`)."""


def line_of(index: int) -> int:
    """The file line of the data row at 0-based position `index` (header = line 1)."""
    return int(index) + 2


class CrmDataError(ValueError):
    """An export `read_crm` cannot read: the message names the file, the line and the column where known."""

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 column: str | None = None) -> None:  # fmt: skip
        self.file = Path(file).name if file is not None else None
        self.line = line
        self.column = column
        where = ", ".join(
            part
            for part in (
                self.file,
                f"line {line}" if line is not None else "",
                f"column {column!r}" if column is not None else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


@dataclass
class QualityLog:
    """Collects the handled data problems; `.frame()` is the tidy summary (check, file, rows, action, example)."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(self, check: str, file: str | Path | None, rows: int, action: str, example: str = "") -> None:
        """Record `rows` rows of `file` that failed `check` and what was done (added to an earlier record of the same
        check, file and action; nothing when `rows` is 0)."""
        if not rows:
            return
        name = Path(file).name if file is not None else ""
        for row in self.rows:
            if row["check"] == check and row["file"] == name and row["action"] == action:
                row["rows"] = int(row["rows"]) + int(rows)  # type: ignore[call-overload]
                row["example"] = row["example"] or example
                return
        self.rows.append({"check": check, "file": name, "rows": int(rows), "action": action, "example": example})

    def note(self, check: str, file: str | Path | None, action: str) -> None:
        """Record a whole-file observation (rows = 0), e.g. an assumed export date."""
        name = Path(file).name if file is not None else ""
        self.rows.append({"check": check, "file": name, "rows": 0, "action": action, "example": ""})

    def frame(self) -> pd.DataFrame:
        """The summary as a DataFrame (empty with the right columns when the export was clean)."""
        return pd.DataFrame(self.rows, columns=list(QUALITY_COLUMNS)).astype({"rows": "int64"})


def example_row(frame: pd.DataFrame, mask: pd.Series, columns: list[str] | None = None) -> str:
    """'line 7: Id=L12, CreatedDate=..' for the first row selected by `mask` (original values, a few columns)."""
    hits = frame.index[mask.to_numpy()]
    if len(hits) == 0:
        return ""
    pos = frame.index.get_loc(hits[0])
    row = frame.loc[hits[0]]
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns and not str(c).startswith("_")][:5]
    values = ", ".join(f"{c}={_short(row[c])}" for c in cols)
    line = int(row["_line"]) if "_line" in frame.columns else line_of(pos)
    return f"line {line}: {values}"


def _short(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        text = f"{value:%Y-%m-%d}" if value == value.normalize() else f"{value:%Y-%m-%d %H:%M}"
    else:
        text = "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def format_quality(quality: pd.DataFrame) -> str:
    """The summary as a plain-text table for a terminal ('no problems found' when empty)."""
    if quality.empty:
        return "data quality: no problems found"
    cols = list(QUALITY_COLUMNS)
    cells = [[str(r[c]) for c in cols] for r in quality.to_dict(orient="records")]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
