"""Shapley attribution of the alignment gap (siloed -> aligned) to the organisation levers: `attribute`."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

import numpy as np
import pandas as pd

from simfunnel.errors import ExperimentError
from simfunnel.experiments.executors import Outcome
from simfunnel.experiments.kpis import check_kpi
from simfunnel.experiments.options import ExecutionKwargs, RunOptions, resolve_options
from simfunnel.experiments.runs import DEFAULT_N, Point, ScenarioLike, as_scenario, check_n, execute
from simfunnel.experiments.seeds import SeedLike, permutation_seed, root_seed
from simfunnel.experiments.statistics import mean_ci
from simfunnel.scenario import LEVERS, Organisation, Scenario

__all__ = ["Attribution", "Lever", "attribute"]

Lever = str | tuple[str, ...]
"""An organisation field, or a tuple of fields moved together."""


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
    options: RunOptions | None = None,
    **execution: Unpack[ExecutionKwargs],
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

    ``metric`` is checked before any run (`ScenarioError` with a did-you-mean); any failed coalition run raises
    `ExperimentError`. ``options`` (or the keywords ``executor=``, ``workers=``, ...): see `RunOptions`.
    """
    opts = resolve_options(options, execution, "attribute")
    n = check_n(n)
    check_kpi(metric, "metric", "attribute", custom_runner=opts.runner is not None)
    lo = as_scenario(siloed)
    hi = as_scenario(aligned)
    groups = _lever_groups(levers)
    names = tuple("+".join(g) for g in groups)
    _warn_outside_levers(lo, hi, {f for g in groups for f in g})
    k = len(groups)
    use_exact = k <= 4 if exact is None else bool(exact)
    root = root_seed(seed)
    if use_exact:
        coalitions, weights = _exact_weights(k)
    else:
        coalitions, weights = _permutation_weights(k, _antithetic_orders(k, permutations, root))
    points, coalition_point = _coalition_points(lo, hi, groups, coalitions)
    with opts.scope() as ex:
        outcomes = execute(points, range(n), root, ex, desc="shapley", cache=opts.cache)
    runs = _coalition_runs(outcomes, coalitions, coalition_point, names, n)
    return _attribution_from_runs(
        metric,
        runs,
        tuple(coalitions),
        weights,
        names,
        [", ".join(g) for g in groups],
        exact=use_exact,
        permutations=None if use_exact else permutations,
        n=n,
        seed=root.entropy,
    )


def _lever_groups(levers: Sequence[Lever] | None) -> list[tuple[str, ...]]:
    """The players: one tuple of organisation fields each (checked: known fields, none twice)."""
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
    return groups


def _antithetic_orders(k: int, permutations: int, root: np.random.SeedSequence) -> list[np.ndarray]:
    """``permutations`` orders of ``k`` players: half drawn from the seed's permutation stream, each followed by
    its reverse."""
    if permutations < 2 or permutations % 2:
        raise ValueError(f"permutations must be an even number >= 2 (antithetic pairs), got {permutations}")
    rng = np.random.default_rng(permutation_seed(root))
    orders = []
    for _ in range(permutations // 2):
        perm = rng.permutation(k)
        orders += [perm, perm[::-1]]
    return orders


def _coalition_points(
    lo: Scenario, hi: Scenario, groups: Sequence[tuple[str, ...]], coalitions: Sequence[frozenset[int]]
) -> tuple[list[Point], list[int]]:
    """One point per distinct coalition scenario (levers whose aligned value equals the siloed one change
    nothing), and the point of each coalition."""

    def overrides_of(c: frozenset[int]) -> dict[str, Any]:
        out = {}
        for j in sorted(c):
            for f in groups[j]:
                v = getattr(hi.organisation, f)
                if v != getattr(lo.organisation, f):
                    out[f"organisation.{f}"] = v
        return out

    scen_keys: dict[str, int] = {}
    points: list[Point] = []
    coalition_point: list[int] = []
    for c in coalitions:
        ov = overrides_of(c)
        key = json.dumps(ov, sort_keys=True, default=repr)
        if key not in scen_keys:
            scen_keys[key] = len(points)
            points.append(Point(len(points), {}, lo.with_overrides(ov) if ov else lo))
        coalition_point.append(scen_keys[key])
    return points, coalition_point


def _coalition_runs(
    outcomes: Mapping[tuple[int, int], Outcome],
    coalitions: Sequence[frozenset[int]],
    coalition_point: Sequence[int],
    names: Sequence[str],
    n: int,
) -> pd.DataFrame:
    """Every coalition's KPIs as a tidy frame; `ExperimentError` when any coalition run failed."""
    failed = [(key, payload) for key, (ok, payload) in outcomes.items() if not ok]
    if failed:
        (_, r), msg = sorted(failed)[0]
        raise ExperimentError(f"attribute: {len(failed)} coalition run(s) failed; first (replication {r}): {msg}")
    rows = []
    for ci, c in enumerate(coalitions):
        label = " + ".join(names[j] for j in sorted(c)) or "(siloed)"
        for r in range(n):
            for m, v in outcomes[(coalition_point[ci], r)][1].items():
                rows.append((ci, label, len(c), r, m, v))
    runs = pd.DataFrame(rows, columns=["coalition_id", "coalition", "size", "replication", "metric", "value"])
    return runs.astype({"coalition_id": np.int64, "size": np.int64, "replication": np.int64, "value": float})


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
    """The Attribution of ``metric`` from every coalition's runs: per-replication Shapley values ``v @ W.T``."""
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
    """Warn when the aligned scenario differs from the siloed one outside the attributed levers."""
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
    """Dotted paths where two nested dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += _diff_paths(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else str(k))
        return out
    return [] if a == b else [prefix]
