"""explore: uncertain inputs, sampled worlds, sensitivity (Ishigami), robustness, PRIM, EVPPI, checkpoints."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simfunnel import load_scenario, simulate
from simfunnel.analysis import explore
from simfunnel.analysis.prim import prim
from simfunnel.errors import ScenarioError
from simfunnel.experiments import RunOptions

pytest.importorskip("SALib")

ROOT = Path(__file__).resolve().parents[1]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500, "simulation.warmup_days": 0}
PI = math.pi
WIN = "sales.win."


def short(name: str = "base"):
    return load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides(SHORT)


def ishigami(scenario, seed):
    """The Ishigami function of three win-model coefficients; ``context`` is an input it ignores."""
    w = scenario.sales.win
    x1, x2, x3 = w.intercept, w.fit, w.readiness
    return {"profit": float(np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1))}


def dominant(scenario, seed):
    """Profit driven by one input; a second one barely matters; ``context`` is ignored."""
    w = scenario.sales.win
    return {"profit": 10.0 * w.intercept + 0.1 * w.fit, "revenue": 1.0}


UNIFORM_PI = {"kind": "uniform", "low": -PI, "high": PI}


# ----------------------------------------------------------------------------------------- sensitivity
def test_sobol_indices_reproduce_ishigami_through_explore():
    unc = {WIN + k: UNIFORM_PI for k in ("intercept", "fit", "readiness", "context")}
    exp = explore({"f": short()}, unc, samples=512, design="sobol", seed=1, options=RunOptions(runner=ishigami))
    assert len(exp.worlds) == 512 * (4 + 2)
    s = exp.sensitivity("profit").set_index("input")
    # analytic: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244 (Ishigami & Homma 1990, a = 7, b = 0.1)
    for name, s1, st in (("intercept", 0.314, 0.558), ("fit", 0.442, 0.442), ("readiness", 0.0, 0.244)):
        assert s.loc[WIN + name, "S1"] == pytest.approx(s1, abs=0.08), name
        assert s.loc[WIN + name, "ST"] == pytest.approx(st, abs=0.08), name
        assert s.loc[WIN + name, "ST_low"] <= s.loc[WIN + name, "ST"] <= s.loc[WIN + name, "ST_high"]
    assert s.loc[WIN + "context", ["S1", "ST"]].abs().max() < 1e-9  # ignored by the model


def test_dominant_input_near_one_ignored_input_near_zero_sobol_and_morris():
    unc = {WIN + k: {"kind": "uniform", "low": 0.0, "high": 1.0} for k in ("intercept", "fit", "context")}
    opts = RunOptions(runner=dominant)
    sob = explore({"f": short()}, unc, samples=256, design="sobol", seed=2, options=opts).sensitivity()
    sob = sob.set_index("input")
    assert sob.loc[WIN + "intercept", "S1"] == pytest.approx(1.0, abs=0.05)
    assert sob.loc[WIN + "intercept", "ST"] == pytest.approx(1.0, abs=0.05)
    assert sob.loc[WIN + "context", "ST"] == 0.0
    assert sob.index[0] == WIN + "intercept"
    mor = explore({"f": short()}, unc, samples=20, design="morris", seed=2, options=opts).sensitivity()
    mor = mor.set_index("input")
    assert list(mor.index) == [WIN + "intercept", WIN + "fit", WIN + "context"]
    assert mor.loc[WIN + "intercept", "mu_star"] == pytest.approx(10.0)  # the effect over the whole range
    assert mor.loc[WIN + "context", "mu_star"] == 0.0
    lhs = explore({"f": short()}, unc, samples=400, design="lhs", seed=2, options=opts).sensitivity()
    lhs = lhs.set_index("input")
    assert lhs.loc[WIN + "intercept", "S1"] > 0.9
    assert abs(lhs.loc[WIN + "context", "S1"]) < 0.05


# ----------------------------------------------------------------------------------- PRIM, robustness, VOI
def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.uniform(0, 1, (3000, 3)), columns=["a", "b", "c"])
    inside = (x["a"].between(0.2, 0.5)) & (x["b"] > 0.6)
    y = np.where(inside, rng.uniform(size=len(x)) < 0.95, rng.uniform(size=len(x)) < 0.03)
    box = prim(x, y)
    lim = box.limits.set_index("input")
    assert lim.loc["a", "low"] == pytest.approx(0.2, abs=0.05)
    assert lim.loc["a", "high"] == pytest.approx(0.5, abs=0.05)
    assert lim.loc["b", "low"] == pytest.approx(0.6, abs=0.05)
    assert not lim.loc["c", "restricted"] or (lim.loc["c", "high"] - lim.loc["c", "low"]) > 0.85
    assert box.density >= 0.8 and box.coverage >= 0.8
    assert "a in [" in box.describe()


def two_policies(scenario, seed):
    """Policy 'bet' earns its intercept (-1..1), policy 'safe' earns 0.2 whatever the world."""
    w = scenario.sales.win
    value = w.intercept if scenario.name == "bet" else 0.2
    return {"profit": float(value)}


def test_robustness_regret_prim_and_evppi_on_a_known_decision():
    unc = {WIN + "intercept": {"kind": "uniform", "low": -1.0, "high": 1.0},
           WIN + "fit": {"kind": "uniform", "low": 0.0, "high": 1.0}}  # fmt: skip
    pols = {"safe": short().model_copy(update={"name": "safe"}), "bet": short().model_copy(update={"name": "bet"})}
    exp = explore(pols, unc, samples=1000, design="lhs", seed=3, options=RunOptions(runner=two_policies))
    rob = exp.robustness("profit")
    t = rob.table.set_index("policy")
    assert t.loc["bet", "share_beats_baseline"] == pytest.approx(0.4, abs=0.03)  # intercept > 0.2
    assert t.loc["bet", "regret_max"] == pytest.approx(1.2, abs=0.01)  # world intercept = -1
    assert t.loc["safe", "regret_max"] == pytest.approx(0.8, abs=0.01)  # world intercept = 1
    assert rob.choice == "safe" and rob.rule == "minimax regret"
    assert exp.robustness("profit", threshold=0.5).choice == "bet"  # only 'bet' ever reaches 0.5
    box = exp.discover("profit")  # where 'bet' does not beat 'safe': intercept <= 0.2
    lim = box.restricted.set_index("input")
    assert list(lim.index) == [WIN + "intercept"]
    assert lim.loc[WIN + "intercept", "high"] == pytest.approx(0.2, abs=0.05)
    voi = exp.evppi("profit").set_index("input")
    # EVPI = E[max(x, 0.2)] - 0.2 = (1 - 0.2)^2 / 4 = 0.16 for x ~ U(-1, 1); all of it is in the intercept
    assert voi.attrs["evpi"] == pytest.approx(0.16, abs=0.01)
    assert voi.loc[WIN + "intercept", "evppi_adjusted"] == pytest.approx(0.16, abs=0.015)
    assert voi.loc[WIN + "fit", "evppi_adjusted"] < 0.01
    assert voi.attrs["choice"] == "safe"


# ------------------------------------------------------------------------------------- runs and tables
def test_serial_and_processes_give_identical_tables_and_common_random_numbers():
    unc = {"market.return_when_ready": {"kind": "uniform", "low": 0.5, "high": 0.95},
           "sales.reps": {"kind": "uniform", "low": 4, "high": 9}}  # fmt: skip
    pols = {"siloed": short("siloed"), "aligned": short("aligned")}
    a = explore(pols, unc, samples=3, design="lhs", n=2, seed=7, executor="serial", progress=False)
    b = explore(pols, unc, samples=3, design="lhs", n=2, seed=7, executor="processes", workers=2, progress=False)
    drop = ["wall_seconds"]
    pd.testing.assert_frame_equal(a.results.drop(columns=drop), b.results.drop(columns=drop))
    assert list(a.results.columns[:6]) == ["world", "market.return_when_ready", "sales.reps", "policy",
                                           "replication", "buyers"]  # fmt: skip
    assert a.results["sales.reps"].dtype == np.int64
    assert len(a.results) == 3 * 2 * 2
    # world w, replication r: the same seed for every policy (buyers arrive identically)
    row = a.results[(a.results["world"] == 1) & (a.results["replication"] == 1)]
    sc = pols["aligned"].with_overrides({k: row.iloc[0][k].item() for k in unc})
    again = simulate(sc, a.seed_for(1)).summary
    assert again["profit"] == row[row["policy"] == "aligned"]["profit"].item()


def test_uncertainty_table_does_not_change_results():
    sc = short("siloed")
    assert sc.uncertainty  # inherited from base.toml
    bare = sc.model_copy(update={"uncertainty": {}})
    x, y = simulate(sc, 3).summary, simulate(bare, 3).summary
    assert {k: v for k, v in x.items() if k != "wall_seconds"} == {k: v for k, v in y.items() if k != "wall_seconds"}


def test_parameter_sample_file_gives_the_worlds(tmp_path):
    draws = pd.DataFrame({"draw": [0, 1, 2], WIN + "intercept": [0.1, -0.5, 0.7], WIN + "fit": [1.0, 2.0, 3.0]})
    path = tmp_path / "draws.csv"
    draws.to_csv(path, index=False)
    exp = explore([short()], path, seed=1, options=RunOptions(runner=dominant))
    assert exp.design.design == "file" and exp.inputs == (WIN + "intercept", WIN + "fit")
    assert exp.results["profit"].tolist() == pytest.approx([1.1, -4.8, 7.3])
    draws.to_parquet(tmp_path / "draws.parquet")
    assert (
        len(explore([short()], tmp_path / "draws.parquet", samples=2, options=RunOptions(runner=dominant)).worlds) == 2
    )
    with pytest.raises(ScenarioError, match="did you mean 'sales.win.intercept'"):
        explore([short()], pd.DataFrame({"sales.win.intercep": [0.1]}), options=RunOptions(runner=dominant))
    table = tmp_path / "uncertainty.toml"  # a TOML file holding only an [uncertainty] table
    table.write_text('[uncertainty."sales.win.fit"]\nkind = "discrete"\nchoices = [1, 2]\n')
    exp = explore([short()], table, samples=8, design="lhs", options=RunOptions(runner=dominant))
    assert sorted(exp.worlds[WIN + "fit"].unique()) == [1.0, 2.0]


# -------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"market.return_when_rady": {"kind": "uniform", "low": 0.5, "high": 0.9}},
            "unknown field path 'market.return_when_rady'.*did you mean 'market.return_when_ready'",
        ),
        ({"markt.ready_at": {"kind": "uniform", "low": 0.5, "high": 0.9}}, "did you mean 'market'"),
        (
            {"market.return_when_ready": {"kind": "uniform", "low": 0.5, "high": 1.2}},
            "can go up to 1.2 but the field must be <= 1",
        ),
        ({"market.ready_at": {"kind": "normal", "mean": 0.5, "sd": 0.1}}, "give low/high to truncate"),
        ({"market.process_days": {"kind": "uniform", "low": 10, "high": 20}}, "is a table, not a number.*mean"),
        ({"organisation.handoff": {"kind": "uniform", "low": 0, "high": 1}}, "not a number"),
        ({"market.ready_at": {"kind": "uniform", "low": 0.5}}, "needs high, low"),
        ({"market.ready_at": {"kind": "uniform", "low": 0.6, "high": 0.5}}, "must be > low"),
        ({"market.ready_at": {"kind": "triangular", "low": 0.4, "mode": 0.8, "high": 0.6}}, "mode"),
        ({"market.ready_at": {"kind": "uniform", "low": 0.4, "high": 0.6, "sd": 1}}, "not a parameter"),
        ({"market.ready_at": {"kind": "beta", "low": 0.4, "high": 0.6}}, "uniform.*discrete"),
        ({"market.ready_at": {"kind": "uniform", "low": "0.4", "high": 0.6}}, "must be a number"),
        ({"sales.reps": {"kind": "normal", "mean": 8, "sd": 1, "low": 1, "high": 20}}, "whole number"),
        ({"market.ready_at": {"kind": "discrete", "choices": [0.5, 0.6], "weights": [1]}}, "one weight per choice"),
    ],
)
def test_bad_uncertainty_entries_give_clear_errors(entry, message):
    """Refused where the table is read: loading a file (test below) and explore (which runs this check)."""
    from simfunnel.errors import FieldValueError
    from simfunnel.schema.uncertainty import check_uncertainty

    with pytest.raises((ScenarioError, FieldValueError), match=message):
        check_uncertainty(short().with_overrides({"uncertainty": entry}))


def test_bad_uncertainty_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "s.toml"
    base = (ROOT / "scenarios" / "base.toml").as_posix()
    path.write_text(f'extends = "{base}"\n[uncertainty."sales.win.contxt"]\nkind = "uniform"\nlow = 0\nhigh = 1\n')
    with pytest.raises(ScenarioError, match=r"s\.toml: uncertainty: .*did you mean 'sales.win.context'"):
        load_scenario(path)


def test_distributions_map_the_unit_interval():
    from simfunnel.schema.uncertainty import UncertainInput

    u = np.linspace(0, 1, 10001)
    tri = UncertainInput(kind="triangular", low=0, mode=1, high=4).ppf(u)
    assert tri.min() == pytest.approx(0, abs=1e-3) and tri.max() == pytest.approx(4, abs=1e-3)
    assert tri.mean() == pytest.approx(5 / 3, abs=0.01)
    ln = UncertainInput(kind="lognormal", mean=30, sd=10).ppf(u[1:-1])
    assert ln.mean() == pytest.approx(30, rel=0.02) and ln.std() == pytest.approx(10, rel=0.1)
    tn = UncertainInput(kind="normal", mean=0, sd=1, low=0).ppf(u)
    assert tn.min() >= 0 and tn.mean() == pytest.approx(math.sqrt(2 / math.pi), abs=0.01)
    d = UncertainInput(kind="discrete", choices=(1, 2, 3), weights=(1, 0, 3)).ppf(u)
    assert set(np.unique(d)) == {1, 3} and np.mean(d == 3) == pytest.approx(0.75, abs=0.01)
    ints = UncertainInput(kind="uniform", low=4, high=6).ppf(u, integer=True)
    assert sorted(np.unique(ints)) == [4, 5, 6]


# -------------------------------------------------------------------------------------------- checkpoint
SCRIPT = """
import sys, time
from simfunnel import load_scenario
from simfunnel.analysis import explore
from simfunnel.simulate import simulate

def slow(scenario, seed):
    time.sleep(0.08)
    return simulate(scenario, seed).summary

if __name__ == "__main__":
    pols = {{n: load_scenario(sys.argv[1] + "/" + n + ".toml").with_overrides({SHORT!r}) for n in ("siloed", "aligned")}}
    explore(pols, {UNC!r}, samples={SAMPLES}, design="lhs", n={N}, seed=21, checkpoint=sys.argv[2],
            executor="serial", progress=False, _runner=slow)
"""
UNC = {"market.return_when_ready": {"kind": "uniform", "low": 0.5, "high": 0.95}}
SAMPLES, N = 12, 2


def _points_on_disk(path: Path) -> int:
    try:
        return pd.read_parquet(path)["point_key"].nunique() if path.exists() else 0
    except Exception:  # noqa: BLE001 - never half-written, but be tolerant while polling
        return 0


def test_explore_killed_midway_resumes_with_nothing_lost_or_duplicated(tmp_path):
    script = tmp_path / "run_explore.py"
    script.write_text(textwrap.dedent(SCRIPT.format(SHORT=SHORT, UNC=UNC, SAMPLES=SAMPLES, N=N)))
    ck = tmp_path / "out" / "explore.parquet"
    proc = subprocess.Popen([sys.executable, str(script), str(ROOT / "scenarios"), str(ck)], cwd=ROOT,
                            env={**os.environ, "TQDM_DISABLE": "1"})  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _points_on_disk(ck) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    total = SAMPLES * 2
    on_disk = _points_on_disk(ck)
    assert 2 <= on_disk < total, "the exploration must be interrupted mid-way"
    calls = []

    def counting(scenario, seed):
        calls.append(1)
        return simulate(scenario, seed).summary

    pols = {n: short(n) for n in ("siloed", "aligned")}
    kw = {"samples": SAMPLES, "design": "lhs", "n": N, "executor": "serial", "progress": False}
    resumed = explore(pols, UNC, seed=None, checkpoint=ck, _runner=counting, **kw)  # seed adopted from the file
    assert len(calls) == (total - on_disk) * N
    full = explore(pols, UNC, seed=21, **kw)
    cols = [c for c in full.results.columns if c != "wall_seconds"]
    pd.testing.assert_frame_equal(resumed.results[cols], full.results[cols])
    stored = pd.read_parquet(ck)
    assert stored["point_key"].nunique() == total
    assert not stored.duplicated(["point_key", "replication", "metric"]).any()
    assert not list(ck.parent.glob(".*.tmp"))


# ---------------------------------------------------------------------------------------------------- CLI
def test_cli_explore_json(capsys, tmp_path):
    from simfunnel.cli import main

    out = tmp_path / "r.csv"
    code = main(["explore", "preset:siloed", "preset:aligned", "--samples", "3", "--design", "lhs", "--executor",
                 "serial", "-q", "--format", "json", "-o", str(out), "--set", "simulation.horizon_days=90",
                 "--set", "market.buyers_per_year=1500"])  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["policies"] == ["siloed", "aligned"] and data["worlds"] == 3 and len(data["inputs"]) == 8
    assert data["robust_choice"] in data["policies"]
    assert len(pd.read_csv(out)) == 6


def test_cli_explore_unknown_metric_exits_2(capsys):
    from simfunnel.cli import main

    assert main(["explore", "preset:siloed", "--metric", "proft"]) == 2
    assert "did you mean 'profit'" in capsys.readouterr().err


@pytest.mark.slow
def test_dask_gives_the_same_table_as_serial():
    pytest.importorskip("distributed")
    pols = {n: short(n) for n in ("siloed", "aligned")}
    kw = {"samples": 2, "design": "lhs", "seed": 5, "progress": False}
    a = explore(pols, executor="serial", **kw)
    b = explore(pols, executor="dask", workers=2, **kw)
    pd.testing.assert_frame_equal(a.results.drop(columns="wall_seconds"), b.results.drop(columns="wall_seconds"))


@pytest.mark.parametrize("design", ["morris", "lhs"])
def test_cli_explore_table_for_each_design(capsys, design):
    from simfunnel.cli import main

    args = ["explore", "preset:siloed", "preset:aligned", "--samples", "2", "--design", design, "--executor",
            "serial", "-q", "--threshold", "1e6", "--set", "simulation.horizon_days=60",
            "--set", "market.buyers_per_year=1000"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "robust choice (satisficing" in out and "what drives the gap" in out and "EVPI" in out
    assert ("mu*" in out) == (design == "morris")
