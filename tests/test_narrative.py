"""The notebooks' logic in the package: narrative texts and tables, per-buyer facts, the profit bridge, budget-share
arithmetic and sweep steps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simfunnel import compare, load_scenario, simulate, sweep
from simfunnel.experiments.bridge import FATE_LABELS, matched_buyers, profit_bridge, with_organisation
from simfunnel.experiments.shares import acquisition_share, budget_parts, move_share, share_table, with_share
from simfunnel.experiments.steps import first_step_not_paying, sweep_steps
from simfunnel.present import narrative
from simfunnel.present.journeys import (
    RESPONSE_BUCKETS,
    TIMING_LABELS,
    contact_timing,
    contact_waits,
    handoff_facts,
    journey_profile,
    response_buckets,
)

# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 240, "market.buyers_per_year": 4000, "simulation.warmup_days": 0}


@pytest.fixture(scope="module")
def pair():
    siloed = load_scenario("preset:siloed").with_overrides(SHORT)
    aligned = load_scenario("preset:aligned").with_overrides(SHORT)
    return siloed, aligned


@pytest.fixture(scope="module")
def exp(pair):
    siloed, aligned = pair
    return compare({"siloed": siloed, "aligned": aligned}, n=3, seed=5, executor="serial", progress=False)


@pytest.fixture(scope="module")
def runs(pair, exp):
    return tuple(simulate(s, exp.seed_for(0)) for s in pair)


# ============================================================================================== narrative
def test_ci_phrase_formats_mean_and_bounds_alike():
    assert narrative.ci_phrase("profit", 1.234e6, 1.05e6, 1.41e6) == "+1.23M (95 % CI +1.05M to +1.41M)"
    assert narrative.ci_phrase("win_rate", 0.021, 0.004, 0.038) == "+2.1 pp (95 % CI +0.4 to +3.8)"
    assert narrative.ci_phrase("won", 1234.0, 1100.0, 1368.0).startswith("+1,234")
    assert narrative.ci_phrase("profit", 5.0, math.nan, math.nan) == "+5.00"  # no interval: the mean only


def test_diff_text_and_effect_text_read_the_paired_difference(exp):
    row = narrative.diff_row(exp, "profit")
    assert row["scenario"] == "aligned" and row["baseline"] == "siloed"
    text = narrative.diff_text(exp, "profit")
    assert "(95 % CI " in text and " to " in text
    assert narrative.effect_text(exp, "profit").startswith(text + ": ")
    with pytest.raises(KeyError):
        narrative.diff_row(exp, "no_such_kpi")


def test_diff_row_needs_a_scenario_name_when_ambiguous():
    diffs = pd.DataFrame(
        {"scenario": ["a", "b"], "baseline": ["x", "x"], "metric": ["profit", "profit"], "mean_diff": [1.0, 2.0],
         "ci_low": [0.0, 1.0], "ci_high": [2.0, 3.0], "mean": [3.0, 4.0], "mean_baseline": [2.0, 2.0]}
    )  # fmt: skip

    class Fake:
        pass

    fake = Fake()
    fake.diffs = diffs
    with pytest.raises(ValueError, match="name one of"):
        narrative.diff_row(fake, "profit")
    assert narrative.diff_row(fake, "profit", "b")["mean_diff"] == 2.0
    assert narrative.effect_text(fake, "profit", "b").endswith(": better")


def test_kpi_table_labels_and_formats(exp):
    table = narrative.kpi_table(exp, ["won", "profit", "win_rate"], order=["aligned", "siloed"], name="org")
    assert list(table.columns) == ["Deals won", "Profit", "Win rate (won / SQL)"]
    assert list(table.index) == ["aligned", "siloed"] and table.index.name == "org"
    assert table["Win rate (won / SQL)"].str.endswith(" %").all()


def test_diff_table_and_summary_table(exp, runs):
    d = narrative.diff_table(exp, ["won", "lost_dropped"])
    assert list(d.columns) == ["siloed", "aligned", "difference (95 % CI)"]
    assert list(d.index) == ["Deals won", "Dropped"]
    s = narrative.summary_table(runs[0].summary, ["profit", "contact_wait_days"])
    assert s.loc["Wait for first contact", "value"].endswith(" d")


def test_funnel_table_shares(runs):
    k = runs[0].summary
    t = narrative.funnel_table(k)
    assert t.index[0] == "In-market buyers" and t.iloc[0]["% of in-market buyers"] == "100.0 %"
    assert t.iloc[0]["% of the stage above"] == ""
    assert len(t) == len(narrative.FUNNEL_STAGES)


def test_lever_table_and_setting_text(pair):
    t = narrative.lever_table(*pair)
    assert t.loc["Response SLA", "siloed"] == "none" and t.loc["Response SLA", "aligned"] == "1 h"
    assert t.loc["Context at handoff", "aligned"] == "on"
    assert narrative.setting_text(0.45) == "0.45"
    assert narrative.plural(1, "rep") == "1 rep" and narrative.plural(12, "rep") == "12 reps"
    assert narrative.scenario_value(pair[0], "organisation.handoff") == "batch"


def test_splits_table_sums_channels():
    splits = pd.DataFrame(
        {"current": [0.5, 0.25, 0.1, 0.1, 0.05, 100.0, 1e6], "mql_optimal": [0.6, 0.4, 0, 0, 0, 120.0, 8e5]},
        index=["search", "events", "nurture", "retention", "training", "mqls", "profit"],
    )
    t = narrative.splits_table(splits)
    assert t.loc["acquisition share", "current"] == "75.0 %"
    assert t.loc["acquisition share", "mql_optimal"] == "100.0 %"
    assert t.loc["Profit", "mql_optimal"] == "800k"


# ============================================================================================== bridge
def test_profit_bridge_adds_up_to_the_profit_gap(runs):
    s, a = runs
    bridge = profit_bridge(s, a)
    gap = a.summary["profit"] - s.summary["profit"]
    assert bridge.loc["Profit difference", "profit"] == pytest.approx(gap)
    assert bridge["profit"].iloc[:-1].sum() == pytest.approx(gap)
    assert bridge.loc["Profit difference", "won_base"] == s.summary["won"]
    assert bridge.loc["Profit difference", "won_other"] == a.summary["won"]
    assert bridge.loc[FATE_LABELS["won"], "won_base"] == bridge.loc[FATE_LABELS["won"], "buyers"]
    assert bridge.loc[FATE_LABELS["never_reached"], "won_base"] == 0


def test_profit_bridge_after_a_warm_up_has_a_row_for_the_carried_over_pipeline():
    """With a warm-up the buyers still in the market when it ends differ by organisation: they get their own row,
    the arrivals of the measured window are matched one to one, and the bridge still adds up to the gap."""
    from simfunnel.experiments.bridge import CARRIED_LABEL

    ov = {"simulation.horizon_days": 120, "simulation.warmup_days": 91, "market.buyers_per_year": 6000}
    s, a = (simulate(load_scenario(f"preset:{name}", ov), 3) for name in ("siloed", "aligned"))
    bridge = profit_bridge(s, a)
    assert bridge.loc[CARRIED_LABEL, "buyers"] > 0
    assert bridge.loc["Profit difference", "profit"] == pytest.approx(a.summary["profit"] - s.summary["profit"])
    assert bridge.loc["Profit difference", "won_base"] == s.summary["won"]
    assert bridge.loc["Profit difference", "won_other"] == a.summary["won"]


def test_matched_buyers_needs_the_same_seed(pair, runs):
    other_seed = simulate(pair[1], 999)
    with pytest.raises(ValueError, match="same seed"):
        matched_buyers(runs[0], other_seed)


def test_with_organisation_keeps_market_and_team(pair):
    client = load_scenario("preset:b2b_software")
    derived = with_organisation(client, pair[1])
    assert derived.organisation == pair[1].organisation
    assert derived.market == client.market and derived.sales == client.sales


# ============================================================================================== journeys
def test_contact_timing_and_handoff_facts(runs):
    t = contact_timing(runs[0])
    assert set(t.index) <= set(TIMING_LABELS)
    assert (t["all contacted"] == t.drop(columns="all contacted").sum(axis=1)).all()
    f = handoff_facts(runs[0])
    assert f["contacted"] == t["all contacted"].sum()
    assert 0 <= f["ready_at_handoff"] <= 1 and 0 <= f["called_early"] <= 1


def test_response_buckets_shares(runs):
    r = response_buckets(runs[1])
    assert r["leads"] > 0
    answered = sum(r[f"answered {label}"] for *_, label in RESPONSE_BUCKETS)
    assert answered + r["never answered"] == pytest.approx(1.0)


def test_contact_waits_and_journey_profile(runs):
    w = contact_waits(runs[0])
    assert w["contacted"] > 0 and w["median"] <= w["p90"]
    p = journey_profile(runs[0])
    assert p["ready_window_days"] <= p["process_days"]
    assert p["sales_cycle_days"] == runs[0].summary["sales_cycle_days"] or np.isnan(p["sales_cycle_days"])


# ============================================================================================== shares
def test_move_share_keeps_channel_mix_and_total():
    shares = {"search": 0.3, "events": 0.15, "content": 0.2, "outbound": 0.1, "nurture": 0.1, "retention": 0.1,
              "training": 0.05}  # fmt: skip
    moved = move_share(shares, "retention", 0.0)
    assert sum(moved.values()) == pytest.approx(1.0)
    assert moved["retention"] == 0.0 and acquisition_share(moved) == pytest.approx(0.85)
    assert moved["search"] / moved["events"] == pytest.approx(2.0)
    more = move_share(shares, "nurture", 0.3)
    assert acquisition_share(more) == pytest.approx(0.55) and more["nurture"] == 0.3
    assert budget_parts(shares) == pytest.approx({"acquisition": 0.75, "nurture": 0.1, "retention": 0.1,
                                                  "training": 0.05})  # fmt: skip
    with pytest.raises(ValueError):
        move_share(shares, "search", 0.1)
    with pytest.raises(ValueError):
        move_share(shares, "nurture", 0.95)
    # a pandas Series (a column of best_splits) works like a mapping
    assert acquisition_share(pd.Series(shares)) == pytest.approx(0.75)


def test_with_share_and_share_table(pair):
    sc = with_share(pair[0], "nurture", 0.2)
    assert sc.marketing.shares["nurture"] == pytest.approx(0.2)
    t = share_table(pair[0].marketing.shares, 900_000)
    assert t.loc["acquisition (all channels)", "share"] == "75.0 %" and "per year" in t.columns


# ============================================================================================== steps
def test_sweep_steps_are_paired_per_unit(pair):
    sw = sweep(pair[1], {"sales.reps": [2, 4, 8]}, n=3, seed=1, executor="serial", progress=False)
    steps = sweep_steps(sw, "sales.reps", "profit")
    assert list(steps[["from", "to"]].itertuples(index=False, name=None)) == [(2, 4), (4, 8)]
    wide = sw.wide().pivot(index="replication", columns="sales.reps", values="profit")
    assert steps.loc[1, "mean"] == pytest.approx(((wide[8] - wide[4]) / 4).mean())
    total = sweep_steps(sw, "sales.reps", "profit", per_unit=False)
    assert total.loc[1, "mean"] == pytest.approx(4 * steps.loc[1, "mean"])
    fake = pd.DataFrame({"from": [1, 2], "to": [2, 3], "mean": [5.0, 1.0], "ci_low": [1.0, -1.0], "ci_high": [9, 3]})
    assert first_step_not_paying(fake)["from"] == 2
    assert first_step_not_paying(fake.iloc[:1]) is None
    with pytest.raises(KeyError):
        sweep_steps(sw, "sales.nothing")
