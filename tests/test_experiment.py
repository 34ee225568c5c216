"""replicate / compare / sweep / attribute / optimize_budget against the real model on shortened scenarios."""

from __future__ import annotations

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

import simfunnel
from simfunnel import load_scenario
from simfunnel.experiment import (
    attribute,
    best_splits,
    child_seed,
    compare,
    mean_ci,
    optimize_budget,
    replicate,
    sweep,
    t_quantile_975,
)
from simfunnel.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500, "simulation.warmup_days": 0}
TIMING = ["wall_seconds"]


def short(name: str = "base"):
    return load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides(SHORT)


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the timing metric (the only one allowed to differ between identical runs)."""
    return frame[~frame["metric"].isin(TIMING)].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- statistics
def _t_cdf(x: float, df: int) -> float:
    """P(T <= x) by Simpson integration of the t density (reference for the quantile table)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    # substitute t = tan(u) to integrate over a finite range: (-pi/2, atan(x)]
    a, b = -math.pi / 2 + 1e-12, math.atan(x)
    m = 20000
    u = np.linspace(a, b, m + 1)
    t = np.tan(u)
    f = c * (1 + t * t / df) ** (-(df + 1) / 2) / np.cos(u) ** 2
    h = (b - a) / m
    return float(h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum()))


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 17, 30, 31, 45, 120, 1000])
def test_t_quantile_975_matches_the_t_distribution(df):
    q = t_quantile_975(df)
    assert _t_cdf(q, df) == pytest.approx(0.975, abs=2e-6)


def test_t_quantile_edges():
    assert math.isnan(t_quantile_975(0))
    assert math.isnan(t_quantile_975(float("nan")))
    assert t_quantile_975(2.7) == t_quantile_975(2)  # fractional df rounded down (conservative)
    assert t_quantile_975(1e9) == pytest.approx(1.959964, abs=1e-6)
    s = mean_ci([1.0, 2.0, 3.0, float("nan")])
    assert s["n"] == 3 and s["mean"] == 2.0 and s["half_width"] == pytest.approx(4.302652729749464 / math.sqrt(3))


# ---------------------------------------------------------------------------------------------- seeds
def test_same_seed_same_results_and_different_seed_differs():
    scn = short()
    a = replicate(scn, 3, seed=7, executor="serial", progress=False)
    b = replicate(scn, 3, seed=7, executor="serial", progress=False)
    c = replicate(scn, 3, seed=8, executor="serial", progress=False)
    pd.testing.assert_frame_equal(stable(a.runs), stable(b.runs))
    assert not stable(a.runs)["value"].equals(stable(c.runs)["value"])
    assert a.n_replications == 3 and a.seed == 7


def test_replication_i_does_not_depend_on_n_and_seed_for_reproduces_a_run():
    scn = short()
    small = replicate(scn, 2, seed=11, executor="serial", progress=False)
    big = replicate(scn, 5, seed=11, executor="serial", progress=False)
    pd.testing.assert_frame_equal(stable(small.runs), stable(big.runs[big.runs["replication"] < 2]))
    # child i is root.spawn(n)[i] for any n, and simulate(scenario, seed_for(i)) is replication i
    root = np.random.SeedSequence(11)
    kids = np.random.SeedSequence(11).spawn(5)
    for i in range(5):
        assert child_seed(root, i).generate_state(4).tolist() == kids[i].generate_state(4).tolist()
    direct = simulate(scn, big.seed_for(3)).summary
    wide = big.wide().set_index("replication")
    for metric in ("buyers", "mqls", "won", "revenue", "profit", "cac"):
        a, b = wide.loc[3, metric], direct[metric]
        assert a == b or (math.isnan(a) and math.isnan(b)), metric


def test_tables_have_stable_columns():
    exp = replicate(short(), 3, seed=1, executor="serial", progress=False)
    assert list(exp.runs.columns) == ["scenario", "replication", "metric", "value"]
    assert list(exp.summary.columns) == ["scenario", "metric", "mean", "std", "n", "ci_low", "ci_high", "half_width"]
    assert list(exp.errors.columns) == ["scenario", "error", "failed_replications"]
    assert exp.errors.empty
    assert exp.runs["value"].dtype == np.float64 and exp.runs["replication"].dtype == np.int64
    wide = exp.wide()
    assert list(wide.columns[:2]) == ["scenario", "replication"] and len(wide) == 3
    assert list(wide.columns[2:]) == list(exp.metrics)
    profit = exp.metric("profit").iloc[0]
    expected = mean_ci(wide["profit"])
    assert profit["mean"] == pytest.approx(expected["mean"]) and profit["n"] == 3
    assert profit["ci_low"] == pytest.approx(expected["ci_low"])


# ---------------------------------------------------------------------------------------------- compare
def test_compare_pairs_replications_and_paired_ci_is_narrower():
    exp = compare(
        {"siloed": short("siloed"), "aligned": short("aligned")}, 16, seed=3, executor="serial", progress=False
    )
    assert exp.baseline == "siloed"
    d = exp.diffs.set_index("metric")
    assert set(d["scenario"]) == {"aligned"} and set(d["baseline"]) == {"siloed"}
    for metric in ("buyers", "open", "profit"):
        row = d.loc[metric]
        assert row["half_width"] < row["half_width_unpaired"], metric
        assert row["ci_low"] <= row["mean_diff"] <= row["ci_high"]
        assert row["mean_diff"] == pytest.approx(row["mean"] - row["mean_baseline"])
    # CRN: the same scenario under two names gives identical runs, differences exactly 0
    same = compare({"a": short(), "b": short()}, 3, seed=3, executor="serial", progress=False)
    diffs = same.diffs[same.diffs["metric"] != "wall_seconds"]
    defined = diffs.dropna(subset=["mean"])  # a KPI undefined in both (sla_breach_share without an SLA) has no diff
    assert (defined["mean_diff"] == 0).all() and (defined["half_width"].fillna(0) == 0).all()


# ---------------------------------------------------------------------------------------------- precision
def test_precision_mode_adds_batches_until_the_target_is_met():
    scn = short()
    exp = replicate(
        scn, 4, seed=5, precision=0.03, precision_metric="buyers", batch=3, executor="serial", progress=False
    )
    n = exp.n_replications
    assert exp.precision_met and 4 <= n < 200 and (n - 4) % 3 == 0
    row = exp.metric("buyers").iloc[0]
    assert row["n"] == n and row["half_width"] <= 0.03 * abs(row["mean"])
    # one batch fewer was not precise enough
    if n > 4:
        prev = mean_ci(exp.wide()["buyers"].iloc[: n - 3])
        assert prev["half_width"] > 0.03 * abs(prev["mean"])
    # the replications are the same as a plain run of that size
    plain = replicate(scn, n, seed=5, executor="serial", progress=False)
    pd.testing.assert_frame_equal(stable(exp.runs), stable(plain.runs))


def test_precision_mode_stops_at_max_replications():
    with pytest.warns(RuntimeWarning, match="did not reach"):
        exp = replicate(
            short(), 2, seed=5, precision=1e-9, max_replications=5, batch=2, executor="serial", progress=False
        )
    assert exp.n_replications == 5 and exp.precision_met is False


# ---------------------------------------------------------------------------------------------- sweep
def test_sweep_grid_shape_and_crn_across_points():
    grid = {"sales.reps": [6, 12], "organisation.mql_threshold": [0.3, 0.4, 0.5]}
    exp = sweep(short(), grid, 2, seed=9, executor="serial", progress=False)
    assert list(exp.runs.columns) == [
        "point",
        "sales.reps",
        "organisation.mql_threshold",
        "replication",
        "metric",
        "value",
    ]
    assert exp.fields == ("sales.reps", "organisation.mql_threshold")
    n_metrics = len(exp.metrics)
    assert len(exp.summary) == 6 * n_metrics and len(exp.runs) == 6 * 2 * n_metrics
    pts = exp.summary.drop_duplicates("point")
    assert pts["sales.reps"].tolist() == [6, 6, 6, 12, 12, 12]
    assert pts["organisation.mql_threshold"].tolist() == [0.3, 0.4, 0.5] * 2
    # replication i of every point sees the same market (same seed child): the non-referral arrivals agree
    wide = exp.wide().assign(market=lambda w: w["buyers"] - w["referrals"])
    market = wide.pivot(index="replication", columns="point", values="market")
    assert (market.nunique(axis=1) == 1).all() and market.iloc[0, 0] != market.iloc[1, 0]


def test_sweep_failing_point_is_recorded_and_the_others_complete():
    grid = {"sales.reps": [4, -2, 8]}
    with pytest.warns(RuntimeWarning, match="1 of 3"):
        exp = sweep(short(), grid, 2, seed=1, executor="serial", progress=False)
    assert exp.errors["point"].tolist() == [1]
    assert exp.errors["sales.reps"].tolist() == [-2]
    assert "ScenarioError" in exp.errors["error"].iloc[0] and "sales.reps" in exp.errors["error"].iloc[0]
    assert sorted(exp.summary["point"].unique().tolist()) == [0, 2]


SCRIPT = """
import sys, time
from simfunnel import load_scenario
from simfunnel.experiment import sweep
from simfunnel.simulate import simulate

def slow(scenario, seed):
    time.sleep(0.12)
    return simulate(scenario, seed).summary

if __name__ == "__main__":
    scn = load_scenario(sys.argv[1]).with_overrides({SHORT!r})
    sweep(scn, {GRID!r}, {N}, seed=21, checkpoint=sys.argv[2], executor="serial", progress=False, _runner=slow)
"""
GRID = {"sales.reps": [3, 5, 7, 9, 11, 13], "organisation.mql_threshold": [0.3, 0.5]}
N = 2


def _checkpoint_points(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        return pd.read_parquet(path)["point_key"].nunique()
    except Exception:  # noqa: BLE001 - never half-written, but be tolerant while polling
        return 0


def test_checkpoint_resume_after_kill_loses_and_duplicates_nothing(tmp_path):
    script = tmp_path / "run_sweep.py"
    script.write_text(textwrap.dedent(SCRIPT.format(SHORT=SHORT, GRID=GRID, N=N)))
    ck = tmp_path / "out" / "sweep.parquet"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ROOT / "scenarios" / "base.toml"), str(ck)],
        cwd=ROOT,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while _checkpoint_points(ck) < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        done_at_kill = _checkpoint_points(ck)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    total = len(GRID["sales.reps"]) * len(GRID["organisation.mql_threshold"])
    assert 1 <= done_at_kill < total, "the sweep must be interrupted mid-way"
    done_on_disk = _checkpoint_points(ck)

    calls = []

    def counting(scenario, seed):
        calls.append(1)
        return simulate(scenario, seed).summary

    scn = short()
    resumed = sweep(scn, GRID, N, seed=21, checkpoint=ck, executor="serial", progress=False, _runner=counting)
    assert len(calls) == (total - done_on_disk) * N  # finished points were not run again
    full = sweep(scn, GRID, N, seed=21, executor="serial", progress=False)
    pd.testing.assert_frame_equal(stable(resumed.runs), stable(full.runs))
    pd.testing.assert_frame_equal(
        resumed.summary[resumed.summary["metric"] != "wall_seconds"].reset_index(drop=True),
        full.summary[full.summary["metric"] != "wall_seconds"].reset_index(drop=True),
    )
    stored = pd.read_parquet(ck)
    assert stored["point_key"].nunique() == total
    assert not stored.duplicated(["point_key", "replication", "metric"]).any()
    assert len(stored) == total * N * len(full.metrics)
    assert not list(ck.parent.glob(".*.tmp"))  # no temporary file left behind by the finished run


def test_csv_checkpoint_round_trips_exactly_and_seed_is_adopted(tmp_path):
    ck = tmp_path / "sweep.csv"
    grid = {"organisation.mql_threshold": [0.3, 0.45]}
    first = sweep(short(), grid, 2, seed=4, checkpoint=ck, executor="serial", progress=False)

    def never(scenario, seed):
        raise AssertionError("everything is in the checkpoint")

    # seed=None adopts the checkpoint's seed; nothing runs again; values equal bit for bit
    again = sweep(short(), grid, 2, seed=None, checkpoint=ck, executor="serial", progress=False, _runner=never)
    assert again.seed == 4
    pd.testing.assert_frame_equal(first.runs, again.runs)
    # more replications later: only the new ones run
    calls = []

    def counting(scenario, seed):
        calls.append(1)
        return simulate(scenario, seed).summary

    more = sweep(short(), grid, 3, seed=4, checkpoint=ck, executor="serial", progress=False, _runner=counting)
    assert len(calls) == 2 and more.n_replications == 3


# ---------------------------------------------------------------------------------------------- attribute
def test_shapley_exact_is_efficient_and_additive():
    levers = ["handoff", "queue_policy", ("too_early", "pass_context")]
    with pytest.warns(RuntimeWarning, match="not among the attributed levers"):
        res = attribute(short("siloed"), short("aligned"), 4, seed=2, levers=levers, executor="serial", progress=False)
    assert res.exact and res.levers == ("handoff", "queue_policy", "too_early+pass_context")
    t = res.table
    assert list(t.columns) == ["lever", "fields", "shapley", "std", "n", "ci_low", "ci_high", "half_width", "share"]
    # efficiency, per replication and on average
    per = res.per_replication
    assert np.allclose(per[list(res.levers)].sum(axis=1), per["gap"], rtol=1e-9, atol=1e-6)
    assert t["shapley"].sum() == pytest.approx(res.gap["mean"], rel=1e-9, abs=1e-6)
    assert t["share"].sum() == pytest.approx(1.0)
    assert res.gap["mean"] == pytest.approx(res.gap["all_levers_mean"] - res.gap["siloed_mean"])
    # the same coalition runs give the attribution of another KPI without simulating again
    other = res.for_metric("revenue")
    assert other.runs is res.runs
    assert other.metric == "revenue" and other.table["shapley"].sum() == pytest.approx(other.gap["mean"])


def test_shapley_sampled_permutations_are_efficient_and_seeded():
    kw = dict(levers=None, permutations=4, executor="serial", progress=False)
    a = attribute(short("siloed"), short("aligned"), 2, seed=6, **kw)
    b = attribute(short("siloed"), short("aligned"), 2, seed=6, **kw)
    assert not a.exact and a.permutations == 4 and len(a.levers) == len(simfunnel.LEVERS)
    assert a.table["shapley"].sum() == pytest.approx(a.gap["mean"], rel=1e-9, abs=1e-6)
    pd.testing.assert_frame_equal(a.table, b.table)


# ---------------------------------------------------------------------------------------------- budget
def test_optimize_budget_coarse_and_refine():
    scn = short()
    res = optimize_budget(
        scn, "mqls", 2, seed=3, step=0.5, refine=True, max_rounds=1, executor="serial", progress=False
    )
    assert sum(res.best_shares.values()) == pytest.approx(1.0)
    assert set(res.best_shares) == set(scn.marketing.shares)
    stages = res.table["stage"].tolist()
    assert stages[0] == "current" and "coarse" in stages and "refine 1" in stages
    # siloed base does not train reps: the coarse grid holds training at 0
    coarse = res.table[res.table["stage"] == "coarse"]
    assert (coarse["training"] == 0).all() and len(coarse) == 6  # (acq, nurture, retention) in halves
    assert res.mean == res.table["mean"].max()
    assert res.table.loc[res.best_candidate, "mean"] == res.mean
    share_cols = list(res.items)
    assert np.allclose(res.table[share_cols].sum(axis=1), 1.0)
    splits = best_splits(scn, 2, seed=3, step=0.5, refine=False, executor="serial", progress=False)
    assert list(splits.columns) == ["current", "mql_optimal", "profit_optimal"]
    assert splits.loc["mqls", "mql_optimal"] >= splits.loc["mqls", "profit_optimal"]
    assert splits.loc["profit", "profit_optimal"] >= splits.loc["profit", "mql_optimal"]
    assert splits.loc[list(res.items)].sum().to_numpy() == pytest.approx([1.0, 1.0, 1.0])
