"""What-if explorer: `what_if` (built on `simfunnel.compare`) and the widget callback, headless."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simfunnel import LEVERS, compare, load_scenario
from simfunnel.present.explorer import (
    ALIGNED_LEVERS,
    SILOED_LEVERS,
    explorer_widgets,
    lever_value,
    normalise_shares,
    what_if,
)
from simfunnel.vocabulary import UnknownNameError, lever_settings

ROOT = Path(__file__).resolve().parents[1]
FAST = {"replications": 1, "figures": False}


@pytest.fixture(scope="module")
def base():
    return load_scenario(ROOT / "scenarios" / "base.toml").with_overrides({"simulation.horizon_days": 180})


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMFUNNEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SIMFUNNEL_CACHE", raising=False)
    yield
    plt.close("all")


def test_what_if_outputs(base):
    w = what_if(base, sales_reps=10, replications=2, seed=3)
    assert w.scenario.sales.reps == 10 and w.base is base
    assert w.overrides == {"sales.reps": 10}
    assert set(w.summary.columns) >= {"scenario", "metric", "label", "mean", "ci_low", "ci_high", "n"}
    assert set(w.summary["scenario"]) == {"what-if", "base"}
    defined = w.summary.dropna(subset=["mean"])  # e.g. sla_breach_share is undefined without an SLA
    assert (defined["n"] == 2).all()
    assert set(w.figures) == {"funnel", "lost_reasons", "kpis"}
    assert all(isinstance(f, Figure) for f in w.figures.values())
    assert {"metric", "mean_diff", "ci_low", "ci_high"} <= set(w.diffs.columns)
    assert "Profit" in w.text and "Sales reps: 10" in w.text and "Against the base" in w.text
    assert w.kpi("buyers") > 0 and np.isfinite(w.kpi("profit", "base"))
    assert list(w.table().columns) == ["KPI", "what-if", "base", "change"]
    assert w.simulated == 4 and w.seconds > 0
    # common random numbers: the same market in both arms (referred buyers depend on the deals won, so not them)
    assert w.kpi("buyers") - w.kpi("referrals") == w.kpi("buyers", "base") - w.kpi("referrals", "base")


def test_no_change_is_the_base(base):
    w = what_if(base, replications=2, figures=False)
    assert w.overrides == {} and w.scenario is base and w.figures == {}
    assert "no change" in w.text and "Against the base" not in w.text
    assert w.simulated == 2  # the base is not run twice


def test_more_reps_wait_less_and_are_less_busy(base):
    waits, util = [], []
    for reps in (3, 6, 12):
        w = what_if(base, sales_reps=reps, replications=2, figures=False)
        waits.append(w.kpi("lead_wait_days"))
        util.append(w.kpi("rep_utilization"))
    assert waits[0] >= waits[1] >= waits[2]
    assert util[0] > util[1] > util[2]


def test_context_at_handoff_cuts_too_early_losses(base):
    """Context is an estimate of the buyer's timeline (not the truth): fewer, but not zero, calls too early."""
    assert not base.organisation.pass_context
    w = what_if(base, levers={"pass_context": True}, replications=2, figures=False)
    assert w.scenario.organisation.pass_context
    assert w.kpi("lost_too_early") < w.kpi("lost_too_early", "base")
    both = what_if(base, levers={"pass_context": True, "too_early": "aligned"}, replications=2, figures=False)
    assert both.kpi("lost_too_early") == 0  # recycled instead of written off


def test_market_size_and_budget_split(base):
    w = what_if(base, buyers_per_year=2 * base.market.buyers_per_year, replications=1, figures=False)
    assert w.kpi("buyers") > 1.6 * w.kpi("buyers", "base")
    w = what_if(base, shares={"search": 0.0, "events": 0.6}, replications=1, figures=False)
    shares = w.scenario.marketing.shares
    assert shares["search"] == 0 and abs(sum(shares.values()) - 1) < 1e-9
    assert shares["events"] > shares["content"]
    assert normalise_shares({"a": 2, "b": 2}) == {"a": 0.5, "b": 0.5}
    with pytest.raises(ValueError):
        normalise_shares({"a": 0, "b": 0})


def test_repeat_is_served_from_cache_with_identical_numbers(base):
    a = what_if(base, sales_reps=5, replications=2, figures=False)
    b = what_if(base, sales_reps=5, replications=2, figures=False)
    assert a.simulated == 4 and b.simulated == 0
    assert a.summary.equals(b.summary)


def test_lever_presets_match_the_scenario_files():
    for name, values in (("siloed", SILOED_LEVERS), ("aligned", ALIGNED_LEVERS)):
        org = load_scenario(ROOT / "scenarios" / f"{name}.toml").organisation
        assert set(values) == set(LEVERS)
        assert {k: getattr(org, k) for k in LEVERS} == dict(values) == dict(lever_settings(name))
        with pytest.raises(TypeError):
            values["handoff"] = "x"  # read-only


def test_levers_by_setting_name_bool_or_raw_value(base):
    siloed, aligned = lever_settings("siloed"), lever_settings("aligned")
    w = what_if(base, levers={"too_early": True, "handoff": "aligned", "queue_policy": "siloed"}, **FAST)
    org = w.scenario.organisation
    assert org.too_early == aligned["too_early"] and org.handoff == aligned["handoff"]
    assert org.queue_policy == siloed["queue_policy"]
    assert what_if(base, levers={"too_early": False}, **FAST).scenario.organisation.too_early == siloed["too_early"]
    w = what_if(base, levers={"organisation.mql_threshold": 0.6, "pass_context": True}, **FAST)
    assert w.scenario.organisation.mql_threshold == 0.6 and w.scenario.organisation.pass_context is True
    assert "Context at handoff: on" in w.text and "Agreed MQL threshold: 0.6" in w.text
    assert lever_value("rep_training", False) == ("rep_training", siloed["rep_training"])


def test_unknown_lever_is_a_clear_error(base):
    with pytest.raises(UnknownNameError, match="did you mean 'too_early'"):
        what_if(base, levers={"too_erly": True}, **FAST)
    with pytest.raises(ValueError):
        what_if(base, levers={"no_such_lever": 1}, **FAST)


def test_reps_is_a_deprecated_name_for_sales_reps(base):
    with pytest.warns(DeprecationWarning, match="sales_reps"):
        w = what_if(base, reps=9, **FAST)
    assert w.scenario.sales.reps == 9
    with pytest.raises(ValueError, match="once"):
        what_if(base, reps=9, sales_reps=10, **FAST)


def test_what_if_is_a_paired_compare(base):
    """The numbers are those of `simfunnel.compare` on the same scenarios, seed and n (common random numbers)."""
    w = what_if(base, levers={"pass_context": True}, sales_reps=12, replications=3, seed=11, figures=False)
    exp = compare({"what-if": w.scenario, "base": base}, n=3, seed=11, baseline="base", executor="serial",
                  progress=False, cache=False)  # fmt: skip
    cols = ["scenario", "metric", "mean", "std", "n", "ci_low", "ci_high", "half_width"]

    def same(frame: pd.DataFrame) -> pd.DataFrame:  # the wall time of a run is not a result
        return frame[frame["metric"] != "wall_seconds"].reset_index(drop=True)

    pd.testing.assert_frame_equal(same(w.summary)[cols], same(exp.summary)[cols])
    pd.testing.assert_frame_equal(same(w.diffs), same(exp.diffs))
    assert w.experiment.kind == "compare" and w.experiment.baseline == "base"
    assert w.table()["KPI"].tolist()[0] == "Profit"


def test_widget_callback_drives_the_model(base, monkeypatch):
    import IPython.display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    ui = explorer_widgets(base, replications=2, seed=1)
    values = ui.values()
    assert {f"lever_{k}" for k in LEVERS} <= set(values)
    assert {"sales_reps", "buyers_per_year"} <= set(values)
    assert {f"share_{k}" for k in base.marketing.shares} <= set(values)
    assert values["lever_pass_context"] == "siloed"
    assert ui.controls["sales_reps"].continuous_update is False
    assert ui.last is not None  # interactive_output ran the first update
    first = ui.last
    # the callback interactive_output calls, driven directly with the aligned value of a lever
    w = ui.callback(**{**values, "lever_pass_context": "aligned"})
    assert w is not None and w.scenario.organisation.pass_context
    assert w.kpi("lost_too_early") < first.kpi("lost_too_early")
    assert "What-if" in shown[-5].data and "<table" in shown[-4].data
    assert [type(x) for x in shown[-3:]] == [Figure] * 3  # funnel, lost reasons, key results
    # moving a widget re-runs the model through interactive_output
    ui.controls["sales_reps"].value = base.sales.reps + 4
    assert ui.last.scenario.sales.reps == base.sales.reps + 4
    assert ui.last.kpi("rep_utilization") < first.kpi("rep_utilization")
    # share sliders are weights: renormalised to sum 1
    w = ui.update(**{f"share_{k}": 1.0 for k in base.marketing.shares})
    assert all(abs(v - 1 / len(base.marketing.shares)) < 1e-9 for v in w.scenario.marketing.shares.values())
    # a bad combination is reported, not raised
    assert ui.callback(**{f"share_{k}": 0.0 for k in base.marketing.shares}) is None
    assert "Cannot run" in shown[-1].data
    assert len(ui.history) >= 4 and all(t > 0 for t in ui.history)


def test_manual_mode_runs_on_the_button(base):
    ui = explorer_widgets(base, replications=1, manual=True, run=False)
    assert ui.last is None
    ui.widget.children[2].click()
    assert ui.last is not None and ui.last.replications == 1


def test_a_named_policy_is_worded_on_or_off_not_repeated(base):
    """'Real-time handoff: on', not 'Real-time handoff: realtime'; a third policy is named as what it is."""
    small = base.with_overrides({"simulation.warmup_days": 0, "market.buyers_per_year": 1500})
    run = {"replications": 1, "cache": False, "figures": False, "compare": False}
    assert "Real-time handoff: on" in what_if(small, levers={"handoff": "realtime"}, **run).text
    realtime = small.with_overrides({"organisation.handoff": "realtime"})
    assert "Real-time handoff: off (batch)" in what_if(realtime, levers={"handoff": "batch"}, **run).text
    assert "queue policy: score" in what_if(small, levers={"queue_policy": "score"}, **run).text
