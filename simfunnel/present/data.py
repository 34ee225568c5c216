"""What the figures accept, normalised: a RunResult, a summary dict or Series, an experiment's tidy or wide
summary table, an Experiment, or a mapping ``{name: any of those}`` -> ``{name: {metric: (mean, lo, hi)}}``;
and buyers / timeseries tables of runs -> ``{name: DataFrame}``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.present.labels import to_float

__all__ = ["Stats", "frames", "horizon", "key_columns", "metric_rows", "stats_from_frame", "summaries", "tidy_summary"]

Stats = dict[str, tuple[float, float, float]]
"""metric -> (mean, ci_low, ci_high); the CI is NaN for a single run."""

_STAT_COLUMNS = {"point", "metric", "value", "replication", "mean", "std", "n", "ci_low", "ci_high", "half_width"}


def _is_run_result(x: Any) -> bool:
    return hasattr(x, "summary") and isinstance(getattr(x, "summary", None), Mapping) and hasattr(x, "scenario")


def _run_name(x: Any, default: str = "") -> str:
    scn = getattr(x, "scenario", None)
    return str(getattr(scn, "name", default) or default)


def _stats_from_mapping(d: Mapping[str, Any]) -> Stats:
    return {
        str(k): (to_float(v), math.nan, math.nan) for k, v in d.items() if not isinstance(v, Mapping | list | tuple)
    }


def key_columns(df: pd.DataFrame) -> list[str]:
    """Columns that name a scenario / sweep point in a tidy table."""
    if "scenario" in df.columns:
        return ["scenario"]
    if "point" in df.columns:
        cols = list(df.columns)
        fields = [c for c in cols[cols.index("point") + 1 :] if c not in _STAT_COLUMNS]
        stop = next((i for i, c in enumerate(fields) if c in _STAT_COLUMNS), len(fields))
        return fields[:stop] or ["point"]
    return []


def _label_of(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    if keys == ["scenario"] or keys == ["point"]:
        return str(row[keys[0]])
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in keys)


def _tidy_stats(sub: pd.DataFrame) -> Stats:
    if "mean" in sub.columns:
        lo = sub["ci_low"] if "ci_low" in sub else pd.Series(np.nan, index=sub.index)
        hi = sub["ci_high"] if "ci_high" in sub else pd.Series(np.nan, index=sub.index)
        return {
            str(m): (to_float(v), to_float(a), to_float(b))
            for m, v, a, b in zip(sub["metric"], sub["mean"], lo, hi, strict=True)
        }
    means = sub.groupby("metric", sort=False)["value"].mean()  # runs: average the replications
    return {str(m): (to_float(v), math.nan, math.nan) for m, v in means.items()}


def stats_from_frame(df: pd.DataFrame) -> dict[str, Stats]:
    """{scenario or point label: Stats} of a tidy (metric column) or wide (a column per metric) table."""
    keys = key_columns(df)
    out: dict[str, Stats] = {}
    if "metric" in df.columns:
        groups = df.groupby(keys, sort=False, dropna=False) if keys else [((), df)]
        for key, sub in groups:
            key = key if isinstance(key, tuple) else (key,)
            name = _label_of(dict(zip(keys, key, strict=True)), keys) if keys else ""
            out[name] = _tidy_stats(sub)
        return out
    for i, row in df.reset_index(drop=True).iterrows():  # wide: one row per scenario
        name = _label_of(row, keys) if keys else ("" if len(df) == 1 else str(i))
        out[name] = _stats_from_mapping({k: v for k, v in row.items() if k not in keys})
    return out


def summaries(data: Any) -> dict[str, Stats]:
    """Normalise a RunResult, summary dict, pandas Series, tidy/wide DataFrame, Experiment, or a mapping
    {name: any of those} to {name: {metric: (mean, ci_low, ci_high)}}."""
    if data is None:
        return {}
    if _is_run_result(data):
        return {_run_name(data): _stats_from_mapping(data.summary)}
    if isinstance(getattr(data, "summary", None), pd.DataFrame):  # Experiment
        return stats_from_frame(data.summary)
    if isinstance(data, pd.DataFrame):
        return {} if data.empty else stats_from_frame(data)
    if isinstance(data, pd.Series):
        return {str(data.name) if data.name is not None else "": _stats_from_mapping(data.to_dict())}
    if isinstance(data, Mapping):
        if not data:
            return {}
        if all(not isinstance(v, Mapping | pd.Series | pd.DataFrame) and not _is_run_result(v) for v in data.values()):
            return {"": _stats_from_mapping(data)}
        out: dict[str, Stats] = {}
        for name, v in data.items():
            sub = summaries(v)
            if len(sub) == 1:
                out[str(name)] = next(iter(sub.values()))
            else:
                out.update({f"{name}: {k}" if k else str(name): s for k, s in sub.items()})
        return out
    raise TypeError(f"cannot plot a {type(data).__name__}: pass a RunResult, a summary dict or a summary DataFrame")


def frames(data: Any, attr: str) -> dict[str, pd.DataFrame]:
    """{name: DataFrame} from a DataFrame, a RunResult (its ``attr`` table) or a mapping of those."""
    if data is None:
        return {}
    if isinstance(data, pd.DataFrame):
        return {"": data}
    if hasattr(data, attr) and not isinstance(data, Mapping):
        return {_run_name(data): getattr(data, attr)}
    if isinstance(data, Mapping):
        out = {}
        for name, v in data.items():
            sub = frames(v, attr)
            if sub:
                out[str(name)] = next(iter(sub.values()))
        return out
    raise TypeError(f"expected a DataFrame, a RunResult or a mapping of them, got {type(data).__name__}")


def horizon(data: Any) -> float:
    """Horizon in days of the first RunResult in ``data`` (NaN when there is none)."""
    items = data.values() if isinstance(data, Mapping) else [data]
    for x in items:
        scn = getattr(x, "scenario", None)
        h = getattr(getattr(scn, "simulation", None), "horizon_days", None)
        if h is not None:
            return float(h)
    return math.nan


def tidy_summary(df: Any) -> pd.DataFrame:
    """An experiment's summary table (from the Experiment or the table itself; empty for None)."""
    if df is None:
        return pd.DataFrame()
    if isinstance(getattr(df, "summary", None), pd.DataFrame):
        df = df.summary
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a summary DataFrame, got {type(df).__name__}")
    return df


def metric_rows(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of one metric of a tidy table (all rows of a table without a metric column)."""
    if "metric" in df.columns:
        return df[df["metric"].astype(str) == metric]
    return df
