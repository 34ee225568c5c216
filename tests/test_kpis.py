"""KPI definitions of `simfunnel.metrics` checked by hand: the wait to a first contact and its parts (batching,
planned call-back, rep capacity), on hand-made ledgers and on small simulated scenarios."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simfunnel import load_scenario, simulate
from simfunnel.ledger import MQL, BuyerTable, Ledger
from simfunnel.metrics import SUMMARY_KEYS, summary
from simfunnel.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
WAIT_KEYS = ("contact_wait_days", "contact_wait_days_p90", "batch_wait_days", "callback_wait_days", "queue_wait_days")


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "base.toml").with_overrides(
        {"simulation.horizon_days": 120, "market.buyers_per_year": 3000}
    )


def ledger_of(rows: list[dict[str, float]], horizon: float = 100.0) -> Ledger:
    """A ledger whose buyers are `rows` (column -> value); every buyer is a lead, terminal state 'open'."""
    table = BuyerTable(len(rows))
    table.n = len(rows)
    for i, row in enumerate(rows):
        table.cols["arrival_day"][i] = 0.0
        table.cols["engaged_day"][i] = 0.0
        table.cols["known_day"][i] = 0.0
        table.cols["lead_kind"][i] = MQL
        table.cols["terminal"][i] = 6  # open
        for name, value in row.items():
            table.cols[name][i] = value
    return Ledger(horizon=horizon, buyers=table, channel_names=("search",))


# ----------------------------------------------------------------------------------------------- waits by hand
HAND_WAITS = [
    # weekly list: lead on day 1, on the list of day 7, called at once, rep free half a day later
    {"lead_day": 1.0, "handoff_day": 7.0, "queued_day": 7.0, "first_contact_day": 7.5},
    # real time with context: handed on day 2, the rep plans to call on day 5 (ready), a rep is free on day 6
    {"lead_day": 2.0, "handoff_day": 2.0, "callback_day": 5.0, "queued_day": 5.0, "first_contact_day": 6.0},
    # handed but never contacted: in no wait
    {"lead_day": 3.0, "handoff_day": 7.0, "queued_day": 7.0},
]


def test_contact_wait_splits_into_batch_callback_and_queue_by_hand(base):
    """Two contacted leads: waits 6.5 (6 batch + 0.5 queue) and 4 (3 call-back + 1 queue) days."""
    s = summary(ledger_of(HAND_WAITS), base, 0.0)
    assert s["contact_wait_days"] == pytest.approx((6.5 + 4.0) / 2)
    assert s["batch_wait_days"] == pytest.approx((6.0 + 0.0) / 2)
    assert s["callback_wait_days"] == pytest.approx((0.0 + 3.0) / 2)
    assert s["queue_wait_days"] == pytest.approx((0.5 + 1.0) / 2)
    assert s["contact_wait_days_p90"] == pytest.approx(4.0 + 0.9 * (6.5 - 4.0))
    # kept for compatibility: handoff -> first contact leaves the weekly list out
    assert s["lead_wait_days"] == pytest.approx((0.5 + 4.0) / 2)


def test_wait_kpis_are_nan_without_a_contacted_lead(base):
    s = summary(ledger_of(HAND_WAITS[2:]), base, 0.0)
    assert all(math.isnan(s[k]) for k in WAIT_KEYS)


def test_wait_kpis_are_summary_keys():
    assert set(WAIT_KEYS) <= set(SUMMARY_KEYS)


# ----------------------------------------------------------------------------------------------- simulated
def assert_waits_add_up(res) -> None:
    """Per contacted lead and on the means: batch + callback + queue = contact wait, each part >= 0."""
    b = res.buyers
    contacted = b[b["first_contact_day"].notna()]
    contact = contacted["first_contact_day"] - contacted["lead_day"]
    batch = contacted["handoff_day"] - contacted["lead_day"]
    callback = contacted["queued_day"] - contacted["handoff_day"]
    queue = contacted["first_contact_day"] - contacted["queued_day"]
    np.testing.assert_allclose(batch + callback + queue, contact, atol=1e-9)
    for part in (batch, callback, queue):
        assert (part >= -1e-9).all()
    s = res.summary
    if len(contacted):
        total = s["batch_wait_days"] + s["callback_wait_days"] + s["queue_wait_days"]
        assert total == pytest.approx(s["contact_wait_days"], abs=1e-9)
        assert s["contact_wait_days"] == pytest.approx(contact.mean())
        assert s["contact_wait_days_p90"] >= s["contact_wait_days"] - 1e-9 or len(contacted) < 10
    # a planned call-back is a call-back wait, and only a planned call-back is
    planned = contacted["callback_day"].notna()
    np.testing.assert_allclose(contacted.loc[planned, "queued_day"], contacted.loc[planned, "callback_day"], atol=1e-9)
    assert (callback[~planned] == 0).all()


@pytest.mark.parametrize("preset", ["siloed", "aligned", "base", "b2b_software"])
def test_waits_add_up_per_lead_and_on_the_means(preset):
    sc = load_scenario(ROOT / "scenarios" / f"{preset}.toml").with_overrides({"simulation.horizon_days": 200})
    assert_waits_add_up(simulate(sc, seed=4))


def test_realtime_without_context_waits_only_for_reps(base):
    """Real-time handoff and no context: no batching, no call-back; the whole wait is rep capacity."""
    sc = base.with_overrides({"organisation.handoff": "realtime", "organisation.pass_context": False})
    res = simulate(sc, seed=2)
    s = res.summary
    assert s["batch_wait_days"] == 0.0 and s["callback_wait_days"] == 0.0
    assert s["contact_wait_days"] == pytest.approx(s["queue_wait_days"])
    assert res.buyers["callback_day"].isna().all()


def test_weekly_list_wait_is_the_time_to_the_next_list_day(base):
    """Batch handoff every 7 days without an SLA: each contacted lead's batch wait is ceil(lead/7)*7 - lead."""
    sc = base.with_overrides(
        {
            "organisation.handoff": "batch",
            "organisation.batch_interval_days": 7.0,
            "organisation.response_sla_hours": math.inf,
            "organisation.pass_context": False,
            "sales.reps": 40,
        }
    )
    res = simulate(sc, seed=3)
    b = res.buyers[res.buyers["first_contact_day"].notna()]
    assert len(b) > 20
    np.testing.assert_allclose(b["handoff_day"], np.ceil(b["lead_day"] / 7.0) * 7.0)
    assert 0.0 < res.summary["batch_wait_days"] < 7.0
    assert res.summary["batch_wait_days"] == pytest.approx((b["handoff_day"] - b["lead_day"]).mean())
    assert_waits_add_up(res)


def test_context_turns_the_wait_into_a_planned_call_back(base):
    """With context (and real time, plenty of reps) the rep calls a not-yet-ready lead on its ready day."""
    sc = base.with_overrides({"organisation.handoff": "realtime", "organisation.pass_context": True, "sales.reps": 40})
    res = simulate(sc, seed=3)
    b = res.buyers
    planned = b[b["callback_day"].notna()]
    assert len(planned) > 0
    np.testing.assert_allclose(planned["callback_day"], planned["ready_day"])
    assert (planned["callback_day"] > planned["handoff_day"]).all()
    assert res.summary["callback_wait_days"] > 0.0
    assert_waits_add_up(res)
