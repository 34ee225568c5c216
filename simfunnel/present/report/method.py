"""The report's method-and-validity section: how the numbers were made (replications, seed, versions), what the
KPIs mean (the vocabulary's definitions) and whether the model reproduces known results (the quick checks).

Nothing here names a path on the machine that built the report: the result cache is mentioned, not located.
"""

from __future__ import annotations

import platform
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.experiments.cache import model_fingerprint
from simfunnel.formatting import format_ci, format_value
from simfunnel.present.report.results import Results
from simfunnel.vocabulary import KPIS

__all__ = ["DEFINED_KPIS", "checks_section", "definitions", "method_facts"]

DEFINED_KPIS: tuple[str, ...] = (
    "profit", "cac", "roi", "marketing_roi", "win_rate", "contact_wait_days", "churn_rate", "rep_utilization",
)  # fmt: skip
"""The KPIs the method section defines, in the vocabulary's words (whether or not these results carry them)."""


def definitions() -> list[dict[str, str]]:
    """Label and definition of every KPI in `DEFINED_KPIS`, from `simfunnel.vocabulary.KPIS`."""
    return [{"label": KPIS[m].label, "definition": KPIS[m].definition} for m in DEFINED_KPIS if m in KPIS]


def _number(v: Any) -> str:
    return format_value(v, "count") if v is not None else "—"


def checks_section(checks: pd.DataFrame | str | None) -> dict[str, Any] | None:
    """The model checks as table rows (expected, simulated with its 95 % CI, pass/fail), or their message."""
    if isinstance(checks, str):
        return {"message": checks}
    if not isinstance(checks, pd.DataFrame):
        return None
    rows = []
    for r in checks.to_dict(orient="records"):
        sim, lo, hi = r.get("simulated"), r.get("ci_low"), r.get("ci_high")
        rows.append({
            "check": r["check"],
            "expected": _number(r.get("expected")).replace("n/a", "—"),
            "simulated": format_ci(sim, lo, hi, "count").replace("n/a", "—"),
            "passed": bool(r["passed"]),
        })  # fmt: skip
    return {"rows": rows, "passed": sum(x["passed"] for x in rows), "total": len(rows)}


def _lib_versions() -> str:
    import matplotlib
    import simpy

    simpy_v = getattr(simpy, "__version__", "?")
    return f"SimPy {simpy_v}, NumPy {np.__version__}, pandas {pd.__version__}, matplotlib {matplotlib.__version__}"


def method_facts(
    res: Results, *, seed: int, span: str, same_horizon: bool, quick: bool, store: Any, executor: Any,
    attribution_n: int | None, parameters: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """Replications, seed, horizon, versions, executor and cache use (never the cache's location), and whether
    the intervals include parameter uncertainty (``parameters``: the comparison's `ParameterDraws`, or None)."""
    from simfunnel import __version__

    workers = getattr(executor, "workers", None)
    return {
        "n": res.n,
        "attribution_n": attribution_n,
        "seed": seed,
        "horizon": span,
        "same_horizon": same_horizon,
        "version": __version__,
        "fingerprint": model_fingerprint(),
        "python": platform.python_version(),
        "executor": getattr(executor, "name", str(executor)) + (f", {workers} workers" if workers else ""),
        "cache": "on" if store is not None else "off",
        "cache_hits": store.hits if store is not None else 0,
        "quick": quick,
        "libs": _lib_versions(),
        "definitions": definitions(),
        "parameters": _parameters_fact(parameters),
    }


def _parameters_fact(parameters: Any) -> str | None:
    """The method line on parameter draws (None without them); names the file by its name only, not its folder."""
    if parameters is None:
        return None
    from pathlib import Path

    fields = ", ".join(parameters.fields[:6]) + (" and more" if len(parameters.fields) > 6 else "")
    return (
        f"included: replication i of every scenario runs with one of {len(parameters)} parameter draws from "
        f"{Path(parameters.source).name} ({fields}), chosen by a seeded shuffle, so the intervals cover parameter "
        "uncertainty as well as simulation noise; the lever attribution uses the scenarios' own values"
    )
