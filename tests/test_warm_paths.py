"""Issue 11: the explorer and the report on the warm worker pool give the serial results; the report's model
checks and representative runs share the pool with the simulations."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pandas as pd

from simfunnel import load_scenario
from simfunnel.experiments.executors import ProcessExecutor
from simfunnel.experiments.seeds import child_seed, root_seed
from simfunnel.present.explorer import what_if
from simfunnel.present.report.runs import ModelChecks
from simfunnel.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500, "simulation.warmup_days": 0}


def _stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["metric"] != "wall_seconds"].reset_index(drop=True)


def test_what_if_on_warm_workers_equals_serial_exactly():
    base = load_scenario(ROOT / "scenarios" / "base.toml").with_overrides(SHORT)
    kw = {"levers": {"pass_context": True}, "replications": 3, "seed": 2, "cache": False, "figures": False}
    ser = what_if(base, **kw)
    par = what_if(base, executor="processes", **kw)
    pd.testing.assert_frame_equal(_stable(par.summary), _stable(ser.summary))
    pd.testing.assert_frame_equal(_stable(par.diffs), _stable(ser.diffs))


def test_model_checks_go_to_the_given_submit():
    calls = []

    def submit(fn, *args):
        calls.append((fn.__name__, args))
        fut: Future = Future()
        fut.set_result([{"check": "fake", "passed": True}])
        return fut

    checks = ModelChecks(3, None, background=True, submit=submit)
    table = checks.table()
    assert calls == [("run_checks_records", (3,))]
    assert table["check"].tolist() == ["fake"]


def test_a_run_submitted_to_the_workers_is_the_local_run():
    scenario = load_scenario(ROOT / "scenarios" / "aligned.toml").with_overrides(SHORT)
    seed = child_seed(root_seed(1), 0)
    with ProcessExecutor(workers=2, progress=False) as ex:
        remote = ex.submit(simulate, scenario, seed).result()
    local = simulate(scenario, child_seed(root_seed(1), 0))
    skip = {"wall_seconds"}
    assert {k: v for k, v in remote.summary.items() if k not in skip} == {
        k: v for k, v in local.summary.items() if k not in skip
    }
    pd.testing.assert_frame_equal(remote.buyers, local.buyers)


def test_the_report_runs_replication_zero_once(tmp_path, monkeypatch):
    import importlib

    from simfunnel.experiments.cache import ResultCache
    from simfunnel.experiments.executors import SerialExecutor
    from simfunnel.present.report.runs import ReportRuns, simulate_report

    sim = importlib.import_module("simfunnel.simulate")
    real, calls = sim.simulate, []

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim, "simulate", counting)
    scns = {x: load_scenario(ROOT / "scenarios" / f"{x}.toml").with_overrides(SHORT) for x in ("siloed", "aligned")}
    runs = ReportRuns(scns, {x: None for x in scns}, "siloed", 3)
    store = ResultCache(tmp_path / "cache")
    timings: dict[str, float] = {}
    simulate_report(runs, SerialExecutor(progress=False), seed=1, store=store, attribution="off", attribution_n=2,
                    permutations=2, metric="profit", timings=timings)  # fmt: skip
    assert len(calls) == 6  # 2 scenarios x 3 replications: the representative runs are the comparison's first
    assert set(runs.representative) == {"siloed", "aligned"} and store.writes == 6
    rep0 = runs.experiment.runs.query("replication == 0 and scenario == 'aligned' and metric == 'profit'")
    assert rep0["value"].item() == runs.representative["aligned"].summary["profit"]
