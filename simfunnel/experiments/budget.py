"""Budget-split search: `optimize_budget` (coarse grid, then local moves) and `best_splits` (MQL- vs
profit-optimal side by side). Every split runs the same replications (common random numbers)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Unpack

import numpy as np
import pandas as pd

from simfunnel.errors import ExperimentError
from simfunnel.experiments.cache import CacheLike
from simfunnel.experiments.executors import Outcome, TaskExecutor
from simfunnel.experiments.kpis import check_kpi, check_kpis
from simfunnel.experiments.options import ExecutionKwargs, RunOptions, resolve_options
from simfunnel.experiments.runs import DEFAULT_N, Point, ScenarioLike, as_scenario, check_n, execute, tables
from simfunnel.experiments.seeds import SeedLike, root_seed
from simfunnel.experiments.statistics import mean_ci
from simfunnel.scenario import NON_CHANNEL_SHARES, Scenario

__all__ = ["BudgetEvaluator", "BudgetResult", "best_splits", "optimize_budget"]


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


class BudgetEvaluator:
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
        self.points: list[Point] = []
        self.outcomes: dict[tuple[int, int], Outcome] = {}

    def key(self, shares: Mapping[str, float]) -> tuple[float, ...]:
        """The identity of a split (shares rounded to 1e-9, in item order)."""
        return tuple(round(float(shares[i]), 9) for i in self.items)

    def evaluate(self, candidates: Sequence[Mapping[str, float]], stage: str) -> list[int]:
        """Run the splits not evaluated before; returns the candidate index of each (new or cached)."""
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
                    self.points.append(Point(idx, {}, scn))
                except Exception as exc:  # noqa: BLE001
                    self.points.append(Point(idx, {}, None, f"{type(exc).__name__}: {exc}"))
                new.append(self.points[idx])
            ids.append(self.keys[k])
        if new:
            self.outcomes.update(
                execute(new, range(self.n), self.root, self.ex, desc=f"budget {stage}", cache=self.cache)
            )
        return ids

    def score(self, idx: int, objective: str, maximize: bool) -> float:
        """Mean ``objective`` of a candidate, negated when minimising; -inf for a failed or invalid split."""
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
    """Non-negative shares (rounded to 1e-12) scaled to sum to 1."""
    s = {i: max(0.0, round(float(shares[i]), 12)) for i in items}
    total = sum(s.values())
    return {i: v / total for i, v in s.items()} if total > 0 else s


def _neighbours(shares: Mapping[str, float], movable: Sequence[str], delta: float) -> list[dict[str, float]]:
    """Every split that moves ``delta`` of budget from one movable item to another."""
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
    ev: BudgetEvaluator,
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


def _budget_result(ev: BudgetEvaluator, best: int, objective: str, maximize: bool) -> BudgetResult:
    """The BudgetResult of every evaluated split; `ExperimentError` when no split ran at all."""
    runs, _, errors, _ = tables(ev.points, ev.outcomes, range(ev.n), [])
    if runs.empty and not errors.empty:
        raise ExperimentError(
            f"budget search: every split failed ({len(errors)}); first: {errors['error'].iloc[0]}", errors
        )
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
    options: RunOptions | None = None,
    **execution: Unpack[ExecutionKwargs],
) -> BudgetResult:
    """Search the budget shares (``marketing.shares``: channels + nurture, retention, training) for the best
    mean ``objective`` (``"profit"``, ``"revenue"``, ``"mqls"`` or any KPI; checked before any run).

    1. The current split and a coarse grid over (acquisition total, nurture, retention, training) in steps of
       ``step`` (channels keep their current proportions; training stays 0 without the rep-training lever).
    2. If ``refine``: from the best point, move ``delta`` of budget between every ordered pair of items
       (channels individually included) and go to the best neighbour while it improves the mean, at most
       ``max_rounds`` times.

    Every split runs ``n`` replications with common random numbers (replication ``i`` = seed child ``i``), so
    the ranking is paired. The best of many noisy means is optimistic (winner's curse): confirm the chosen
    split with a fresh seed (`compare`) before quoting its value.
    ``options`` (or the keywords ``executor=``, ``workers=``, ...): see `RunOptions`.
    """
    opts = resolve_options(options, execution, "optimize_budget")
    n = check_n(n)
    check_kpi(objective, "objective", "optimize_budget", custom_runner=opts.runner is not None)
    base = as_scenario(scenario)
    root = root_seed(seed)
    with opts.scope() as ex:
        ev = BudgetEvaluator(base, n, root, ex, cache=opts.cache)
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
    options: RunOptions | None = None,
    **execution: Unpack[ExecutionKwargs],
) -> pd.DataFrame:
    """The MQL-optimal and the profit-optimal budget split side by side with the current one.

    Rows: one per budget item (its share), then the mean of each of ``kpis`` (checked before any run); columns
    ``current``, ``mql_optimal``, ``profit_optimal``. Both searches share their evaluations (same seed, CRN).
    ``options`` (or the keywords ``executor=``, ``workers=``, ...): see `RunOptions`."""
    opts = resolve_options(options, execution, "best_splits")
    n = check_n(n)
    kpis = check_kpis(kpis, "kpis", "best_splits", custom_runner=opts.runner is not None)
    base = as_scenario(scenario)
    root = root_seed(seed)
    with opts.scope() as ex:
        ev = BudgetEvaluator(base, n, root, ex, cache=opts.cache)
        best_mql, _ = _search(ev, "mqls", True, step, refine, delta, max_rounds)
        best_profit, _ = _search(ev, "profit", True, step, refine, delta, max_rounds)
    res = _budget_result(ev, best_profit, "profit", True)
    cols = {"current": 0, "mql_optimal": best_mql, "profit_optimal": best_profit}
    out = {}
    for col, idx in cols.items():
        k = res.kpis(idx, kpis)
        out[col] = [*(ev.shares[idx][i] for i in ev.items), *k.to_numpy(dtype=float)]
    return pd.DataFrame(out, index=pd.Index([*ev.items, *kpis], name="item"))
