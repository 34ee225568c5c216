"""Reading one export file as raw text cells: CSV (comma, semicolon or tab; UTF-8 or Latin-1), Parquet, or Excel
(.xlsx, needs openpyxl). Anything else is a `CrmDataError` naming the file, never a traceback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from simfunnel.data.quality import CrmDataError, QualityLog

SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls")


def read_table(source: str | Path | pd.DataFrame, what: str, log: QualityLog) -> tuple[pd.DataFrame, str]:
    """The raw table of `source` (a path or a DataFrame) and its display name. CSV cells stay text (dates and
    numbers are read later, with checks); Parquet and Excel keep their types."""
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True).copy(), f"<{what} table>"
    path = Path(source)
    name = path.name
    if not path.exists():
        raise CrmDataError(f"{what} file not found: {path}", file=name)
    if path.is_dir():
        raise CrmDataError(f"expected a {what} file, got a directory", file=name)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = _parquet(path)
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        frame = _excel(path)
    elif suffix in (".csv", ".txt", ".tsv") or not suffix:
        frame = _csv(path, log)
    else:
        raise CrmDataError(f"cannot read {suffix!r} files; expected one of {', '.join(SUFFIXES)}", file=name)
    if frame.empty and len(frame.columns) == 0:
        raise CrmDataError(f"the {what} file has no header row", file=name)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.reset_index(drop=True), name


def _parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise CrmDataError(f"not a readable Parquet file ({type(exc).__name__}: {exc})", file=path) from None


def _excel(path: Path) -> pd.DataFrame:
    try:
        return pd.read_excel(path, dtype=object)
    except ImportError:
        raise CrmDataError("reading Excel needs openpyxl: pip install 'simfunnel[calibrate]'", file=path) from None
    except Exception as exc:
        raise CrmDataError(f"not a readable Excel file ({type(exc).__name__}: {exc})", file=path) from None


def _csv(path: Path, log: QualityLog) -> pd.DataFrame:
    data = path.read_bytes()
    if not data.strip():
        raise CrmDataError("the file is empty", file=path)
    if b"\x00" in data[:4096]:
        raise CrmDataError("not a text (CSV) file: it contains binary data", file=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        log.note("encoding", path, "not UTF-8: read as Latin-1 (check accented names)")
    try:
        sep = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise CrmDataError(f"not a well-formed CSV file ({exc})", file=path) from None
