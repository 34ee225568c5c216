"""The command line (`python -m simfunnel.cli`, the `simfunnel` console script) in fresh processes:
validate, run, compare, sweep; user mistakes exit with status 2 and one message, never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
PRESETS = sorted(SCENARIOS.glob("*.toml"))
BASE = str(SCENARIOS / "base.toml")
SMALL = ["--set", "simulation.horizon_days=90", "--set", "market.buyers_per_year=2000"]
ENV = {**os.environ, "CI": "1", "TQDM_DISABLE": "1", "PYTHONHASHSEED": "0"}
USER_ERROR = 2


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simfunnel.cli", *args], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=120
    )


def assert_user_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == USER_ERROR, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


# ----------------------------------------------------------------------------------------------- validate
def test_validate_presets():
    """Every preset validates; exit 0 and one 'ok' line per file."""
    proc = cli("validate", *map(str, PRESETS))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok") == len(PRESETS)
    for p in PRESETS:
        assert str(p) in proc.stdout


def test_validate_bad_file_names_the_field(tmp_path):
    """A negative rep count is refused with status 2, naming the file and the dotted field."""
    bad = tmp_path / "bad.toml"
    bad.write_text(re.sub(r"(?m)^reps = .*$", "reps = -1", (SCENARIOS / "base.toml").read_text(), count=1))
    proc = cli("validate", str(bad))
    assert_user_error(proc, "bad.toml", "sales.reps")


def test_validate_reports_each_bad_file_and_keeps_going(tmp_path):
    """With a good and a bad file, the good one is still reported ok, and the exit status is 2."""
    bad = tmp_path / "bad.toml"
    text = re.sub(r"(?m)^mql_threshold = .*$", "mql_threshold = 1.5", (SCENARIOS / "base.toml").read_text(), count=1)
    bad.write_text(text)
    proc = cli("validate", BASE, str(bad))
    assert_user_error(proc, "organisation.mql_threshold")
    assert "ok" in proc.stdout and "base.toml" in proc.stdout


# ----------------------------------------------------------------------------------------------- run
@pytest.fixture(scope="module")
def run_json() -> dict:
    proc = cli("run", BASE, *SMALL, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_run_json_has_every_kpi(run_json):
    """`run --format json` carries every KPI of DESIGN.md section 4, lost_by_reason and the channels."""
    from simfunnel.metrics import LOST_KEYS, SUMMARY_KEYS

    for key in SUMMARY_KEYS:
        assert key in run_json, key
    for key in ("buyers", "sim_events", "wall_seconds", "lost_by_reason", "channels"):
        assert key in run_json
    assert set(run_json["lost_by_reason"]) == set(LOST_KEYS)
    assert run_json["buyers"] > 0 and run_json["sim_events"] > 0 and run_json["wall_seconds"] > 0
    assert run_json["won"] + sum(run_json["lost_by_reason"].values()) == run_json["buyers"]
    assert run_json["replications"] == 1 and run_json["seed"] == 1


def test_run_is_reproducible_and_matches_the_library(run_json):
    """The CLI's single run is simulate(scenario, seed=1) of the library."""
    from simfunnel import load_scenario, simulate

    sc = load_scenario(BASE, {"simulation.horizon_days": 90, "market.buyers_per_year": 2000})
    s = simulate(sc, seed=1).summary
    for key in ("buyers", "mqls", "won", "revenue", "marketing_spend", "sim_events"):
        assert run_json[key] == pytest.approx(s[key])


def test_run_table_by_default():
    """Without --format the run prints a KPI table and the channel attribution."""
    proc = cli("run", BASE, *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert "kpi" in proc.stdout and "won" in proc.stdout and "channel" in proc.stdout


def test_run_replications_json():
    """`run -n 3 --executor serial --format json`: mean, std, n and CI for each KPI."""
    proc = cli("run", BASE, *SMALL, "--replications", "3", "--executor", "serial", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["replications"] == 3
    for key in ("buyers", "won", "profit", "sim_events", "wall_seconds"):
        stats = out["kpis"][key]
        assert stats["n"] == 3
        assert {"mean", "std", "ci_low", "ci_high"} <= set(stats)
    assert "lost_too_early" in out["kpis"]
    assert "too_early" in out["lost_by_reason"]


def test_set_changes_the_result(run_json):
    """--set sales.reps=3 overrides the field: rep cost and the run change."""
    proc = cli("run", BASE, *SMALL, "--set", "sales.reps=3", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    from simfunnel import load_scenario

    reps = load_scenario(BASE).sales.reps
    assert reps != 3
    assert out["rep_cost"] == pytest.approx(run_json["rep_cost"] * 3 / reps)
    assert out["rep_utilization"] != run_json["rep_utilization"]


def test_set_misspelt_field_suggests_the_right_one():
    """A misspelt override is refused before simulating, with a 'did you mean'."""
    assert_user_error(cli("run", BASE, "--set", "sales.repz=3"), "sales.repz", "did you mean", "reps")


def test_set_bad_value_names_the_field():
    """A value out of range is refused with the field's name."""
    assert_user_error(cli("run", BASE, "--set", "sales.reps=0"), "sales.reps")


def test_missing_file():
    """A missing scenario file: status 2, the file named."""
    assert_user_error(cli("run", "no/such/file.toml"), "no/such/file.toml", "not found")


def test_broken_toml(tmp_path):
    """A broken TOML file: status 2, 'not valid TOML', no traceback."""
    broken = tmp_path / "broken.toml"
    broken.write_text('[sales\nreps = "')
    assert_user_error(cli("run", str(broken)), "broken.toml", "TOML")
    assert_user_error(cli("validate", str(broken)), "broken.toml")


def test_bad_option_is_a_usage_error():
    """An unknown executor is an argparse usage error (status 2)."""
    assert_user_error(cli("run", BASE, "--executor", "gpu"), "invalid choice")
    assert_user_error(cli("run", BASE, "-n", "0"), "must be >= 1")


# ----------------------------------------------------------------------------------------------- compare
def test_compare_prints_both_scenarios_and_their_difference():
    """`compare A B -n 3 --executor serial`: a table with a column per scenario and a paired difference."""
    proc = cli(
        "compare", str(SCENARIOS / "siloed.toml"), str(SCENARIOS / "aligned.toml"),
        "-n", "3", "--executor", "serial", *SMALL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if line.startswith("kpi"))
    assert "siloed" in header and "aligned" in header
    assert "aligned - siloed" in header
    assert "lost_too_early" in proc.stdout and "profit" in proc.stdout


def test_compare_json_has_paired_differences():
    proc = cli(
        "compare", str(SCENARIOS / "siloed.toml"), str(SCENARIOS / "aligned.toml"),
        "-n", "2", "--executor", "serial", "--format", "json", *SMALL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["baseline"] == "siloed"
    assert set(out["scenarios"]) == {"siloed", "aligned"}
    assert "profit" in out["differences"]["aligned"]


def test_compare_needs_two_files():
    assert_user_error(cli("compare", BASE, "--executor", "serial"), "two")


# ----------------------------------------------------------------------------------------------- sweep
def test_sweep_writes_the_output_file(tmp_path):
    """`sweep --grid sales.reps=2:4:2 -n 2 -o out.csv` writes one summary row per point and metric."""
    out = tmp_path / "out.csv"
    proc = cli("sweep", BASE, "--grid", "sales.reps=2:4:2", "-n", "2", "--executor", "serial", "-o", str(out), *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file()
    df = pd.read_csv(out)
    assert sorted(df["sales.reps"].unique().tolist()) == [2, 4]
    assert {"metric", "mean"} <= set(df.columns)
    assert "profit" in set(df["metric"])
    assert "sales.reps" in proc.stdout


def test_sweep_bad_grid_is_a_user_error():
    assert_user_error(cli("sweep", BASE, "--grid", "sales.reps=a:b:c", "--executor", "serial"), "--grid")


# ----------------------------------------------------------------------------------------------- console script
def test_console_script_is_installed():
    """The `simfunnel` entry point next to the interpreter runs the same CLI."""
    script = Path(sys.executable).with_name("simfunnel")
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run(
        [str(script), "validate", BASE], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
