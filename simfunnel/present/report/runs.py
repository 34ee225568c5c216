"""The simulations a report needs: the comparison, the lever attribution, one representative run per scenario and
the quick model checks, run once on one executor and kept together in a `ReportRuns`.

The attribution's empty coalition is the baseline scenario run with the same seeds as the comparison, so its
replications are the comparison's first ``attribution_n`` replications (common random numbers): the waterfall's
starting value is the baseline's mean over exactly those runs, which the report states next to it.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.experiments import Attribution, Experiment, attribute, child_seed, compare, root_seed
from simfunnel.experiments.executors import TaskExecutor, flatten_summary
from simfunnel.scenario import Scenario, load_scenario
from simfunnel.vocabulary import LEVER_GROUPS, LEVERS

__all__ = [
    "ModelChecks",
    "ReportRuns",
    "differing_levers",
    "lever_groups",
    "load_inputs",
    "only_org_differs",
    "order_by_baseline",
    "simulate_report",
]

ScenarioInputs = Mapping[str, Scenario | str | os.PathLike] | Sequence[Scenario | str | os.PathLike]


# ============================================================================================== inputs
def load_inputs(
    scenarios: ScenarioInputs | Scenario | str | os.PathLike, overrides: Mapping[str, Any] | None
) -> tuple[dict[str, Scenario], dict[str, Path | None]]:
    """The scenarios by unique display name, and the TOML file each came from (None: built in Python)."""
    items: list[tuple[str | None, Any]]
    if isinstance(scenarios, Mapping):
        items = [(str(k), v) for k, v in scenarios.items()]
    elif isinstance(scenarios, str | os.PathLike | Scenario):
        items = [(None, scenarios)]
    else:
        items = [(None, v) for v in scenarios]
    if not items:
        raise ValueError("a report needs at least one scenario")
    loaded: list[tuple[str | None, Scenario, Path | None]] = []
    for name, item in items:
        if isinstance(item, Scenario):
            loaded.append((name, item.with_overrides(overrides) if overrides else item, None))
        elif isinstance(item, str | os.PathLike):
            loaded.append((name, load_scenario(item, overrides), Path(item)))
        else:
            raise TypeError(f"expected a Scenario or a path to a scenario TOML file, got {type(item).__name__}")
    names = [n if n is not None else s.name for n, s, _ in loaded]
    if len(set(names)) != len(names):
        names = [n if n is not None else (p.stem if p is not None else s.name) for n, s, p in loaded]
    if len(set(names)) != len(names):
        names = [f"{n}_{i + 1}" for i, n in enumerate(names)]
    scns = {n: s for n, (_, s, _) in zip(names, loaded, strict=True)}
    files = {n: p for n, (_, _, p) in zip(names, loaded, strict=True)}
    return scns, files


def order_by_baseline(
    scns: dict[str, Scenario], files: Mapping[str, Path | None], baseline: str | None
) -> tuple[dict[str, Scenario], str]:
    """The scenarios with the baseline first, and the baseline's name (given by name or by its file's stem)."""
    names = list(scns)
    baseline = names[0] if baseline is None else str(baseline)
    if baseline not in scns:
        stems = {p.stem: nm for nm, p in files.items() if p is not None}
        if baseline not in stems:
            raise ValueError(f"baseline {baseline!r} is not one of the scenarios: {', '.join(names)}")
        baseline = stems[baseline]
    return {x: scns[x] for x in [baseline, *[x for x in names if x != baseline]]}, baseline


def only_org_differs(a: Scenario, b: Scenario) -> bool:
    """True when two scenarios differ at most in their organisation (and name and description)."""
    skip = ("name", "description", "organisation")
    return {k: v for k, v in a.to_dict().items() if k not in skip} == {
        k: v for k, v in b.to_dict().items() if k not in skip
    }


def differing_levers(lo: Scenario, hi: Scenario) -> list[str]:
    """The levers (vocabulary order) whose value differs between two scenarios."""
    return [f for f in LEVERS if getattr(lo.organisation, f) != getattr(hi.organisation, f)]


def lever_groups(lo: Scenario, hi: Scenario) -> tuple[list[tuple[str, ...]], dict[str, str]]:
    """The groups of `simfunnel.vocabulary.LEVER_GROUPS` restricted to the levers whose values differ, and the
    display label of each (by the attribution's lever name ``"a+b"``: the group's label)."""
    differ = set(differing_levers(lo, hi))
    groups, labels = [], {}
    for label, members in LEVER_GROUPS.items():
        g = tuple(f for f in members if f in differ)
        if g:
            groups.append(g)
            labels["+".join(g)] = label
    grouped = {f for members in LEVER_GROUPS.values() for f in members}
    for f in sorted(differ - grouped):  # only if the vocabulary gains a lever outside every group
        groups.append((f,))
        labels[f] = LEVERS[f].label
    return groups, labels


# ============================================================================================== simulations
@dataclass
class ReportRuns:
    """Everything a report shows, simulated: the comparison (``n`` replications), the attribution (or None) with
    its lever labels, one representative run per scenario (replication 0) and the model checks."""

    scenarios: dict[str, Scenario]
    files: dict[str, Path | None]
    baseline: str
    n: int
    experiment: Experiment | None = None
    attribution: Attribution | None = None
    lever_labels: dict[str, str] = field(default_factory=dict)
    representative: dict[str, Any] = field(default_factory=dict)
    checks: pd.DataFrame | str | None = None
    parameters: Any = None  # `simfunnel.experiments.ParameterDraws` of the comparison, or None

    @property
    def names(self) -> list[str]:
        """Scenario names, the baseline first."""
        return list(self.scenarios)

    @property
    def others(self) -> list[str]:
        """Scenario names other than the baseline."""
        return self.names[1:]


def simulate_report(
    runs: ReportRuns,
    ex: TaskExecutor,
    *,
    seed: int,
    store: Any,
    attribution: str,
    attribution_n: int,
    permutations: int,
    metric: str,
    timings: dict[str, float],
) -> None:
    """Run the representative runs (replication 0 in full; with a cache they are stored and the comparison reuses
    them), the comparison and (when two scenarios differ in their organisation and ``attribution`` is not
    ``"off"``) the attribution on the open executor ``ex``; fills ``runs``."""
    root = root_seed(seed)
    t0 = time.perf_counter()
    draws = runs.parameters
    shown = runs.scenarios  # replication 0 as the comparison runs it: with its parameter draw, if any
    if draws is not None:
        row = int(draws.rows(root, [0])[0])
        shown = {x: draws.apply(sc, row) for x, sc in runs.scenarios.items()}
    representative = _start_representative(ex, shown, root, store)
    timings["representative_runs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    runs.experiment = compare(runs.scenarios, n=runs.n, seed=seed, baseline=runs.baseline, executor=ex, cache=store,
                              parameters=draws)  # fmt: skip
    timings["compare"] = time.perf_counter() - t0
    names = runs.names
    if attribution != "off" and len(names) == 2 and differing_levers(*runs.scenarios.values()):
        lo, hi = runs.scenarios[names[0]], runs.scenarios[names[1]]
        if attribution == "grouped":
            groups, runs.lever_labels = lever_groups(lo, hi)
            kw: dict[str, Any] = {"levers": groups, "exact": len(groups) <= 6}
        else:
            kw = {"levers": differing_levers(lo, hi), "permutations": permutations}
            runs.lever_labels = {f: LEVERS[f].label for f in kw["levers"]}
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # differences outside the levers: stated in the text
            runs.attribution = attribute(
                lo, hi, n=attribution_n, seed=seed, metric=metric, executor=ex, cache=store, **kw
            )
        timings["attribution"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    runs.representative = {x: _result_or_run(representative[x], shown[x], root) for x in names}
    timings["representative_runs"] += time.perf_counter() - t0


def _start_representative(
    ex: TaskExecutor, scenarios: Mapping[str, Scenario], root: np.random.SeedSequence, store: Any
) -> dict[str, Any]:
    """Replication 0 of each scenario in full (the figures need its tables), as a Future on the executor's
    workers when it takes side jobs (`ProcessExecutor.submit`), else None (run later, here). With a result cache
    they are finished first and their summaries stored, so the comparison reuses them instead of running them
    again; the results are then returned instead of Futures."""
    from simfunnel.simulate import simulate

    submit = getattr(ex, "submit", None)
    jobs = {x: submit(simulate, sc, child_seed(root, 0)) if submit else None for x, sc in scenarios.items()}
    if store is None:
        return jobs
    done = {x: _result_or_run(job, scenarios[x], root) for x, job in jobs.items()}
    for x, result in done.items():
        seed = child_seed(root, 0)
        try:
            if store.get_summary(scenarios[x], seed) is None:
                store.put_summary(scenarios[x], seed, flatten_summary(result.summary))
        except (OSError, TypeError, ValueError):  # a read-only cache: the comparison simply runs it again
            pass
    return done


def _result_or_run(job: Any, scenario: Scenario, root: np.random.SeedSequence) -> Any:
    """A representative run: ``job`` itself when it is a finished run, the result of a Future (run on a worker),
    else simulated here."""
    from simfunnel.simulate import simulate

    if hasattr(job, "summary"):
        return job
    if job is not None:
        try:
            return job.result()
        except Exception:  # noqa: BLE001, S110 - e.g. a broken pool: run it here instead
            pass
    return simulate(scenario, child_seed(root, 0))


# ============================================================================================== model checks
def _validation_key() -> dict[str, Any] | None:
    try:
        from simfunnel import validation as v
    except Exception:  # noqa: BLE001 - optional section
        return None
    source = hashlib.sha256(Path(v.__file__).read_bytes()).hexdigest()[:16]
    return {"check": "run_checks", "quick": True, "validation_source": source}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in df.to_dict(orient="records")
    ]


def run_checks_records(seed: int) -> list[dict[str, Any]] | str:
    """Worker: `run_checks(quick=True)` as plain records, or an error message (module level: picklable)."""
    try:
        from simfunnel import validation as v

        return _records(v.run_checks(quick=True, seed=seed))
    except Exception as exc:  # noqa: BLE001 - a failing check module must not sink the report
        return f"model checks could not run ({type(exc).__name__}: {exc})"


class ModelChecks:
    """The quick model checks of `simfunnel.validation`: from the cache, else run - on the report's workers
    (``submit``: an executor's `submit`, so the checks share the warm pool with the simulations), in a background
    process of their own (``background``), or here - and stored in the cache."""

    def __init__(self, seed: int, store: Any, background: bool, submit: Any = None) -> None:
        self.seed, self.store = seed, store
        self.key = _validation_key()
        self.result: list[dict[str, Any]] | str | None = None
        self._pool: Any = None
        self._future: Any = None
        if self.key is None:
            self.result = "model checks not available (simfunnel.validation cannot be imported)"
            return
        if store is not None:
            got = store.get(self.key, seed, "validation")
            if isinstance(got, list):
                self.result = got
                return
        if submit is not None:
            self._future = submit(run_checks_records, seed)
        elif background:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._future = self._pool.submit(run_checks_records, seed)

    def table(self) -> pd.DataFrame | str:
        """The checks as a DataFrame (one row per check), or a message saying why there are none."""
        if self.result is None:
            if self._future is not None:
                try:
                    self.result = self._future.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a killed worker
                    self.result = f"model checks could not run ({type(exc).__name__}: {exc})"
                finally:
                    self.close()
            else:
                self.result = run_checks_records(self.seed)
            if isinstance(self.result, list) and self.store is not None:
                try:
                    self.store.put(self.key, self.seed, self.result, "validation")
                except OSError:
                    pass
        return pd.DataFrame(self.result) if isinstance(self.result, list) else self.result

    def close(self) -> None:
        """Stop the background process, if any (without waiting for it)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
