"""The documentation site (docs/) builds with --strict: a broken link or anchor, an API name that no longer exists
or a KPI without a definition fails CI. Also re-checks the 'silent no-ops' the scenario reference documents."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simfunnel import load_scenario, simulate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "docs" / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@pytest.mark.parametrize(
    "page",
    ["index.html", "architecture.html", "model.html", "scenario-reference.html", "kpis.html", "validation.html",
     "experiments.html", "robustness.html", "calibration.html", "notebooks.html", "references.html", "api/run.html", "api/model.html",
     "cli.html", "api/experiments.html", "api/present.html", "api/validation.html", "api/vocabulary.html"],
)  # fmt: skip
def test_page_built(site: Path, page: str) -> None:
    assert (site / page).is_file()


def test_generated_tables_cover_the_code(site: Path) -> None:
    """Every scenario field and every KPI of the summary appear in the generated reference tables."""
    from simfunnel.metrics import SUMMARY_KEYS

    kpis = (site / "kpis.html").read_text(encoding="utf-8")
    for name in SUMMARY_KEYS:
        assert f'id="kpi-{name}"' in kpis, name
    fields = (site / "scenario-reference.html").read_text(encoding="utf-8")
    for path in ("market.buyers_per_year", "organisation.queue_policy", "sales.follow_up.desk_half", "extends"):
        assert path in fields, path
    assert "simfunnel.load_scenario" in (site / "api" / "run.html").read_text(encoding="utf-8")


def test_cli_page_lists_every_command(site: Path) -> None:
    """The command-line page is generated from the parser: every command and every option of `sweep` is there."""
    from simfunnel.cli.parser import build_parser

    cli = (site / "cli.html").read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        assert f"simfunnel {name}" in cli, name
    for action in commands["sweep"]._actions:
        for flag in action.option_strings:
            assert flag in cli, flag


H = {"simulation.horizon_days": 180}
EXACT = {"context.stated_share": 1.0, "context.timeline_error": 0.0, "context.safety_margin_days": 0.0}
NO_OPS = {
    "deadline without context = fifo": ("siloed", {"organisation.queue_policy": "fifo"},
                                        {"organisation.queue_policy": "deadline"}),
    "too_early with exact context": ("aligned", {"organisation.too_early": "recycle", **EXACT},
                                     {"organisation.too_early": "drop", **EXACT}),
    "context fields without context or recycling": ("siloed", {}, {"context.stated_share": 0.1,
                                                    "context.timeline_error": 2.0, "context.safety_margin_days": 20,
                                                    "context.crm_sharpening": 0.0}),
    "nurture per-touch fields without touches": ("aligned", {}, {"context.nurture_stated_per_touch": 0.9,
                                                 "context.nurture_error_per_touch": 0.9}),
    "nurture touches without context": ("siloed", {}, {"context.nurture_touches_per_week": 3.0}),
    "return_when_ready under recycle": ("siloed", {"organisation.too_early": "recycle", "market.return_when_ready": 0.0},
                                        {"organisation.too_early": "recycle", "market.return_when_ready": 1.0}),
    "batch interval under realtime": ("aligned", {"organisation.batch_interval_days": 7},
                                      {"organisation.batch_interval_days": 30}),
    "training curve without rep_training": ("siloed", {}, {"sales.training.max_effect": 2.0}),
    "win.context without context": ("siloed", {}, {"sales.win.context": 3.0}),
    "check-in fields without follow-up": ("siloed", {}, {"sales.checkin_delay_days": 5, "retention.followup_lift": 0.5,
                                                          "retention.referral_followup_lift": 0.9}),
    "office hours with calendar off": ("siloed", {"sales.calendar.enabled": False},
                                       {"sales.calendar.enabled": False, "marketing.hand_raise_office_hours": 0.0}),
    "learning without CRM logging": ("siloed", {"organisation.crm_logging": 0.0},
                                     {"organisation.crm_logging": 0.0, "marketing.mix_learning_rate": 1.0,
                                      "marketing.rebalance_days": 7, "marketing.scoring.min_noise_fraction": 0.0}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(NO_OPS))
def test_documented_no_op(case: str) -> None:
    """docs/pages/scenario-reference.md, 'Interactions and silent no-ops': both values give identical runs.
    If the model changes so that one of these fields starts to matter, update that section and this list."""
    preset, a, b = NO_OPS[case]
    path = ROOT / "scenarios" / f"{preset}.toml"
    x = simulate(load_scenario(path, {**H, **a}), 3).summary
    y = simulate(load_scenario(path, {**H, **b}), 3).summary
    differ = [k for k in x if k != "wall_seconds" and x[k] != y[k] and not (math.isnan(x[k]) and math.isnan(y[k]))]
    assert not differ, f"{case}: {differ}"
