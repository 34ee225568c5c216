"""Experiment results and the core every experiment shares: run points x replications, then tabulate.

A *point* is one scenario of an experiment (a scenario of `compare`, a grid point of `sweep`, a coalition of
`attribute`, a split of `optimize_budget`). `execute` runs every (point, replication) - replication ``i`` of every
point with seed child ``i`` (common random numbers) - on an executor, reading and filling the result cache;
`tables` turns the outcomes into tidy frames, sorted by (point, replication), so they are bit-identical on every
executor; `finish` builds the `Experiment` and raises `ExperimentError` when no run at all succeeded.

Tables are tidy pandas frames with stable column names (pandas 2.2 and 3 alike):

- ``Experiment.runs``: key column(s) (``scenario``; or ``point`` + one column per swept field), ``replication``,
  ``metric``, ``value``;
- ``Experiment.summary``: key column(s), ``metric``, ``mean``, ``std``, ``n``, ``ci_low``, ``ci_high``, ``half_width``;
- ``Experiment.diffs`` (compare): see `simfunnel.experiments.replicate.DIFF_COLUMNS`;
- ``Experiment.errors``: key column(s), ``error``, ``failed_replications``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.errors import ExperimentError, ScenarioError
from simfunnel.experiments.cache import CacheLike, resolve_cache
from simfunnel.experiments.draws import ParameterDraws
from simfunnel.experiments.executors import Outcome, Task, TaskExecutor
from simfunnel.experiments.seeds import child_seed, seed_from_parts
from simfunnel.experiments.statistics import half_widths
from simfunnel.scenario import Scenario, load_scenario

ScenarioLike = Scenario | str | os.PathLike
"""A scenario or the path of a scenario TOML file."""

DEFAULT_N = 10
"""Replications when ``n`` is not given (also the first batch of a precision run)."""

RUN_COLUMNS = ("replication", "metric", "value")
SUMMARY_COLUMNS = ("metric", "mean", "std", "n", "ci_low", "ci_high", "half_width")

__all__ = [
    "DEFAULT_N",
    "Experiment",
    "Point",
    "ScenarioLike",
    "as_scenario",
    "check_n",
    "execute",
    "finish",
    "summarize",
    "tables",
]


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
    parameters: ParameterDraws | None = None

    @property
    def parameter_uncertainty(self) -> str | None:
        """None without parameter draws; else the line saying the intervals include parameter uncertainty."""
        if self.parameters is None:
            return None
        return f"intervals include parameter uncertainty: {self.parameters.describe()}, one per replication"

    def draw_for(self, replication: int) -> dict[str, Any]:
        """The drawn field values replication ``replication`` ran with ({} without draws):
        ``simulate(scenario.with_overrides(exp.draw_for(i)), exp.seed_for(i))`` reproduces that run."""
        if self.parameters is None:
            return {}
        root = seed_from_parts(self.seed, self.spawn_key)
        return self.parameters.overrides(int(self.parameters.rows(root, [replication])[0]))

    def seed_for(self, replication: int) -> np.random.SeedSequence:
        """The SeedSequence replication ``replication`` ran with: ``simulate(scenario, exp.seed_for(i))``
        reproduces that run."""
        return child_seed(seed_from_parts(self.seed, self.spawn_key), replication)

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
class Point:
    """One scenario of an experiment: its index (the ``point`` key), labels for the tables, and its scenario -
    or the error that prevented building it (then it is reported in ``.errors`` and never run)."""

    index: int
    labels: dict[str, Any]
    scenario: Scenario | None = None
    error: str | None = None


def check_n(n: Any) -> int:
    """``n`` (replications) as an int >= 1, else ValueError."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n (replications) must be an integer >= 1, got {n!r}")
    return int(n)


def as_scenario(scenario: ScenarioLike) -> Scenario:
    """A Scenario as is, a path loaded with `load_scenario`."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | os.PathLike):
        return load_scenario(scenario)
    raise TypeError(f"expected a Scenario or a path to a scenario TOML file, got {type(scenario).__name__}")


def execute(
    points: Sequence[Point],
    replications: Sequence[int],
    root: np.random.SeedSequence,
    ex: TaskExecutor,
    desc: str,
    skip: Mapping[tuple[int, int], Outcome] | None = None,
    on_done: Callable[[tuple[int, int], Outcome], None] | None = None,
    cache: CacheLike = None,
    draws: ParameterDraws | None = None,
) -> dict[tuple[int, int], Outcome]:
    """Run every (valid point, replication) not in ``skip``; replication i of every point gets child i and, with
    ``draws``, the same parameter draw (`simfunnel.experiments.draws`; a draw that makes a point invalid fails
    that run with its message).

    With a ``cache`` (`simfunnel.experiments.cache`; only for the model's own runner), a task whose (scenario, seed,
    model version) was run before is served from disk - reported through ``on_done`` like a finished run - and
    every newly finished run is stored."""
    skip = skip or {}
    outcomes = dict(skip)
    tasks, invalid = _tasks(points, replications, root, skip, draws)
    for key, message in invalid.items():
        outcomes[key] = (False, message)
        if on_done is not None:
            on_done(key, (False, message))
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


def _tasks(
    points: Sequence[Point],
    replications: Sequence[int],
    root: np.random.SeedSequence,
    skip: Mapping[tuple[int, int], Outcome],
    draws: ParameterDraws | None,
) -> tuple[list[Task], dict[tuple[int, int], str]]:
    """(the tasks to run, error message of each (point, replication) whose drawn scenario is invalid)."""
    reps = list(replications)
    rows = dict(zip(reps, draws.rows(root, reps).tolist(), strict=True)) if draws is not None and reps else {}
    tasks: list[Task] = []
    invalid: dict[tuple[int, int], str] = {}
    for p in points:
        if p.scenario is None:
            continue
        drawn: dict[int, Scenario | str] = {}
        for r in reps:
            if (p.index, r) in skip:
                continue
            scenario: Scenario | str = p.scenario
            if draws is not None:
                row = rows[r]
                if row not in drawn:
                    try:
                        drawn[row] = draws.apply(p.scenario, row)
                    except ScenarioError as exc:
                        drawn[row] = f"{type(exc).__name__}: {exc}"
                scenario = drawn[row]
            if isinstance(scenario, str):
                invalid[(p.index, r)] = scenario
            else:
                tasks.append(Task((p.index, r), scenario, child_seed(root, r)))
    return tasks, invalid


def tables(
    points: Sequence[Point],
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
    summary = summarize(runs)
    errors = pd.DataFrame(error_rows, columns=["point", "error", "failed_replications"])
    errors = errors.astype({"point": np.int64, "failed_replications": np.int64})
    runs = _with_labels(runs, by_point, label_columns)
    summary = _with_labels(summary, by_point, label_columns)
    errors = _with_labels(errors, by_point, label_columns)
    return runs, summary, errors, metrics


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (point, metric): mean, std, n and the 95 % t interval, in the order the runs list them."""
    if runs.empty:
        return pd.DataFrame({c: pd.Series([], dtype=float) for c in ("point", *SUMMARY_COLUMNS)})
    g = runs.groupby(["point", "metric"], sort=False)["value"]
    out = g.agg(["mean", "std", "count"]).reset_index().rename(columns={"count": "n"})
    out["n"] = out["n"].astype(np.int64)
    out.loc[out["n"] < 2, "std"] = np.nan
    hw = half_widths(out["std"], out["n"])
    out["ci_low"] = out["mean"] - hw
    out["ci_high"] = out["mean"] + hw
    out["half_width"] = hw
    return out[["point", *SUMMARY_COLUMNS]]


def _with_labels(frame: pd.DataFrame, by_point: Mapping[int, Point], columns: Sequence[str]) -> pd.DataFrame:
    """Insert the label columns of each point right after ``point``."""
    frame = frame.copy()
    pos = list(frame.columns).index("point") + 1
    for offset, col in enumerate(columns):
        values = [by_point[p].labels.get(col) for p in frame["point"]]
        frame.insert(pos + offset, col, pd.Series(values, index=frame.index, dtype=object).infer_objects())
    return frame


def finish(
    kind: str,
    points: Sequence[Point],
    outcomes: Mapping[tuple[int, int], Outcome],
    n: int,
    root: np.random.SeedSequence,
    keys: Sequence[str],
    keep_point: bool,
    **extra: Any,
) -> Experiment:
    """The `Experiment` of these outcomes. Some points failed: a RuntimeWarning and rows in ``.errors``. No point
    completed at all: `ExperimentError` naming the first failure (its ``errors`` attribute holds the table)."""
    label_columns = [k for k in keys if k != "point"]
    runs, summary, errors, metrics = tables(points, outcomes, range(n), label_columns)
    if not keep_point:
        runs, summary, errors = (f.drop(columns="point") for f in (runs, summary, errors))
    if not errors.empty:
        what = "scenario" if kind != "sweep" else "point"
        first = errors.iloc[0]
        if runs.empty:
            raise ExperimentError(
                f"{kind}: every {what} failed ({len(errors)} of {len(points)}), nothing to tabulate; "
                f"first: {first['error']}",
                errors,
            )
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
