"""One formatter for numbers with units, used by the CLI, the report, the figures and the notebooks.

Rules: three significant figures; money compact (``3.21M``); shares as percent (differences in percentage points);
days and hours with their unit; thousands separators; float noise and negative zero print as ``0``; a confidence
interval uses one number of decimals for the mean and both bounds, enough to tell the bounds apart.
"""

from __future__ import annotations

import math
from typing import Any

from simfunnel.vocabulary import kpi

__all__ = ["CURRENCY", "format_ci", "format_compact", "format_kpi", "format_kpi_ci", "format_value", "unit_text"]

CURRENCY: str = ""
"""Currency symbol for money (e.g. "€", "$"); empty: plain numbers, and axes say "currency"."""

_SUFFIX = {"days": " d", "hours": " h", "seconds": " s", "ratio": "×"}
_NOISE = 1e-9


def unit_text(unit: str) -> str:
    """The unit as written after a label: 'currency' (or the symbol), '%', 'days', 'hours', '×'."""
    if unit == "money":
        return CURRENCY or "currency"
    return {"count": "count", "share": "%", "ratio": "×", "seconds": "s"}.get(unit, unit)


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _clean(text: str) -> str:
    """Drop the sign of a value that rounds to zero ('-0.0' -> '0.0')."""
    stripped = text.lstrip("+-")
    return stripped if stripped and not any(c in "123456789" for c in stripped.split("e")[0]) else text


def _decimals(v: float, digits: int = 3) -> int:
    """Decimals that show ``digits`` significant figures of ``v`` (at most 4)."""
    if v == 0:
        return 0
    return min(4, max(0, digits - 1 - math.floor(math.log10(abs(v)))))


def format_compact(v: float, digits: int = 3, strip: bool = False) -> str:
    """Compact number with ``digits`` significant figures: 1234567 -> '1.23M', 353000 -> '353k', 950 -> '950',
    0.5 -> '0.5'; ``strip`` drops trailing zeros (axis ticks: '2M' rather than '2.00M')."""
    if not _finite(v):
        return "n/a"
    v = float(v)
    if abs(v) < _NOISE:
        return "0"
    r = float(f"{v:.{digits}g}")
    a = abs(r)
    div, suffix = next(((d, u) for d, u in ((1e9, "B"), (1e6, "M"), (1e3, "k")) if a >= d), (1.0, ""))
    if suffix:
        x = r / div
        s = f"{x:.{max(0, digits - 1 - math.floor(math.log10(abs(x))))}f}"
    elif a >= 100:
        s = f"{r:.0f}"
    elif a >= 1:
        s = f"{r:.{digits - 1 - math.floor(math.log10(a))}f}"
    else:
        s = f"{r:.2g}"
    if strip and "." in s:
        s = s.rstrip("0").rstrip(".")
    return _clean(s + suffix)


def _money(v: float, signed: bool, digits: int = 3) -> str:
    s = format_compact(v, digits)
    if CURRENCY and s != "n/a":
        s = s.replace("-", "-" + CURRENCY, 1) if s.startswith("-") else CURRENCY + s
    return ("+" if signed and v > 0 and s != "0" else "") + s


def format_value(v: Any, unit: str, *, signed: bool = False, decimals: int | None = None) -> str:
    """A value in its unit: '3.21M', '25.3 %', '+1.2 pp', '15.4 d', '1,296 h', '1.77×', '2,181'.

    ``signed`` marks a difference (a '+' on gains; shares in percentage points); ``decimals`` fixes the decimals
    of non-money values (`format_ci` uses it so that a mean and its bounds line up)."""
    if not _finite(v):
        return "n/a"
    v = 0.0 if abs(float(v)) < _NOISE else float(v)
    if unit == "money":
        return _money(v, signed)
    if unit == "share":
        pct = 100 * v
        d = 1 if decimals is None else decimals
        body = _clean(f"{pct:{'+' if signed else ''},.{d}f}")
        return f"{body} pp" if signed else f"{body} %"
    if decimals is None:
        decimals = 0 if unit == "count" and v.is_integer() else _decimals(v)
    body = _clean(f"{v:{'+' if signed else ''},.{decimals}f}")
    return body + _SUFFIX.get(unit, "")


def _ci_decimals(mean: float, lo: float, hi: float, unit: str) -> int:
    """Decimals for a mean and its interval: three significant figures of the mean or two of the half-width."""
    scale = 100.0 if unit == "share" else 1.0
    half = abs(hi - lo) * scale / 2
    by_half = 0 if half <= 0 else max(0, 1 - math.floor(math.log10(half)))
    by_mean = 1 if unit == "share" else (0 if mean == 0 else _decimals(mean * scale))
    return min(4, max(by_mean, by_half))


def format_ci(mean: Any, lo: Any, hi: Any, unit: str, *, signed: bool = False) -> str:
    """A mean with its 95 % interval, one precision for all three: '10.4 [7.6, 13.2]', '3.21M [3.05M, 3.37M]',
    '-0.120 d [-0.150, -0.090]'; just the mean when the interval is unknown."""
    if not (_finite(lo) and _finite(hi)) or not _finite(mean):
        return format_value(mean, unit, signed=signed)
    mean, lo, hi = float(mean), float(lo), float(hi)
    if unit == "money":
        for digits in (3, 4, 5):
            parts = [format_compact(x, digits) for x in (mean, lo, hi)]
            if math.isclose(lo, hi, rel_tol=1e-9, abs_tol=1e-9) or parts[1] != parts[2]:  # rounding noise = equal
                break
        m = _money(mean, signed, digits)
        return f"{m} [{_money(lo, signed, digits)}, {_money(hi, signed, digits)}]"
    d = _ci_decimals(mean, lo, hi, unit)
    m = format_value(mean, unit, signed=signed, decimals=d)
    bounds = [format_value(x, unit, signed=signed, decimals=d) for x in (lo, hi)]
    suffix = " pp" if unit == "share" and signed else (" %" if unit == "share" else _SUFFIX.get(unit, ""))
    bounds = [b[: len(b) - len(suffix)] if suffix and b.endswith(suffix) else b for b in bounds]
    return f"{m} [{bounds[0]}, {bounds[1]}]"


def format_kpi(name: str, v: Any, *, signed: bool = False) -> str:
    """A KPI's value in the KPI's unit (see `simfunnel.vocabulary.KPIS`)."""
    return format_value(v, kpi(name).unit, signed=signed)


def format_kpi_ci(name: str, mean: Any, lo: Any, hi: Any, *, signed: bool = False) -> str:
    """A KPI's mean with its interval, in the KPI's unit."""
    return format_ci(mean, lo, hi, kpi(name).unit, signed=signed)
