"""Experiments: replicate / compare / sweep, Shapley attribution of the alignment gap, budget-split search.

Seeds (DESIGN.md section 5). A root ``numpy.random.SeedSequence(seed)`` has one child per replication:
replication ``i`` always gets ``SeedSequence(entropy=root.entropy, spawn_key=root.spawn_key + (i,))``, the
same child ``root.spawn(n)[i]`` would give, so replication ``i`` is identical whether ``n`` is 10 or 30 and a
precision run that adds replications extends the same sequence. Every scenario of a comparison, every point
of a sweep and every coalition of an attribution gets the *same* child ``i`` in replication ``i``: common random
numbers, so differences are paired and tight. The model spawns its per-mechanism streams from that child.

Executors (`simfunnel.executors`): ``"serial"``, ``"processes"`` (default; ``workers`` = usable CPUs) and
``"dask"`` (``address=`` or ``client=``; else a LocalCluster); or pass an open `TaskExecutor` (e.g.
``ProcessExecutor(workers=4)`` used as a context manager) to reuse its workers across calls. Results are sorted by (point, replication)
before any table is built, so they are bit-identical for every executor and worker count (only the
``wall_seconds`` timing metric differs between runs).

Result cache (`simfunnel.cache`): every experiment takes ``cache=`` - None/False (default: off), True (the
default folder ``~/.cache/simfunnel`` or ``$SIMFUNNEL_CACHE_DIR``), a folder, or a `simfunnel.cache.ResultCache`.
A run whose scenario, seed child and model version (with a hash of the model's source) were run before is read
from disk instead of simulated; the numbers are identical. ``SIMFUNNEL_CACHE=0`` switches it off everywhere.

Confidence intervals are 95 % Student-t intervals: ``mean +- t(0.975, n-1) * std / sqrt(n)``. The t quantile
comes from `t_quantile_975` (a table for df 1..30, a Cornish-Fisher expansion beyond; no scipy needed).

Tables are tidy pandas frames with stable column names (pandas 2.2 and 3 alike):

- ``Experiment.runs``: key column(s) (``scenario``; or ``point`` + one column per swept field), ``replication``,
  ``metric``, ``value``;
- ``Experiment.summary``: key column(s), ``metric``, ``mean``, ``std``, ``n``, ``ci_low``, ``ci_high``, ``half_width``;
- ``Experiment.diffs`` (compare): ``scenario``, ``baseline``, ``metric``, ``n``, ``mean``, ``mean_baseline``,
  ``mean_diff``, ``std_diff``, ``ci_low``, ``ci_high``, ``half_width`` (paired) and ``ci_low_unpaired``,
  ``ci_high_unpaired``, ``half_width_unpaired`` (Welch, for contrast);
- ``Experiment.errors``: key column(s), ``error``, ``failed_replications``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.cache import CacheLike, resolve_cache
from simfunnel.executors import ExecutorName, Outcome, Task, TaskExecutor, executor_scope
from simfunnel.scenario import LEVERS, NON_CHANNEL_SHARES, Organisation, Scenario, load_scenario

SeedLike = int | np.random.SeedSequence | None
ScenarioLike = Scenario | str | os.PathLike

DEFAULT_N = 10
"""Replications when ``n`` is not given (also the first batch of a precision run)."""

PERMUTATION_KEY = 2**31 - 1
"""Spawn key of the stream that draws Shapley permutations: ``SeedSequence(root.entropy, spawn_key=(PERMUTATION_KEY,))``,
disjoint from the replication children 0, 1, 2, ..."""

RUN_COLUMNS = ("replication", "metric", "value")
SUMMARY_COLUMNS = ("metric", "mean", "std", "n", "ci_low", "ci_high", "half_width")
DIFF_COLUMNS = (
    "scenario",
    "baseline",
    "metric",
    "n",
    "mean",
    "mean_baseline",
    "mean_diff",
    "std_diff",
    "ci_low",
    "ci_high",
    "half_width",
    "ci_low_unpaired",
    "ci_high_unpaired",
    "half_width_unpaired",
)


# ============================================================================================== statistics
# Two-sided 95 % quantiles t(0.975, df) of Student's t for df = 1..30 (standard tables, e.g. NIST/SEMATECH
# e-Handbook 1.3.6.7.2; verified in the tests by integrating the t density).
_T975 = (
    12.706204736174698,
    4.302652729749464,
    3.182446305284263,
    2.7764451051977934,
    2.570581835636314,
    2.4469118511449666,
    2.3646242515927853,
    2.306004135204166,
    2.2621571628540993,
    2.2281388519649385,
    2.200985160082949,
    2.1788128296634177,
    2.1603686564610127,
    2.1447866879169273,
    2.131449545559323,
    2.1199052992210112,
    2.1098155778331806,
    2.10092204024096,
    2.093024054408263,
    2.0859634472658364,
    2.079613844727662,
    2.0738730679040147,
    2.0686576104190406,
    2.0638985616280205,
    2.059538552753294,
    2.055529438642871,
    2.0518305164802833,
    2.048407141795244,
    2.0452296421327034,
    2.0422724563012373,
)
_Z975 = 1.959963984540054


def t_quantile_975(df: float) -> float:
    """t(0.975, df): the multiplier of a two-sided 95 % confidence interval with ``df`` degrees of freedom.

    df 1..30: table (a fractional df is rounded down, which is conservative). df > 30: Cornish-Fisher expansion
    of the t quantile around the normal one (z = 1.95996), error < 1e-6 there, tending to 1.96 as df grows.
    NaN for df < 1 (no interval from one value)."""
    if not df >= 1:  # also NaN
        return math.nan
    if df <= 30:
        return _T975[int(math.floor(df)) - 1]
    z = _Z975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_ci(values: Iterable[float]) -> dict[str, float]:
    """Mean, std (ddof 1), n, 95 % t interval and half-width of the finite-or-inf, non-NaN values."""
    x = np.asarray(list(values), dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else math.nan
    hw = t_quantile_975(n - 1) * std / math.sqrt(n) if n > 1 else math.nan
    return {"mean": mean, "std": std, "n": n, "ci_low": mean - hw, "ci_high": mean + hw, "half_width": hw}


def _half_widths(std: pd.Series, n: pd.Series) -> pd.Series:
    t = n.map(lambda k: t_quantile_975(k - 1))
    return (t * std / np.sqrt(n.astype(float))).astype(float)


# ============================================================================================== seeds
def root_seed(seed: SeedLike) -> np.random.SeedSequence:
    """The root SeedSequence of an experiment (``seed=None``: fresh OS entropy, kept on the result)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, a numpy SeedSequence or None, got {type(seed).__name__}")
    return np.random.SeedSequence(None if seed is None else int(seed))


def child_seed(root: np.random.SeedSequence, replication: int) -> np.random.SeedSequence:
    """Replication ``i``'s seed: equal to ``root.spawn(n)[i]`` for any ``n > i`` (a fresh object each call)."""
    return np.random.SeedSequence(
        entropy=root.entropy, spawn_key=(*root.spawn_key, int(replication)), pool_size=root.pool_size
    )


# ============================================================================================== results
@dataclass
class Experiment:
    """Result of `replicate`, `compare` or `sweep` (see the module docstring for the table columns)."""

    kind: str
    runs: pd.DataFrame
    summary: pd.DataFrame
    errors: pd.DataFrame
    n_replications: int
    seed: int | Sequence[int]
    keys: tuple[str, ...]
    diffs: pd.DataFrame | None = None
    baseline: str | None = None
    fields: tuple[str, ...] = ()
    spawn_key: tuple[int, ...] = ()
    precision: float | None = None
    precision_metric: str | None = None
    precision_met: bool | None = None
    metrics: tuple[str, ...] = ()

    def seed_for(self, replication: int) -> np.random.SeedSequence:
        """The SeedSequence replication ``replication`` ran with: ``simulate(scenario, exp.seed_for(i))``
        reproduces that run."""
        return child_seed(np.random.SeedSequence(self.seed, spawn_key=self.spawn_key), replication)

    def wide(self) -> pd.DataFrame:
        """One row per scenario/point x replication, one column per metric (in the model's KPI order)."""
        idx = "point" if "point" in self.runs.columns else self.keys[0]
        if self.runs.empty:
            return pd.DataFrame(columns=[*self.keys, "replication"])
        wide = self.runs.pivot(index=[idx, "replication"], columns="metric", values="value")
        order = self.runs[[idx, "replication"]].drop_duplicates()
        wide = wide.reindex(index=pd.MultiIndex.from_frame(order), columns=list(self.metrics))
        wide.columns.name = None
        wide = wide.reset_index()
        extra = [k for k in self.keys if k != idx]
        if extra:
            labels = self.runs[[idx, *extra]].drop_duplicates(subset=[idx])
            wide = labels.merge(wide, on=idx, how="right")
        return wide

    def metric(self, name: str) -> pd.DataFrame:
        """The summary rows of one metric."""
        return self.summary[self.summary["metric"] == name].reset_index(drop=True)


@dataclass
class _Point:
    index: int
    labels: dict[str, Any]
    scenario: Scenario | None = None
    error: str | None = None


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n (replications) must be an integer >= 1, got {n!r}")
    return int(n)


def _as_scenario(scenario: ScenarioLike) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | os.PathLike):
        return load_scenario(scenario)
    raise TypeError(f"expected a Scenario or a path to a scenario TOML file, got {type(scenario).__name__}")


def _execute(
    points: Sequence[_Point],
    replications: Sequence[int],
    root: np.random.SeedSequence,
    ex: TaskExecutor,
    desc: str,
    skip: Mapping[tuple[int, int], Outcome] | None = None,
    on_done: Callable[[tuple[int, int], Outcome], None] | None = None,
    cache: CacheLike = None,
) -> dict[tuple[int, int], Outcome]:
    """Run every (valid point, replication) not in ``skip``; replication i of every point gets child i.

    With a ``cache`` (`simfunnel.cache`; only for the model's own runner), a task whose (scenario, seed,
    model version) was run before is served from disk - reported through ``on_done`` like a finished run - and
    every newly finished run is stored."""
    skip = skip or {}
    tasks = [
        Task((p.index, r), p.scenario, child_seed(root, r))
        for p in points
        if p.scenario is not None
        for r in replications
        if (p.index, r) not in skip
    ]
    outcomes = dict(skip)
    store = resolve_cache(cache) if getattr(ex, "runner", None) is None else None
    if store is None:
        outcomes.update(ex.run(tasks, desc=desc, on_done=on_done))
        return outcomes
    by_key = {t.key: t for t in tasks}
    todo: list[Task] = []
    for task in tasks:
        got = store.get_summary(task.scenario, task.seed)
        if got is None:
            todo.append(task)
            continue
        outcomes[task.key] = (True, got)
        if on_done is not None:
            on_done(task.key, (True, got))
    failed_writes: list[str] = []

    def done(key: tuple[int, int], outcome: Outcome) -> None:
        ok, payload = outcome
        if ok and not failed_writes:
            task = by_key[key]
            try:
                store.put_summary(task.scenario, task.seed, payload)
            except (OSError, TypeError, ValueError) as exc:  # a full or read-only disk must not lose the run
                failed_writes.append(f"{type(exc).__name__}: {exc}")
        if on_done is not None:
            on_done(key, outcome)

    outcomes.update(ex.run(todo, desc=desc, on_done=done))
    if failed_writes:
        warnings.warn(f"result cache {store.directory} not written: {failed_writes[0]}", RuntimeWarning, stacklevel=3)
    return outcomes


def _tables(
    points: Sequence[_Point],
    outcomes: Mapping[tuple[int, int], Outcome],
    replications: Sequence[int],
    label_columns: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """(runs, summary, errors, metric order) with an integer ``point`` column plus ``label_columns``."""
    pt_col: list[int] = []
    rep_col: list[int] = []
    met_col: list[str] = []
    val_col: list[float] = []
    error_rows: list[dict[str, Any]] = []
    metric_order: dict[str, None] = {}
    for p in sorted(points, key=lambda q: q.index):
        if p.error is not None:
            error_rows.append({"point": p.index, "error": p.error, "failed_replications": len(replications)})
            continue
        got = [(r, outcomes[(p.index, r)]) for r in sorted(replications) if (p.index, r) in outcomes]
        failed = [payload for _, (ok, payload) in got if not ok]
        missing = len(replications) - len(got)
        if failed or missing:
            msg = failed[0] if failed else "not run"
            error_rows.append({"point": p.index, "error": msg, "failed_replications": len(failed) + missing})
            continue
        for r, (_, summary) in got:
            for m, v in summary.items():
                metric_order.setdefault(m, None)
                pt_col.append(p.index)
                rep_col.append(r)
                met_col.append(m)
                val_col.append(v)
    metrics = tuple(metric_order)
    runs = pd.DataFrame(
        {
            "point": np.asarray(pt_col, dtype=np.int64),
            "replication": np.asarray(rep_col, dtype=np.int64),
            "metric": pd.Series(met_col, dtype=object).astype(str) if met_col else pd.Series([], dtype=str),
            "value": np.asarray(val_col, dtype=float),
        }
    )
    by_point = {p.index: p for p in points}
    summary = _summarize(runs)
    errors = pd.DataFrame(error_rows, columns=["point", "error", "failed_replications"])
    errors = errors.astype({"point": np.int64, "failed_replications": np.int64})
    runs = _with_labels(runs, by_point, label_columns)
    summary = _with_labels(summary, by_point, label_columns)
    errors = _with_labels(errors, by_point, label_columns)
    return runs, summary, errors, metrics


def _summarize(runs: pd.DataFrame) -> pd.DataFrame:
    if runs.empty:
        return pd.DataFrame({c: pd.Series([], dtype=float) for c in ("point", *SUMMARY_COLUMNS)})
    g = runs.groupby(["point", "metric"], sort=False)["value"]
    out = g.agg(["mean", "std", "count"]).reset_index().rename(columns={"count": "n"})
    out["n"] = out["n"].astype(np.int64)
    out.loc[out["n"] < 2, "std"] = np.nan
    hw = _half_widths(out["std"], out["n"])
    out["ci_low"] = out["mean"] - hw
    out["ci_high"] = out["mean"] + hw
    out["half_width"] = hw
    return out[["point", *SUMMARY_COLUMNS]]


def _with_labels(frame: pd.DataFrame, by_point: Mapping[int, _Point], columns: Sequence[str]) -> pd.DataFrame:
    """Insert the label columns of each point right after ``point``."""
    frame = frame.copy()
    pos = list(frame.columns).index("point") + 1
    for offset, col in enumerate(columns):
        values = [by_point[p].labels.get(col) for p in frame["point"]]
        frame.insert(pos + offset, col, pd.Series(values, index=frame.index, dtype=object).infer_objects())
    return frame


def _finish(
    kind: str,
    points: Sequence[_Point],
    outcomes: Mapping[tuple[int, int], Outcome],
    n: int,
    root: np.random.SeedSequence,
    keys: Sequence[str],
    keep_point: bool,
    **extra: Any,
) -> Experiment:
    label_columns = [k for k in keys if k != "point"]
    runs, summary, errors, metrics = _tables(points, outcomes, range(n), label_columns)
    if not keep_point:
        runs, summary, errors = (f.drop(columns="point") for f in (runs, summary, errors))
    if not errors.empty:
        what = "scenario" if kind != "sweep" else "point"
        first = errors.iloc[0]
        warnings.warn(
            f"{kind}: {len(errors)} of {len(points)} {what}(s) failed (see .errors); first: {first['error']}",
            RuntimeWarning,
            stacklevel=3,
        )
    return Experiment(
        kind=kind,
        runs=runs,
        summary=summary,
        errors=errors,
        n_replications=n,
        seed=root.entropy,
        spawn_key=tuple(root.spawn_key),
        keys=tuple(keys),
        metrics=metrics,
        **extra,
    )


# ============================================================================================== replicate
def replicate(
    scenario: ScenarioLike,
    n: int | None = None,
    seed: SeedLike = None,
    *,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    precision: float | None = None,
    precision_metric: str = "profit",
    max_replications: int = 200,
    batch: int | None = None,
    progress: bool | None = None,
    cache: CacheLike = None,
    _runner: Any = None,
) -> Experiment:
    """``n`` independent runs of one scenario (replication ``i`` seeded with child ``i`` of ``seed``).

    Precision mode (``precision=0.02``): start with ``n`` (default 10) replications and add batches of ``batch``
    (default 10; never tied to the worker count, so the stopping point is the same on every executor) until
    the 95 % CI half-width of ``precision_metric`` is within ``precision`` x |mean|, or ``max_replications``
    are done. ``.n_replications`` says how many were needed, ``.precision_met`` whether the target was met.
    """
    scn = _as_scenario(scenario)
    root = root_seed(seed)
    point = _Point(0, {"scenario": scn.name}, scn)
    n0 = _check_n(DEFAULT_N if n is None else n)
    extra: dict[str, Any] = {}
    with executor_scope(
        executor, workers=workers, address=address, client=client, progress=progress, runner=_runner
    ) as ex:
        if precision is None:
            outcomes = _execute([point], range(n0), root, ex, desc=f"replicate {scn.name}", cache=cache)
            total = n0
        else:
            if not precision > 0:
                raise ValueError(f"precision must be > 0 (a relative half-width such as 0.02), got {precision}")
            step = DEFAULT_N if batch is None else int(batch)
            if step < 1:
                raise ValueError(f"batch must be >= 1, got {step}")
            total = min(n0, max_replications)
            outcomes = {}
            met = failed = False
            while True:
                outcomes = _execute(
                    [point],
                    range(total),
                    root,
                    ex,
                    desc=f"replicate {scn.name} (n={total})",
                    skip=outcomes,
                    cache=cache,
                )
                if any(not ok for ok, _ in outcomes.values()):
                    failed = True  # reported by _finish below
                    break
                first = outcomes[(0, 0)][1]
                if precision_metric not in first:
                    raise KeyError(f"precision_metric {precision_metric!r} is not a KPI; known: {', '.join(first)}")
                # In replication order: the stopping decision must not depend on completion order.
                stats = mean_ci(outcomes[(0, r)][1].get(precision_metric, math.nan) for r in range(total))
                met = stats["n"] > 1 and stats["half_width"] <= precision * abs(stats["mean"])
                if met or total >= max_replications:
                    break
                total = min(total + step, max_replications)
            if not met and not failed:
                warnings.warn(
                    f"replicate: {precision_metric} did not reach a half-width of {precision:.1%} of its mean "
                    f"within {total} replications",
                    RuntimeWarning,
                    stacklevel=2,
                )
            extra = {"precision": precision, "precision_metric": precision_metric, "precision_met": met}
    return _finish("replicate", [point], outcomes, total, root, ("scenario",), keep_point=False, **extra)


# ============================================================================================== compare
def compare(
    scenarios: Mapping[str, ScenarioLike],
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    *,
    baseline: str | None = None,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    progress: bool | None = None,
    cache: CacheLike = None,
    _runner: Any = None,
) -> Experiment:
    """Run every scenario ``n`` times with common random numbers (replication ``i`` of each scenario gets the
    same seed child ``i``) and report paired differences against ``baseline`` (default: the first name)
    in ``.diffs``, with Welch (unpaired) intervals alongside to show what pairing buys."""
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    names = [str(k) for k in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must be unique, got {names}")
    baseline = names[0] if baseline is None else str(baseline)
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not one of the scenarios {names}")
    n = _check_n(n)
    root = root_seed(seed)
    points = [_Point(i, {"scenario": name}, _as_scenario(s)) for i, (name, s) in enumerate(scenarios.items())]
    with executor_scope(
        executor, workers=workers, address=address, client=client, progress=progress, runner=_runner
    ) as ex:
        outcomes = _execute(points, range(n), root, ex, desc="compare", cache=cache)
    exp = _finish("compare", points, outcomes, n, root, ("scenario",), keep_point=False, baseline=baseline)
    exp.diffs = _paired_diffs(exp.runs, names, baseline)
    return exp


def _paired_diffs(runs: pd.DataFrame, names: Sequence[str], baseline: str) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    base = runs[runs["scenario"] == baseline]
    if base.empty:
        return pd.DataFrame(columns=list(DIFF_COLUMNS))
    base_w = base.pivot(index="replication", columns="metric", values="value")
    metric_order = list(dict.fromkeys(base["metric"]))
    for name in names:
        if name == baseline:
            continue
        other = runs[runs["scenario"] == name]
        if other.empty:
            continue
        other_w = other.pivot(index="replication", columns="metric", values="value")
        reps = base_w.index.intersection(other_w.index)
        for m in metric_order:
            if m not in other_w.columns:
                continue
            b = base_w.loc[reps, m].to_numpy(dtype=float)
            x = other_w.loc[reps, m].to_numpy(dtype=float)
            ok = ~(np.isnan(b) | np.isnan(x))
            paired = mean_ci(x[ok] - b[ok])
            xs, bs = x[~np.isnan(x)], b[~np.isnan(b)]
            mx = float(xs.mean()) if xs.size else math.nan
            mb = float(bs.mean()) if bs.size else math.nan
            hw_u = _welch_half_width(xs, bs)
            rows.append(
                {
                    "scenario": name,
                    "baseline": baseline,
                    "metric": m,
                    "n": paired["n"],
                    "mean": mx,
                    "mean_baseline": mb,
                    "mean_diff": paired["mean"],
                    "std_diff": paired["std"],
                    "ci_low": paired["ci_low"],
                    "ci_high": paired["ci_high"],
                    "half_width": paired["half_width"],
                    "ci_low_unpaired": (mx - mb) - hw_u,
                    "ci_high_unpaired": (mx - mb) + hw_u,
                    "half_width_unpaired": hw_u,
                }
            )
    out = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    return out.astype({"n": np.int64}) if not out.empty else out


def _welch_half_width(x: np.ndarray, y: np.ndarray) -> float:
    """Half-width of Welch's 95 % interval for mean(x) - mean(y) (Welch-Satterthwaite df)."""
    nx, ny = x.size, y.size
    if nx < 2 or ny < 2:
        return math.nan
    vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
    se2 = vx + vy
    if se2 == 0:
        return 0.0
    df = se2**2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    return float(t_quantile_975(df) * math.sqrt(se2))


# ============================================================================================== sweep
def sweep(
    scenario: ScenarioLike,
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    *,
    checkpoint: str | os.PathLike | None = None,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    progress: bool | None = None,
    cache: CacheLike = None,
    _runner: Any = None,
) -> Experiment:
    """Run every point of a grid ``{"dotted.field": [values...], ...}`` (full product, first field slowest) or of
    an explicit list of override dicts, ``n`` replications each; replication ``i`` of every point gets seed
    child ``i`` (common random numbers across points).

    A point whose overrides are invalid (`ScenarioError`) or whose runs fail is reported in ``.errors`` with its
    message; the other points complete. ``checkpoint="sweep.parquet"`` (or ``.csv``) saves every finished point
    as soon as it completes (written to a temporary file, then renamed: never half-written); rerunning with the
    same checkpoint reuses the runs stored there (same point scenario, seed and replication) and only runs the
    rest, so an interrupted sweep loses nothing and duplicates nothing. With ``seed=None`` a rerun adopts the
    seed stored in the checkpoint.
    """
    n = _check_n(n)
    base = _as_scenario(scenario)
    overrides_list, fields = _grid_points(grid)
    ck = _Checkpoint(checkpoint) if checkpoint is not None else None
    if ck is not None and seed is None:
        seed = ck.stored_seed()
    root = root_seed(seed)
    points: list[_Point] = []
    for i, ov in enumerate(overrides_list):
        labels = {"point": i, **{f: ov.get(f) for f in fields}}
        try:
            points.append(_Point(i, labels, base.with_overrides(ov)))
        except Exception as exc:  # noqa: BLE001 - ScenarioError and anything else: recorded, others go on
            points.append(_Point(i, labels, None, f"{type(exc).__name__}: {exc}"))
    reps = range(n)
    skip: dict[tuple[int, int], Outcome] = {}
    on_done = None
    if ck is not None:
        keys = {p.index: _point_key(p.scenario) for p in points if p.scenario is not None}
        stored = ck.load_runs(root)
        for p in points:
            if p.scenario is None:
                continue
            for r in reps:
                got = stored.get((keys[p.index], r))
                if got is not None:
                    skip[(p.index, r)] = (True, got)
        remaining = {p.index: sum((p.index, r) not in skip for r in reps) for p in points if p.scenario is not None}
        results: dict[tuple[int, int], Outcome] = {}

        def on_done(key: tuple[int, int], outcome: Outcome) -> None:
            results[key] = outcome
            p = key[0]
            remaining[p] -= 1
            if remaining[p] == 0:
                new = {r: results[(p, r)][1] for r in reps if (p, r) in results}
                if all(results[(p, r)][0] for r in new):
                    ck.save_point(root, keys[p], overrides_list[p], new)

    with executor_scope(
        executor, workers=workers, address=address, client=client, progress=progress, runner=_runner
    ) as ex:
        outcomes = _execute(points, reps, root, ex, desc="sweep", skip=skip, on_done=on_done, cache=cache)
    return _finish("sweep", points, outcomes, n, root, ("point", *fields), keep_point=True, fields=tuple(fields))


def _grid_points(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]) -> tuple[list[dict], list[str]]:
    if isinstance(grid, Mapping):
        fields = [str(k) for k in grid]
        values = []
        for k, v in grid.items():
            if isinstance(v, str | bytes) or not isinstance(v, Iterable):
                raise TypeError(f"sweep grid: {k!r} needs a list of values, got {v!r}")
            values.append(list(v))
        combos = itertools.product(*values)
        return [{f: _plain(v) for f, v in zip(fields, combo, strict=True)} for combo in combos], fields
    points = [{str(k): _plain(v) for k, v in p.items()} for p in grid]
    fields = list(dict.fromkeys(k for p in points for k in p))
    return points, fields


def _plain(value: Any) -> Any:
    """numpy scalars (from ``np.linspace`` grids) as Python numbers, so validation and labels behave."""
    return value.item() if isinstance(value, np.generic) else value


def _point_key(scenario: Scenario) -> str:
    """Fingerprint of a point's full scenario (and the simfunnel version) for checkpoint reuse."""
    from simfunnel import __version__

    data = json.dumps([__version__, scenario.model_dump()], sort_keys=True, default=repr)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


class _Checkpoint:
    """Finished sweep points on disk: one row per (point, replication, metric); rewritten atomically."""

    COLUMNS = ("point_key", "entropy", "spawn_key", "replication", "metric", "value", "overrides")

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".parquet", ".pq", ".csv"):
            raise ValueError(f"checkpoint must end in .parquet or .csv, got {self.path.name!r}")
        self.fmt = "csv" if suffix == ".csv" else "parquet"
        self._remove_stale_temporaries()
        self.frame = self._read()

    def _tmp(self, pid: int) -> Path:
        return self.path.with_name(f".{self.path.name}.{pid}.tmp")

    def _remove_stale_temporaries(self) -> None:
        """A run killed while writing leaves its temporary file (never the checkpoint) behind: remove it."""
        prefix = f".{self.path.name}."
        for tmp in self.path.parent.glob(f"{glob_escape(prefix)}*.tmp"):
            pid = tmp.name[len(prefix) : -len(".tmp")]
            if pid.isdigit() and not _pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)

    def _read(self) -> pd.DataFrame:
        if not self.path.exists():
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in self.COLUMNS})
        if self.fmt == "csv":
            # pandas 3 parses floats round-trip exactly by default (and deprecates the option); pandas 2 needs it
            exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
            frame = pd.read_csv(
                self.path,
                dtype={"point_key": str, "entropy": str, "spawn_key": str, "metric": str, "overrides": str},
                keep_default_na=False,
                na_values={"value": ["", "nan", "NaN"]},
                **exact,
            )
        else:
            frame = pd.read_parquet(self.path)
        missing = set(self.COLUMNS) - set(frame.columns)
        if missing:
            raise ValueError(f"{self.path}: not a simfunnel sweep checkpoint (missing columns {sorted(missing)})")
        return frame

    def stored_seed(self) -> np.random.SeedSequence | None:
        if self.frame.empty:
            return None
        seeds = self.frame[["entropy", "spawn_key"]].drop_duplicates()
        if len(seeds) > 1:
            raise ValueError(f"{self.path} holds runs of {len(seeds)} different seeds; pass seed= explicitly")
        entropy, spawn_key = seeds.iloc[0]
        return np.random.SeedSequence(json.loads(entropy), spawn_key=tuple(json.loads(spawn_key)))

    @staticmethod
    def _seed_id(root: np.random.SeedSequence) -> tuple[str, str]:
        entropy = root.entropy if isinstance(root.entropy, int) else [int(e) for e in root.entropy]
        return json.dumps(entropy), json.dumps([int(k) for k in root.spawn_key])

    def load_runs(self, root: np.random.SeedSequence) -> dict[tuple[str, int], dict[str, float]]:
        entropy, spawn_key = self._seed_id(root)
        f = self.frame
        f = f[(f["entropy"].astype(str) == entropy) & (f["spawn_key"].astype(str) == spawn_key)]
        runs: dict[tuple[str, int], dict[str, float]] = {}
        for key, rep, metric, value in zip(f["point_key"], f["replication"], f["metric"], f["value"], strict=True):
            runs.setdefault((str(key), int(rep)), {})[str(metric)] = float(value)
        return runs

    def save_point(
        self, root: np.random.SeedSequence, key: str, overrides: Mapping[str, Any], runs: Mapping[int, Mapping]
    ) -> None:
        entropy, spawn_key = self._seed_id(root)
        ov = json.dumps(dict(overrides), sort_keys=True, default=repr)
        rows = [
            (key, entropy, spawn_key, int(r), str(m), float(v), ov) for r in sorted(runs) for m, v in runs[r].items()
        ]
        new = pd.DataFrame(rows, columns=list(self.COLUMNS))
        old = self.frame
        if not old.empty:
            same = (
                (old["point_key"].astype(str) == key)
                & (old["entropy"].astype(str) == entropy)
                & (old["spawn_key"].astype(str) == spawn_key)
                & old["replication"].isin(list(runs))
            )
            old = old[~same]
            new = pd.concat([old, new], ignore_index=True)
        self.frame = new.astype({"replication": np.int64, "value": float})
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp(os.getpid())
        try:
            if self.fmt == "csv":
                self.frame.to_csv(tmp, index=False)
            else:
                self.frame.to_parquet(tmp, index=False)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid() or os.name != "posix":  # on Windows os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: leave the file alone
    return True


# ============================================================================================== attribution
Lever = str | tuple[str, ...]


@dataclass
class Attribution:
    """Shapley attribution of the gap ``metric(all levers aligned) - metric(siloed)`` to the levers.

    ``table``: ``lever``, ``fields``, ``shapley`` (mean over replications), ``std``, ``n``, ``ci_low``,
    ``ci_high``, ``half_width`` (95 % t interval across replications), ``share`` (of the mean total gap).
    ``gap``: the same statistics for the total gap, plus ``siloed_mean`` and ``all_levers_mean`` (the metric
    with no lever and with every attributed lever switched). ``per_replication``: one row per replication, one column
    per lever. ``runs``: every coalition's KPIs (``coalition``, ``size``, ``replication``, ``metric``, ``value``).
    """

    metric: str
    table: pd.DataFrame
    gap: dict[str, float]
    per_replication: pd.DataFrame
    runs: pd.DataFrame
    exact: bool
    permutations: int | None
    n_replications: int
    seed: int | Sequence[int]
    levers: tuple[str, ...]
    _weights: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    _coalitions: tuple[frozenset[int], ...] = field(repr=False, default=())

    def for_metric(self, metric: str) -> Attribution:
        """The same attribution for another KPI, from the stored coalition runs (no new simulation)."""
        return _attribution_from_runs(
            metric,
            self.runs,
            self._coalitions,
            self._weights,
            self.levers,
            self.table["fields"].tolist(),
            exact=self.exact,
            permutations=self.permutations,
            n=self.n_replications,
            seed=self.seed,
        )


def attribute(
    siloed: ScenarioLike,
    aligned: ScenarioLike,
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    *,
    metric: str = "profit",
    levers: Sequence[Lever] | None = None,
    exact: bool | None = None,
    permutations: int = 24,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    progress: bool | None = None,
    cache: CacheLike = None,
    _runner: Any = None,
) -> Attribution:
    """Shapley values of the organisation levers for the siloed -> aligned gap in ``metric``.

    A coalition S is ``siloed`` with the levers in S set to ``aligned``'s values. ``levers`` defaults to
    `simfunnel.LEVERS`; an item may be a tuple of fields moved together (``("handoff", "pass_context")``).
    Exact Shapley (all 2^k coalitions) when there are at most 4 levers (or ``exact=True``); otherwise
    ``permutations`` random orders (24 by default: 12 drawn from the seed's permutation stream plus their
    reverses, antithetic pairs that cancel much of the order noise). Each distinct coalition scenario is run
    once per replication, replication ``i`` with seed child ``i`` (common random numbers). The Shapley value is
    computed per replication from that replication's coalition results, then averaged with a 95 % t interval
    across replications; per replication the values add up exactly to the gap (efficiency).
    """
    n = _check_n(n)
    lo = _as_scenario(siloed)
    hi = _as_scenario(aligned)
    players = list(LEVERS if levers is None else levers)
    if not players:
        raise ValueError("attribute needs at least one lever")
    groups: list[tuple[str, ...]] = [(p,) if isinstance(p, str) else tuple(p) for p in players]
    known = set(Organisation.model_fields)
    for g in groups:
        for f in g:
            if f not in known:
                raise ValueError(f"unknown lever {f!r}; levers are organisation fields: {', '.join(LEVERS)}")
    flat = [f for g in groups for f in g]
    if len(set(flat)) != len(flat):
        raise ValueError(f"a lever appears twice in {players}")
    names = tuple("+".join(g) for g in groups)
    _warn_outside_levers(lo, hi, set(flat))
    k = len(groups)
    use_exact = k <= 4 if exact is None else bool(exact)
    root = root_seed(seed)
    if use_exact:
        coalitions, weights = _exact_weights(k)
        n_perm = None
    else:
        if permutations < 2 or permutations % 2:
            raise ValueError(f"permutations must be an even number >= 2 (antithetic pairs), got {permutations}")
        rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, PERMUTATION_KEY)))
        orders = []
        for _ in range(permutations // 2):
            perm = rng.permutation(k)
            orders += [perm, perm[::-1]]
        coalitions, weights = _permutation_weights(k, orders)
        n_perm = permutations

    # Distinct scenarios: levers whose aligned value equals the siloed one change nothing.
    def overrides_of(c: frozenset[int]) -> dict[str, Any]:
        out = {}
        for j in sorted(c):
            for f in groups[j]:
                v = getattr(hi.organisation, f)
                if v != getattr(lo.organisation, f):
                    out[f"organisation.{f}"] = v
        return out

    scen_keys: dict[str, int] = {}
    points: list[_Point] = []
    coalition_point: list[int] = []
    for c in coalitions:
        ov = overrides_of(c)
        key = json.dumps(ov, sort_keys=True, default=repr)
        if key not in scen_keys:
            scen_keys[key] = len(points)
            points.append(_Point(len(points), {}, lo.with_overrides(ov) if ov else lo))
        coalition_point.append(scen_keys[key])
    with executor_scope(
        executor, workers=workers, address=address, client=client, progress=progress, runner=_runner
    ) as ex:
        outcomes = _execute(points, range(n), root, ex, desc="shapley", cache=cache)
    failed = [(key, payload) for key, (ok, payload) in outcomes.items() if not ok]
    if failed:
        (p, r), msg = sorted(failed)[0]
        raise RuntimeError(f"attribute: {len(failed)} coalition run(s) failed; first (replication {r}): {msg}")
    rows = []
    for ci, c in enumerate(coalitions):
        label = " + ".join(names[j] for j in sorted(c)) or "(siloed)"
        for r in range(n):
            for m, v in outcomes[(coalition_point[ci], r)][1].items():
                rows.append((ci, label, len(c), r, m, v))
    runs = pd.DataFrame(rows, columns=["coalition_id", "coalition", "size", "replication", "metric", "value"])
    runs = runs.astype({"coalition_id": np.int64, "size": np.int64, "replication": np.int64, "value": float})
    fields_col = [", ".join(g) for g in groups]
    return _attribution_from_runs(
        metric,
        runs,
        tuple(coalitions),
        weights,
        names,
        fields_col,
        exact=use_exact,
        permutations=n_perm,
        n=n,
        seed=root.entropy,
    )


def _exact_weights(k: int) -> tuple[list[frozenset[int]], np.ndarray]:
    """All 2^k coalitions and the (k x 2^k) matrix W with phi = W @ v (classic Shapley weights)."""
    coalitions = [frozenset(j for j in range(k) if mask >> j & 1) for mask in range(2**k)]
    index = {c: i for i, c in enumerate(coalitions)}
    w = np.zeros((k, len(coalitions)))
    for i in range(k):
        for c in coalitions:
            if i in c:
                continue
            s = len(c)
            weight = math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
            w[i, index[c | {i}]] += weight
            w[i, index[c]] -= weight
    return coalitions, w


def _permutation_weights(k: int, orders: Sequence[np.ndarray]) -> tuple[list[frozenset[int]], np.ndarray]:
    """Coalitions on the given orders' prefixes and W with phi = mean over orders of marginal contributions."""
    coalitions: list[frozenset[int]] = []
    index: dict[frozenset[int], int] = {}

    def idx(c: frozenset[int]) -> int:
        if c not in index:
            index[c] = len(coalitions)
            coalitions.append(c)
        return index[c]

    entries: list[tuple[int, int, float]] = []
    for order in orders:
        prefix: frozenset[int] = frozenset()
        for j in order:
            before = idx(prefix)
            prefix = prefix | {int(j)}
            entries.append((int(j), idx(prefix), 1.0))
            entries.append((int(j), before, -1.0))
    w = np.zeros((k, len(coalitions)))
    for i, c, s in entries:
        w[i, c] += s / len(orders)
    return coalitions, w


def _attribution_from_runs(
    metric: str,
    runs: pd.DataFrame,
    coalitions: Sequence[frozenset[int]],
    weights: np.ndarray,
    names: Sequence[str],
    fields_col: Sequence[str],
    *,
    exact: bool,
    permutations: int | None,
    n: int,
    seed: Any,
) -> Attribution:
    sub = runs[runs["metric"] == metric]
    if sub.empty:
        raise KeyError(f"metric {metric!r} is not a KPI; known: {', '.join(dict.fromkeys(runs['metric']))}")
    v = sub.pivot(index="replication", columns="coalition_id", values="value")
    v = v.reindex(index=range(n), columns=range(len(coalitions))).to_numpy(dtype=float)  # (n x C)
    phi = v @ weights.T  # (n x k): Shapley values per replication
    full = coalitions.index(frozenset(range(len(names))))
    empty = coalitions.index(frozenset())
    gap_r = v[:, full] - v[:, empty]
    gap = mean_ci(gap_r)
    rows = []
    for j, name in enumerate(names):
        s = mean_ci(phi[:, j])
        rows.append(
            {
                "lever": name,
                "fields": fields_col[j],
                **s,
                "share": s["mean"] / gap["mean"] if gap["mean"] != 0 else math.nan,
            }
        )
    table = pd.DataFrame(
        rows, columns=["lever", "fields", "mean", "std", "n", "ci_low", "ci_high", "half_width", "share"]
    )
    table = table.rename(columns={"mean": "shapley"})
    per_rep = pd.DataFrame(phi, columns=list(names))
    per_rep.insert(0, "replication", np.arange(n, dtype=np.int64))
    per_rep["gap"] = gap_r
    gap = {**gap, "siloed_mean": float(np.nanmean(v[:, empty])), "all_levers_mean": float(np.nanmean(v[:, full]))}
    return Attribution(
        metric=metric,
        table=table,
        gap=gap,
        per_replication=per_rep,
        runs=runs,
        exact=exact,
        permutations=permutations,
        n_replications=n,
        seed=seed,
        levers=tuple(names),
        _weights=weights,
        _coalitions=tuple(coalitions),
    )


def _warn_outside_levers(lo: Scenario, hi: Scenario, lever_fields: set[str]) -> None:
    a, b = lo.model_dump(), hi.model_dump()
    for d in (a, b):
        d.pop("name", None)
        d.pop("description", None)
        d["organisation"] = {k: v for k, v in d["organisation"].items() if k not in lever_fields}
    diff = sorted(_diff_paths(a, b))
    if diff:
        warnings.warn(
            f"attribute: the aligned scenario also differs in {', '.join(diff[:8])}"
            f"{' ...' if len(diff) > 8 else ''}; these are not among the attributed levers and stay at the "
            "siloed values in every coalition",
            RuntimeWarning,
            stacklevel=3,
        )


def _diff_paths(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += _diff_paths(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else str(k))
        return out
    return [] if a == b else [prefix]


# ============================================================================================== budget
@dataclass
class BudgetResult:
    """Result of `optimize_budget`: the best shares found, the objective there, and every evaluated split.

    ``table``: one row per evaluated split: ``candidate``, ``stage`` (``current``, ``coarse``, ``refine 1``,
    ...), one column per budget item (its share), then ``mean``, ``std``, ``n``, ``ci_low``, ``ci_high``,
    ``half_width`` of the objective. ``runs``: ``candidate``, ``replication``, ``metric``, ``value`` for all KPIs.
    """

    objective: str
    maximize: bool
    best_shares: dict[str, float]
    mean: float
    std: float
    ci_low: float
    ci_high: float
    half_width: float
    current_shares: dict[str, float]
    current_mean: float
    table: pd.DataFrame
    runs: pd.DataFrame
    errors: pd.DataFrame
    n_replications: int
    seed: int | Sequence[int]
    items: tuple[str, ...]
    best_candidate: int = 0

    def kpis(self, candidate: int | None = None, metrics: Sequence[str] | None = None) -> pd.Series:
        """Mean KPIs of one evaluated split (default: the best)."""
        c = self.best_candidate if candidate is None else candidate
        sub = self.runs[self.runs["candidate"] == c]
        means = sub.groupby("metric", sort=False)["value"].mean()
        return means if metrics is None else means.reindex(list(metrics))


class _BudgetEvaluator:
    """Evaluates share vectors with CRN, caching each distinct split (shared by the searches of best_splits)."""

    def __init__(
        self, base: Scenario, n: int, root: np.random.SeedSequence, ex: TaskExecutor, cache: CacheLike = None
    ) -> None:
        self.base = base
        self.cache = cache
        self.n = n
        self.root = root
        self.ex = ex
        self.items = (*base.marketing.channels, *NON_CHANNEL_SHARES)
        self.keys: dict[tuple[float, ...], int] = {}
        self.shares: list[dict[str, float]] = []
        self.stage: list[str] = []
        self.points: list[_Point] = []
        self.outcomes: dict[tuple[int, int], Outcome] = {}

    def key(self, shares: Mapping[str, float]) -> tuple[float, ...]:
        return tuple(round(float(shares[i]), 9) for i in self.items)

    def evaluate(self, candidates: Sequence[Mapping[str, float]], stage: str) -> list[int]:
        ids, new = [], []
        for s in candidates:
            k = self.key(s)
            if k not in self.keys:
                idx = len(self.shares)
                self.keys[k] = idx
                self.shares.append({i: float(s[i]) for i in self.items})
                self.stage.append(stage)
                try:
                    scn = self.base.with_overrides({"marketing.shares": self.shares[idx]})
                    self.points.append(_Point(idx, {}, scn))
                except Exception as exc:  # noqa: BLE001
                    self.points.append(_Point(idx, {}, None, f"{type(exc).__name__}: {exc}"))
                new.append(self.points[idx])
            ids.append(self.keys[k])
        if new:
            self.outcomes.update(
                _execute(new, range(self.n), self.root, self.ex, desc=f"budget {stage}", cache=self.cache)
            )
        return ids

    def score(self, idx: int, objective: str, maximize: bool) -> float:
        p = self.points[idx]
        if p.error is not None:
            return -math.inf
        vals = []
        for r in range(self.n):
            ok, payload = self.outcomes[(idx, r)]
            if not ok:
                return -math.inf
            if objective not in payload:
                raise KeyError(f"objective {objective!r} is not a KPI; known: {', '.join(payload)}")
            vals.append(payload[objective])
        m = mean_ci(vals)["mean"]
        if math.isnan(m):
            return -math.inf
        return m if maximize else -m


def _coarse_grid(base: Scenario, step: float, items: Sequence[str]) -> list[dict[str, float]]:
    """Splits over (acquisition total, nurture, retention[, training]) on multiples of ``step`` summing to 1;
    the acquisition total is split over channels in the scenario's current proportions. Training is held at 0
    when the scenario does not train reps (the model would spread that share over the others anyway)."""
    k = round(1 / step)
    if k < 1 or abs(k * step - 1) > 1e-9:
        raise ValueError(f"step must divide 1 (0.1, 0.05, 0.25, ...), got {step}")
    channels = list(base.marketing.channels)
    cur = base.marketing.shares
    acq_now = sum(cur[c] for c in channels)
    mix = {c: (cur[c] / acq_now if acq_now > 0 else 1 / len(channels)) for c in channels}
    extra = [i for i in NON_CHANNEL_SHARES if i != "training" or base.organisation.rep_training]
    out = []
    for combo in itertools.product(range(k + 1), repeat=len(extra)):
        if sum(combo) > k:
            continue
        parts = {name: units / k for name, units in zip(extra, combo, strict=True)}
        acq = (k - sum(combo)) / k
        shares = {c: acq * mix[c] for c in channels}
        shares.update({i: parts.get(i, 0.0) for i in NON_CHANNEL_SHARES})
        out.append(_normalise(shares, items))
    return out


def _normalise(shares: Mapping[str, float], items: Sequence[str]) -> dict[str, float]:
    s = {i: max(0.0, round(float(shares[i]), 12)) for i in items}
    total = sum(s.values())
    return {i: v / total for i, v in s.items()} if total > 0 else s


def _neighbours(shares: Mapping[str, float], movable: Sequence[str], delta: float) -> list[dict[str, float]]:
    out = []
    for a in movable:
        if shares[a] < delta - 1e-12:
            continue
        for b in movable:
            if a == b:
                continue
            s = dict(shares)
            s[a] = max(0.0, s[a] - delta)
            s[b] = s[b] + delta
            out.append(_normalise(s, list(shares)))
    return out


def _search(
    ev: _BudgetEvaluator,
    objective: str,
    maximize: bool,
    step: float,
    refine: bool,
    delta: float,
    max_rounds: int,
) -> tuple[int, list[int]]:
    """Coarse grid, then best-improvement moves of ``delta`` between pairs of items; returns (best, order)."""
    base = ev.base
    current = ev.evaluate([base.marketing.shares], "current")[0]
    coarse = ev.evaluate(_coarse_grid(base, step, ev.items), "coarse")
    pool = [current, *coarse]
    best = max(pool, key=lambda i: (ev.score(i, objective, maximize), -i))
    if refine:
        movable = [i for i in ev.items if i != "training" or base.organisation.rep_training]
        for rnd in range(1, max_rounds + 1):
            cand = ev.evaluate(_neighbours(ev.shares[best], movable, delta), f"refine {rnd}")
            nxt = max(cand, key=lambda i: (ev.score(i, objective, maximize), -i)) if cand else best
            if ev.score(nxt, objective, maximize) > ev.score(best, objective, maximize):
                best = nxt
            else:
                break
    return best, pool


def _budget_result(ev: _BudgetEvaluator, best: int, objective: str, maximize: bool) -> BudgetResult:
    runs, _, errors, _ = _tables(ev.points, ev.outcomes, range(ev.n), [])
    runs = runs.rename(columns={"point": "candidate"})
    errors = errors.rename(columns={"point": "candidate"})
    obj = runs[runs["metric"] == objective]
    by_candidate = dict(iter(obj.groupby("candidate", sort=True)["value"]))
    empty = pd.Series([], dtype=float)
    rows = []
    for idx, shares in enumerate(ev.shares):
        stats = mean_ci(by_candidate.get(idx, empty))
        rows.append({"candidate": idx, "stage": ev.stage[idx], **shares, **stats})
    table = pd.DataFrame(rows)
    table = table.astype({"candidate": np.int64, "n": np.int64})
    b = table.iloc[best]
    cur = table.iloc[0]
    return BudgetResult(
        objective=objective,
        maximize=maximize,
        best_shares=dict(ev.shares[best]),
        mean=float(b["mean"]),
        std=float(b["std"]),
        ci_low=float(b["ci_low"]),
        ci_high=float(b["ci_high"]),
        half_width=float(b["half_width"]),
        current_shares=dict(ev.shares[0]),
        current_mean=float(cur["mean"]),
        table=table,
        runs=runs,
        errors=errors,
        n_replications=ev.n,
        seed=ev.root.entropy,
        items=tuple(ev.items),
        best_candidate=best,
    )


def optimize_budget(
    scenario: ScenarioLike,
    objective: str = "profit",
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    *,
    step: float = 0.1,
    refine: bool = True,
    delta: float = 0.05,
    max_rounds: int = 20,
    maximize: bool = True,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    progress: bool | None = None,
    cache: CacheLike = None,
    _runner: Any = None,
) -> BudgetResult:
    """Search the budget shares (``marketing.shares``: channels + nurture, retention, training) for the best
    mean ``objective`` (``"profit"``, ``"revenue"``, ``"mqls"`` or any KPI).

    1. The current split and a coarse grid over (acquisition total, nurture, retention, training) in steps of
       ``step`` (channels keep their current proportions; training stays 0 without the rep-training lever).
    2. If ``refine``: from the best point, move ``delta`` of budget between every ordered pair of items
       (channels individually included) and go to the best neighbour while it improves the mean, at most
       ``max_rounds`` times.

    Every split runs ``n`` replications with common random numbers (replication ``i`` = seed child ``i``), so
    the ranking is paired. The best of many noisy means is optimistic (winner's curse): confirm the chosen
    split with a fresh seed (`compare`) before quoting its value.
    """
    n = _check_n(n)
    base = _as_scenario(scenario)
    root = root_seed(seed)
    with executor_scope(
        executor, workers=workers, address=address, client=client, progress=progress, runner=_runner
    ) as ex:
        ev = _BudgetEvaluator(base, n, root, ex, cache=cache)
        best, _ = _search(ev, objective, maximize, step, refine, delta, max_rounds)
    return _budget_result(ev, best, objective, maximize)


def best_splits(
    scenario: ScenarioLike,
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    *,
    step: float = 0.1,
    refine: bool = True,
    delta: float = 0.05,
    max_rounds: int = 20,
    kpis: Sequence[str] = ("mqls", "sqls", "won", "revenue", "profit"),
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    progress: bool | None = None,
    cache: CacheLike = None,
    _runner: Any = None,
) -> pd.DataFrame:
    """The MQL-optimal and the profit-optimal budget split side by side with the current one.

    Rows: one per budget item (its share), then the mean of each of ``kpis``; columns ``current``,
    ``mql_optimal``, ``profit_optimal``. Both searches share their evaluations (same seed, CRN)."""
    n = _check_n(n)
    base = _as_scenario(scenario)
    root = root_seed(seed)
    with executor_scope(
        executor, workers=workers, address=address, client=client, progress=progress, runner=_runner
    ) as ex:
        ev = _BudgetEvaluator(base, n, root, ex, cache=cache)
        best_mql, _ = _search(ev, "mqls", True, step, refine, delta, max_rounds)
        best_profit, _ = _search(ev, "profit", True, step, refine, delta, max_rounds)
    res = _budget_result(ev, best_profit, "profit", True)
    cols = {"current": 0, "mql_optimal": best_mql, "profit_optimal": best_profit}
    out = {}
    for col, idx in cols.items():
        k = res.kpis(idx, kpis)
        out[col] = [*(ev.shares[idx][i] for i in ev.items), *k.to_numpy(dtype=float)]
    frame = pd.DataFrame(out, index=pd.Index([*ev.items, *kpis], name="item"))
    return frame


__all__ = [
    "Attribution",
    "BudgetResult",
    "Experiment",
    "attribute",
    "best_splits",
    "child_seed",
    "compare",
    "mean_ci",
    "optimize_budget",
    "replicate",
    "root_seed",
    "sweep",
    "t_quantile_975",
]
