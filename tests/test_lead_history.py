"""A lead's history is recorded when it happens (issue 14 item 3): an open lead at the horizon keeps its first
contact, contacts, SQL day and rep hours, and every rep hour belongs to a buyer or a named non-buyer activity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simfunnel import load_scenario, simulate
from simfunnel.errors import ConservationError
from simfunnel.ledger import CHECKIN, CONTACT, SALES_STEP, BuyerTable, Ledger

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base_run():
    """The base preset over its full two years (open leads at the horizon are in every stage)."""
    # no warm-up: the ledger's rep hours and histories are checked over the whole run from an empty start
    return simulate(load_scenario(ROOT / "scenarios" / "base.toml", {"simulation.warmup_days": 0}), seed=1)


def test_every_rep_hour_belongs_to_a_buyer_or_a_check_in(base_run):
    acts, b = base_run.activities, base_run.buyers
    for_buyers = acts[acts["buyer"] >= 0]
    assert for_buyers["hours"].sum() == pytest.approx(b["rep_hours"].sum(), abs=1e-6)
    per_buyer = for_buyers.groupby("buyer")["hours"].sum().reindex(b["buyer_id"], fill_value=0.0)
    np.testing.assert_allclose(per_buyer.to_numpy(), b["rep_hours"].to_numpy(), atol=1e-9)
    assert (acts.loc[acts["buyer"] < 0, "kind"] == "checkin").all()


def test_open_leads_keep_their_contact_history(base_run):
    """Every buyer a rep called has its first contact and number of contacts, open or closed."""
    acts, b = base_run.activities, base_run.buyers.set_index("buyer_id")
    calls = acts[acts["kind"] == "contact"].groupby("buyer")["start"]
    called = b.loc[calls.min().index]
    assert called["first_contact_day"].notna().all()
    np.testing.assert_allclose(called["first_contact_day"], calls.min())
    assert (called["contacts"] == calls.size()).all()
    assert (b.loc[b["contacts"] > 0, "first_contact_day"].notna()).all()
    steps = acts[acts["kind"] == "sales_step"]["buyer"].unique()
    assert b.loc[steps, "sql_day"].notna().all()
    open_called = called[called["terminal_state"] == "open"]
    assert len(open_called) > 0  # the case this is about


def test_wasted_hours_are_part_of_rep_hours(base_run):
    b = base_run.buyers
    assert (b["wasted_hours"] <= b["rep_hours"] + 1e-9).all()


def _ledger_with_one_call(rep_hours: float, buyer: int = 0, kind: int = CONTACT) -> Ledger:
    table = BuyerTable(1)
    table.n = 1
    table.cols["terminal"][0] = 6  # open
    table.cols["first_contact_day"][0] = 1.0
    table.cols["contacts"][0] = 1
    table.cols["rep_hours"][0] = rep_hours
    led = Ledger(horizon=10.0, buyers=table, channel_names=())
    led.activity(0, 1.0, 1.1, 2.0, kind, buyer)
    return led


def test_ledger_check_accepts_hours_that_belong_to_their_buyer():
    _ledger_with_one_call(2.0).check()


def test_ledger_check_rejects_rep_hours_of_no_buyer():
    with pytest.raises(ConservationError, match="rep hours"):
        _ledger_with_one_call(0.0).check()


def test_ledger_check_rejects_an_unnamed_non_buyer_activity():
    with pytest.raises(ConservationError, match="non-buyer"):
        _ledger_with_one_call(0.0, buyer=-1, kind=SALES_STEP).check()


def test_ledger_check_accepts_check_ins_without_a_buyer():
    led = _ledger_with_one_call(0.0, buyer=-1, kind=CHECKIN)
    led.buyers.cols["contacts"][0] = 0
    led.buyers.cols["first_contact_day"][0] = np.nan
    led.check()
