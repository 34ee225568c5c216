"""Executors: identical results serially, in 1 or 2 processes and on Dask; failures reported, never hanging."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simfunnel import load_scenario
from simfunnel.executors import (
    DEAD_WORKER,
    ProcessExecutor,
    SerialExecutor,
    Task,
    flatten_summary,
    open_executor,
    run_task,
)
from simfunnel.experiment import child_seed, compare, replicate, sweep
from simfunnel.progress import _NoBar, make_bar, progress_enabled
from simfunnel.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500, "simulation.warmup_days": 0}


def short(name: str = "base"):
    return load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides(SHORT)


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["metric"] != "wall_seconds"].reset_index(drop=True)


# Runners injected through the private `_runner` hook. They live at module level so that spawned worker
# processes can import them by reference (pytest puts tests/ on sys.path, which spawn passes on).
def crash_at_13_reps(scenario, seed):
    if scenario.sales.reps == 13:
        os._exit(3)  # the worker process dies without a Python exception
    return simulate(scenario, seed).summary


def raise_at_13_reps(scenario, seed):
    if scenario.sales.reps == 13:
        raise ValueError("thirteen reps are unlucky")
    return simulate(scenario, seed).summary


def _experiment(executor: str, workers: int | None = None):
    scenarios = {"siloed": short("siloed"), "aligned": short("aligned")}
    return compare(scenarios, 3, seed=42, executor=executor, workers=workers, progress=False)


@pytest.fixture(scope="module")
def serial_reference():
    return _experiment("serial")


@pytest.mark.parametrize("workers", [1, 2])
def test_processes_give_the_serial_results_bit_for_bit(serial_reference, workers):
    got = _experiment("processes", workers)
    pd.testing.assert_frame_equal(stable(got.runs), stable(serial_reference.runs))
    keep = serial_reference.summary["metric"] != "wall_seconds"
    pd.testing.assert_frame_equal(
        got.summary[keep].reset_index(drop=True), serial_reference.summary[keep].reset_index(drop=True)
    )
    d_keep = serial_reference.diffs["metric"] != "wall_seconds"
    pd.testing.assert_frame_equal(
        got.diffs[d_keep].reset_index(drop=True), serial_reference.diffs[d_keep].reset_index(drop=True)
    )


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_results_bit_for_bit(serial_reference):
    pytest.importorskip("distributed")
    got = _experiment("dask", 2)
    pd.testing.assert_frame_equal(stable(got.runs), stable(serial_reference.runs))
    pd.testing.assert_frame_equal(
        got.diffs[got.diffs["metric"] != "wall_seconds"].reset_index(drop=True),
        serial_reference.diffs[serial_reference.diffs["metric"] != "wall_seconds"].reset_index(drop=True),
    )


@pytest.mark.slow
def test_dask_by_address_and_by_client(serial_reference):
    distributed = pytest.importorskip("distributed")
    scenarios = {"siloed": short("siloed"), "aligned": short("aligned")}
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        by_client = compare(scenarios, 3, seed=42, client=client, progress=False)
        assert client.status == "running"  # a client passed in is borrowed, not closed
        by_address = compare(scenarios, 3, seed=42, address=cluster.scheduler_address, progress=False)
    for got in (by_client, by_address):
        pd.testing.assert_frame_equal(stable(got.runs), stable(serial_reference.runs))


def test_a_borrowed_executor_is_reused_and_left_open():
    scn = short()
    with ProcessExecutor(workers=2, progress=False) as ex:
        a = replicate(scn, 2, seed=1, executor=ex)
        pool = ex._pool
        b = replicate(scn, 3, seed=1, executor=ex)
        assert pool is not None and ex._pool is pool  # the same worker processes served both calls
    assert ex._pool is None
    pd.testing.assert_frame_equal(stable(a.runs), stable(b.runs[b.runs["replication"] < 2]))


def test_a_dead_worker_becomes_an_error_row_for_its_point_only():
    grid = {"sales.reps": [9, 13, 11, 7]}
    with pytest.warns(RuntimeWarning, match="1 of 4"):
        exp = sweep(short(), grid, 2, seed=5, executor="processes", workers=2, progress=False, _runner=crash_at_13_reps)
    assert exp.errors["point"].tolist() == [1]
    assert exp.errors["sales.reps"].tolist() == [13]
    assert exp.errors["error"].iloc[0] == DEAD_WORKER
    assert exp.errors["failed_replications"].iloc[0] == 2
    # the innocent points completed and equal a serial run of the same points
    ok = sweep(short(), {"sales.reps": [9, 11, 7]}, 2, seed=5, executor="serial", progress=False)
    got = exp.wide().drop(columns=["point", "wall_seconds"])
    want = ok.wide().drop(columns=["point", "wall_seconds"])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def test_a_worker_dying_on_the_very_first_task_is_not_blamed_on_the_main_script():
    # no task has completed when the pool breaks: the executor probes whether workers can start at all (they
    # can: pytest's main module is guarded), then isolates the culprit as usual
    grid = {"sales.reps": [13, 9]}
    with pytest.warns(RuntimeWarning, match="1 of 2"):
        exp = sweep(short(), grid, 1, seed=5, executor="processes", workers=1, progress=False, _runner=crash_at_13_reps)
    assert exp.errors["error"].tolist() == [DEAD_WORKER]
    assert exp.summary["point"].unique().tolist() == [1]


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_an_exception_in_a_run_becomes_an_error_row(executor):
    grid = {"sales.reps": [13, 8]}
    with pytest.warns(RuntimeWarning, match="1 of 2"):
        exp = sweep(short(), grid, 2, seed=1, executor=executor, workers=2, progress=False, _runner=raise_at_13_reps)
    assert exp.errors["point"].tolist() == [0]
    assert "ValueError: thirteen reps are unlucky" in exp.errors["error"].iloc[0]
    assert exp.summary["point"].unique().tolist() == [1]


def test_process_executor_stays_usable_across_batches_and_after_a_crash():
    scn13, scn8 = short().with_overrides({"sales.reps": 13}), short().with_overrides({"sales.reps": 8})
    root = np.random.SeedSequence(3)
    with ProcessExecutor(workers=2, runner=crash_at_13_reps, progress=False) as ex:
        first = ex.run([Task((0, r), scn8, child_seed(root, r)) for r in range(3)])
        second = ex.run([Task((1, 0), scn13, child_seed(root, 0)), Task((0, 3), scn8, child_seed(root, 3))])
        third = ex.run([Task((0, 4), scn8, child_seed(root, 4))])
    assert all(ok for ok, _ in first.values()) and len(first) == 3
    assert second[(1, 0)] == (False, DEAD_WORKER) and second[(0, 3)][0]
    assert third[(0, 4)][0]
    direct = simulate(scn8, child_seed(root, 4)).summary
    assert third[(0, 4)][1]["profit"] == direct["profit"]


def test_run_task_does_not_consume_the_callers_seed():
    seed = child_seed(np.random.SeedSequence(9), 0)
    a = run_task(short(), seed)
    seed.spawn(3)  # a caller (or a model) that spawns from the object must not change the next run
    b = run_task(short(), seed)
    assert a[0] and b[0]
    assert {k: v for k, v in a[1].items() if k != "wall_seconds"} == {
        k: v for k, v in b[1].items() if k != "wall_seconds"
    }


def test_flatten_summary_and_runner_by_import_path():
    assert flatten_summary({"a": 1, "b": {"c": np.float64(2.5), "d": "text"}, "e": True}) == {
        "a": 1.0,
        "b.c": 2.5,
        "e": 1.0,
    }
    ok, payload = run_task(short(), np.random.SeedSequence(1), "simfunnel.executors:_simulate_summary")
    assert ok and payload["buyers"] > 0


def test_open_executor_names():
    assert isinstance(open_executor("serial"), SerialExecutor)
    assert isinstance(open_executor("processes", workers=1), ProcessExecutor)
    with pytest.raises(ValueError, match="unknown executor"):
        open_executor("threads")
    with pytest.raises(ValueError, match="workers"):
        ProcessExecutor(workers=0)


def test_results_do_not_depend_on_how_replications_are_batched():
    scn = short()
    exp = replicate(scn, 4, seed=8, executor="processes", workers=2, progress=False)
    ref = replicate(scn, 4, seed=8, executor="serial", progress=False)
    pd.testing.assert_frame_equal(stable(exp.runs), stable(ref.runs))


# ---------------------------------------------------------------------------------------------- progress
def test_progress_auto_is_quiet_in_ci_and_when_disabled(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setenv("CI", "true")
    assert progress_enabled(None) is False
    monkeypatch.setenv("CI", "0")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_enabled(None) is False
    monkeypatch.delenv("TQDM_DISABLE")
    monkeypatch.delenv("CI")
    # under pytest stderr is captured, not a terminal
    assert progress_enabled(None) is False
    assert progress_enabled(True) is True and progress_enabled(False) is False
    assert isinstance(make_bar(1, "x", True), _NoBar)  # one task: no bar
    assert isinstance(make_bar(5, "x", False), _NoBar)
    bar = make_bar(5, "x", True)
    assert not isinstance(bar, _NoBar)
    bar.update(5)
    bar.close()


# ---------------------------------------------------------------------------------------------- warm pools
def worker_pid(scenario, seed):
    return {"pid": float(os.getpid())}


def test_the_warm_pool_is_shared_across_experiments_and_closed_by_shutdown_pools():
    from simfunnel.experiments.pools import open_pools, shutdown_pools

    shutdown_pools()
    scn = short()
    a = replicate(scn, 4, seed=1, executor="processes", workers=2, progress=False, _runner=worker_pid)
    assert open_pools() == 1  # closing the experiment's executor left the workers warm
    b = replicate(scn, 4, seed=1, executor="processes", workers=2, progress=False, _runner=worker_pid)
    pids_a, pids_b = set(a.runs["value"]), set(b.runs["value"])
    assert pids_a & pids_b  # the second experiment ran on the same processes
    assert float(os.getpid()) not in pids_a
    shutdown_pools()
    assert open_pools() == 0


def test_an_own_pool_is_closed_with_its_executor():
    from simfunnel.experiments.pools import open_pools, shutdown_pools

    shutdown_pools()
    with ProcessExecutor(workers=1, progress=False, reuse=False) as ex:
        ex.run([Task((0, 0), short(), np.random.SeedSequence(1))])
        assert ex._pool is not None and open_pools() == 0
    assert ex._pool is None


def test_a_broken_warm_pool_is_replaced():
    from simfunnel.experiments.pools import shared_pool

    grid = {"sales.reps": [13, 8]}
    with pytest.warns(RuntimeWarning, match="1 of 2"):
        sweep(short(), grid, 1, seed=5, executor="processes", workers=2, progress=False, _runner=crash_at_13_reps)
    pool = shared_pool(2)
    assert not pool._broken
    exp = replicate(short(), 2, seed=3, executor="processes", workers=2, progress=False)
    assert exp.errors.empty


def test_chunks_shrink_towards_the_end():
    from simfunnel.experiments.executors import chunk_size

    sizes, left = [], 60
    while left:
        sizes.append(chunk_size(left, 2))
        left -= sizes[-1]
    assert sizes[0] == 8 and sizes[-1] == 1 and sizes == sorted(sizes, reverse=True)
    assert chunk_size(3, 2) == 1 and chunk_size(1000, 2) == 8


def test_chunked_runs_equal_serial_runs_bit_for_bit():
    scn = short()
    par = replicate(scn, 9, seed=4, executor="processes", workers=2, progress=False)  # chunks of 2 and 1
    ser = replicate(scn, 9, seed=4, executor="serial", progress=False)
    pd.testing.assert_frame_equal(stable(par.runs), stable(ser.runs))


def test_one_shared_pool_at_a_time():
    from simfunnel.experiments.pools import open_pools, shared_pool, shutdown_pools

    shutdown_pools()
    first = shared_pool(1)
    assert shared_pool(1) is first
    second = shared_pool(2)
    assert second is not first and open_pools() == 1
    shutdown_pools()


def test_an_edited_source_tree_gets_fresh_workers(monkeypatch):
    from simfunnel.experiments import pools

    pools.shutdown_pools()
    first = pools.shared_pool(1)
    monkeypatch.setattr(pools, "source_signature", lambda: 12345)  # as if a model file had been edited
    second = pools.shared_pool(1)
    assert second is not first and pools.open_pools() == 1
    pools.shutdown_pools()


def test_the_caller_runs_one_task_of_the_last_partial_round(monkeypatch):
    """3 tasks on 2 busy workers: this process runs the third itself (the what-if's tail), same numbers; with
    ``caller_helps=False`` or a custom runner every task runs in the workers."""
    import simfunnel.experiments.executors as ex

    here: list[tuple[int, int]] = []
    real = ex.run_task

    def recording(scenario, seed, runner=None):
        here.append(seed.spawn_key)
        return real(scenario, seed, runner)

    monkeypatch.setattr(ex, "run_task", recording)  # the workers keep the real one: only runs here are recorded
    scn = short()
    tasks = [Task((0, r), scn, child_seed(np.random.SeedSequence(5), r)) for r in range(3)]

    def numbers(outcomes):
        return {  # NaN as None, so that equal runs compare equal
            key: {m: (None if v != v else v) for m, v in kpis.items() if m != "wall_seconds"}
            for key, (_, kpis) in outcomes.items()
        }

    with ProcessExecutor(workers=2, progress=False) as pool:
        helped = numbers(pool.run(tasks))
    assert len(here) == 1
    assert helped == numbers(SerialExecutor(progress=False).run(tasks))
    here.clear()
    with ProcessExecutor(workers=2, progress=False, caller_helps=False) as pool:
        assert numbers(pool.run(tasks)) == helped and here == []
    with ProcessExecutor(workers=2, progress=False, runner=raise_at_13_reps) as pool:
        assert numbers(pool.run(tasks)) == helped and here == []
