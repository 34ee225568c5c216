"""Warm worker processes, reused across experiments: one shared process pool per Python process.

Starting a worker costs more than a run of a small scenario: a fresh interpreter imports numpy, pandas, SimPy and
simfunnel (~1-2 s of CPU each). `shared_pool` therefore keeps its pools open for the life of the process - the
report's comparison, attribution and model checks, the points of a sweep and successive calls in a notebook all
use the same workers - and `shutdown_pools` (registered with `atexit`) closes them at exit.

The start method is ``forkserver`` where the platform has it (Linux, macOS), else ``spawn``. The fork server
imports `PRELOAD` (numpy, pandas, SimPy, pydantic) once; every worker is then forked from it with those already in
memory and only imports simfunnel itself. Both methods are safe with the threads that Jupyter, tqdm and Dask start (plain ``fork`` is
not), and both re-import the main script in each worker (see `simfunnel.experiments.mainguard`).

A worker's environment is the parent's at the time the worker (or the fork server) started: environment variables
set later in the parent do not reach warm workers. Runs never read the environment, so results do not change.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path

__all__ = [
    "PRELOAD",
    "default_start_method",
    "open_pools",
    "pool_context",
    "release_pool",
    "shared_pool",
    "shutdown_pools",
    "source_signature",
]

PRELOAD = ("numpy", "pandas", "simpy", "pydantic")
"""Modules the fork server imports once, before forking workers (a missing one is skipped silently). simfunnel
itself is not among them: each worker imports it (~0.2 s, once per worker), so that a pool started after an edit
of the source runs the edited code (`shared_pool` replaces its pool when the package's files change)."""

_PACKAGE = Path(__file__).resolve().parent.parent
_POOLS: dict[tuple[str, int, int], ProcessPoolExecutor] = {}
_LOCK = threading.Lock()


def default_start_method() -> str:
    """``"forkserver"`` where available (Linux, macOS), else ``"spawn"`` (Windows)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def pool_context(method: str | None = None) -> BaseContext:
    """The multiprocessing context of ``method`` (default `default_start_method`); for ``forkserver`` with
    `PRELOAD` set (it takes effect when the fork server starts, i.e. before the first worker)."""
    ctx = multiprocessing.get_context(method or default_start_method())
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def shared_pool(workers: int, method: str | None = None) -> ProcessPoolExecutor:
    """The process-wide pool of ``workers`` processes for ``method``, created on first use and kept warm. There
    is one shared pool at a time: asking for another size or start method, or a change of simfunnel's source files
    since the pool started (a model edited in a notebook session), replaces it (the old one finishes the work
    already given to it, then its workers exit)."""
    key = (pool_context(method).get_start_method(), int(workers), source_signature())
    with _LOCK:
        pool = _POOLS.get(key)
        if pool is not None and (getattr(pool, "_broken", False) or getattr(pool, "_shutdown_thread", False)):
            del _POOLS[key]
            pool = None
        if pool is None:
            for old in _POOLS.values():
                old.shutdown(wait=False, cancel_futures=False)
            _POOLS.clear()
            pool = ProcessPoolExecutor(max_workers=key[1], mp_context=pool_context(key[0]))
            _POOLS[key] = pool
        return pool


def source_signature() -> int:
    """A cheap fingerprint of simfunnel's source files (paths, sizes, modification times; ~1 ms)."""
    files = []
    for path in sorted(_PACKAGE.rglob("*.py")):
        try:
            st = path.stat()
        except OSError:
            continue
        files.append((str(path), st.st_size, st.st_mtime_ns))
    return hash(tuple(files))


def _terminate(pool: ProcessPoolExecutor) -> None:
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()


def release_pool(pool: ProcessPoolExecutor, *, kill: bool = False) -> None:
    """Forget ``pool`` (a later `shared_pool` call starts a new one) and shut it down; ``kill`` terminates its
    workers first and does not wait (after a KeyboardInterrupt, or when the pool is broken)."""
    with _LOCK:
        for key, value in list(_POOLS.items()):
            if value is pool:
                del _POOLS[key]
    if kill:
        _terminate(pool)
        pool.shutdown(wait=False, cancel_futures=True)
    else:
        pool.shutdown(wait=True, cancel_futures=True)


def shutdown_pools() -> None:
    """Shut down every shared pool (at exit; also for tests and for freeing the workers' memory)."""
    with _LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def open_pools() -> int:
    """How many shared pools are open (for tests and diagnostics)."""
    with _LOCK:
        return len(_POOLS)


atexit.register(shutdown_pools)
