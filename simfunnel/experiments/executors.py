"""Where the runs of an experiment execute: serially, in a local process pool, or on a Dask cluster.

Every executor gets the same list of tasks - (key, scenario, seed) with a fixed `numpy.random.SeedSequence`
per task - and returns one outcome per key. The outcome of a task depends only on its scenario and seed, never
on the executor, the worker count or the completion order, and callers sort by key before building tables, so
results are bit-identical everywhere (docs/pages/architecture.md#invariants).

Failures never hang or lose other work:

- an exception inside a run is caught in the worker and becomes an error outcome for that task;
- a worker process that dies (``os._exit``, a segfault, the OOM killer) breaks a `ProcessPoolExecutor` (a
  shared warm pool is then discarded and a new one started on the next call);
  the tasks that were in flight are then re-run one at a time in a fresh single-worker pool, so the task that
  kills its worker is identified and reported as an error while the innocent ones complete;
- on Dask, a task that keeps killing workers ends as ``KilledWorker`` (after the scheduler's
  ``allowed-failures`` retries) and becomes an error outcome.

Under ``spawn``/``forkserver`` a pool whose workers die before running any task is checked for the usual cause,
a main script without an ``if __name__ == "__main__":`` guard (`simfunnel.experiments.mainguard`); its tasks
then fail with that cause named instead of `DEAD_WORKER`.

Local workers are warm and shared (`simfunnel.experiments.pools`): one pool per process, reused by every
experiment and shut down at exit; tasks travel in chunks (`chunk_size`) to save round trips.

Worker functions live at module level in this package so that they can be pickled under the ``spawn`` and
``forkserver`` start methods and shipped to Dask workers (which need the same simfunnel version installed).
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack

import numpy as np

from simfunnel.experiments.mainguard import check_not_reimported_main, main_reimport_fails, unguarded_message
from simfunnel.experiments.pools import pool_context, release_pool, shared_pool
from simfunnel.experiments.progress import make_bar
from simfunnel.experiments.seeds import fresh_seed

ExecutorName = Literal["serial", "processes", "dask"]
EXECUTORS: tuple[str, ...] = ("serial", "processes", "dask")

Runner = Callable[[Any, np.random.SeedSequence], Any] | str | None
"""How one run is done: None (the model's `simulate`), a module-level callable ``f(scenario, seed)`` or an
import path ``"package.module:function"``. It returns a RunResult (with ``.summary``) or a mapping of KPIs."""

Outcome = tuple[bool, Any]
"""(True, {metric: float}) for a finished run, (False, "error message") for a failed one."""

DEAD_WORKER = (
    "worker process died (BrokenProcessPool) while running this task: killed, out of memory, or a crash in native code"
)


@dataclass(frozen=True)
class Task:
    """One run: ``key`` = (point, replication) orders the results; ``seed`` is this replication's child."""

    key: tuple[int, int]
    scenario: Any
    seed: np.random.SeedSequence


# ----------------------------------------------------------------------------------------------- workers
def simulate_summary(scenario: Any, seed: np.random.SeedSequence) -> Mapping[str, Any]:
    """The default runner: the model's `simulate`, its KPI summary."""
    from simfunnel.simulate import simulate

    return simulate(scenario, seed).summary


def _resolve_runner(runner: Runner) -> Callable[[Any, np.random.SeedSequence], Any]:
    if runner is None:
        return simulate_summary
    if isinstance(runner, str):
        module, _, attr = runner.partition(":")
        if not attr:
            module, _, attr = runner.rpartition(".")
        return getattr(importlib.import_module(module), attr)
    return runner


def flatten_summary(summary: Any) -> dict[str, float]:
    """A run's KPI summary as ``{metric: float}``; nested mappings become dotted names, non-numbers are dropped."""
    if hasattr(summary, "summary") and not isinstance(summary, Mapping):
        summary = summary.summary
    out: dict[str, float] = {}

    def visit(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                visit(f"{prefix}.{k}" if prefix else str(k), v)
            return
        if isinstance(value, bool | int | float | np.integer | np.floating | np.bool_):
            out[prefix] = float(value)

    visit("", summary)
    return out


def run_task(scenario: Any, seed: np.random.SeedSequence, runner: Runner = None) -> Outcome:
    """Worker entry point: one run, its summary flattened to floats; an exception becomes an error outcome."""
    try:
        fn = _resolve_runner(runner)
        return True, flatten_summary(fn(scenario, fresh_seed(seed)))
    except Exception as exc:  # noqa: BLE001 - reported per task, never lost
        return False, _describe(exc)


def run_chunk(items: Sequence[tuple[Any, np.random.SeedSequence]], runner: Runner = None) -> list[Outcome]:
    """Worker entry point for a chunk of tasks: `run_task` of each (scenario, seed), in order. A chunk is one
    round trip to the worker (and one pickle of a scenario shared by its replications)."""
    return [run_task(scenario, seed, runner) for scenario, seed in items]


def chunk_size(remaining: int, workers: int, largest: int = 8) -> int:
    """Tasks in the next chunk: a quarter of each worker's share of what is left (at most ``largest``, at least
    1), so chunks shrink towards the end and the workers finish at about the same time ("guided" scheduling)."""
    return max(1, min(largest, -(-remaining // (4 * workers))))


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        last = tb[-1]
        text += f" (at {os.path.basename(last.filename)}:{last.lineno} in {last.name})"
    return text


# ----------------------------------------------------------------------------------------------- executors
def default_workers() -> int:
    """CPUs this process may use (affinity-aware where the OS tells), at least 1."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        n = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS / Windows on 3.11-3.12
        n = os.cpu_count()
    return max(1, n or 1)


OnDone = Callable[[tuple[int, int], Outcome], None]


class TaskExecutor:
    """Runs tasks and reports each outcome as it arrives; stays open across calls (e.g. precision batches)."""

    name = "base"

    def __init__(self, runner: Runner = None, progress: bool | None = None) -> None:
        self.runner = runner
        self.progress = progress

    def run(
        self, tasks: Sequence[Task], desc: str = "runs", on_done: OnDone | None = None
    ) -> dict[tuple[int, int], Outcome]:
        """Run ``tasks``; call ``on_done(key, outcome)`` in this process as each finishes; return all outcomes."""
        results: dict[tuple[int, int], Outcome] = {}
        if not tasks:
            return results
        bar = make_bar(len(tasks), desc, self.progress)
        try:

            def done(key: tuple[int, int], outcome: Outcome) -> None:
                results[key] = outcome
                bar.update(1)
                if on_done is not None:
                    on_done(key, outcome)

            self._run(list(tasks), done)
        finally:
            bar.close()
        return results

    def _run(self, tasks: list[Task], done: OnDone) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> TaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(TaskExecutor):
    """In this process, one task after another (a run that kills the process kills the caller too)."""

    name = "serial"

    def _run(self, tasks: list[Task], done: OnDone) -> None:
        for task in tasks:
            done(task.key, run_task(task.scenario, task.seed, self.runner))


class ProcessExecutor(TaskExecutor):
    """Local worker processes. By default the process-wide warm pool of `simfunnel.experiments.pools` (start
    method ``forkserver`` with simfunnel preloaded where available, else ``spawn``; safe with the threads that
    Jupyter, tqdm and Dask start), kept open after `close` for the next experiment; ``reuse=False`` gives this
    executor a pool of its own, shut down by `close`.

    Tasks go out in chunks (`chunk_sizes`: large first, single tasks at the end, so the workers finish together)
    and at most ``workers`` chunks are in flight, so that a dying worker implicates only those tasks, which are
    then re-run one by one in a private one-worker pool to find the culprit.

    ``caller_helps`` (default True): with every worker busy and fewer tasks left than workers (the last, partial
    round), this process runs one of them itself instead of waiting idle - 3 runs on 2 workers take about 1.5 run
    times instead of 2 (the explorer's what-if). Only for the model's own runner (a custom ``runner`` always runs
    in the workers, where a crash cannot take the caller down); results are the same wherever a task runs."""

    name = "processes"

    def __init__(
        self,
        workers: int | None = None,
        runner: Runner = None,
        progress: bool | None = None,
        mp_context: str | None = None,
        reuse: bool = True,
        caller_helps: bool = True,
    ) -> None:
        super().__init__(runner, progress)
        self.caller_helps = caller_helps and runner is None
        self.workers = workers if workers is not None else default_workers()
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        self.mp_context = pool_context(mp_context)
        self.reuse = reuse
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0
        self._shared = False
        self._started = False  # a worker has returned a result: workers can start, whatever the main script
        self._bootstrap_checked = False

    def _get_pool(self, size: int, private: bool = False) -> ProcessPoolExecutor:
        shared = self.reuse and not private
        if self._pool is None or self._pool_size != size or self._shared != shared:
            self._shutdown()
            if shared:
                self._pool = shared_pool(size, self.mp_context.get_start_method())
            else:
                self._pool = ProcessPoolExecutor(max_workers=size, mp_context=self.mp_context)
            self._pool_size, self._shared = size, shared
        return self._pool

    def _shutdown(self, kill: bool = False, broken: bool = False) -> None:
        """Let go of the pool: a shared one stays warm unless it broke or ``kill``; an own one is shut down."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._shared and not (kill or broken):
            return
        if self._shared or kill:
            release_pool(pool, kill=True)
        else:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._shutdown()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(*args)`` (picklable, module level) on this executor's workers; returns its Future. For side
        jobs that share the workers with the runs (the report's model checks)."""
        return self._get_pool(self.workers).submit(fn, *args)

    def _run(self, tasks: list[Task], done: OnDone) -> None:
        pending: deque[Task] = deque(tasks)
        suspects: list[Task] = []
        try:
            while pending or suspects:
                if suspects and self._workers_cannot_start():
                    # every worker dies while importing the main script: no task can run, none is to blame
                    message = unguarded_message()
                    for task in sorted([*suspects, *pending], key=lambda t: t.key):
                        done(task.key, (False, message))
                    return
                if suspects:
                    self._isolate(suspects, done)
                    suspects = []
                    continue
                broken, suspects = self._run_window(self._get_pool(self.workers), self.workers, pending, done)
                if broken:
                    self._shutdown(broken=True)
        except BaseException:
            # KeyboardInterrupt in a notebook: do not leave workers grinding on.
            self._shutdown(kill=True)
            raise

    def _workers_cannot_start(self) -> bool:
        """After a broken pool with no result yet: is the main script the cause? (checked once, by a probe)"""
        if self._started or self._bootstrap_checked:
            return False
        self._bootstrap_checked = True
        return main_reimport_fails(self.mp_context)

    def _run_window(
        self, pool: ProcessPoolExecutor, width: int, pending: deque[Task], done: OnDone
    ) -> tuple[bool, list[Task]]:
        """Run from ``pending`` with at most ``width`` chunks in flight; on a broken pool return (True, the
        tasks in flight)."""
        inflight: dict[Any, list[Task]] = {}
        broken = False
        while (pending or inflight) and not broken:
            while pending and len(inflight) < width:
                size = chunk_size(len(pending), width)
                chunk = [pending.popleft() for _ in range(size)]
                try:
                    fut = pool.submit(run_chunk, [(t.scenario, t.seed) for t in chunk], self.runner)
                except BrokenProcessPool:
                    pending.extendleft(reversed(chunk))
                    broken = True
                    break
                inflight[fut] = chunk
            if not inflight:
                break
            if self.caller_helps and pending and len(pending) < width:  # the tail: run one here, not wait idle
                task = pending.pop()
                done(task.key, run_task(task.scenario, task.seed, self.runner))
                continue
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = self._collect(finished, inflight, done) or broken
        if broken and inflight:
            # The pool fails every unfinished future promptly; results that made it before the break are kept.
            wait(list(inflight))
            self._collect(list(inflight), inflight, done)
        suspects = [t for chunk in inflight.values() for t in chunk]
        return broken, sorted(suspects, key=lambda t: t.key) if broken else []

    def _collect(self, finished: Iterable[Any], inflight: dict[Any, list[Task]], done: OnDone) -> bool:
        """Report finished chunks; those failed by a broken pool stay in ``inflight`` as suspects."""
        broken = False
        for fut in finished:
            chunk = inflight[fut]
            try:
                outcomes = fut.result()
                self._started = True
            except BrokenProcessPool:
                broken = True  # suspects: re-run alone
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable scenario or result
                outcomes = [(False, _describe(exc))] * len(chunk)
            del inflight[fut]
            for task, outcome in zip(chunk, outcomes, strict=True):
                done(task.key, outcome)
        return broken

    def _isolate(self, suspects: list[Task], done: OnDone) -> None:
        """Each suspect alone in a private one-worker pool: the one whose worker dies is the culprit."""
        for task in sorted(suspects, key=lambda t: t.key):
            pool = self._get_pool(1, private=True)
            try:
                outcome = pool.submit(run_task, task.scenario, task.seed, self.runner).result()
                self._started = True
            except BrokenProcessPool:
                outcome = (False, DEAD_WORKER)
                self._shutdown(broken=True)
            except Exception as exc:  # noqa: BLE001
                outcome = (False, _describe(exc))
            done(task.key, outcome)
        self._shutdown()


class DaskExecutor(TaskExecutor):
    """Dask distributed: ``client`` (used, not closed), ``address`` ("tcp://host:8786", a Client is opened and
    closed), or neither (a LocalCluster of ``workers`` single-threaded processes, no dashboard, closed after).
    Tasks are submitted with ``pure=False`` so identical-looking calls are never merged."""

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        client: Any = None,
        runner: Runner = None,
        progress: bool | None = None,
    ) -> None:
        super().__init__(runner, progress)
        try:
            import distributed
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ImportError("executor='dask' needs dask.distributed: pip install 'simfunnel[dask]'") from exc
        self._owned: list[Any] = []
        if client is not None:
            self.client = client
        elif address is not None:
            self.client = distributed.Client(address)
            self._owned.append(self.client)
        else:
            cluster = distributed.LocalCluster(
                n_workers=workers if workers is not None else default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._owned.append(cluster)
            self.client = distributed.Client(cluster)
            self._owned.insert(0, self.client)

    def _run(self, tasks: list[Task], done: OnDone) -> None:
        from distributed import as_completed

        futures = {}
        for task in tasks:
            fut = self.client.submit(run_task, task.scenario, task.seed, self.runner, pure=False)
            futures[fut] = task
        try:
            for fut in as_completed(list(futures)):
                task = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError, ...
                    outcome = (False, _describe(exc))
                done(task.key, outcome)
        except BaseException:
            self.client.cancel(list(futures))
            raise
        finally:
            futures.clear()

    def close(self) -> None:
        for obj in self._owned:
            try:
                obj.close()
            except Exception:  # noqa: BLE001, S110 - closing is best effort
                pass
        self._owned = []


def open_executor(
    executor: ExecutorName | TaskExecutor | None = None,
    *,
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    progress: bool | None = None,
    runner: Runner = None,
) -> TaskExecutor:
    """An executor by name; None (the default) is ``"serial"``, or Dask when ``address`` or ``client`` is given.
    Use it as a context manager.

    Inside a worker that is re-importing an unguarded main script, raises `simfunnel.errors.ExperimentError`
    instead (see `simfunnel.experiments.mainguard`)."""
    check_not_reimported_main()
    if isinstance(executor, TaskExecutor):
        return executor
    if address is not None or client is not None:
        if executor not in (None, "dask", "processes"):
            raise ValueError(f"address/client are for executor='dask', not {executor!r}")
        executor = "dask"
    if executor is None:
        executor = "serial"
    if executor == "serial":
        return SerialExecutor(runner=runner, progress=progress)
    if executor == "processes":
        return ProcessExecutor(workers=workers, runner=runner, progress=progress)
    if executor == "dask":
        return DaskExecutor(workers=workers, address=address, client=client, runner=runner, progress=progress)
    raise ValueError(f"unknown executor {executor!r}; allowed: {', '.join(EXECUTORS)}")


class ExecutorSettings(TypedDict, total=False):
    """The keywords of `open_executor` besides the executor itself, passed on by `executor_scope`/`run_tasks`."""

    workers: int | None
    address: str | None
    client: Any
    progress: bool | None
    runner: Runner


@contextmanager
def executor_scope(
    executor: ExecutorName | TaskExecutor | None = None, **settings: Unpack[ExecutorSettings]
) -> Iterator[TaskExecutor]:
    """`open_executor` for the length of a ``with`` block: an executor opened here is closed at the end; an
    executor object passed in is borrowed (left open for the caller to reuse, its own settings kept)."""
    if isinstance(executor, TaskExecutor):
        check_not_reimported_main()
        yield executor
        return
    ex = open_executor(executor, **settings)
    try:
        yield ex
    finally:
        ex.close()


def run_tasks(
    tasks: Iterable[Task],
    *,
    executor: ExecutorName | TaskExecutor | None = None,
    desc: str = "runs",
    on_done: OnDone | None = None,
    **settings: Unpack[ExecutorSettings],
) -> dict[tuple[int, int], Outcome]:
    """Run tasks once on a freshly opened executor (closed afterwards unless an executor object was given)."""
    tasks = list(tasks)
    with executor_scope(executor, **settings) as ex:
        return ex.run(tasks, desc=desc, on_done=on_done)


__all__ = [
    "DEAD_WORKER",
    "EXECUTORS",
    "DaskExecutor",
    "ExecutorName",
    "ExecutorSettings",
    "OnDone",
    "Outcome",
    "ProcessExecutor",
    "Runner",
    "SerialExecutor",
    "Task",
    "TaskExecutor",
    "default_workers",
    "executor_scope",
    "flatten_summary",
    "open_executor",
    "chunk_size",
    "run_chunk",
    "run_task",
    "run_tasks",
    "simulate_summary",
]
