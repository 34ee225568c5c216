"""Fit report and backtest of a calibration (simfunnel.calibrate.compare, .backtest, simfunnel.present.fit_report):
observed vs simulated tables, the HTML report, the backtest table and its naive forecasts, the CLI; marked slow:
the backtest on histories with a change of regime (team doubles, lead volume about triples after the cut)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("lifelines")
pytest.importorskip("scipy")

from simfunnel.calibrate import FitSettings, calibrate  # noqa: E402
from simfunnel.calibrate.backtest import (  # noqa: E402
    BACKTEST_COLUMNS,
    ERROR_COLUMNS,
    backtest,
    holdout_months,
    month_start,
    monthly_counts,
    run_rate,
    truncate,
)
from simfunnel.calibrate.compare import GOODNESS_COLUMNS, PANELS, TABLE_COLUMNS, compare_fit  # noqa: E402
from simfunnel.data import export_crm, read_crm  # noqa: E402
from simfunnel.presets import preset_path  # noqa: E402
from simfunnel.scenario import load_scenario  # noqa: E402
from simfunnel.simulate import simulate  # noqa: E402

ENV = {**os.environ, "CI": "1", "TQDM_DISABLE": "1"}
TINY = FitSettings(points=8, local_points=8, rounds=1, seeds=1, replicates=4, draws=20)
CUT_DAY = 365  # 2026-01-01 with the export's default start 2025-01-01


def regime_firm(tmp: Path, seed: int, horizon: int = 456, buyers: float = 8000, cut: int = CUT_DAY) -> tuple:
    """A firm with 3 reps and a 300k budget whose team doubles and budget grows 9x (leads about 2.5-3x) at `cut`;
    its CRM export read back."""
    overrides = {"simulation.horizon_days": horizon, "market.buyers_per_year": buyers, "sales.reps": 3,
                 "marketing.budget_per_year": 300000.0,
                 "sales.headcount_plan": [{"day": cut, "reps": 6}],
                 "marketing.budget_plan": [{"day": cut, "budget_per_year": 2700000.0}]}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = simulate(load_scenario("preset:base", overrides), seed)
    done = export_crm(result, tmp)
    return done, read_crm(done.files["leads"], done.files["deals"], done.files["activities"], mapping=done.mapping)


def base_300k(folder: Path) -> str:
    """The base preset with the firm's own marketing budget (a known input: the backtest's lead-volume knob)."""
    path = folder / "base300k.toml"
    path.write_text(f'extends = "{preset_path("preset:base")}"\n[marketing]\nbudget_per_year = 300000\n')
    return str(path)


@pytest.fixture(scope="module")
def firm(tmp_path_factory):
    return regime_firm(tmp_path_factory.mktemp("regime"), 3, buyers=5000)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return base_300k(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def tiny_cal(firm, base):
    return calibrate(truncate(firm[1], pd.Timestamp("2026-01-01")), base, settings=TINY, seed=0, workers=1,
                     progress=False)  # fmt: skip


def test_truncate_hides_the_future(firm):
    """The data as known at the cut: nothing dated after it, deals closed after it open, leads' later deals unlinked."""
    crm = firm[1]
    cut = pd.Timestamp("2026-01-01")
    pre = truncate(crm, cut)
    assert pre.export_date == cut and (pre.leads["created"] < cut).all() and (pre.deals["opened"] < cut).all()
    assert (pre.deals["closed"].dropna() < cut).all()
    later = crm.deals[(crm.deals["opened"] < cut) & (crm.deals["closed"] >= cut)]["deal_id"]
    assert (pre.deals.set_index("deal_id").loc[later, "outcome"] == "open").all()
    assert pre.team_by_month["month"].max() <= cut and pre.team_by_month["active_owners"].max() == 3


def test_months_and_run_rate(firm):
    """Holdout months are the full months after the cut; the run rate is last quarter's wins per lead x leads."""
    crm = firm[1]
    assert month_start("2026-01-01") == pd.Timestamp("2026-01-01")
    assert month_start("2025-12-15") == pd.Timestamp("2026-01-01")
    months = holdout_months(pd.Timestamp("2026-01-01"), crm.export_date)
    assert [f"{m:%m}" for m in months] == ["01", "02", "03"]  # April has 1 day of 30: left out
    pre = truncate(crm, months[0])
    forecast, lag = run_rate(pre, crm, months)
    assert forecast.shape == (3,) and (forecast > 0).all() and 0 <= lag <= 6
    counts = monthly_counts(crm, months)
    assert list(counts.columns) == ["leads", "wins", "conversion"] and counts["leads"].min() > 0


def test_compare_tables_and_goodness(firm, tiny_cal):
    """Observed vs simulated: one tidy table with every panel, the observed values those of the data, a band around
    the simulated mean, and a goodness-of-fit row per panel."""
    pre = truncate(firm[1], pd.Timestamp("2026-01-01"))
    comp = compare_fit(pre, tiny_cal.scenario(), tiny_cal.direct.start, reps=3, draws=tiny_cal.draws(), seed=1)
    t = comp.table
    assert tuple(t.columns) == TABLE_COLUMNS and set(t["panel"]) == set(PANELS)
    assert t.loc[t["panel"] == "leads", "observed"].sum() == len(pre.leads)
    ok = t["sim_low"].notna()
    assert (t.loc[ok, "sim_low"] <= t.loc[ok, "sim_mean"] + 1e-9).all()
    assert (t.loc[ok, "sim_mean"] <= t.loc[ok, "sim_high"] + 1e-9).all()
    assert set(t["inside"].dropna().unique()) <= {0.0, 1.0}
    g = comp.goodness
    assert tuple(g.columns) == GOODNESS_COLUMNS and list(g["panel"]) == list(PANELS)
    assert ((g["inside_share"] >= 0) & (g["inside_share"] <= 1)).all()
    assert all(isinstance(m, str) and m.endswith(".") for m in comp.mismatches)
    assert comp.drawn and comp.reps == 3


def test_fit_report_builds(firm, tiny_cal, tmp_path):
    """The fit report of a small history: one self-contained HTML file with a figure per panel, the goodness of
    fit, what was not matched and the estimates (no backtest section without a backtest)."""
    from simfunnel.present.fit_report import build_fit_report

    pre = truncate(firm[1], pd.Timestamp("2026-01-01"))
    comp = compare_fit(pre, tiny_cal.scenario(), tiny_cal.direct.start, reps=2, seed=1)
    html = build_fit_report(pre, tiny_cal, comp, tmp_path / "fit.html").read_text()
    assert html.count("data:image/png;base64,") == len(PANELS)
    for words in ("Goodness of fit", "What the fit could not match", "market.buyers_per_year", "inside the simulated"):
        assert words in html
    assert 'id="backtest"' not in html and "http://" not in html and "https://" not in html


@pytest.mark.slow
def test_backtest_table_and_report(firm, base, tmp_path):
    """A tiny backtest: the tidy table (leads, wins, conversion by method and month), the error table, verdicts;
    and the fit report with its backtest section as one self-contained HTML file."""
    from simfunnel.calibrate.compare import compare_fit
    from simfunnel.present.fit_report import build_fit_report

    bt = backtest(firm[1], "2025-12-20", base, settings=TINY, reps=3, seed=0, workers=1, progress=False)
    assert bt.cut == pd.Timestamp("2026-01-01") and "cut moved" in bt.notes[0]
    t = bt.table
    assert tuple(t.columns) == BACKTEST_COLUMNS
    assert set(t["method"]) == {"model", "run rate", "pipeline"}
    assert set(t.loc[t["method"] == "model", "metric"]) == {"leads", "wins", "conversion"}
    assert len(t[(t["metric"] == "wins")]) == 3 * len(bt.months)
    e = bt.errors
    assert tuple(e.columns) == ERROR_COLUMNS and len(e) == 6 and (e["mae"] >= 0).all()
    assert e.loc[e["method"] == "model", "inside_band"].between(0, 1).all()
    assert len(bt.verdicts()) == 2
    pre = truncate(firm[1], bt.cut)
    cal = bt.calibration
    comp = compare_fit(pre, cal.scenario(), cal.direct.start, reps=2, draws=cal.draws(), seed=2)
    out = build_fit_report(pre, cal, comp, tmp_path / "fit.html", backtest=bt, seconds=1.0)
    html = out.read_text()
    assert html.count("data:image/png;base64,") == len(PANELS) + 1
    for words in ("Goodness of fit", "What the fit could not match", "Backtest", "run rate", "pipeline", "MAE"):
        assert words in html
    assert "http://" not in html and "https://" not in html  # self-contained


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simfunnel.cli", *args], capture_output=True, text=True, env=ENV,
                          timeout=600)  # fmt: skip


def test_cli_report_needs_html(firm, tmp_path):
    """--report must name an .html file; refused before any work (exit 2)."""
    done = firm[0]
    proc = cli("calibrate", str(done.files["leads"]), "-o", str(tmp_path / "x.toml"), "--report", "fit.pdf")
    assert proc.returncode == 2 and "--report" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_cli_report_and_holdout(firm, base, tmp_path):
    """`simfunnel calibrate ... --quick --report fit.html --holdout-after DATE` writes the scenario, the sample,
    the backtest table and the report, and prints the backtest's errors."""
    done = firm[0]
    out = tmp_path / "firm.toml"
    proc = cli("calibrate", str(done.files["leads"]), str(done.files["deals"]), str(done.files["activities"]),
               "--map", str(done.mapping), "--base", base, "-o", str(out), "--quick", "--workers", "2", "--reps", "3",
               "--report", str(tmp_path / "fit.html"), "--holdout-after", "2026-01-01")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "backtest: 3 months after 2026-01-01" in proc.stdout and "run rate" in proc.stdout
    table = pd.read_csv(tmp_path / "firm.backtest.csv")
    assert tuple(table.columns) == BACKTEST_COLUMNS
    assert (tmp_path / "fit.html").stat().st_size > 50_000 and out.with_name("firm.samples.csv").is_file()
    assert "before 2026-01-01" in out.read_text()


@pytest.mark.slow
def test_backtest_regime_change(tmp_path):
    """Team doubles and lead volume about triples after the cut, over 3 simulated firms: the budget knob matches the
    observed leads, and the calibrated model's mean absolute errors of monthly wins and conversion (averaged over
    the firms) are smaller than both naive forecasts' - which are given the observed leads too. Not on every firm:
    on one firm in four of the runs behind docs/pages/calibration.md a naive forecast was better (the table is
    printed)."""
    base = base_300k(tmp_path)
    errors, leads_inside = [], []
    for seed in (5, 6, 7):
        _, crm = regime_firm(tmp_path / str(seed), seed, horizon=730, buyers=20000, cut=546)
        bt = backtest(crm, "2026-07-01", base, quick=True, reps=12, seed=seed, workers=2, progress=False)
        errors.append(bt.errors.assign(firm=seed))
        leads_inside.append(bt.table.loc[bt.table["metric"] == "leads", "inside"].mean())
    e = pd.concat(errors)
    table = e.groupby(["metric", "method"], sort=False)[["mae", "mape", "inside_band"]].mean()
    print("\n" + table.to_string(float_format=lambda v: f"{v:.4g}"))
    assert np.mean(leads_inside) >= 0.5
    for metric in ("wins", "conversion"):
        t = table.loc[metric]
        assert t.loc["model", "inside_band"] >= 0.5
        assert t.loc["model", "mae"] < min(t.loc["run rate", "mae"], t.loc["pipeline", "mae"]), table
