"""`simfunnel.plots`: every figure function returns a matplotlib Figure (never shows it) with the expected panels
and marks for real model output and for experiment tables, says "No data" instead of raising on empty or NaN
input, uses the fixed scenario and terminal-state colours, and `save_figure` writes byte-identical files."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simfunnel import plots  # noqa: E402
from simfunnel.scenario import load_scenario  # noqa: E402
from simfunnel.simulate import simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 180, "market.buyers_per_year": 4000, "simulation.warmup_days": 0}
STATES = ("won", "lost_to_competitor", "too_late", "too_early", "dropped", "never_reached", "open")
LOST_KEYS = (
    "won",
    "lost_to_competitor",
    "lost_too_late",
    "lost_too_early",
    "lost_dropped",
    "lost_never_reached",
    "open",
)


# ----------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def runs():
    """The siloed and aligned presets, shortened, seed 1."""
    out = {}
    for name in ("siloed", "aligned"):
        scn = load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides(SHORT)
        out[name] = simulate(scn, seed=1)
    return out


def _summary_table(names=("siloed", "aligned"), metrics=None, seed=0) -> pd.DataFrame:
    """A synthetic `Experiment.summary` (scenario, metric, mean, std, n, ci_low, ci_high, half_width)."""
    rng = np.random.default_rng(seed)
    metrics = metrics or [
        "buyers",
        "engaged",
        "known",
        "mqls",
        "sqls",
        *LOST_KEYS,
        "revenue",
        "profit",
        "win_rate",
        "contact_wait_days",
        "rep_utilization",
        "cac",
    ]
    rows = []
    for i, name in enumerate(names):
        for m in metrics:
            mean = {"win_rate": 0.3 + 0.2 * i, "rep_utilization": 0.4 + 0.3 * i}.get(m, float(rng.uniform(10, 5000)))
            if m == "profit":
                mean = -150_000.0 + 500_000.0 * i
            hw = abs(mean) * 0.05
            rows.append(
                {
                    "scenario": name,
                    "metric": m,
                    "mean": mean,
                    "std": hw,
                    "n": 10,
                    "ci_low": mean - hw,
                    "ci_high": mean + hw,
                    "half_width": hw,
                }
            )
    return pd.DataFrame(rows)


def _diffs_table() -> pd.DataFrame:
    rows = []
    for m, d, hw in (("profit", 480_000.0, 40_000.0), ("win_rate", 0.12, 0.02), ("contact_wait_days", -3.0, 4.0)):
        rows.append(
            {
                "scenario": "aligned",
                "baseline": "siloed",
                "metric": m,
                "n": 10,
                "mean": d,
                "mean_baseline": 0,
                "mean_diff": d,
                "std_diff": hw,
                "ci_low": d - hw,
                "ci_high": d + hw,
                "half_width": hw,
            }
        )
    return pd.DataFrame(rows)


def _sweep_table(fields: dict[str, list], metrics=("profit", "rep_utilization", "contact_wait_days")) -> pd.DataFrame:
    """A synthetic sweep `Experiment.summary`: point, one column per field, metric, mean, ..., half_width."""
    import itertools

    rows = []
    names = list(fields)
    for p, combo in enumerate(itertools.product(*fields.values())):
        x = float(np.sum([float(v) for v in combo]))
        for m in metrics:
            mean = {"profit": 1e5 * (x - 0.05 * x * x), "rep_utilization": 1 / (1 + 0.1 * x)}.get(m, 40 / (1 + x))
            hw = abs(mean) * 0.08
            rows.append(
                {
                    "point": p,
                    **dict(zip(names, combo, strict=True)),
                    "metric": m,
                    "mean": mean,
                    "std": hw,
                    "n": 5,
                    "ci_low": mean - hw,
                    "ci_high": mean + hw,
                    "half_width": hw,
                }
            )
    return pd.DataFrame(rows)


def _attr_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lever": ["pass_context", "too_early", "mql_threshold", "queue_policy"],
            "value": [400_000.0, 150_000.0, -60_000.0, 10_000.0],
            "ci_low": [300_000.0, 90_000.0, -120_000.0, -20_000.0],
            "ci_high": [500_000.0, 210_000.0, 0.0, 40_000.0],
        }
    )


def _says_no_data(fig: Figure) -> bool:
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    return any(t.startswith("No data") for t in texts)


def _visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


# ----------------------------------------------------------------------------------------------- style
def test_style_sheet_is_packaged_and_usable_by_name():
    style = Path(plots.__file__).parent / "styles" / "presentation.mplstyle"
    assert style.is_file()
    with plt.style.context("simfunnel.styles.presentation"):
        rc = matplotlib.rcParams
        assert rc["axes.titlesize"] >= 16 and rc["axes.labelsize"] >= 13
        assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
        assert rc["axes.grid"] and rc["savefig.dpi"] >= 150 and rc["figure.dpi"] >= 150
        colors = [to_hex(c["color"]).upper() for c in rc["axes.prop_cycle"]]
        assert colors[:3] == ["#0072B2", "#D55E00", "#009E73"]  # Okabe-Ito


def test_use_presentation_style_sets_rcparams():
    with matplotlib.rc_context():
        plots.use_presentation_style()
        assert matplotlib.rcParams["axes.titlesize"] == 18
        assert matplotlib.rcParams["svg.hashsalt"] == "simfunnel"


def test_figures_keep_the_style_outside_the_context(runs):
    """Tick labels created lazily at draw time still get the style's size, not the global default."""
    with matplotlib.rc_context({"xtick.labelsize": 5, "ytick.labelsize": 5}):
        fig = plots.rep_utilization(runs["aligned"].timeseries)
        fig.canvas.draw()
        sizes = {t.get_fontsize() for t in fig.axes[0].get_xticklabels()}
    assert sizes == {12.0}


def test_scenario_colors_are_fixed_and_distinct():
    cols = plots.scenario_colors(["b2c", "siloed", "aligned", "other"])
    assert cols["siloed"] == plots.OKABE_ITO["vermillion"]
    assert cols["aligned"] == plots.OKABE_ITO["blue"]
    assert len(set(cols.values())) == 4
    assert set(plots.STATE_COLORS) == set(STATES) and len(set(plots.STATE_COLORS.values())) == len(STATES)


# ----------------------------------------------------------------------------------------------- run figures
def test_funnel_single_run(runs):
    fig = plots.funnel(runs["aligned"])
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.patches) == 6  # buyers, engaged, known, MQL, SQL, won
    widths = [p.get_width() for p in ax.patches]
    s = runs["aligned"].summary
    assert widths == pytest.approx([s[k] for k in ("buyers", "engaged", "known", "mqls", "sqls", "won")])
    texts = [t.get_text() for t in ax.texts]
    assert sum(t.startswith("↓") for t in texts) == 5  # conversion rates between the stages
    assert f"{int(s['buyers']):,}" in texts


def test_funnel_side_by_side_uses_scenario_colours(runs):
    fig = plots.funnel({"siloed": runs["siloed"].summary, "aligned": runs["aligned"].summary})
    assert len(fig.axes) == 2
    assert to_hex(fig.axes[0].patches[0].get_facecolor()).upper() == plots.OKABE_ITO["vermillion"]
    assert to_hex(fig.axes[1].patches[0].get_facecolor()).upper() == plots.OKABE_ITO["blue"]
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()  # same scale


def test_funnel_from_experiment_summary():
    fig = plots.funnel(_summary_table())
    assert len(fig.axes) == 2 and all(len(ax.patches) == 6 for ax in fig.axes)


def test_journey_timeline_samples_buyers_that_reached_sales(runs):
    b = runs["siloed"].buyers
    fig = plots.journey_timeline(runs["siloed"], n=20, seed=3)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 20
    ids = [int(lab.split()[0].lstrip("#")) for lab in labels]
    assert len(set(ids)) == 20
    sampled = b.set_index("buyer_id").loc[ids]
    assert sampled["handoff_day"].notna().all()  # enough buyers reached sales in this run
    assert sampled["terminal_state"].nunique() >= 3  # mixed outcomes
    assert (np.diff(sampled["arrival_day"].to_numpy()) >= 0).all()
    assert ax.get_legend() is not None
    # same seed, same sample; another seed, another sample
    again = [t.get_text() for t in plots.journey_timeline(b, n=20, seed=3).axes[0].get_yticklabels()]
    other = [t.get_text() for t in plots.journey_timeline(b, n=20, seed=4).axes[0].get_yticklabels()]
    assert again == labels and other != labels


def test_journey_timeline_more_rows_than_buyers(runs):
    b = runs["aligned"].buyers.head(5)
    fig = plots.journey_timeline(b, n=30)
    assert len(fig.axes[0].get_yticklabels()) == 5


@pytest.mark.parametrize("kind", ["grouped", "stacked"])
def test_lost_reasons(runs, kind):
    data = {name: r.summary for name, r in runs.items()}
    fig = plots.lost_reasons(data, kind=kind)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(STATES)
    if kind == "stacked":  # shares of all buyers add up to 100 % per scenario
        total = sum(p.get_width() for p in ax.patches if abs(p.get_y() + p.get_height() / 2) < 0.5)
        assert total == pytest.approx(100.0)
        colours = {to_hex(p.get_facecolor()).upper() for p in ax.patches}
        assert colours == {c.upper() for c in plots.STATE_COLORS.values()}


def test_lost_reasons_subset_of_states_and_ci(runs):
    fig = plots.lost_reasons(runs["aligned"], kind="stacked", states=("won", "lost_too_late", "dropped"))
    assert len(fig.axes[0].patches) == 3
    fig = plots.lost_reasons(_summary_table(), kind="grouped")
    assert len(fig.axes[0].patches) == 2 * len(STATES)
    assert fig.axes[0].collections or fig.axes[0].lines  # CI whiskers
    with pytest.raises(ValueError, match="unknown terminal state"):
        plots.lost_reasons(runs["aligned"], states=("won", "eaten"))


def test_lead_wait(runs):
    fig = plots.lead_wait({name: r.buyers for name, r in runs.items()})
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(ax.patches) > 5  # histogram bars
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[0].startswith("mean") and labels[1].startswith("90 % within")
    assert "Wait for first contact" in fig.axes[-1].get_xlabel()  # from becoming a lead, batching included


def test_lead_wait_linear_axis_and_values(runs):
    b = pd.DataFrame({"handoff_day": [0.0, 1.0, 2.0, 3.0, np.nan], "first_contact_day": [1.0, 3.0, 5.0, np.nan, 1.0]})
    fig = plots.lead_wait(b, log=False)
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mean 2.00 d", "90 % within 2.80 d"]
    assert "Wait from handoff to first contact" in ax.get_xlabel()  # a table without lead_day
    assert "1 not (yet) contacted" in ax.get_title(loc="right")


def test_rep_utilization(runs):
    fig = plots.rep_utilization({name: r.timeseries for name, r in runs.items()})
    ax = fig.axes[0]
    assert len(ax.lines) == 4  # one series and one mean line per scenario
    assert {t.get_text().split(":")[0] for t in ax.texts} == {"siloed", "aligned"}
    assert ax.get_ylim()[1] >= 100


def test_revenue_over_time(runs):
    fig = plots.revenue_over_time(runs["aligned"])
    assert len(fig.axes) == 2
    assert len(fig.axes[0].collections) == 2  # stacked new + repeat
    fig = plots.revenue_over_time({name: r.timeseries for name, r in runs.items()}, window=1)
    assert len(fig.axes[0].lines) == 4 and len(fig.axes[1].lines) == 2


# ----------------------------------------------------------------------------------------------- experiments
def test_compare_kpis():
    metrics = ["profit", "win_rate", "contact_wait_days", "rep_utilization"]
    fig = plots.compare_kpis(_summary_table(), metrics=metrics)
    axes = _visible_axes(fig)
    assert len(axes) == 4
    for ax in axes:
        assert len(ax.patches) == 2  # one bar per scenario
        assert [t.get_text() for t in ax.get_xticklabels()] == ["siloed", "aligned"]
    assert axes[0].patches[0].get_height() == pytest.approx(-150_000.0)  # negative profit drawn below zero
    assert axes[1].patches[1].get_height() == pytest.approx(50.0)  # shares in percent


def test_compare_kpis_default_metrics_and_unknown_metric():
    fig = plots.compare_kpis(_summary_table())
    assert len(_visible_axes(fig)) == 6
    fig = plots.compare_kpis(_summary_table(), metrics=["profit", "nope"])
    assert any(_says_no_data_ax(ax) for ax in fig.axes)


def _says_no_data_ax(ax) -> bool:
    return any(t.get_text().startswith("No data") for t in ax.texts)


def test_paired_differences():
    fig = plots.paired_differences(_diffs_table())
    assert len(fig.axes) == 3
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("+480k") and "better" in t for t in texts)
    assert any(t.startswith("-3.00 d [-7.00, +1.00]") and "better" not in t for t in texts)  # CI includes zero
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        assert lo <= 0 <= hi  # zero line visible


def test_attribution_waterfall_from_table_and_totals():
    t = _attr_table()
    fig = plots.attribution_waterfall(t, start=-187_000.0, end=330_000.0)
    ax = fig.axes[0]
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert labels[0] == "Siloed" and labels[-1] == "Aligned"
    assert "Other / interactions" in labels  # end - start differs from the sum of the steps
    assert len(ax.patches) == len(t) + 3
    assert ax.patches[-1].get_width() == pytest.approx(330_000.0)


def test_attribution_waterfall_from_attribution_object():
    class Attr:  # the shape of experiment.Attribution
        metric = "profit"
        n_replications = 6
        table = _attr_table().rename(columns={"value": "shapley"})
        gap = {"mean": 500_000.0, "siloed_mean": 100_000.0, "all_levers_mean": 600_000.0}

    fig = plots.attribution_waterfall(Attr())
    ax = fig.axes[0]
    assert len(ax.patches) == 4 + 2  # exact: no residual bar
    assert ax.patches[1].get_width() == pytest.approx(400_000.0)  # largest lever first
    fig = plots.attribution_waterfall(_attr_table())  # no totals: from 0 to the total gap
    assert [x.get_text() for x in fig.axes[0].get_yticklabels()][-1] == "Total gap"


def test_budget_response_and_heatmap():
    sw = _sweep_table({"marketing.budget_per_year": [3e5, 6e5, 9e5, 1.2e6]})
    fig = plots.budget_response(sw, x="marketing.budget_per_year", metric="profit")
    ax = fig.axes[0]
    assert len(ax.collections) >= 1  # CI band
    assert any(t.get_text().startswith("best:") for t in ax.texts)
    sw2 = _sweep_table({"marketing.budget_per_year": [3e5, 6e5, 9e5], "sales.reps": [4, 8]})
    fig = plots.budget_response(sw2, x="marketing.budget_per_year")
    assert len(fig.axes[0].get_legend().get_texts()) == 2  # one line per number of reps
    fig = plots.budget_heatmap(sw2, x="marketing.budget_per_year", y="sales.reps", metric="profit")
    assert len(fig.axes) == 2  # heatmap + colour bar
    assert len(fig.axes[0].texts) == 3 * 2  # every cell annotated
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["300k", "600k", "900k"]


def test_budget_response_accepts_a_budget_table_without_metric_column():
    table = pd.DataFrame(
        {
            "candidate": [0, 1, 2],
            "retention": [0.0, 0.1, 0.2],
            "mean": [1.0, 3.0, 2.0],
            "ci_low": [0.5, 2.5, 1.5],
            "ci_high": [1.5, 3.5, 2.5],
        }
    )
    fig = plots.budget_response(table, x="retention", metric="profit")
    assert len(fig.axes[0].lines) >= 1 and not _says_no_data(fig)


def test_staffing_curve():
    sw = _sweep_table({"sales.reps": [2, 4, 6, 8, 12]})
    fig = plots.staffing_curve(sw)
    assert len(fig.axes) == 3
    assert all(len(ax.collections) >= 1 for ax in fig.axes)  # CI bands
    assert fig.axes[0].get_ylim()[0] == 0


def test_speed_to_lead_curve_reproduces_hbr_ratios():
    fig = plots.speed_to_lead_curve(0.487, 0.0071)
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" for ax in fig.axes)
    box = next(t.get_text() for t in fig.axes[1].texts if "HBR 2011" in t.get_text())
    assert "7.0×" in box and "60×" in box
    obs = pd.DataFrame({"bucket": ["0-1", "1-2", "24+"], "rate": [0.3, 0.043, 0.005]})
    fig = plots.speed_to_lead_curve(load_scenario(ROOT / "scenarios" / "base.toml"), observed=obs)
    assert any("Observed" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    measured = {"share_lt1h": 0.3, "share_1to2h": 0.05, "share_ge24h": 0.004, "ratio_1h": 6.0}
    buckets = plots._observed_buckets(measured)  # the dict of simfunnel.validation.speed_to_lead_measure
    assert buckets[["lo", "hi"]].to_numpy().tolist() == [[0, 1], [1, 2], [24, math.inf]]
    assert buckets["rate"].tolist() == [0.3, 0.05, 0.004]


# ----------------------------------------------------------------------------------------------- empty and NaN
EMPTY_CASES = {
    "funnel": lambda: plots.funnel({}),
    "funnel_df": lambda: plots.funnel(pd.DataFrame()),
    "journey": lambda: plots.journey_timeline(pd.DataFrame()),
    "lost": lambda: plots.lost_reasons({}),
    "lead_wait": lambda: plots.lead_wait(pd.DataFrame(columns=["handoff_day", "first_contact_day"])),
    "utilization": lambda: plots.rep_utilization(pd.DataFrame(columns=["day", "rep_utilization"])),
    "revenue": lambda: plots.revenue_over_time(pd.DataFrame()),
    "compare": lambda: plots.compare_kpis(pd.DataFrame()),
    "diffs": lambda: plots.paired_differences(pd.DataFrame()),
    "waterfall": lambda: plots.attribution_waterfall(pd.DataFrame(columns=["lever", "value", "ci_low", "ci_high"])),
    "response": lambda: plots.budget_response(pd.DataFrame(), x="sales.reps"),
    "heatmap": lambda: plots.budget_heatmap(pd.DataFrame(), x="a", y="b"),
    "staffing": lambda: plots.staffing_curve(pd.DataFrame()),
    "speed": lambda: plots.speed_to_lead_curve(float("nan"), 0.01),
}


@pytest.mark.parametrize("case", list(EMPTY_CASES))
def test_empty_input_says_no_data(case):
    fig = EMPTY_CASES[case]()
    assert isinstance(fig, Figure)
    assert _says_no_data(fig)


def test_nan_inputs_do_not_raise(runs):
    nan_summary = {k: math.nan for k in runs["aligned"].summary}
    for fig in (plots.funnel(nan_summary), plots.lost_reasons(nan_summary)):
        assert _says_no_data(fig)
    partial = dict(runs["aligned"].summary, sqls=math.nan)
    fig = plots.funnel(partial)
    assert "n/a" in [t.get_text() for t in fig.axes[0].texts]
    b = runs["aligned"].buyers.copy()
    b["first_contact_day"] = np.nan
    assert _says_no_data(plots.lead_wait(b))
    b["ready_day"] = np.nan
    assert not _says_no_data(plots.journey_timeline(b, n=10))
    ts = runs["aligned"].timeseries.copy()
    ts["rep_utilization"] = np.nan
    assert _says_no_data(plots.rep_utilization(ts))
    ts = runs["aligned"].timeseries.copy()
    ts.loc[3:5, ["new_revenue", "customers"]] = np.nan
    assert not _says_no_data(plots.revenue_over_time(ts))
    table = _summary_table()
    table[["ci_low", "ci_high"]] = np.nan  # a single replication: no interval
    table.loc[table["metric"] == "profit", "mean"] = np.nan
    fig = plots.compare_kpis(table, metrics=["profit", "revenue"])
    assert _says_no_data_ax(fig.axes[0]) and not _says_no_data_ax(fig.axes[1])
    d = _diffs_table()
    d.loc[0, ["mean_diff", "ci_low", "ci_high"]] = np.nan
    assert not _says_no_data(plots.paired_differences(d))
    t = _attr_table()
    t.loc[0, "value"] = np.nan
    assert len(plots.attribution_waterfall(t).axes[0].patches) == 3 + 1
    sw = _sweep_table({"sales.reps": [2, 4]})
    sw.loc[sw["metric"] == "profit", "mean"] = np.nan
    assert _says_no_data(plots.budget_heatmap(sw.assign(y=1), x="sales.reps", y="y"))
    fig = plots.staffing_curve(sw)  # the profit panel is empty, the others are drawn
    assert [_says_no_data_ax(ax) for ax in fig.axes] == [False, False, True]


def test_bad_input_type_is_a_clear_error():
    with pytest.raises(TypeError, match="cannot plot"):
        plots.funnel(42)


# ----------------------------------------------------------------------------------------------- saving
@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_save_figure_is_byte_reproducible(tmp_path, runs, suffix):
    """The same figure, built twice and saved twice, gives identical bytes (no dates, fixed SVG ids)."""
    paths = []
    for i in range(2):
        fig = plots.funnel({name: r.summary for name, r in runs.items()})
        paths.append(plots.save_figure(fig, tmp_path / f"run{i}" / "deep" / f"funnel.{suffix}"))
        plt.close(fig)
    a, b = (p.read_bytes() for p in paths)
    assert len(a) > 1000 and a == b
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[suffix]
    assert a.startswith(magic)
    if suffix != "png":
        assert b"CreationDate" not in a and b"<dc:date>" not in a


def test_save_figure_rejects_unknown_formats(tmp_path):
    fig = plots.funnel({})
    with pytest.raises(ValueError, match="png, .svg or .pdf"):
        plots.save_figure(fig, tmp_path / "x.jpg")
