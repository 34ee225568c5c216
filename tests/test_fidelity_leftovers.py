"""Issue 14 leftovers that leave every preset's results as they were: nurture touches sharpen the stated timeline
(optional, off by default), sales roles shown and changed by role in the explorer, the report and the M/M/c
measurement, a planned call-back never judged worse, and one walk of a scenario's `extends` chain."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simfunnel.errors import ScenarioError
from simfunnel.experiments import child_seed, root_seed
from simfunnel.model.handoff import Handoff
from simfunnel.model.leads import LeadInfo
from simfunnel.scenario import extends_chain, extends_files, load_scenario
from simfunnel.schema.context import Context
from simfunnel.simulate import simulate

ROLES = {
    "sdr": {"reps": 3, "rep_cost_per_year": 60_000.0},
    "ae": {"reps": 5, "rep_cost_per_year": 140_000.0},
}
SHARPEN = {
    "context.nurture_touches_per_week": 2.0,
    "context.nurture_error_per_touch": 0.1,
    "context.nurture_stated_per_touch": 0.1,
}


def _t_crit(n: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, n - 1))


def _ci(x: np.ndarray) -> tuple[float, float]:
    half = _t_crit(len(x)) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


# ============================================================================================== 1. nurture
def test_nurture_sharpening_is_off_by_default() -> None:
    ctx = Context()
    assert not ctx.sharpens() and ctx.nurture_touches_per_week == 0
    assert ctx.sharpened(0.7, 0.3, 0.0) == (0.7, 0.3)


def test_nurture_touches_raise_stated_share_and_shrink_error() -> None:
    sc = load_scenario("preset:aligned", {**SHARPEN, "context.nurture_touches_per_week": 1})
    h = Handoff(sc, 4)
    base_share, base_error = h.stated_share, h.timeline_error
    info = LeadInfo(0.0, 200.0, 100.0, 130.0, 0.5, 0.2, 1, 0.5, 60.0, 1000.0, 0, known_day=10.0)
    share, error = h.stated_and_error(24.0, info)  # two weeks in nurture: two touches
    assert share == pytest.approx(1 - (1 - base_share) * 0.9**2)
    assert error == pytest.approx(base_error * 0.9**2)
    assert h.stated_and_error(24.0, info._replace(nurture_lift=0.0)) == (base_share, base_error)  # not nurtured
    siloed = Handoff(load_scenario("preset:siloed", SHARPEN), 4)  # no context passed: nothing to sharpen
    assert siloed.stated_and_error(24.0, info) == (0.0, siloed.timeline_error)


def _plans(store: list):
    """A probe that records, per handed-over lead, whether the rep has a stated timeline and its error."""

    def probe(world) -> None:
        h = world.handoff
        plan = h.plan

        def recording(now, lead):
            p = plan(now, lead)
            store.append((p.knows_timeline, h.stated_and_error(now, lead.info)[1]))
            return p

        h.plan = recording

    return probe


@pytest.mark.slow
def test_nurture_sharpening_direction() -> None:
    """Paired replications (common random numbers): with nurture sharpening, more leads reach the rep with a
    stated timeline, its error is smaller, and fewer buyers are lost as too late (a noisy timeline: error 1.0)."""
    over = {"simulation.horizon_days": 365, "simulation.warmup_days": 0, "context.timeline_error": 1.0,
            "context.stated_share": 0.9}  # fmt: skip
    off = load_scenario("preset:aligned", over)
    on = off.with_overrides(SHARPEN)
    root = root_seed(11)
    d_known, d_error, d_late = [], [], []
    for r in range(6):
        a: list = []
        b: list = []
        sa = simulate(off, child_seed(root, r), probe=_plans(a)).summary
        sb = simulate(on, child_seed(root, r), probe=_plans(b)).summary
        (ka, ea), (kb, eb) = np.mean(a, axis=0), np.mean(b, axis=0)
        d_known.append(kb - ka)
        d_error.append(eb - ea)
        d_late.append(sb["lost_too_late"] - sa["lost_too_late"])
    assert _ci(np.array(d_known))[0] > 0
    assert _ci(np.array(d_error))[1] < 0
    assert _ci(np.array(d_late, dtype=float))[1] < 0, d_late


def test_nurture_fields_are_a_no_op_without_touches() -> None:
    """The per-touch fields do nothing while nurture_touches_per_week is 0 (the documented no-op)."""
    over = {"simulation.horizon_days": 120}
    a = simulate(load_scenario("preset:aligned", over), 3).summary
    b = simulate(load_scenario("preset:aligned", {**over, "context.nurture_stated_per_touch": 0.9,
                                                  "context.nurture_error_per_touch": 0.9}), 3).summary  # fmt: skip
    assert all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a if k != "wall_seconds")


# ============================================================================================== 2. roles
def test_mmc_measure_uses_the_measured_pool() -> None:
    from simfunnel.validation import measured_pool, mmc_measure, mmc_scenario

    cal_off = {"enabled": False}
    sc = mmc_scenario(3, 0.7, arrivals=2_000).with_overrides({
        "sales.reps": 10,  # ignored by the model with roles: must not enter the measurement
        "sales.roles": {"sdr": {"reps": 3, "rep_cost_per_year": 0.0, "calendar": cal_off},
                        "ae": {"reps": 20, "rep_cost_per_year": 0.0, "calendar": cal_off},
                        "handoff_delay_days": {"kind": "fixed", "value": 0.0}, "context_loss": 0.0},
        "sales.proposal_hours": {"kind": "exponential", "mean": 1.0},
    })  # fmt: skip
    assert measured_pool(sc) == ("sdr", 3) and measured_pool(sc, "ae") == ("ae", 20)
    result = simulate(sc, 1)
    sdr = mmc_measure(result)
    ae = mmc_measure(result, pool="ae")
    assert sdr["utilization"] == pytest.approx(0.7, abs=0.06)  # 3 SDRs at rho 0.7 (not 10 reps)
    assert ae["utilization"] == pytest.approx(0.7 * 3 / 20, abs=0.02)  # the same leads' 1 h proposals, 20 AEs
    assert ae["leads"] > 1_000 and ae["p_wait"] < 0.01  # 20 AEs at rho 0.1: hardly anyone waits
    assert mmc_measure(result, pool="sdr") == sdr
    with pytest.raises(ValueError, match="pool"):
        mmc_measure(result, pool="manager")
    with pytest.raises(ValueError, match="roles"):
        measured_pool(mmc_scenario(3, 0.7), "sdr")


def test_explorer_changes_role_headcounts() -> None:
    from simfunnel.present.explorer import _describe_change, _overrides, headcounts, what_if

    base = load_scenario("preset:base", {"sales.roles": ROLES, "simulation.horizon_days": 60})
    assert headcounts(base) == {"sdr_reps": 3, "ae_reps": 5}
    assert headcounts(load_scenario("preset:base")) == {"sales_reps": load_scenario("preset:base").sales.reps}
    over = _overrides(base, None, None, None, None, {"sdr_reps": 4, "ae_reps": 5})
    assert over == {"sales.roles.sdr.reps": 4}
    assert _describe_change("sales.roles.ae.reps", 7) == "Account executives: 7"
    with pytest.raises(ValueError, match="sdr_reps= and ae_reps="):
        _overrides(base, None, 12, None, None)
    w = what_if(base, sdr_reps=4, ae_reps=6, replications=1, cache=False, figures=False)
    assert w.scenario.sales.roles.sdr.reps == 4 and w.scenario.sales.roles.ae.reps == 6
    assert "SDRs: 4" in w.text and "Account executives: 6" in w.text


def test_explorer_widgets_have_a_slider_per_role() -> None:
    pytest.importorskip("ipywidgets")
    from simfunnel.present.explorer import explorer_widgets

    base = load_scenario("preset:base", {"sales.roles": ROLES, "simulation.horizon_days": 60})
    ui = explorer_widgets(base, replications=1, cache=False, run=False)
    assert "sales_reps" not in ui.controls
    assert ui.controls["sdr_reps"].value == 3 and ui.controls["ae_reps"].value == 5
    assert ui.controls["ae_reps"].description == "Account executives"
    args = ui.arguments(**{**ui.values(), "ae_reps": 8})
    assert args["ae_reps"] == 8 and args["sdr_reps"] == 3 and args["sales_reps"] is None


def test_report_shows_the_team_by_role() -> None:
    from simfunnel.present.narrative import team_text
    from simfunnel.present.report.sources import field_title

    roles = load_scenario("preset:base", {"sales.roles": ROLES})
    text = team_text(roles)
    assert text.startswith("3 SDRs at ") and "5 account executives at " in text
    assert "sales rep" not in text
    one = load_scenario("preset:base")
    assert team_text(one).startswith(f"{one.sales.reps} sales reps at ")
    assert field_title("sales.roles.ae.reps") == "Account executives (headcount)"


def test_report_assumptions_use_the_roles() -> None:
    from simfunnel.present.report import sections

    common = sections._common_assumptions(load_scenario("preset:base", {"sales.roles": ROLES}))
    team = next(row for row in common if row["label"] == "Sales team")
    assert "3 SDRs" in team["value"] and "5 account executives" in team["value"]


# ============================================================================================== 3. waits
def _experiment(diffs: dict[str, tuple[float, float, float]]):
    """A stand-in for `simfunnel.compare`'s result: paired differences aligned - siloed per metric."""
    rows = [{"scenario": "aligned", "baseline": "siloed", "metric": m, "mean_diff": d, "ci_low": lo, "ci_high": hi,
             "mean": 1.0 + d, "mean_baseline": 1.0} for m, (d, lo, hi) in diffs.items()]  # fmt: skip
    summary = pd.DataFrame(
        [{"scenario": s, "metric": m, "mean": 1.0, "ci_low": 0.9, "ci_high": 1.1} for s in ("siloed", "aligned")
         for m in diffs]
    )  # fmt: skip

    class Exp:
        pass

    exp = Exp()
    exp.diffs, exp.summary, exp.n_replications, exp.runs = pd.DataFrame(rows), summary, 5, pd.DataFrame()
    return exp


WAITS = {
    "contact_wait_days": (3.0, 2.5, 3.5),  # longer in total ...
    "batch_wait_days": (-2.0, -2.2, -1.8),  # ... no weekly list ...
    "queue_wait_days": (0.4, 0.2, 0.6),  # ... a longer capacity wait ...
    "callback_wait_days": (4.6, 4.2, 5.0),  # ... and mostly a planned call-back
}


def test_planned_wait_is_not_judged() -> None:
    from simfunnel.present.report.results import Results, verdict, with_judged_parts
    from simfunnel.vocabulary import KPIS

    assert KPIS["callback_wait_days"].better == 0 and KPIS["contact_wait_days"].better == 0
    assert KPIS["queue_wait_days"].better == -1 and KPIS["batch_wait_days"].better == -1
    assert verdict("contact_wait_days", 2.5, 3.5) == ("longer", "neutral")
    assert verdict("callback_wait_days", -5.0, -4.0) == ("shorter", "neutral")
    assert verdict("queue_wait_days", 0.2, 0.6) == ("worse", "worse")
    res = Results(_experiment(WAITS), "siloed", planned_waits=False)  # judged the same with or without context
    assert res.diff("aligned", "contact_wait_days").verdict == "longer"
    assert res.diff("aligned", "queue_wait_days").verdict == "worse"
    assert res.diff("aligned", "batch_wait_days").verdict == "better"
    assert with_judged_parts(("profit", "contact_wait_days", "rep_utilization")) == [
        "profit", "contact_wait_days", "queue_wait_days", "rep_utilization"]  # fmt: skip
    assert with_judged_parts(("contact_wait_days", "queue_wait_days")) == ["contact_wait_days", "queue_wait_days"]


def test_report_answer_judges_the_queue_wait_not_the_planned_one() -> None:
    from simfunnel.present.report.results import Results
    from simfunnel.present.report.sections import answer_section

    res = Results(_experiment(WAITS), "siloed", planned_waits=True)
    lines = {a["label"]: a for a in answer_section(res, ["siloed", "aligned"], {}, 365.0)["answer"]}
    assert lines["Wait for first contact"]["verdict"] == "longer"
    assert lines["… of which queueing for a rep"]["verdict"] == "worse"


def test_narrative_wait_split() -> None:
    from simfunnel.present.narrative import effect_text, wait_split_text

    exp = _experiment(WAITS)
    assert effect_text(exp, "contact_wait_days").endswith(": longer")
    text = wait_split_text(exp)
    assert "worse" not in text.split(";")[0] and "planned call-back" in text
    assert "of which queueing for a rep" in text and text.count("worse") == 1 and "better" in text


# ============================================================================================== 4. extends
def test_extends_chain_is_one_walk(tmp_path) -> None:
    from simfunnel.present.report.sources import field_sources
    from simfunnel.presets import preset_path

    chain = extends_chain("preset:aligned")
    assert [p.name for p in chain] == ["aligned.toml", "base.toml"]
    assert [p for p, _ in extends_files(preset_path("aligned"))] == chain
    assert "extends" not in extends_files("preset:aligned")[0][1]
    (tmp_path / "a.toml").write_text('extends = "b.toml"\nname = "a"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nname = "b"\n')
    with pytest.raises(ScenarioError, match="extends cycle: a.toml -> b.toml -> a.toml"):
        extends_chain(tmp_path / "a.toml")
    assert [p.name for p in extends_chain(tmp_path / "a.toml", strict=False)] == ["a.toml", "b.toml"]
    (tmp_path / "c.toml").write_text('extends = "missing.toml"\nname = "c"\n')
    assert [p.name for p in extends_chain(tmp_path / "c.toml", strict=False)] == ["c.toml"]
    with pytest.raises(ScenarioError, match="not found"):
        extends_chain(tmp_path / "c.toml")
    assert field_sources(preset_path("aligned"))["organisation.pass_context"].file.endswith("aligned.toml")
