"""Calibration to a firm's CRM data (simfunnel.calibrate): direct estimates and the simulated-moments fit on a
simulated firm whose true parameters are known (round trip), the written scenario, the CLI, and - marked slow -
the coverage of the 90 % intervals over several data sets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("lifelines")
pytest.importorskip("scipy")

from simfunnel.calibrate import FitSettings, Latent, calibrate, direct_estimates, fit_latent, moments, wilson  # noqa: E402
from simfunnel.calibrate.direct import data_start  # noqa: E402
from simfunnel.calibrate.fit import Target  # noqa: E402
from simfunnel.calibrate.run import observed_moments  # noqa: E402
from simfunnel.calibrate.write import write_calibration  # noqa: E402
from simfunnel.data import crm_tables, export_crm, read_crm  # noqa: E402
from simfunnel.presets import preset_path  # noqa: E402
from simfunnel.scenario import load_scenario  # noqa: E402
from simfunnel.simulate import simulate  # noqa: E402

# simulation.warmup_days = 0 below: these tests check mechanisms and stocks from an empty start (initial customers,
# day-0 stop days, counts over the whole run) and stay short; the presets' warm-up has its own tests.
SMALL = {"simulation.warmup_days": 0, "simulation.horizon_days": 548, "market.buyers_per_year": 6000}
TRUTH = {"market.buyers_per_year": 6000.0, "sales.win.intercept": -2.8, "sales.follow_up.max_prob": 0.5,
         "market.process_days.mean": 150.0}  # fmt: skip
ENV = {**os.environ, "CI": "1", "TQDM_DISABLE": "1"}


def firm(tmp: Path, overrides: dict, seed: int) -> tuple:
    """Simulate a small base firm for 1.5 years and read back its CRM export."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = simulate(load_scenario("preset:base", {**SMALL, **overrides}), seed)
    done = export_crm(result, tmp)
    crm = read_crm(done.files["leads"], done.files["deals"], done.files["activities"], mapping=done.mapping)
    return result, done, crm


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return firm(tmp_path_factory.mktemp("crm"), {}, 3)


def base_file(folder: Path) -> str:
    """The base of the test calibrations: the base preset with 10,000 buyers a year, so that the small firms'
    true values lie well inside the prior ranges (a third to three times the base)."""
    path = folder / "base10k.toml"
    # without the preset's warm-up, like the simulated firms (SMALL): the fit compares like with like
    path.write_text(
        f'extends = "{preset_path("preset:base")}"\n[simulation]\nwarmup_days = 0\n[market]\nbuyers_per_year = 10000\n'
    )
    return str(path)


@pytest.fixture(scope="module")
def quick_fit(data, tmp_path_factory):
    return calibrate(data[2], base_file(tmp_path_factory.mktemp("base")), quick=True, seed=0, workers=2,
                     progress=False)  # fmt: skip


def test_wilson_interval():
    """Wilson score interval: 20 of 100 at 90 % is [0.1425, 0.2733]; no trials gives nan."""
    p, lo, hi = wilson(20, 100)
    assert p == 0.2 and lo == pytest.approx(0.1425, abs=1e-4) and hi == pytest.approx(0.2733, abs=1e-4)
    assert np.isnan(wilson(0, 0)[0])


def test_direct_estimates_cover_the_truth(data):
    """Deal value mean and sd (lognormal 18,000 / 9,000) inside their intervals, 8 reps, sensible tables."""
    d = direct_estimates(data[2])
    by = {e.name: e for e in d.estimates}
    assert by["deal value mean"].covers(18000) and by["deal value sd"].covers(9000)
    assert by["active reps"].value == 8 and by["active reps"].field == "sales.reps"
    assert all(e.low <= e.value <= e.high for e in d.estimates)
    assert all(e.source for e in d.estimates)
    ttc = d.time_to_close
    assert list(ttc["quantile"]) == [0.25, 0.5, 0.75] and ttc["days"].is_monotonic_increasing
    assert (ttc["low"] <= ttc["days"]).all() and (ttc["days"] <= ttc["high"]).all()
    assert d.win_rates.iloc[0]["channel"] == "all" and 0 < d.win_rates.iloc[0]["win_rate"] < 1
    assert d.conversion_by_age["leads"].sum() == len(data[2].leads)
    assert set(d.channels["channel"]) >= {"search", "events"}


def test_moments_same_from_files_and_simulation(data):
    """The fit's moments of the read-back export equal those of the simulated tables (same observation rules)."""
    result, done, crm = data
    start = data_start(crm)
    days = (crm.export_date - start) / pd.Timedelta(days=1)
    tables = crm_tables(result, start_date=str(start.date()), export_day=None)
    assert days == pytest.approx(548, abs=1)
    sim = moments(tables["leads"], tables["deals"], start, tables["export_date"])
    np.testing.assert_allclose(observed_moments(crm, start), sim, rtol=1e-3)


def test_round_trip_quick_fit_covers_the_truth(quick_fit):
    """Quick calibration of a simulated firm: every latent parameter identified, its true value inside the 90 %
    interval (this data set; the coverage over many is tested in test_interval_coverage)."""
    fitted = {e.field: e for e in quick_fit.fit.estimates}
    for field, truth in TRUTH.items():
        e = fitted[field]
        assert e.status == "fitted", e
        assert e.covers(truth), (field, truth, e)


def test_written_scenario_loads_and_simulates(quick_fit, tmp_path):
    """The written TOML extends the base (a file: relative path), comments every fitted field, loads with
    load_scenario and simulates; the sample file has one column per dotted field."""
    scenario, samples = write_calibration(quick_fit, tmp_path / "my_firm.toml", "test data")
    text = scenario.read_text()
    assert 'extends = "' in text and "90 % interval" in text
    for field in TRUTH:
        assert field.rsplit(".", 1)[-1 if not field.endswith(".mean") else 0].split(".")[-1] in text
    loaded = load_scenario(scenario)
    assert loaded.market.buyers_per_year == pytest.approx(quick_fit.overrides["market.buyers_per_year"])
    assert loaded.sales.reps == 8
    run = simulate(loaded.with_overrides({"simulation.warmup_days": 0, "simulation.horizon_days": 60}), 1)
    assert len(run.buyers) > 0
    draws = pd.read_csv(samples, index_col="draw")
    assert set(TRUTH) <= set(draws.columns) and "market.value.mean" in draws.columns
    assert len(draws) == 400 and draws.notna().all().all()


def test_uninformed_parameter_not_identified(data):
    """A parameter the CRM cannot inform (the reps' cost) is reported 'not identified', not fitted."""
    crm = data[2]
    start = data_start(crm)
    target = Target(load_scenario("preset:base", {"market.buyers_per_year": 6000}), start, crm.export_date)
    latents = [Latent("market.buyers_per_year", 2000, 18000, log=True, informed_by="leads"),
               Latent("sales.rep_cost_per_year", 50000, 200000, informed_by="nothing")]  # fmt: skip
    tiny = FitSettings(points=16, local_points=8, rounds=1, seeds=1, replicates=6, draws=50)
    fit = fit_latent(observed_moments(crm, start), target, latents, tiny, seed=1, workers=2, progress=False)
    status = {e.field: e.status for e in fit.estimates}
    assert status == {"market.buyers_per_year": "fitted", "sales.rep_cost_per_year": "not identified"}
    assert any("sales.rep_cost_per_year: not identified" in n for n in fit.notes)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simfunnel.cli", *args], capture_output=True, text=True, env=ENV,
                          timeout=300)  # fmt: skip


def test_cli_calibrate(data, tmp_path):
    """`simfunnel calibrate LEADS DEALS ACTIVITIES --map --quick -o` writes a loadable scenario and a sample."""
    done = data[1]
    out = tmp_path / "out" / "my_firm.toml"
    proc = cli(
        "calibrate",
        str(done.files["leads"]),
        str(done.files["deals"]),
        str(done.files["activities"]),
        "--map",
        str(done.mapping),
        "--base",
        "preset:base",
        "-o",
        str(out),
        "--quick",
        "--workers",
        "2",
        "--warmup",
        "0",
    )  # fmt: skip  (the firm started empty: SMALL has no warm-up)
    assert 'extends = "preset:base"' in out.read_text()  # by name: survives a reinstall
    assert proc.returncode == 0, proc.stderr
    assert "market.buyers_per_year" in proc.stdout and "[fitted]" in proc.stdout
    assert re.search(r"market\.buyers_per_year +\d{1,3}(,\d{3})+  90 % \[\d{1,3}(,\d{3})+, ", proc.stdout)
    assert "history learned: team 8 reps at the start, no change; lead volume no significant step" in proc.stdout
    assert out.with_name("my_firm.samples.csv").is_file()
    assert load_scenario(out).name == "my_firm" and load_scenario(out).simulation.warmup_days == 0


def test_cli_calibrate_bad_input(tmp_path):
    """Bad input is refused by read_crm with file, line and column; exit status 2, no traceback."""
    bad = tmp_path / "leads.csv"
    bad.write_text("lead_id,created\nL1,2025-01-03\nL2,next tuesday\n")
    proc = cli("calibrate", str(bad), "-o", str(tmp_path / "x.toml"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "leads.csv" in proc.stderr and "line 3" in proc.stderr and "created" in proc.stderr


CASES = [({}, 11), ({}, 12), ({"market.buyers_per_year": 4500, "sales.win.intercept": -2.4}, 13),
         ({"sales.follow_up.max_prob": 0.4, "market.process_days": {"kind": "lognormal", "mean": 120, "sd": 60}}, 14),
         ({"market.buyers_per_year": 8000, "sales.win.intercept": -3.1}, 15),
         ({"sales.follow_up.max_prob": 0.65}, 16)]  # fmt: skip


def truth_of(overrides: dict) -> dict[str, float]:
    t = {**TRUTH, **{k: float(v) for k, v in overrides.items() if not isinstance(v, dict)}}
    if "market.process_days" in overrides:
        t["market.process_days.mean"] = float(overrides["market.process_days"]["mean"])
    return t


@pytest.mark.slow
def test_interval_coverage(tmp_path):
    """Coverage of the quick fit's 90 % intervals over 6 simulated firms (2 seeds of the base, 4 other parameter
    sets): printed as a table; each parameter covered in at least 4 of 6 (90 % nominal; 4 of 6 or fewer has
    probability < 2 % at the nominal rate)."""
    hits: dict[str, list[bool]] = {f: [] for f in TRUTH}
    for i, (overrides, seed) in enumerate(CASES):
        _, _, crm = firm(tmp_path / str(i), overrides, seed)
        cal = calibrate(crm, base_file(tmp_path), quick=True, seed=i, workers=2, progress=False)
        truth = truth_of(overrides)
        for e in cal.fit.estimates:
            hits[e.field].append(e.covers(truth[e.field]))
    table = pd.DataFrame({"parameter": list(hits), "nominal": 0.9,
                          "achieved": [np.mean(v) for v in hits.values()], "sets": [len(v) for v in hits.values()]})  # fmt: skip
    print("\n" + table.to_string(index=False))
    assert (table["achieved"] >= 4 / 6).all(), table


def test_a_ramp_at_the_start_of_warmed_up_data_suggests_warmup_0():
    """A lead volume that steps up in the data's first months, against a warmed-up model, is what a CRM that starts
    with the firm looks like: the note says to calibrate with --warmup 0; a later step or no warm-up says nothing."""
    from simfunnel.calibrate.history import History, VolumeStep
    from simfunnel.calibrate.run import ramp_note

    start = pd.Timestamp("2025-01-01")
    early = History(
        reps=8, headcount_plan=[], budget_plan=[], volume=[VolumeStep(pd.Timestamp("2025-03-01"), 3.4, 50.0, 10.0)]
    )
    late = History(
        reps=8, headcount_plan=[], budget_plan=[], volume=[VolumeStep(pd.Timestamp("2025-09-01"), 3.4, 50.0, 10.0)]
    )
    warm = load_scenario("preset:base")
    assert "--warmup 0" in ramp_note(early, start, warm)[0]
    assert ramp_note(late, start, warm) == []
    assert ramp_note(early, start, warm.with_overrides({"simulation.warmup_days": 0})) == []


def test_cli_refuses_a_negative_warmup(data, tmp_path):
    done = data[1]
    proc = cli("calibrate", str(done.files["leads"]), "-o", str(tmp_path / "x.toml"), "--warmup", "-5")
    assert proc.returncode == 2 and "--warmup -5" in proc.stderr and "Traceback" not in proc.stderr
