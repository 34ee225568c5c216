"""Sales roles and deal ownership (issue 14, item 7): SDR and AE pools with the SDR-to-AE handoff, one owner per
deal, and the direction test (ownership lengthens sales cycles under load). Each pool against Erlang C:
tests/validation/test_roles_mmc.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simfunnel.errors import ScenarioError
from simfunnel.scenario import load_scenario
from simfunnel.simulate import Probe, simulate

ROLES = {
    "sdr": {"reps": 3, "rep_cost_per_year": 60_000.0, "skill_sd": 0.3},
    "ae": {"reps": 5, "rep_cost_per_year": 140_000.0, "skill_sd": 0.5},
    "handoff_delay_days": {"kind": "fixed", "value": 2.0},
}


@pytest.fixture(scope="module")
def base():
    # no warm-up: staffing and hiring plans are checked from day 0 of the run (and the runs stay short)
    return load_scenario("preset:base", {"simulation.warmup_days": 0})


@pytest.fixture(scope="module")
def two_tier(base):
    sc = base.with_overrides({"sales.roles": ROLES, "organisation.post_sale_followup": True})
    return simulate(sc, 11)


def test_roles_split_the_work(two_tier):
    acts, reps = two_tier.activities, two_tier.reps
    assert set(acts.loc[acts["role"] == "sdr", "kind"]) == {"contact"}
    assert set(acts.loc[acts["role"] == "ae", "kind"]) == {"sales_step", "checkin"}
    assert list(reps["role"]) == ["sdr"] * 3 + ["ae"] * 5
    assert reps.loc[reps["role"] == "sdr", "won"].sum() == 0  # AEs close: the deal's owner is an AE
    assert reps.loc[reps["role"] == "ae", "won"].sum() == two_tier.summary["won"]
    assert two_tier.summary["rep_cost"] == pytest.approx((3 * 60_000 + 5 * 140_000) * 730 / 365)


def test_sdr_to_ae_handoff_delay(two_tier):
    acts = two_tier.activities
    contact_end = acts[acts["kind"] == "contact"].groupby("buyer")["end"].max()
    first_step = acts[acts["kind"] == "sales_step"].groupby("buyer")["start"].min()
    both = first_step.index.intersection(contact_end.index)
    gap = first_step[both] - contact_end[both]
    assert (gap >= 2.0 - 1e-9).all()  # the handoff delay, then the buyer's thinking time and the AE queue


def test_context_loss_lowers_wins(base):
    lose_all = {**ROLES, "context_loss": 1.0}
    keep_all = {**ROLES, "context_loss": 0.0}
    won = [
        sum(
            simulate(base.with_overrides({"sales.roles": r, "organisation.pass_context": True}), s).summary["won"]
            for s in range(3)
        )
        for r in (keep_all, lose_all)
    ]
    assert won[1] < won[0]


def test_roles_refuse_sales_level_staffing(base):
    with pytest.raises(ScenarioError, match="own staffing fields"):
        base.with_overrides({"sales.roles": ROLES, "sales.attrition_per_year": 0.2})


def test_deal_ownership_one_rep_per_deal(base):
    def reps_per_deal(own: bool) -> float:
        r = simulate(base.with_overrides({"sales.deal_ownership": own}), 2)
        steps = r.activities[r.activities["kind"] == "sales_step"]
        return float(steps.groupby("buyer")["rep"].nunique().max())

    assert reps_per_deal(True) == 1.0
    assert reps_per_deal(False) > 1.0


def test_ownership_survives_attrition(base):
    sc = base.with_overrides({"sales.deal_ownership": True, "sales.attrition_per_year": 2.0})
    r = simulate(sc, 3)  # a leaver's deals go back to the shared queue; conservation holds
    assert r.summary["won"] > 0


def _cycle_days(r) -> float:
    b = r.buyers
    done = b["sql_day"].notna() & b["terminal_day"].notna() & (b["terminal_state"] != "open")
    return float((b["terminal_day"] - b["sql_day"])[done].mean())


def ownership_numbers(reps: int = 5, replications: int = 12) -> tuple[float, float, float]:
    """Paired replications (same seed) of `base` with `reps` reps, with and without deal ownership: the mean
    (and 95 % CI) of the difference in mean sales cycle (qualification to close), days."""
    base = load_scenario("preset:base", {"simulation.warmup_days": 0}).with_overrides({"sales.reps": reps})
    own = base.with_overrides({"sales.deal_ownership": True})
    d = np.array([_cycle_days(simulate(own, s)) - _cycle_days(simulate(base, s)) for s in range(replications)])
    half = 2.201 * d.std(ddof=1) / math.sqrt(len(d))  # t(0.975, 11)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def test_deal_ownership_lengthens_cycles_under_load():
    mean, lo, hi = ownership_numbers()
    assert lo > 0.0, (mean, lo, hi)


def test_each_pool_has_its_own_staffing(base):
    roles = {
        "sdr": {"reps": 3, "rep_cost_per_year": 60_000.0, "headcount_plan": [{"day": 200, "reps": 5}]},
        "ae": {"reps": 5, "rep_cost_per_year": 140_000.0, "attrition_per_year": 1.0, "time_to_hire_days": 30.0},
    }
    probe = Probe(
        [100.0, 300.0, 600.0],
        lambda w: 100 * len(w.team.units[0].active) + len(w.team.units[1].active) + w.team.units[1].pending,
    )
    r = simulate(base.with_overrides({"sales.roles": roles}), 4, probe=probe)
    assert probe.values == [305.0, 505.0, 505.0]  # SDRs follow their plan; AEs + vacancies stay at 5
    reps = r.reps
    assert ((reps["role"] == "ae") & (reps["hired_day"] > 0)).sum() >= 3  # AE leavers replaced by AEs
    assert ((reps["role"] == "sdr") & (reps["hired_day"] == 200)).sum() == 2
    cost = sum(
        (60_000.0 if role == "sdr" else 140_000.0) * (min(730.0, left if left == left else 730.0) - hired)
        for role, hired, left in zip(reps["role"], reps["hired_day"], reps["left_day"], strict=True)
    )
    assert r.summary["rep_cost"] == pytest.approx(cost / 365.0)
