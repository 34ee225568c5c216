"""A team and a budget that change (issue 14, item 8): hiring plan, budget plan, ramp-up, attrition, rep skill,
`RunResult.reps`, rep cost over time, and the direction test (a hiring step lowers queue waits after its date)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simfunnel.errors import ScenarioError
from simfunnel.model.plans import plan_integral, plan_value
from simfunnel.model.sales import win_probability
from simfunnel.model.world import World
from simfunnel.scenario import load_scenario
from simfunnel.simulate import Probe, simulate


@pytest.fixture(scope="module")
def base():
    # no warm-up: staffing and hiring plans are checked from day 0 of the run (and the runs stay short)
    return load_scenario("preset:base", {"simulation.warmup_days": 0})


def test_plan_accessor():
    steps = [(10.0, 3.0), (20.0, 5.0)]
    assert plan_value(steps, 1.0, 0.0) == 1.0
    assert plan_value(steps, 1.0, 10.0) == 3.0
    assert plan_value(steps, 1.0, 25.0) == 5.0
    assert plan_integral(steps, 1.0, 0.0, 30.0) == pytest.approx(10 * 1 + 10 * 3 + 10 * 5)
    assert plan_integral(steps, 1.0, 15.0, 15.0) == 0.0


def test_plan_days_must_increase(base):
    with pytest.raises(ScenarioError, match="increasing"):
        base.with_overrides({"sales.headcount_plan": [{"day": 30, "reps": 3}, {"day": 30, "reps": 4}]})
    with pytest.raises(ScenarioError, match="increasing"):
        base.with_overrides(
            {"marketing.budget_plan": [{"day": 9, "budget_per_year": 1}, {"day": 2, "budget_per_year": 1}]}
        )


def test_fixed_team_reps_frame(base):
    r = simulate(base, 3)
    reps = r.reps
    assert len(reps) == base.sales.reps
    assert (reps["hired_day"] == 0).all() and reps["left_day"].isna().all()
    assert (reps["skill"] == 0).all()
    won_owned = int(reps["won"].sum())
    assert won_owned == r.summary["won"]  # every won deal has an owner
    assert reps["hours"].sum() == pytest.approx(r.activities["hours"].sum())


def test_headcount_follows_plan_and_cost(base):
    sc = base.with_overrides({"sales.headcount_plan": [{"day": 200, "reps": 12}, {"day": 500, "reps": 5}]})
    probe = Probe([100.0, 300.0, 600.0], lambda w: len(w.team.active))
    r = simulate(sc, 1, probe=probe)
    assert probe.values == [8.0, 12.0, 5.0]
    days = 8 * 200 + 12 * 300 + 5 * 230
    assert r.summary["rep_cost"] == pytest.approx(sc.sales.rep_cost_per_year * days / 365.0)
    hires = r.reps
    assert (hires["hired_day"] == 200).sum() == 4
    assert (hires["left_day"] == 500).sum() == 7  # a cut lets the latest hires go first
    assert set(hires.loc[hires["left_day"] == 500, "rep"]) == {5, 6, 7, 8, 9, 10, 11}
    years = r.by_year().set_index(["year", "metric"])["value"]
    assert years[(1, "rep_cost")] + years[(2, "rep_cost")] == pytest.approx(r.summary["rep_cost"])


def test_budget_plan_spend(base):
    b0 = base.marketing.budget_per_year
    sc = base.with_overrides({"marketing.budget_plan": [{"day": 100, "budget_per_year": 2 * b0}]})
    r = simulate(sc, 2)  # conservation (ledger.check) compares the spend with the plan's integral
    expected = (b0 * 100 + 2 * b0 * (730 - 100)) / 365.0
    assert r.summary["marketing_spend"] == pytest.approx(expected)
    assert r.summary["revenue"] > simulate(base, 2).summary["revenue"]


def test_budget_and_headcount_plan_with_warmup(base):
    sc = base.with_overrides(
        {
            "simulation.warmup_days": 63,
            "sales.headcount_plan": [{"day": 0, "reps": 10}, {"day": 365, "reps": 6}],
            "marketing.budget_plan": [{"day": 0, "budget_per_year": 500_000.0}],
        }
    )
    r = simulate(sc, 4)
    assert r.summary["marketing_spend"] == pytest.approx(500_000.0 * 730 / 365)
    # the warm-up runs with sales.reps (8), the horizon with the plan
    assert r.summary["rep_cost"] == pytest.approx(sc.sales.rep_cost_per_year * (10 * 365 + 6 * 365) / 365)


def test_attrition_and_rehiring(base):
    no_refill = base.with_overrides({"sales.attrition_per_year": 1.0, "sales.time_to_hire_days": math.inf})
    r = simulate(no_refill, 5)
    assert r.reps["left_day"].notna().sum() >= 4 and (r.reps["hired_day"] == 0).all()
    refill = base.with_overrides({"sales.attrition_per_year": 1.0, "sales.time_to_hire_days": 30.0})
    probe = Probe(list(np.arange(50.0, 700.0, 50.0)), lambda w: len(w.team.active) + w.team.pending)
    r2 = simulate(refill, 5, probe=probe)
    assert set(probe.values) == {8.0}  # employed + vacancies being refilled stays at the headcount
    hires = r2.reps[r2.reps["hired_day"] > 0]
    assert len(hires) >= 4
    leavers = r2.ledger.rep_left
    assert min(hires["hired_day"]) == pytest.approx(min(x for x in leavers if x == x) + 30.0)
    assert r2.summary["rep_cost"] < base.sales.reps * base.sales.rep_cost_per_year * 2


def test_skill_from_own_stream(base):
    a = simulate(base, 7)
    b = simulate(base.with_overrides({"sales.skill_sd": 1.0}), 7)
    n = World(base, 7).n_bulk  # the market's buyers (referrals come after them)
    for col in ("arrival_day", "deadline_day", "value", "fit"):
        assert np.array_equal(a.ledger.buyers.cols[col][:n], b.ledger.buyers.cols[col][:n])
    assert b.reps["skill"].std() > 0.3
    assert b.summary["won"] != a.summary["won"]


def test_skill_and_ramp_in_win_model(base):
    sc = base.with_overrides({"sales.ramp_weeks": 10, "sales.ramp_skill_gap": 2.0})
    w = World(sc, 0)
    assert w.team.skill_at(0, 5.0) == 0.0  # reps of day 0 are ramped
    w.env.run(until=1.0)
    rep = w.team.hire()
    assert w.team.skill_at(rep, 1.0) == pytest.approx(-2.0)
    assert w.team.skill_at(rep, 1.0 + 35.0) == pytest.approx(-1.0)
    assert w.team.skill_at(rep, 1.0 + 70.0) == 0.0
    p0 = win_probability(w, 0.5, 0.9, 0.0, 0.5)
    assert (
        win_probability(w, 0.5, 0.9, 0.0, 0.5, rep_skill=1.0)
        > p0
        > win_probability(w, 0.5, 0.9, 0.0, 0.5, rep_skill=-1.0)
    )


def _weekly_waits(r, lo: float, hi: float) -> float:
    b = r.buyers
    wait = b["first_contact_day"] - b["queued_day"]
    week = (b["queued_day"] // 7) * 7
    keep = (b["queued_day"] >= lo) & (b["queued_day"] < hi) & wait.notna()
    return float(wait[keep].groupby(week[keep]).mean().mean())  # mean of the weekly mean waits


def direction_numbers(reps: int = 20) -> dict[str, tuple[float, float, float]]:
    """Paired replications (same seed), 5 reps throughout vs 5 reps and 8 from day 365: the mean (and 95 % CI) of
    the difference in weekly queue waits (days) in the half year before and after the step."""
    base = load_scenario("preset:base", {"simulation.warmup_days": 0}).with_overrides({"sales.reps": 5})
    hiring = base.with_overrides({"sales.headcount_plan": [{"day": 365, "reps": 8}]})
    diffs: dict[str, list[float]] = {"before": [], "after": []}
    for seed in range(reps):
        a, b = simulate(base, seed), simulate(hiring, seed)
        diffs["before"].append(_weekly_waits(b, 182, 358) - _weekly_waits(a, 182, 358))
        diffs["after"].append(_weekly_waits(b, 372, 547) - _weekly_waits(a, 372, 547))
    out = {}
    for key, d in diffs.items():
        x = np.asarray(d)
        half = 2.093 * x.std(ddof=1) / math.sqrt(len(x))  # t(0.975, 19)
        out[key] = (float(x.mean()), float(x.mean() - half), float(x.mean() + half))
    return out


def test_hiring_step_lowers_waits_after_not_before():
    numbers = direction_numbers()
    before, after = numbers["before"], numbers["after"]
    assert before[1] <= 0.0 <= before[2]  # no effect before the date (the runs are identical up to it)
    assert after[2] < 0.0  # waits fall after it


def test_a_changing_team_leaves_no_cycle_holding_the_world(base):
    """As tests/test_memory.py: with a plan, attrition, roles and deal ownership the run is freed at once."""
    import gc
    import weakref

    short = {"simulation.horizon_days": 120, "market.buyers_per_year": 1500, "sales.deal_ownership": True}
    plans = {"marketing.budget_plan": [{"day": 30, "budget_per_year": 2e6}]}
    roles = {
        "sales.roles": {
            "sdr": {"reps": 2, "rep_cost_per_year": 1.0, "headcount_plan": [{"day": 50, "reps": 3}]},
            "ae": {"reps": 3, "rep_cost_per_year": 1.0, "attrition_per_year": 3.0},
        }
    }
    for extra in ({"sales.attrition_per_year": 3.0, **plans}, roles):
        refs: list[weakref.ref] = []
        was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            simulate(
                base.with_overrides({**short, **extra}), 1, probe=lambda world, r=refs: r.append(weakref.ref(world))
            )
            assert refs[0]() is None
        finally:
            if was_enabled:
                gc.enable()
