"""Figures of "how sure are we?" (tornado, Sobol bars, regret heatmap, PRIM box) and the one-at-a-time swings,
on synthetic explorations (a stand-in runner: no simulation)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from simfunnel import load_scenario  # noqa: E402
from simfunnel.analysis import explore  # noqa: E402
from simfunnel.analysis.oat import oat_worlds, one_at_a_time, swings  # noqa: E402
from simfunnel.experiments import RunOptions  # noqa: E402
from simfunnel.present.robustness import (  # noqa: E402
    input_label,
    prim_box,
    regret_heatmap,
    regret_table,
    sobol_bars,
    top_inputs,
    tornado,
)
from simfunnel.schema.uncertainty import UncertainInput  # noqa: E402

pytest.importorskip("SALib")

ROOT = Path(__file__).resolve().parents[1]
WIN = "sales.win."
UNC = {
    WIN + "intercept": {"kind": "uniform", "low": -1.0, "high": 1.0},
    WIN + "fit": {"kind": "uniform", "low": 0.0, "high": 1.0},
    WIN + "context": {"kind": "uniform", "low": 0.0, "high": 0.5},
}


def gap_runner(scenario, seed):
    """'aligned' earns 1 + 2 * intercept + 0.2 * fit more than 'siloed'; context is ignored."""
    w = scenario.sales.win
    extra = 1.0 + 2.0 * w.intercept + 0.2 * w.fit if scenario.name == "aligned" else 0.0
    return {"profit": float(10.0 + extra)}


def _policies():
    base = load_scenario(ROOT / "scenarios" / "base.toml")
    return {
        "siloed": base.model_copy(update={"name": "siloed"}),
        "aligned": base.model_copy(update={"name": "aligned"}),
    }


@pytest.fixture(scope="module")
def exp():
    return explore(_policies(), UNC, samples=200, design="lhs", seed=5, options=RunOptions(runner=gap_runner))


def _texts(fig) -> str:
    out = [t.get_text() for ax in fig.axes for t in ax.texts]
    out += [fig._suptitle.get_text() if fig._suptitle else "", fig._supxlabel.get_text() if fig._supxlabel else ""]
    return " ".join(out)


def test_input_label_is_short_and_readable():
    assert input_label("sales.win.context") == "Win: context"
    assert input_label("market.competitor_commit_days.mean") == "Market: competitor commit days (mean)"
    assert input_label("x") == "x"


def test_one_at_a_time_swings_are_paired_differences():
    table = {k: UncertainInput.model_validate(v) for k, v in UNC.items()}
    worlds = oat_worlds(table, (0.1, 0.9))
    assert len(worlds) == 2 * len(UNC) + 1
    assert worlds.loc[0, WIN + "intercept"] == pytest.approx(0.0)
    assert worlds.loc[1, WIN + "intercept"] == pytest.approx(-0.8) and worlds.loc[
        2, WIN + "intercept"
    ] == pytest.approx(0.8)
    sw = one_at_a_time(_policies(), UNC, quantiles=(0.1, 0.9), seed=1, options=RunOptions(runner=gap_runner))
    assert list(sw["input"]) == [WIN + "intercept", WIN + "fit", WIN + "context"]  # largest swing first
    row = sw.set_index("input").loc[WIN + "intercept"]
    assert row["low"] == pytest.approx(1 - 1.6 + 0.1) and row["high"] == pytest.approx(1 + 1.6 + 0.1)
    assert sw.set_index("input").loc[WIN + "context", "swing"] == pytest.approx(0.0)
    assert sw.attrs["centre"] == pytest.approx(1.1) and sw.attrs["quantiles"] == (0.1, 0.9)
    fig = tornado(sw)
    assert len(fig.axes[0].patches) == 2 * len(UNC)
    assert "+1.1" in _texts(fig)


def test_swings_of_a_single_policy_exploration():
    table = {k: UncertainInput.model_validate(v) for k, v in UNC.items()}
    frame = oat_worlds(table)
    one = explore(
        {"aligned": _policies()["aligned"]}, frame, samples=None, seed=1, options=RunOptions(runner=gap_runner)
    )
    sw = swings(one)
    assert sw.attrs["centre"] == pytest.approx(11.1)


def test_sobol_bars_draw_s1_and_st_with_whiskers_or_s1_alone():
    table = pd.DataFrame({"input": ["a", "b"], "S1": [0.6, 0.1], "S1_low": [0.5, 0.0], "S1_high": [0.7, 0.2],
                          "ST": [0.7, 0.2], "ST_low": [0.6, 0.1], "ST_high": [0.8, 0.3]})  # fmt: skip
    fig = sobol_bars(table)
    ax = fig.axes[0]
    assert len(ax.patches) == 4 and len(ax.collections) == 2  # bars and one whisker set per index
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]  # largest on top
    fig = sobol_bars(table[["input", "S1", "S1_low", "S1_high"]])
    assert len(fig.axes[0].patches) == 2


def test_sensitivity_table_of_an_exploration_draws(exp):
    sens = exp.sensitivity("profit", "aligned", "siloed")
    assert sens["input"].iloc[0] == WIN + "intercept"
    fig = sobol_bars(sens)
    assert "aligned - siloed" in _texts(fig)


def test_regret_heatmap_groups_worlds_by_the_two_main_inputs(exp):
    assert top_inputs(exp) == [WIN + "intercept", WIN + "fit"]
    table = regret_table(exp, bins=3)
    assert table.shape == (2, 9)
    assert sum(table.attrs["counts"].values()) == 200
    # aligned loses where 1 + 2 x + 0.2 fit < 0: only in low-intercept worlds
    assert (table.loc["siloed", [c for c in table.columns if c.startswith("high")]] > 0.5).all()
    assert (table.loc["aligned", [c for c in table.columns if c.startswith("high")]] == 0).all()
    assert table.loc["aligned", "low / low"] > 0
    fig = regret_heatmap(exp)
    assert len(fig.axes) == 2  # heatmap and colour bar


def test_prim_box_draws_the_box_of_worlds_where_aligned_does_not_pay(exp):
    box = exp.discover("profit")
    assert list(box.restricted["input"]) == [WIN + "intercept"]
    fig = prim_box(exp, box)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Win: intercept"
    assert any(type(p).__name__ == "Rectangle" for p in ax.patches)
    assert "PRIM box" in _texts(fig)


def test_prim_box_when_the_policy_always_pays():
    unc = {WIN + "intercept": {"kind": "uniform", "low": 0.0, "high": 1.0}, **{WIN + "fit": UNC[WIN + "fit"]}}
    e = explore(_policies(), unc, samples=20, design="lhs", seed=5, options=RunOptions(runner=gap_runner))
    fig = prim_box(e)
    assert "every one of the 20 worlds" in _texts(fig)


@pytest.mark.parametrize(
    "make",
    [
        lambda: tornado(pd.DataFrame()),
        lambda: tornado(pd.DataFrame({"input": ["a"], "low": [np.nan], "high": [np.nan]})),
        lambda: sobol_bars(pd.DataFrame()),
        lambda: sobol_bars(pd.DataFrame({"input": ["a"], "mu_star": [1.0]})),
        lambda: sobol_bars(pd.DataFrame({"input": ["a"], "S1": [np.nan]})),
        lambda: regret_heatmap(None),
        lambda: prim_box(None),
    ],
)
def test_empty_or_degenerate_input_gives_a_no_data_panel(make):
    fig = make()
    assert "No data" in _texts(fig)


def test_single_policy_exploration_has_no_prim_panel():
    one = explore({"aligned": _policies()["aligned"]}, UNC, samples=10, design="lhs", seed=1,
                  options=RunOptions(runner=gap_runner))  # fmt: skip
    assert "No data" in _texts(prim_box(one))
    fig = regret_heatmap(one)  # one policy: regret 0 everywhere, still drawn
    assert len(fig.axes) == 2
