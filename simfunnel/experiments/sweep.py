"""`sweep`: a grid of scenario overrides, every point ``n`` replications with common random numbers, resumable
from a checkpoint (`simfunnel.experiments.checkpoint`).

Before anything runs, every grid field and every point is validated: a field that does not exist fails at once
(`ScenarioError` with a did-you-mean); a grid none of whose points is a valid scenario fails at once too
(`ExperimentError` with the error table). A grid where only some points are invalid runs the others and reports
those in ``.errors``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Unpack

import numpy as np

from simfunnel.errors import ScenarioError
from simfunnel.experiments.checkpoint import Checkpoint, point_key
from simfunnel.experiments.draws import ParameterDraws, ParametersLike, as_draws
from simfunnel.experiments.executors import Outcome
from simfunnel.experiments.options import ExecutionKwargs, RunOptions, resolve_options
from simfunnel.experiments.runs import DEFAULT_N, Experiment, Point, ScenarioLike, as_scenario, check_n, execute, finish
from simfunnel.experiments.seeds import SeedLike, root_seed
from simfunnel.scenario import Scenario

Grid = Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]
"""``{"dotted.field": [values...], ...}`` or a list of override dicts."""

__all__ = ["Grid", "check_draws_against_grid", "check_grid_fields", "grid_points", "sweep", "sweep_points"]


def sweep(
    scenario: ScenarioLike,
    grid: Grid,
    n: int = DEFAULT_N,
    seed: SeedLike = None,
    *,
    checkpoint: str | os.PathLike | None = None,
    parameters: ParametersLike = None,
    options: RunOptions | None = None,
    **execution: Unpack[ExecutionKwargs],
) -> Experiment:
    """Run every point of a grid ``{"dotted.field": [values...], ...}`` (full product, first field slowest) or of
    an explicit list of override dicts, ``n`` replications each; replication ``i`` of every point gets seed
    child ``i`` (common random numbers across points).

    An unknown field raises `ScenarioError` before any run. A point whose overrides are invalid or whose runs
    fail is reported in ``.errors`` with its message; the other points complete. When no point completes (all
    invalid: before any run), `ExperimentError` with the error table in ``.errors`` (after the checkpoint of
    the finished points is written).
    ``checkpoint="sweep.parquet"`` (or ``.csv``) saves every finished point as soon as it completes (written to
    a temporary file, then renamed: never half-written); rerunning with the same checkpoint reuses the runs
    stored there (same point scenario, seed and replication) and only runs the rest, so an interrupted sweep
    loses nothing and duplicates nothing. With ``seed=None`` a rerun adopts the seed stored in the checkpoint.
    ``parameters``: a parameter-sample file or table (`simfunnel.experiments.draws`): replication ``i`` of every
    point runs with the same draw, so the intervals include parameter uncertainty; a column that is also a grid
    field is refused, and a draw that makes a point invalid is reported in ``.errors`` like an invalid point.
    ``options`` (or the keywords ``executor=``, ``workers=``, ...): see `RunOptions`.
    """
    opts = resolve_options(options, execution, "sweep")
    n = check_n(n)
    base = as_scenario(scenario)
    overrides_list, fields = grid_points(grid)
    points = sweep_points(base, overrides_list, fields)
    draws = as_draws(parameters)
    ck = Checkpoint(checkpoint) if checkpoint is not None else None
    if ck is not None and seed is None:
        seed = ck.stored_seed()
    root = root_seed(seed)
    if draws is not None:
        check_draws_against_grid(draws, base, fields, root, n)
    reps = range(n)
    skip: dict[tuple[int, int], Outcome] = {}
    on_done = None
    if ck is not None:
        skip, on_done = _resume(ck, root, points, overrides_list, reps, draws)
    outcomes: dict[tuple[int, int], Outcome] = {}
    if any(p.scenario is not None for p in points):  # else finish raises, with no executor ever opened
        with opts.scope() as ex:
            outcomes = execute(points, reps, root, ex, desc="sweep", skip=skip, on_done=on_done, cache=opts.cache,
                               draws=draws)  # fmt: skip
    return finish("sweep", points, outcomes, n, root, ("point", *fields), keep_point=True, fields=tuple(fields),
                  parameters=draws)  # fmt: skip


def check_draws_against_grid(
    draws: ParameterDraws, base: Scenario, fields: Sequence[str], root: np.random.SeedSequence, n: int
) -> None:
    """Refuse, before any run, draws whose columns are not numeric fields of ``base``, that set a swept field
    (the grid would be overwritten), or whose values the first ``n`` replications use make ``base`` invalid."""
    draws.check({"base": base})
    clash = [f for f in draws.fields if f in fields]
    if clash:
        raise ScenarioError(draws.source, f"column {clash[0]!r}",
                            "is also a swept field: the draws would overwrite the grid's values; drop one of them")  # fmt: skip
    draws.check_values({"base": base}, root, n)


def sweep_points(base: Scenario, overrides_list: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> list[Point]:
    """The points of a sweep, each validated (`Scenario.with_overrides`); an invalid one keeps its error.

    Raises `ScenarioError` for a field that ``base`` does not have (with a did-you-mean)."""
    check_grid_fields(base, {f: [ov[f] for ov in overrides_list if f in ov] for f in fields})
    points: list[Point] = []
    for i, ov in enumerate(overrides_list):
        labels = {"point": i, **{f: ov.get(f) for f in fields}}
        try:
            points.append(Point(i, labels, base.with_overrides(ov)))
        except Exception as exc:  # noqa: BLE001 - ScenarioError and anything else: recorded, others go on
            points.append(Point(i, labels, None, f"{type(exc).__name__}: {exc}"))
    return points


def check_grid_fields(base: Scenario, grid: Mapping[str, Sequence[Any]], source: str = "sweep grid") -> None:
    """Refuse at once (`ScenarioError` from ``source``, with a did-you-mean) a grid field that ``base`` does not
    have and that no override can add (the CLI's ``--grid`` and `sweep` share this check).

    Values out of range are not refused here: such points fail in the sweep and are reported with the others."""
    data = base.model_dump(by_alias=True)
    for field, values in grid.items():
        if _has_path(data, field) or not values:
            continue
        try:
            base.with_overrides({field: values[0]})
        except ScenarioError as exc:
            raise ScenarioError(source, exc.field or field, exc.message) from exc


def _has_path(data: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


def _resume(
    ck: Checkpoint,
    root: np.random.SeedSequence,
    points: Sequence[Point],
    overrides_list: Sequence[Mapping[str, Any]],
    reps: range,
    draws: ParameterDraws | None = None,
) -> tuple[dict[tuple[int, int], Outcome], Any]:
    """(runs already in the checkpoint, callback that saves each point as its last replication finishes); with
    ``draws`` the point keys include the draws' fingerprint, so runs without them are never reused."""
    tag = "" if draws is None else "+draws:" + draws.fingerprint()
    keys = {p.index: point_key(p.scenario) + tag for p in points if p.scenario is not None}
    stored = ck.load_runs(root)
    skip: dict[tuple[int, int], Outcome] = {}
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

    return skip, on_done


def grid_points(grid: Grid) -> tuple[list[dict[str, Any]], list[str]]:
    """(overrides of every point, swept fields) of a grid ``{field: values}`` (full product, first field slowest)
    or of an explicit list of override dicts."""
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
