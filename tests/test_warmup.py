"""Warm-up (`simulation.warmup_days`), KPIs per year (`RunResult.by_year`) and the warm-up estimator (MSER-5)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simfunnel import load_scenario, simulate
from simfunnel.cli import main
from simfunnel.ledger import WON
from simfunnel.model.marketing import expected_spend
from simfunnel.periods import ADDITIVE_KEYS, additive_totals, experiment_by_year, yearly_runner
from simfunnel.warmup import estimate_warmup, mser, seasonally_adjusted, welch_moving_average

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_0 = ROOT / "tests" / "data" / "golden_no_warmup.json"
"""Fixed-seed summaries of siloed and aligned (tests/test_golden.py) as stored before the presets had a warm-up."""
BEFORE_WARMUP = {"simulation.warmup_days": 0, "retention.initial_customers": 500, "sales.win.context": 0.3}
"""The preset values those summaries were made with (the presets then had no warm-up, 500 initial customers and
a context logit of 0.3)."""
SMALL = {"simulation.horizon_days": 400, "market.buyers_per_year": 4000, "simulation.warmup_days": 182}


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("preset", ["siloed", "aligned"])
def test_no_warmup_is_bit_identical_to_before(preset: str) -> None:
    """warmup_days = 0 reproduces the summaries of the model without warm-ups, bit for bit."""
    stored = json.loads(GOLDEN_0.read_text())[preset]
    sc = load_scenario(ROOT / "scenarios" / f"{preset}.toml", BEFORE_WARMUP)
    now = simulate(sc, seed=1).summary
    # sim_events counts the engine's work, not a result: it fell with the leaner hot path (issue 11)
    changed = {k: (v, now[k]) for k, v in stored.items() if k != "sim_events" and not _same(float(v), now[k])}
    assert not changed


@pytest.fixture(scope="module")
def warm():
    return simulate(load_scenario("preset:aligned", SMALL), seed=3)


def test_a_win_before_the_warmup_ends_is_not_counted(warm) -> None:
    b = warm.ledger.buyers.trimmed()
    W = warm.scenario.simulation.warmup_days
    won = b["terminal"] == WON
    assert (won & (b["close_day"] < W)).sum() > 5  # the warm-up did win buyers...
    assert warm.summary["won"] == (won & (b["close_day"] >= W)).sum()  # ...that the KPIs leave out
    frame = warm.buyers
    assert not (frame["terminal_day"] < 0).any()  # the buyers table keeps only buyers alive at the window start
    assert (frame["arrival_day"] < 0).any()  # ... including ones that arrived during the warm-up
    assert warm.summary["buyers"] == (b["arrival_day"] >= W).sum()


def test_warmup_conserves_and_counts_the_window(warm) -> None:
    warm.ledger.check()  # the whole run: every buyer, customer and unit of money
    sc, s = warm.scenario, warm.summary
    H = sc.simulation.horizon_days
    assert warm.ledger.horizon == sc.simulation.warmup_days + H
    assert s["marketing_spend"] == pytest.approx(expected_spend(sc, H))
    assert s["rep_cost"] == pytest.approx(sc.sales.reps * sc.sales.rep_cost_per_year * H / 365)
    ts = warm.timeseries
    assert ts["day"].iloc[0] == 0 and ts["day"].iloc[-1] < H
    assert ts["won"].sum() == s["won"]
    assert 0 < s["rep_utilization"] <= 1
    channel_spend = {k: v for k, v in warm.ledger.window_spend().items() if k in warm.ledger.channel_names}
    assert warm.channels["spend"].sum() == pytest.approx(sum(channel_spend.values()))
    assert sum(warm.ledger.window_spend().values()) == s["marketing_spend"]
    assert (warm.activities["end"] > 0).all()


def test_acquisition_stop_day_counts_from_the_horizon() -> None:
    sc = load_scenario("preset:base", {**SMALL, "simulation.horizon_days": 120, "marketing.acquisition_stop_day": 40})
    s = simulate(sc, seed=1).summary
    assert s["marketing_spend"] == pytest.approx(expected_spend(sc, 120))


@pytest.mark.parametrize("warmup", [0, 182])
def test_kpis_per_year_add_up_to_the_whole(warmup: int) -> None:
    """Counts and money per year sum to the window's; a 400-day horizon has a short second year."""
    r = simulate(load_scenario("preset:siloed", {**SMALL, "simulation.warmup_days": warmup}), seed=2)
    by = r.by_year()
    assert list(by.columns) == ["year", "days", "metric", "value"]
    assert sorted(by["year"].unique()) == [1, 2]
    assert by.groupby("year")["days"].first().tolist() == [365, 35]
    totals = additive_totals(by)
    for key in ADDITIVE_KEYS:
        assert totals[key] == pytest.approx(r.summary[key], rel=1e-9, abs=1e-6), key
    last = by[by["year"] == 2].set_index("metric")["value"]
    assert last["open"] == r.summary["open"] and last["customers_end"] == r.summary["customers_end"]


def test_yearly_runner_in_an_experiment() -> None:
    from simfunnel.experiments import RunOptions, replicate

    sc = load_scenario("preset:base", {**SMALL, "simulation.horizon_days": 200})
    exp = replicate(sc, n=2, seed=1, options=RunOptions(executor="serial", runner=yearly_runner, progress=False))
    table = experiment_by_year(exp)
    assert set(table["year"]) == {1}
    won = table[table["metric"] == "won"]["mean"].iloc[0]
    assert won == exp.summary.set_index("metric").at["won", "mean"]


# ----------------------------------------------------------------------------------------------- estimator
def test_mser_finds_a_planted_transient() -> None:
    """A level shift in the first 30 observations is cut (to the batch of 5), and not much more."""
    rng = np.random.default_rng(0)
    y = rng.normal(0.0, 0.5, 300)
    y[:30] += 3.0
    res = mser(y)
    assert res.reliable
    assert 30 <= res.truncation <= 60


def test_mser_on_an_exponential_ramp() -> None:
    t = np.arange(200.0)
    y = 1.0 - np.exp(-t / 8.0) + np.random.default_rng(1).normal(0.0, 0.02, 200)
    assert 15 <= mser(y).truncation <= 50


def test_mser_flags_a_series_still_trending() -> None:
    assert not mser(np.linspace(0.0, 1.0, 100)).reliable


def test_seasonal_adjustment_removes_the_yearly_cycle() -> None:
    weeks = np.arange(52 * 4)
    cycle = 0.1 * np.sin(2 * np.pi * weeks / 52)
    y = 1.0 + cycle
    y[:10] -= 0.5  # a transient in the first weeks
    adj = seasonally_adjusted(y)
    assert np.allclose(adj[52:], 1.0)
    assert mser(adj).truncation == 10
    assert np.isnan(welch_moving_average(y, 5)[-1]) and welch_moving_average(y, 5)[60] == pytest.approx(y[55:66].mean())


def test_estimate_warmup_on_the_model() -> None:
    sc = load_scenario("preset:base", {"market.buyers_per_year": 3000, "simulation.warmup_days": 0})
    est = estimate_warmup(sc, seed=1, series="won", pilot_days=3 * 364, replications=1)
    assert est.days % 7 == 0 and 0 <= est.days <= 3 * 364 / 2
    assert est.series == "won" and est.pilot_days == 3 * 364 and len(est.values) == 156
    with pytest.raises(ValueError, match="series"):
        estimate_warmup(sc, series="profit")


def test_cli_warmup(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["warmup", "preset:base", "--set", "market.buyers_per_year=2000", "--pilot-days", "1092", "-n", "1",
                 "--series", "won", "--format", "json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["estimates"][0]["series"] == "won"
    assert out["suggested_warmup_days"] == out["estimates"][0]["days"]
    assert main(["warmup", "preset:base", "--series", "profit"]) == 2
