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
# short runs without the presets' warm-up: these tests are about the CLI (and its day-0 identities), not the headline
SMALL = ["--set", "simulation.horizon_days=90", "--set", "market.buyers_per_year=2000"]
SMALL += ["--set", "simulation.warmup_days=0"]
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
    """`run --format json` carries every KPI of docs/pages/kpis.md, lost_by_reason and the channels."""
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

    sc = load_scenario(
        BASE, {"simulation.horizon_days": 90, "market.buyers_per_year": 2000, "simulation.warmup_days": 0}
    )
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


# ----------------------------------------------------------------------------------------------- early checks
SERIAL_SMALL = [*SMALL, "--executor", "serial", "-n", "2"]


@pytest.mark.parametrize(
    "args, needles",
    [
        (["attribute", "preset:siloed", "preset:aligned", "--metric", "proft"], ["--metric", "did you mean 'profit'"]),
        (["optimize", "preset:base", "--objective", "profitt"], ["--objective", "did you mean 'profit'"]),
        (["sweep", "preset:base", "--grid", "sales.reps=4:12:3", "--metric", "proft"], ["did you mean 'profit'"]),
        (["sweep", "preset:base", "--grid", "sales.repz=4:12:3"], ["sales.repz", "did you mean 'reps'"]),
        (["sweep", "preset:base", "--grid", "sales.reps=4-12"], ["sales.reps=4-12", "did you mean --grid sales.reps=4:12:9"]),
        (["sweep", "preset:base", "--grid", "sales.reps=4:12"], ["did you mean --grid sales.reps=4:12:9"]),
        (["sweep", "preset:base", "--grid", "sales.reps=1:2:3:4"], ["START:STOP:COUNT"]),
    ],
    ids=["attribute-metric", "optimize-objective", "sweep-metric", "grid-field", "grid-dash-range", "grid-two-colons",
         "grid-four-parts"],
)  # fmt: skip
def test_typos_are_refused_before_any_simulation(args, needles):
    """Issue 10.6: a misspelt KPI, objective or grid field, or a range typed 4-12, exits 2 at once with one
    message and "did you mean" (today: a traceback after the whole run, or every point failing with exit 0)."""
    proc = cli(*args, *SERIAL_SMALL)
    assert_user_error(proc, *needles)
    assert proc.stderr.count("\n") == 1, proc.stderr  # one line
    assert proc.stdout == ""


def test_sweep_whose_points_all_fail_exits_1():
    """Every point invalid: the errors are printed and the exit status is 1 (today: 0)."""
    proc = cli("sweep", BASE, "--grid", "sales.reps=0,-1", *SERIAL_SMALL)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "2 of 2 point(s) failed" in proc.stderr and "sales.reps" in proc.stderr


def test_sweep_partial_failure_keeps_the_finished_points(tmp_path):
    """One point of two invalid: the other is shown and written, and the failure is counted."""
    out = tmp_path / "sweep.csv"
    proc = cli("sweep", BASE, "--grid", "sales.reps=0,3", "-o", str(out), *SERIAL_SMALL)
    assert proc.returncode == 0, proc.stderr
    assert "1 of 2 point(s) failed" in proc.stderr
    assert "1 point(s) that finished" in proc.stderr
    assert pd.read_csv(out)["sales.reps"].unique().tolist() == [3]
    assert "RuntimeWarning" not in proc.stderr


# ----------------------------------------------------------------------------------------------- plausibility
def _implausible(tmp_path: Path) -> Path:
    text = (SCENARIOS / "base.toml").read_text()
    text = re.sub(r"(?m)^process_days = .*$", 'process_days = { kind = "lognormal", mean = 9, sd = 3 }', text)
    path = tmp_path / "typo.toml"
    path.write_text(text)
    return path


def test_validate_and_run_warn_about_implausible_values(tmp_path):
    """Issue 10.7: a purchase process of 9 days (months typed as days) is a warning line naming the file, the
    field, the value and the plausible range; validation still passes."""
    path = _implausible(tmp_path)
    proc = cli("validate", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: ")]
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and "market.process_days" in lines[0] and "9 days" in lines[0]
    assert "plausible range 14 to 3,650 days" in lines[0]
    proc = cli("run", str(path), "--set", "simulation.horizon_days=3", "--set", "market.buyers_per_year=2000",
               "--format", "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warned = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: ")]
    assert any("simulation.horizon_days" in ln and "value 3 days" in ln for ln in warned), proc.stderr
    json.loads(proc.stdout)  # stdout stays machine-readable


def test_presets_validate_without_warnings():
    proc = cli("validate", *map(str, PRESETS), *(f"preset:{p.stem}" for p in PRESETS))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr


def test_empty_file_says_so(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert_user_error(cli("validate", str(empty)), "empty.toml", "the file is empty")


# ----------------------------------------------------------------------------------------------- tables
def test_run_table_shows_labels_units_keys_and_horizon():
    """Issue 10.10: the KPI label with its unit next to the stable key, formatted values, and the horizon."""
    proc = cli("run", BASE, *SMALL, "-n", "2", "--executor", "serial")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "over 90 days (0.2 years), 2 replications, seed 1" in lines[0]
    profit = next(ln for ln in lines if " profit " in ln)
    assert profit.startswith("Profit (currency)")
    win = next(ln for ln in lines if " win_rate " in ln)
    assert win.startswith("Win rate") and "%" in win
    assert "-0.000" not in proc.stdout and " -0 " not in proc.stdout


def test_compare_table_shows_signed_differences_and_horizon():
    proc = cli("compare", "preset:siloed", "preset:aligned", "-n", "2", "--executor", "serial", *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert "over 90 days (0.2 years), 2 replications, seed 1" in proc.stdout
    won = next(ln for ln in proc.stdout.splitlines() if " won " in ln)
    assert won.startswith("Deals won")
    rate = next(ln for ln in proc.stdout.splitlines() if " win_rate " in ln)
    assert " pp [" in rate  # a difference of shares is in percentage points


def test_json_and_csv_keep_raw_keys_and_numbers():
    proc = cli("run", BASE, *SMALL, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(__import__("io").StringIO(proc.stdout))
    assert "profit" in set(df["metric"]) and df["value"].dtype.kind == "f"


def test_every_option_help_shows_its_default():
    """Every optional argument of every subcommand says its default in --help."""
    import argparse

    from simfunnel.cli.parser import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sp in sub.choices.items():
        formatter = sp._get_formatter()
        for action in sp._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            text = formatter._expand_help(action)
            assert "default" in text, (name, action.option_strings, text)
    proc = cli("run", "--help")
    assert "(default: processes)" in proc.stdout and "(default: 1)" in proc.stdout


# ----------------------------------------------------------------------------------------------- presets
def test_presets_command_lists_presets_with_descriptions():
    from simfunnel.presets import list_presets, preset_description

    proc = cli("presets")
    assert proc.returncode == 0, proc.stderr
    for name in list_presets():
        assert f"preset:{name}" in proc.stdout
        assert preset_description(name)[:30] in proc.stdout


def test_run_accepts_a_preset():
    proc = cli("run", "preset:base", "-n", "1", *SMALL, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scenario"] == "base"


# ----------------------------------------------------------------------------------------------- import cost
@pytest.mark.parametrize("argv", [["--help"], ["validate", BASE], ["presets"], ["run", "--help"]])
def test_light_commands_do_not_import_heavy_modules(argv):
    """Issue 11: `simfunnel --help` and `validate` import neither pandas, matplotlib nor SimPy."""
    code = (
        "import sys\nfrom simfunnel.cli import main\n"
        f"try:\n    rc = main({argv!r})\nexcept SystemExit as e:\n    rc = e.code\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'simpy') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\nsys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr, proc.stderr


def test_package_names_stay_importable_lazily():
    code = (
        "import inspect, sys\nimport simfunnel\nassert 'pandas' not in sys.modules\n"
        "import simfunnel.simulate\nfrom simfunnel import simulate, compare, Scenario, LEVERS, RunResult\n"
        "assert inspect.isfunction(simulate) and simfunnel.simulate is simulate\n"
        "assert compare.__name__ == 'compare' and Scenario.__name__ == 'Scenario'\n"
        "assert set(simfunnel.__all__) <= set(dir(simfunnel))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["explore", "preset:siloed", "preset:aligned", "--samples", "4"],
        ["report", "preset:siloed", "preset:aligned", "--quick", "--robustness", "-o", "r.html"],
        ["calibrate", "leads.csv", "-o", "x.toml"],
    ],
)
def test_a_missing_extra_is_a_one_line_error_before_any_work(argv, tmp_path):
    """Without an optional extra (here hidden from the import system), a command that needs it says which extra
    to install, with exit 2 and no traceback, before reading or simulating anything."""
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n in ('SALib', 'scipy', 'lifelines') else real(n, *a)\n"
        "from simfunnel.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'simfunnel[" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_set_typo_is_blamed_on_the_set_not_on_the_preset_file():
    proc = cli("run", "preset:base", "--set", "sales.repz=3")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--set sales.repz=3: sales.repz: unknown field 'repz'; did you mean 'reps'?" in proc.stderr
    assert "presets/base.toml" not in proc.stderr
