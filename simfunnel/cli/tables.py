"""Terminal tables and machine-readable output of the CLI.

Tables show each KPI's label with its unit (`simfunnel.vocabulary`) next to its stable key (so scripts can still
match rows) and every number through `simfunnel.formatting`; JSON and CSV keep raw keys and raw numbers.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from simfunnel.formatting import format_kpi, format_kpi_ci
from simfunnel.vocabulary import HEADLINES, KPIS


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str], *, left: int = 1) -> None:
    """Columns padded to their widest cell; the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    head = line(header)
    print(head)
    print("-" * len(head))
    for r in rows:
        print(line(r))


def kpi_label(key: str) -> str:
    """The KPI's label with its unit, 'Profit (currency)'; the key itself if the vocabulary does not know it."""
    k = KPIS.get(key)
    return k.axis_label if k is not None else key


def table_kpis(available: Iterable[str]) -> list[str]:
    """The KPIs shown in tables (`HEADLINES["table"]`) that the results hold, in display order."""
    have = set(available)
    return [k for k in HEADLINES["table"] if k in have]


def fmt_kpi(key: str, value: Any, *, signed: bool = False) -> str:
    """A KPI value in its unit ('-' where the vocabulary does not know the KPI and the value is missing)."""
    if key in KPIS:
        return format_kpi(key, value, signed=signed)
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.4g}"


def fmt_kpi_ci(key: str, mean: Any, lo: Any, hi: Any, *, signed: bool = False) -> str:
    """A KPI's mean with its 95 % interval, one precision for all three, in the KPI's unit."""
    if key in KPIS:
        return format_kpi_ci(key, mean, lo, hi, signed=signed)
    return fmt_kpi(key, mean)


def _json_default(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.floating | np.integer):
        return x.item()
    return str(x)


def clean(obj: Any) -> Any:
    """NaN/inf -> null and numpy scalars -> Python numbers, so the output is strict JSON."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def dump_json(obj: Any) -> None:
    """Print ``obj`` as indented strict JSON."""
    print(json.dumps(clean(obj), indent=2, default=_json_default))


def summary_dict(summary: Any, key: str | None = None, value: str | None = None) -> dict[str, Any]:
    """Per-KPI mean, std, n and interval of an experiment summary (optionally the rows where ``key == value``)."""
    sub = summary if key is None else summary[summary[key] == value]
    return {
        row.metric: {"mean": row.mean, "std": row.std, "n": row.n, "ci_low": row.ci_low, "ci_high": row.ci_high}
        for row in sub.itertuples()
    }


def lost_by_reason(kpis: dict[str, Any]) -> dict[str, Any]:
    """The lost-buyer KPIs keyed by loss reason."""
    from simfunnel.metrics import LOST_KEYS

    return {reason: kpis[key] for reason, key in LOST_KEYS.items() if key in kpis}


def report_errors(errors: Any, total: int | None = None, what: str = "point") -> int:
    """Print failed points/scenarios on stderr ("K of N failed"); the number of failures."""
    if errors is None or not len(errors):
        return 0
    failed = len(errors)
    of = f" of {total}" if total is not None else ""
    print(f"\n{failed}{of} {what}(s) failed:", file=sys.stderr)
    print(errors.to_string(index=False), file=sys.stderr)
    return failed
