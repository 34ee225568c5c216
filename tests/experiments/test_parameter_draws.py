"""Parameter draws carried into compare and sweep (issue 12 item 5): wider paired intervals when the draws vary a
field the gap depends on, common random numbers kept, identical on every executor, bad columns refused early."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from simfunnel import ScenarioError, load_scenario
from simfunnel.experiments import ParameterDraws, compare, read_draws, replicate, sweep
from simfunnel.experiments.cache import ResultCache
from tests.experiments.conftest import ROOT, short

SERIAL = {"executor": "serial", "progress": False}
LONGER = {"simulation.horizon_days": 240, "market.buyers_per_year": 1500}


def _no_clock(frame: pd.DataFrame) -> pd.DataFrame:
    """Without the run's wall-clock time (the one KPI that depends on the machine)."""
    return frame[frame["metric"] != "wall_seconds"].reset_index(drop=True)


def _pair():
    return {"siloed": load_scenario("preset:siloed", LONGER), "aligned": load_scenario("preset:aligned", LONGER)}


def _value_draws(mean: float) -> pd.DataFrame:
    return pd.DataFrame({"draw": range(8), "market.value.mean": [mean * 0.2, mean * 5] * 4})


def test_draws_widen_the_paired_interval_of_the_gap():
    pair = _pair()
    draws = _value_draws(pair["siloed"].market.value.mean)
    plain = compare(pair, n=8, seed=1, **SERIAL)
    drawn = compare(pair, n=8, seed=1, parameters=draws, **SERIAL)
    hw = [e.diffs.set_index("metric").at["profit", "half_width"] for e in (plain, drawn)]
    assert hw[1] > 2 * hw[0]
    assert plain.parameters is None and plain.parameter_uncertainty is None
    assert "8 parameter draws of market.value.mean" in drawn.parameter_uncertainty
    assert set(drawn.summary.columns) == set(plain.summary.columns)  # no new mandatory columns
    assert list(drawn.diffs.columns) == list(plain.diffs.columns)


def test_every_scenario_gets_the_same_draw_and_seed_per_replication(tmp_path):
    pair = {"siloed": short("siloed"), "aligned": short("aligned")}
    draws = pd.DataFrame({"market.buyers_per_year": [800.0, 1500.0, 2600.0]})
    store = ResultCache(tmp_path)
    exp = compare(pair, n=5, seed=4, parameters=draws, cache=store, **SERIAL)
    used = [exp.draw_for(r)["market.buyers_per_year"] for r in range(5)]
    assert set(used[:3]) == {800.0, 1500.0, 2600.0}  # a permutation: the first D replications use every draw
    assert used[3:] == used[:2]  # then it cycles
    for name, sc in pair.items():  # replication r of each scenario is (scenario + draw r, seed child r)
        for r in (0, 3):
            drawn = sc.with_overrides(exp.draw_for(r))
            assert store.get_summary(drawn, exp.seed_for(r)) is not None
            runs = exp.runs
            got = runs[(runs["scenario"] == name) & (runs["replication"] == r) & (runs["metric"] == "mqls")]
            got = got["value"].item()
            assert got == store.get_summary(drawn, exp.seed_for(r))["mqls"]
    # the cache keys the drawn values: the same seed without draws is a different entry
    assert store.get_summary(pair["siloed"], exp.seed_for(0)) is None


def test_replication_keeps_its_draw_whatever_n():
    draws = pd.DataFrame({"market.buyers_per_year": [800.0, 1500.0, 2600.0, 900.0]})
    a = replicate(short(), 3, seed=2, parameters=draws, **SERIAL)
    b = replicate(short(), 6, seed=2, parameters=draws, **SERIAL)
    assert [a.draw_for(r) for r in range(3)] == [b.draw_for(r) for r in range(3)]
    pd.testing.assert_frame_equal(_no_clock(a.runs), _no_clock(b.runs[b.runs["replication"] < 3]))


def test_identical_on_every_executor():
    pair = {"siloed": short("siloed"), "aligned": short("aligned")}
    draws = pd.DataFrame({"market.buyers_per_year": [800.0, 1500.0, 2600.0]})
    serial = compare(pair, n=4, seed=5, parameters=draws, **SERIAL)
    procs = compare(pair, n=4, seed=5, parameters=draws, executor="processes", workers=2, progress=False)
    pd.testing.assert_frame_equal(_no_clock(serial.runs), _no_clock(procs.runs))
    pd.testing.assert_frame_equal(_no_clock(serial.diffs), _no_clock(procs.diffs))


def test_unknown_column_is_refused_before_any_run(model_runs, tmp_path):
    path = tmp_path / "firm.samples.csv"
    pd.DataFrame({"draw": [0, 1], "market.ready_att": [0.5, 0.6]}).to_csv(path, index=False)
    with pytest.raises(
        ScenarioError, match=r"firm\.samples\.csv: column 'market\.ready_att'.*did you mean 'market\.ready_at'"
    ):
        compare({"a": short("siloed"), "b": short("aligned")}, 2, seed=1, parameters=path, **SERIAL)
    with pytest.raises(ScenarioError, match="firm.samples.csv"):
        sweep(short(), {"sales.reps": [3, 4]}, 2, seed=1, parameters=path, **SERIAL)
    assert model_runs == []


def test_bad_values_and_clashes_are_refused(model_runs):
    with pytest.raises(ScenarioError, match="scenarios differ in this field"):
        compare({"a": short("siloed"), "b": short("aligned")}, 2, seed=1,
                parameters=pd.DataFrame({"organisation.crm_logging": [0.5]}), **SERIAL)  # fmt: skip
    with pytest.raises(ScenarioError, match="draw 0: .*greater than 0"):
        compare({"a": short()}, 2, seed=1, parameters=pd.DataFrame({"market.buyers_per_year": [-5.0]}), **SERIAL)
    with pytest.raises(ScenarioError, match="also a swept field"):
        sweep(short(), {"sales.reps": [3, 4]}, 2, seed=1, parameters=pd.DataFrame({"sales.reps": [3]}), **SERIAL)
    with pytest.raises(ScenarioError, match="every value must be a number"):
        compare({"a": short()}, 2, seed=1, parameters=pd.DataFrame({"market.ready_at": ["x"]}), **SERIAL)
    with pytest.raises(FileNotFoundError):
        read_draws("nowhere.samples.csv")
    assert model_runs == []


def test_sweep_with_draws_and_its_checkpoint(tmp_path):
    draws = pd.DataFrame({"market.buyers_per_year": [800.0, 2600.0]})
    ck = tmp_path / "sweep.csv"
    first = sweep(short(), {"sales.reps": [3, 5]}, 2, seed=1, parameters=draws, checkpoint=ck, **SERIAL)
    again = sweep(short(), {"sales.reps": [3, 5]}, 2, seed=1, parameters=draws, checkpoint=ck,
                  _runner="tests.experiments.test_parameter_draws:_never", **SERIAL)  # fmt: skip
    pd.testing.assert_frame_equal(_no_clock(first.summary), _no_clock(again.summary))
    plain = sweep(short(), {"sales.reps": [3, 5]}, 2, seed=1, checkpoint=ck, **SERIAL)  # draws differ: rerun
    assert not np.allclose(plain.summary["mean"], first.summary["mean"])
    assert first.parameters is not None and isinstance(first.parameters, ParameterDraws)


def _never(scenario, seed):
    raise AssertionError("the checkpoint should have served this run")


def test_cli_refuses_a_bad_column_with_exit_2(tmp_path):
    path = tmp_path / "firm.samples.csv"
    pd.DataFrame({"draw": [0], "sales.repz": [4]}).to_csv(path, index=False)
    for argv in (
        ["run", "preset:base"],
        ["compare", "preset:siloed", "preset:aligned", "-n", "2"],
        ["sweep", "preset:base", "--grid", "organisation.mql_threshold=0.3,0.4", "-n", "2"],
        ["report", "preset:siloed", "preset:aligned", "--quick", "-o", str(tmp_path / "r.html")],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "simfunnel.cli", *argv, "--parameters", str(path), "--executor", "serial"],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "firm.samples.csv: column 'sales.repz'" in proc.stderr and "did you mean 'sales.reps'" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_cli_run_with_draws_says_parameter_uncertainty_is_included(tmp_path):
    path = tmp_path / "firm.samples.csv"
    pd.DataFrame({"draw": [0, 1], "sales.reps": [3, 6]}).to_csv(path, index=False)
    argv = ["run", "preset:base", "-n", "2", "--format", "json", "--set", "simulation.horizon_days=120"]
    proc = subprocess.run(
        [sys.executable, "-m", "simfunnel.cli", *argv, "--parameters", str(path), "--executor", "serial"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["replications"] == 2 and "parameter uncertainty included" in out["parameter_uncertainty"]
