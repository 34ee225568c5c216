"""`simfunnel.present`: the figures added with the split of `simfunnel.plots` (the wait for first contact split,
budget splits, acquisition stop, Erlang C), the compatibility of the `simfunnel.plots` shim (every old name,
the CURRENCY and STYLE settings), and the number formats of annotations (issue 10.10)."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simfunnel import formatting, plots  # noqa: E402
from simfunnel.present import comparison, money, style, timing, validation  # noqa: E402
from simfunnel.vocabulary import HEADLINES, KPIS  # noqa: E402

WAITS = HEADLINES["waits"]  # contact_wait_days, batch, queue, callback


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig: Figure) -> list[str]:
    out = [t.get_text() for ax in fig.axes for t in ax.texts]
    for ax in fig.axes:
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return out


def _says_no_data(fig: Figure) -> bool:
    return any(t.startswith("No data") for t in _texts(fig))


def _wait_summary(parts: dict[str, tuple[float, float, float]], ci: float = 0.1) -> pd.DataFrame:
    """A synthetic `Experiment.summary` with the wait KPIs: scenario -> (batch, queue, callback) days."""
    rows = []
    for name, (batch, queue, callback) in parts.items():
        values = dict(zip(WAITS, (batch + queue + callback, batch, queue, callback), strict=True))
        for metric, mean in values.items():
            rows.append({"scenario": name, "metric": metric, "mean": mean, "ci_low": mean * (1 - ci),
                         "ci_high": mean * (1 + ci), "n": 10})  # fmt: skip
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- wait split
def test_contact_wait_stacks_batching_queueing_and_callback():
    summary = _wait_summary({"siloed": (3.5, 1.2, 0.0), "aligned": (0.0, 0.4, 2.0)})
    fig = plots.contact_wait(summary)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * 3  # three parts per scenario
    widths = [p.get_width() for p in ax.patches]
    assert widths[:2] == pytest.approx([3.5, 0.0])  # batching: siloed, aligned
    assert [t.get_text() for t in ax.get_yticklabels()] == ["siloed", "aligned"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Batching", "Queueing for a rep", "Planned call-back"]
    assert ax.get_xlabel() == KPIS["contact_wait_days"].axis_label
    assert fig._suptitle.get_text().startswith("Wait for first contact")
    total = formatting.format_ci(4.7, 4.7 * 0.9, 4.7 * 1.1, "days")
    assert total in _texts(fig)  # the siloed total with its CI, one formatter
    assert ax.collections or ax.lines  # CI whiskers of the totals


def test_contact_wait_from_run_summaries_and_short_waits():
    summ = {m: v for m, v in zip(WAITS, (0.25, 0.0, 0.05, 0.2), strict=True)}
    fig = timing.contact_wait({"aligned": summ, "b2c": dict(summ)})
    assert len(fig.axes[0].patches) == 6 and not _says_no_data(fig)
    assert "6.00 h" in _texts(fig)  # a total under a day is written in hours


def test_contact_wait_without_the_kpis_says_no_data():
    old = {"lead_wait_days": 2.0, "queue_wait_days": 1.0, "profit": 1.0}  # a summary from before the split
    fig = plots.contact_wait({"siloed": old, "aligned": old})
    assert _says_no_data(fig)
    assert any("batch_wait_days" in t for t in _texts(fig))
    assert _says_no_data(plots.contact_wait(pd.DataFrame()))


# ----------------------------------------------------------------------------------------------- budget splits
def _splits() -> pd.DataFrame:
    items = ["search", "events", "content", "outbound", "nurture", "retention", "training"]
    shares = {
        "current": [0.2, 0.2, 0.1, 0.1, 0.2, 0.1, 0.1],
        "mql_optimal": [0.5, 0.25, 0.25, 0.0, 0.0, 0.0, 0.0],
        "profit_optimal": [0.25, 0.0, 0.0, 0.0, 0.25, 0.25, 0.25],
    }
    kpis = {"current": [900, 120, 1e5], "mql_optimal": [1400, 110, -5e4], "profit_optimal": [800, 150, 4e5]}
    data = {c: shares[c] + kpis[c] for c in shares}
    return pd.DataFrame(data, index=pd.Index([*items, "mqls", "won", "profit"], name="item"))


def test_budget_splits():
    fig = plots.budget_splits(_splits())
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["current", "MQL-optimal", "profit-optimal"]
    assert len(left.patches) == 4 * 3  # acquisition, nurture, retention, training per split
    first_bar = [p.get_width() for p in left.patches[:3]]  # acquisition of each split
    assert first_bar == pytest.approx([60.0, 100.0, 25.0])
    assert len(right.patches) == 3 * 3
    heights = [p.get_height() for p in right.patches[:3]]  # the current split is 100 % of itself
    assert heights == pytest.approx([100.0, 100.0, 100.0])
    assert formatting.format_value(-5e4, "money") in _texts(fig)  # values on the bars, in the KPI's unit
    assert _says_no_data(money.budget_splits(pd.DataFrame()))


def test_acquisition_stop_marks_the_day():
    days = np.arange(0, 364, 7.0)
    ts = pd.DataFrame({"day": days, "new_revenue": 1000.0, "repeat_revenue": 200.0, "customers": np.arange(52.0)})
    fig = plots.acquisition_stop({"keeps acquiring": ts, "stops": ts * [1, 0.5, 1, 1]}, stop_day=182)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert any(np.allclose(line.get_xdata(), 182) for line in ax.lines)
    assert "acquisition stops (day 182)" in " ".join(_texts(fig))


# ----------------------------------------------------------------------------------------------- Erlang C
def test_erlang_c_lines_and_points():
    from simfunnel.validation import mmc_theory

    rows = []
    for c in (2, 5):
        for rho in (0.5, 0.7, 0.9):
            th = mmc_theory(c, rho)
            for metric in ("p_wait", "wq_hours"):
                v = th[metric]
                rows.append({"reps": c, "utilisation": rho, "metric": metric, "theory": v, "simulated": v * 1.02,
                             "ci_low": v * 0.95, "ci_high": v * 1.1})  # fmt: skip
    fig = plots.erlang_c(pd.DataFrame(rows))
    left, right = fig.axes
    assert right.get_yscale() == "log"
    assert len(left.get_lines()) >= 2  # one theory curve per team size (+ the error bars' lines)
    sim = [c for c in left.containers if hasattr(c, "lines")]
    assert len(sim) == 2  # simulated points per team size
    labels = [t.get_text() for t in left.get_legend().get_texts()]
    assert "Erlang C, 2 reps" in labels and "simulated, 5 reps" in labels
    assert _says_no_data(validation.erlang_c(pd.DataFrame({"reps": []})))


# ----------------------------------------------------------------------------------------------- defaults, numbers
def _headline_summary() -> pd.DataFrame:
    rows = []
    for i, name in enumerate(("siloed", "aligned")):
        for m in HEADLINES["headline"]:
            mean = (0.3 + 0.2 * i) if KPIS[m].unit == "share" else 1000.0 * (i + 1)
            rows.append({"scenario": name, "metric": m, "mean": mean, "ci_low": mean * 0.9, "ci_high": mean * 1.1})
    return pd.DataFrame(rows)


def test_compare_kpis_defaults_to_the_headline_kpis():
    fig = plots.compare_kpis(_headline_summary())
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert titles == [KPIS[m].label for m in HEADLINES["headline"]]
    assert "Wait for first contact" in titles


def test_annotations_have_no_negative_zero_or_float_noise():
    diffs = pd.DataFrame(
        {
            "scenario": "aligned",
            "baseline": "siloed",
            "metric": ["contact_wait_days", "win_rate", "rep_hours_wasted"],
            "mean_diff": [-0.105, -0.00004, 1296.0],
            "ci_low": [-0.12, -0.01, 1200.0],
            "ci_high": [-0.09, 0.01, 1400.0],
        }
    )
    texts = _texts(comparison.paired_differences(diffs, metrics=list(diffs["metric"])))
    joined = " | ".join(texts)
    assert not re.search(r"-0\.0+(?!\d*[1-9])", joined), joined
    assert "1296.0 h" not in joined and "+1,296 h" in joined
    assert "-0.105 d [-0.120, -0.090]" in joined and "0.0 pp [-1.0, +1.0]" in joined
    assert not re.search(r"(-?\d+\.\d+ d) \[\1, \1\]", joined)  # a CI whose bounds print the same


# ----------------------------------------------------------------------------------------------- the shim
def test_plots_shim_keeps_every_name():
    for name in plots.__all__:
        assert getattr(plots, name) is not None
    assert plots.funnel is __import__("simfunnel.present.funnel", fromlist=["funnel"]).funnel
    assert plots.LEVER_LABELS["pass_context"] == "Context at handoff"
    assert plots._METRICS["profit"] == ("Profit", "money", 1)
    assert plots._metric_info("win_rate") == ("Win rate (won / SQL)", "share", 1)
    assert plots._fmt(1296.0, "hours") == "1,296 h" and plots._fmt(0.253, "share", True) == "+25.3 pp"
    assert plots._lever_label("pass_context") == "Context at handoff"
    assert plots._field_label("sales.reps") == "Sales reps (headcount)"
    assert "sales.reps" in plots._FIELD_LABELS
    assert plots._observed_buckets({"share_lt1h": 0.3})["hi"].tolist() == [1.0]


def test_currency_and_style_settings_are_shared(monkeypatch):
    monkeypatch.setattr(formatting, "CURRENCY", "")
    plots.CURRENCY = "€"
    try:
        assert formatting.CURRENCY == "€" and plots.CURRENCY == "€"
        ts = pd.DataFrame({"day": [0.0, 7.0], "new_revenue": [1e5, 2e5], "repeat_revenue": [0.0, 1e4]})
        fig = plots.revenue_over_time(ts)
        assert fig.axes[0].get_ylabel() == "Revenue per week (€)"
        assert any("€300k" in t for t in _texts(fig))
    finally:
        plots.CURRENCY = ""
    old = style.STYLE
    plots.STYLE = None
    try:
        assert style.STYLE is None
        with matplotlib.rc_context({"figure.titlesize": 7}):
            fig = plots.funnel({"buyers": 10, "engaged": 5, "known": 4, "mqls": 3, "sqls": 2, "won": 1})
            assert fig._suptitle.get_fontsize() == 7  # drawn in the caller's rcParams
    finally:
        plots.STYLE = old


def test_information_curve_draws_the_gain_and_says_no_data_when_empty():
    import pandas as pd

    from simfunnel.present.timing import information_curve

    frame = pd.DataFrame({"timeline_error": [0.0, 0.4, 1.6], "kpi": "profit", "gain": [1e6, 5e5, -2e5],
                          "gain_ci_low": [9e5, 3e5, -6e5], "gain_ci_high": [1.2e6, 7e5, 2e5]})  # fmt: skip
    fig = information_curve(frame)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "+1.00M" in texts and "-200k" in texts
    empty = information_curve(pd.DataFrame())
    shown = [t.get_text() for t in empty.texts] + [t.get_text() for ax in empty.axes for t in ax.texts]
    assert any("No data" in t for t in shown)
