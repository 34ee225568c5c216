"""A simulated firm's CRM export read back: `export_crm` with mess -> `read_crm` gives the simulation's counts
and reports every piece of mess with its row count; the event log opens in pm4py; the CLI commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simfunnel.data import export_crm, read_crm, write_event_log
from simfunnel.data.export import parse_messy
from simfunnel.scenario import load_scenario
from simfunnel.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
# simulation.warmup_days = 0 below: these tests check mechanisms and stocks from an empty start (initial customers,
# day-0 stop days, counts over the whole run) and stay short; the presets' warm-up has its own tests.
SMALL = {"simulation.warmup_days": 0, "simulation.horizon_days": 240, "market.buyers_per_year": 4000}
MESS = "missing-channel=0.1,duplicate-ids=0.05,close-before-open=0.05,missing-lead=0.1,short-years=0.2"
ENV = {**os.environ, "CI": "1", "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def run():
    return simulate(load_scenario("preset:base", SMALL), 5)


def _truth(run, export_day: float) -> dict[str, float]:
    b = run.buyers
    won = (b["terminal_state"] == "won") & (b["close_day"] < export_day)
    return {"leads": float((b["lead_day"] < export_day).sum()), "won": float(won.sum()),
            "revenue": float(b.loc[won, "value"].round(2).sum())}  # fmt: skip


@pytest.mark.parametrize(("date_format", "headers", "export_day"),
                         [("dayfirst", "salesforce", 200.0), ("monthfirst", "hubspot", None), ("iso", "pipedrive", 150.0)])  # fmt: skip
def test_round_trip_with_mess(run, tmp_path, date_format, headers, export_day):
    mess = MESS if date_format != "iso" else MESS.replace(",short-years=0.2", "")
    done = export_crm(run, tmp_path, messy=mess, date_format=date_format, headers=headers, export_day=export_day,
                      seed=3)  # fmt: skip
    data = read_crm(done.files["leads"], done.files["deals"], done.files["activities"], mapping=done.mapping)
    counts = data.counts()
    truth = _truth(run, export_day or run.ledger.horizon)
    assert counts["leads"] == truth["leads"]
    assert counts["won"] == truth["won"]
    assert counts["revenue"] == pytest.approx(truth["revenue"], abs=0.01)
    assert data.export_date == done.export_date
    reported = {(r["check"], r["file"]): r["rows"] for r in data.quality.to_dict(orient="records")}
    assert len(done.injected) >= (6 if date_format == "iso" else 8)
    for key, rows in done.injected.items():
        assert reported.get(key) == rows, (key, rows, data.quality.to_string())
    expected_extra = {"date order", "owners joining or leaving (owners)"}
    extra = {check for (check, _), rows in reported.items() if rows and (check, _) not in done.injected}
    assert extra <= expected_extra, data.quality.to_string()


def test_parquet_export_round_trip(run, tmp_path):
    done = export_crm(run, tmp_path, file_format="parquet", headers="hubspot")
    data = read_crm(done.files["leads"], done.files["deals"], mapping=done.mapping)
    assert data.counts()["won"] == _truth(run, run.ledger.horizon)["won"]


def test_messy_spec_errors():
    assert parse_messy("missing-channel=0.1,duplicate-ids") == {"missing-channel": 0.1, "duplicate-ids": 1.0}
    with pytest.raises(ValueError, match="unknown mess 'missing-chanel'"):
        parse_messy("missing-chanel=0.1")
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_messy("missing-lead=2")


def test_event_log_opens_in_pm4py(run, tmp_path):
    pm4py = pytest.importorskip("pm4py")
    log = run.event_log()
    engaged = int(run.summary["engaged"])
    assert log["case:concept:name"].nunique() == engaged
    assert str(log["time:timestamp"].dt.tz) == "UTC"
    assert log["org:resource"].notna().all()
    path = write_event_log(log, tmp_path / "journeys.xes")
    xes = pm4py.read_xes(str(path))
    assert xes["case:concept:name"].nunique() == engaged
    assert {"concept:name", "time:timestamp", "org:resource"} <= set(xes.columns)
    ocel = pm4py.read_ocel2_json(str(write_event_log(log, tmp_path / "journeys.jsonocel")))
    assert len(ocel.events) == len(log)
    assert set(ocel.objects["ocel:type"]) == {"buyer", "rep"}
    write_event_log(log, tmp_path / "journeys.csv")
    with pytest.raises(ValueError, match="expected one of .csv, .xes, .jsonocel"):
        write_event_log(log, tmp_path / "journeys.txt")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simfunnel.cli", *args], capture_output=True, text=True, env=ENV,
                          cwd=ROOT, timeout=120)  # fmt: skip


SMALL_SET = ["--set", "simulation.horizon_days=120", "--set", "market.buyers_per_year=3000"]
SMALL_SET += ["--set", "simulation.warmup_days=0"]


def test_cli_export_crm_then_check_crm(tmp_path):
    out = tmp_path / "crm"
    proc = cli("export-crm", "preset:base", *SMALL_SET, "-o", str(out), "--messy", "missing-channel=0.2",
               "--date-format", "dayfirst", "--headers", "salesforce")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "leads.csv").exists() and (out / "mapping.toml").exists()
    assert "mess: missing or unknown channel" in proc.stderr
    proc = cli("check-crm", str(out / "leads.csv"), str(out / "deals.csv"), "--activities",
               str(out / "activities.csv"), "--mapping", str(out / "mapping.toml"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "missing or unknown channel" in proc.stdout and "leads," in proc.stdout


def test_cli_export_log_xes(tmp_path):
    proc = cli("export-log", "preset:base", *SMALL_SET, "-o", str(tmp_path / "log.xes"))
    assert proc.returncode == 0, proc.stderr
    assert "cases" in proc.stdout and (tmp_path / "log.xes").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["export-crm", "preset:base", "-o", "x", "--messy", "dupes=1"], "unknown mess 'dupes'"),
        (["export-crm", "preset:base", "-o", "x", "--messy", "short-years=0.5"], "needs --date-format"),
        (["export-log", "preset:base", "-o", "x.txt"], "must end in .csv, .xes, .jsonocel"),
        (["check-crm", str(ROOT / "tests/data/crm/ambiguous_dates.leads.csv")], "line 3, column 'CreatedDate'"),
    ],
)
def test_cli_user_errors(args, needle):
    proc = cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert needle in proc.stderr


def test_a_warmed_up_run_exports_only_its_measured_window(tmp_path):
    """With a warm-up the CRM starts at its end: the start date is the first day after the warm-up, no record of
    the warm-up is written, and the export day counts from there (a mid-stream export)."""
    warm = simulate(load_scenario("preset:base", {**SMALL, "simulation.warmup_days": 91}), 5)
    done = export_crm(warm, tmp_path, export_day=120)
    crm = read_crm(done.files["leads"], done.files["deals"], done.files["activities"], mapping=done.mapping)
    b = warm.buyers  # its days count from the end of the warm-up (the warm-up's are negative)
    window = (b["lead_day"] >= 0) & (b["lead_day"] < 120)
    assert len(crm.leads) == int(window.sum())
    assert crm.leads["created"].min() >= pd.Timestamp("2025-01-01")
    assert crm.export_date == pd.Timestamp("2025-01-01") + pd.Timedelta(days=120)
    in_window = (b["sql_day"] >= 0) & (b["sql_day"] < 120)
    assert len(crm.deals) == int(in_window.sum())


def test_a_warmed_up_run_logs_the_journeys_of_its_measured_window():
    """With a warm-up, the cases are the buyers engaged after it (the `engaged` KPI) and no event is dated before
    the start date."""
    from simfunnel.data import event_log

    warm = simulate(load_scenario("preset:base", {**SMALL, "simulation.warmup_days": 91}), 5)
    log = event_log(warm)
    assert log["case:concept:name"].nunique() == int(warm.summary["engaged"])
    assert (log["day"] >= 0).all() and log["time:timestamp"].min() >= pd.Timestamp("2025-01-01", tz="UTC")


def test_a_constant_team_exported_on_the_first_of_a_month_has_no_joiners_or_leavers(tmp_path):
    """Every rep works the whole (warmed-up) window and the export is dated 2027-01-01 (an empty last month): no
    owner is reported as joining or leaving, and the team per month has no leavers."""
    two_years = simulate(load_scenario("preset:siloed"), 1)
    done = export_crm(two_years, tmp_path, headers="hubspot")
    data = read_crm(done.files["leads"], done.files["deals"], done.files["activities"], mapping=done.mapping)
    quality = data.quality.set_index("check")
    assert quality["rows"].get("owners joining or leaving (owners)", 0) == 0, data.quality.to_string()
    assert data.team_by_month["left"].sum() == 0
    assert data.team_by_month["active_owners"].iloc[-2] == two_years.scenario.sales.reps
