"""`explore`: every policy in the same sampled worlds - the experiment behind "how sure are we?".

A *world* is one draw of the uncertain inputs (`simfunnel.schema.uncertainty`); a *policy* is one scenario
(e.g. siloed and aligned). Every policy runs in every world with ``n`` replications. Replication ``r`` of every
world and every policy gets seed child ``r`` (`simfunnel.experiments.seeds`): common random numbers across
policies, so the per-world difference is paired, and across worlds, as in `sweep`, so that for fixed seeds a
KPI is a function of the inputs alone and the Sobol/Morris estimators see no sampling noise of their own.

The runs go through the experiment layer's executors (`RunOptions`: serial, processes, Dask) and result cache;
tables are sorted by (world, policy, replication), so they are identical on every executor. With
``checkpoint=`` every finished (world, policy) is saved (`simfunnel.analysis.checkpoint`) and a rerun resumes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Unpack

import numpy as np
import pandas as pd

from simfunnel.analysis.checkpoint import ExploreCheckpoint
from simfunnel.analysis.design import WorldDesign, design_worlds, read_sample_file, sample_design
from simfunnel.errors import ExperimentError, FieldValueError, ScenarioError
from simfunnel.experiments.checkpoint import point_key
from simfunnel.experiments.executors import Outcome
from simfunnel.experiments.options import ExecutionKwargs, RunOptions, resolve_options
from simfunnel.experiments.runs import Point, ScenarioLike, as_scenario, check_n, execute
from simfunnel.experiments.seeds import SeedLike, child_seed, root_seed, seed_from_parts
from simfunnel.scenario import Scenario
from simfunnel.schema.uncertainty import UncertainInput, check_uncertainty, field_of_path, is_integer_field

__all__ = ["Exploration", "UncertaintyLike", "explore"]

UncertaintyLike = Mapping[str, UncertainInput | Mapping[str, Any]] | pd.DataFrame | str | os.PathLike | None
"""What ``uncertainty=`` accepts: None (the first scenario's ``[uncertainty]`` table), a mapping like that table,
a scenario TOML file (its table), a parameter-sample file (.csv/.parquet) or a DataFrame of draws."""


@dataclass
class Exploration:
    """Result of `explore`.

    ``results``: one row per (world, policy, replication): ``world``, one column per input, ``policy``,
    ``replication``, one column per KPI. ``worlds``: ``world`` and the input columns. ``errors``: ``world``,
    ``policy``, ``error``, ``failed_replications``. ``design``: the `WorldDesign` (for SALib)."""

    results: pd.DataFrame
    worlds: pd.DataFrame
    errors: pd.DataFrame
    design: WorldDesign
    policies: tuple[str, ...]
    baseline: str
    n_replications: int
    seed: int | Sequence[int]
    spawn_key: tuple[int, ...] = ()
    metrics: tuple[str, ...] = ()
    uncertainty: dict[str, UncertainInput] = field(default_factory=dict)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The uncertain inputs (dotted field paths), in design order."""
        return self.design.inputs

    def seed_for(self, replication: int) -> np.random.SeedSequence:
        """The seed of replication ``replication`` in every world and policy."""
        return child_seed(seed_from_parts(self.seed, self.spawn_key), replication)

    def outcome(self, metric: str = "profit") -> pd.DataFrame:
        """Mean of ``metric`` over replications: one row per world (index ``world``), one column per policy;
        NaN where a world failed for a policy."""
        if metric not in self.results.columns:
            raise KeyError(f"{metric!r} is not a KPI of this exploration; KPIs: {', '.join(self.metrics)}")
        table = self.results.groupby(["world", "policy"], sort=False)[metric].mean().unstack("policy")
        return table.reindex(index=self.worlds["world"], columns=list(self.policies))

    def difference(self, metric: str = "profit", policy: str | None = None, versus: str | None = None) -> pd.Series:
        """Per world, ``metric`` of ``policy`` minus ``versus`` (default: the first non-baseline policy minus
        the baseline), paired by world and seeds."""
        policy, versus = self.pair(policy, versus)
        out = self.outcome(metric)
        return (out[policy] - out[versus]).rename(f"{metric}: {policy} - {versus}")

    def pair(self, policy: str | None, versus: str | None) -> tuple[str, str]:
        """(policy, versus) with the defaults filled in and both names checked."""
        versus = versus or self.baseline
        if policy is None:
            others = [p for p in self.policies if p != versus]
            if not others:
                raise ValueError("a difference needs two policies")
            policy = others[0]
        for name in (policy, versus):
            if name not in self.policies:
                raise KeyError(f"{name!r} is not a policy of this exploration: {', '.join(self.policies)}")
        return policy, versus

    def sensitivity(
        self, metric: str = "profit", policy: str | None = None, versus: str | None = None, **kwargs: Any
    ) -> pd.DataFrame:
        """Global sensitivity of ``metric`` of ``policy`` (or of the difference to ``versus`` when given);
        see `simfunnel.analysis.sensitivity.sensitivity`."""
        from simfunnel.analysis.sensitivity import sensitivity

        return sensitivity(self, metric, policy=policy, versus=versus, **kwargs)

    def robustness(self, metric: str = "profit", **kwargs: Any) -> Any:
        """Regret, share of worlds beating the baseline, robust choice: `simfunnel.analysis.robustness`."""
        from simfunnel.analysis.robustness import robustness

        return robustness(self, metric, **kwargs)

    def discover(self, metric: str = "profit", policy: str | None = None, versus: str | None = None, **kw: Any) -> Any:
        """PRIM box of the worlds where ``policy`` does not beat ``versus``: `simfunnel.analysis.prim`."""
        from simfunnel.analysis.prim import discover

        return discover(self, metric, policy=policy, versus=versus, **kw)

    def evppi(self, metric: str = "profit", **kwargs: Any) -> pd.DataFrame:
        """Expected value of partial perfect information per input: `simfunnel.analysis.voi`."""
        from simfunnel.analysis.voi import evppi

        return evppi(self, metric, **kwargs)


def explore(
    scenarios: Mapping[str, ScenarioLike] | Sequence[ScenarioLike],
    uncertainty: UncertaintyLike = None,
    samples: int | None = 64,
    design: str = "sobol",
    n: int = 1,
    seed: SeedLike = None,
    *,
    baseline: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    options: RunOptions | None = None,
    **execution: Unpack[ExecutionKwargs],
) -> Exploration:
    """Run every policy in every sampled world, ``n`` replications each (common random numbers).

    ``scenarios``: ``{name: scenario or path}`` or a list (named by each scenario's ``name``); the first (or
    ``baseline``) is the baseline. ``uncertainty``: see `UncertaintyLike`. ``design``: "sobol" (Saltelli:
    ``samples * (k + 2)`` worlds; Sobol indices), "morris" (``samples * (k + 1)`` worlds; elementary effects)
    or "lhs" (``samples`` worlds); a parameter sample gives the worlds itself (its first ``samples`` rows).
    ``checkpoint="explore.parquet"`` (or .csv) saves finished points and resumes from them; with
    ``seed=None`` a rerun adopts the checkpoint's seed. ``options``: see `RunOptions`.
    A world whose values make a policy invalid is reported in ``.errors``; no run at all: `ExperimentError`."""
    opts = resolve_options(options, execution, "explore")
    n = check_n(n)
    policies = _policies(scenarios)
    names = tuple(policies)
    baseline = baseline or names[0]
    if baseline not in policies:
        raise KeyError(f"baseline {baseline!r} is not one of the policies: {', '.join(names)}")
    ck = ExploreCheckpoint(checkpoint) if checkpoint is not None else None
    if ck is not None and seed is None:
        seed = ck.stored_seed()
    root = root_seed(seed)
    first = policies[baseline]
    table, frame = _uncertainty(uncertainty, policies, baseline)
    if frame is not None:
        worlds_design = _checked(lambda: sample_design(frame, first, samples), "parameter sample")
    else:
        integer = {p: is_integer_field(*field_of_path(first, p)) for p in table}
        worlds_design = design_worlds(table, samples or 64, design, root, integer)
    worlds = worlds_design.values.copy()
    worlds.insert(0, "world", np.arange(len(worlds), dtype=np.int64))
    points = _points(worlds_design, policies)
    skip, on_done = _resume(ck, root, points, range(n)) if ck is not None else ({}, None)
    outcomes: dict[tuple[int, int], Outcome] = {}
    if any(p.scenario is not None for p in points):
        try:
            with opts.scope() as ex:
                outcomes = execute(points, range(n), root, ex, "explore", skip=skip, on_done=on_done, cache=opts.cache)
        finally:
            if ck is not None:
                ck.flush()
    results, errors, metrics = _tables(points, outcomes, n, worlds, names)
    _report_failures(errors, len(points))
    return Exploration(results, worlds, errors, worlds_design, names, baseline, n, root.entropy,
                       tuple(root.spawn_key), metrics, dict(table))  # fmt: skip


def _policies(scenarios: Mapping[str, ScenarioLike] | Sequence[ScenarioLike]) -> dict[str, Scenario]:
    if isinstance(scenarios, Mapping):
        out = {str(k): as_scenario(v) for k, v in scenarios.items()}
    else:
        out = {}
        for s in scenarios:
            sc = as_scenario(s)
            name = sc.name if sc.name not in out else f"{sc.name}#{len(out)}"
            out[name] = sc
    if not out:
        raise ValueError("explore needs at least one scenario (policy)")
    return out


def _checked(make: Any, what: str) -> Any:
    try:
        return make()
    except FieldValueError as exc:
        raise ScenarioError(what, exc.field, exc.message) from None


def _uncertainty(
    uncertainty: UncertaintyLike, policies: Mapping[str, Scenario], baseline: str
) -> tuple[dict[str, UncertainInput], pd.DataFrame | None]:
    """(the validated table, or a DataFrame of draws) from whatever ``uncertainty=`` was given."""
    first = policies[baseline]
    if isinstance(uncertainty, pd.DataFrame):
        return {}, uncertainty
    if isinstance(uncertainty, str | os.PathLike):
        path = Path(uncertainty)
        if path.suffix.lower() in (".csv", ".parquet", ".pq"):
            return {}, read_sample_file(path)
        table = _table_of_file(path)
    elif uncertainty is None:
        table = dict(first.uncertainty)
        differ = [n for n, s in policies.items() if s.uncertainty and s.uncertainty != first.uncertainty]
        if differ:
            raise ValueError(
                f"the policies {differ} declare an [uncertainty] table different from the baseline's "
                f"({baseline!r}); one set of worlds is needed: pass uncertainty= explicitly"
            )
    else:
        table = dict(uncertainty)
    with_table = first.with_overrides({"uncertainty": table})
    check_uncertainty(with_table, source="uncertainty")  # paths and bounds, refused by name
    checked = with_table.uncertainty
    if not checked:
        raise ValueError("no uncertain inputs: give the scenario an [uncertainty] table or pass uncertainty=")
    return dict(checked), None


def _table_of_file(path: Path) -> dict[str, Any]:
    """The [uncertainty] table of a TOML file: a file holding only that table, or a whole scenario."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot be read as TOML: {exc}") from None
    if set(data) == {"uncertainty"}:
        return dict(data["uncertainty"])
    return dict(as_scenario(path).uncertainty)


def _points(design: WorldDesign, policies: Mapping[str, Scenario]) -> list[Point]:
    """Point ``w * P + p`` = policy ``p`` in world ``w``; a world that makes a policy invalid keeps its error."""
    points: list[Point] = []
    records = design.values.to_dict(orient="records")
    for w, values in enumerate(records):
        overrides = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}
        for p, (name, sc) in enumerate(policies.items()):
            labels = {"world": w, "policy": name}
            try:
                points.append(Point(w * len(policies) + p, labels, sc.with_overrides(overrides)))
            except Exception as exc:  # noqa: BLE001 - an invalid world is reported, the others run
                points.append(Point(w * len(policies) + p, labels, None, f"{type(exc).__name__}: {exc}"))
    return points


def _resume(ck: ExploreCheckpoint, root: np.random.SeedSequence, points: Sequence[Point], reps: range) -> tuple:
    """(runs already in the checkpoint, callback buffering each point as its last replication finishes)."""
    keys = {p.index: point_key(p.scenario) for p in points if p.scenario is not None}
    stored = ck.load_runs(root)
    skip: dict[tuple[int, int], Outcome] = {}
    for idx, key in keys.items():
        for r in reps:
            if (key, r) in stored:
                skip[(idx, r)] = (True, stored[(key, r)])
    by_index = {p.index: p for p in points}
    remaining = {i: sum((i, r) not in skip for r in reps) for i in keys}
    results: dict[tuple[int, int], Outcome] = {}

    def on_done(key: tuple[int, int], outcome: Outcome) -> None:
        results[key] = outcome
        i = key[0]
        remaining[i] -= 1
        if remaining[i] == 0:
            new = {r: results[(i, r)] for r in reps if (i, r) in results}
            if all(ok for ok, _ in new.values()):
                labels = by_index[i].labels
                ck.add_point(root, keys[i], labels["world"], labels["policy"], {r: o[1] for r, o in new.items()})

    return skip, on_done


def _tables(
    points: Sequence[Point], outcomes: Mapping[tuple[int, int], Outcome], n: int, worlds: pd.DataFrame,
    names: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:  # fmt: skip
    """(tidy results, errors, KPI order), sorted by (world, policy order, replication)."""
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    metrics: dict[str, None] = {}
    for p in sorted(points, key=lambda q: q.index):
        w, pol = p.labels["world"], p.labels["policy"]
        if p.error is not None:
            errors.append({"world": w, "policy": pol, "error": p.error, "failed_replications": n})
            continue
        got = [outcomes.get((p.index, r)) for r in range(n)]
        bad = [o[1] for o in got if o is not None and not o[0]]
        if bad or any(o is None for o in got):
            failed = len(bad) + sum(o is None for o in got)
            errors.append({"world": w, "policy": pol, "error": bad[0] if bad else "not run",
                           "failed_replications": failed})  # fmt: skip
            continue
        for r, (_, summary) in enumerate(got):  # type: ignore[misc]
            metrics.update(dict.fromkeys(summary))
            rows.append({"world": w, "policy": pol, "replication": r, **summary})
    order = tuple(metrics)
    frame = pd.DataFrame(rows, columns=["world", "policy", "replication", *order])
    frame = frame.astype({"world": np.int64, "replication": np.int64, "policy": str})
    frame = worlds.merge(frame, on="world", how="inner")
    frame["policy"] = pd.Categorical(frame["policy"], categories=list(names))
    frame = frame.sort_values(["world", "policy", "replication"], kind="stable").reset_index(drop=True)
    frame["policy"] = frame["policy"].astype(str)
    cols = ["world", *[c for c in worlds.columns if c != "world"], "policy", "replication", *order]
    err = pd.DataFrame(errors, columns=["world", "policy", "error", "failed_replications"])
    return frame[cols], err, order


def _report_failures(errors: pd.DataFrame, total: int) -> None:
    if errors.empty:
        return
    first = errors.iloc[0]
    if len(errors) == total:
        raise ExperimentError(f"explore: every world failed for every policy; first: {first['error']}", errors)
    warnings.warn(
        f"explore: {len(errors)} of {total} (world, policy) pair(s) failed (see .errors); first: {first['error']}",
        RuntimeWarning,
        stacklevel=3,
    )
