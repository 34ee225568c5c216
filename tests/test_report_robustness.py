"""The report's optional robustness section (issue 13.5) and parameter draws in the report (issue 12.5)."""

from __future__ import annotations

import html as html_lib
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simfunnel import ScenarioError, load_scenario
from simfunnel.analysis import explore
from simfunnel.present.report import build_report, build_report_info
from simfunnel.present.report.robustness import robustness_section

ROOT = Path(__file__).resolve().parents[1]
TINY = {"simulation.horizon_days": 90, "market.buyers_per_year": 3000}
FILES = [ROOT / "scenarios" / "siloed.toml", ROOT / "scenarios" / "aligned.toml"]
FAST = {"validation": False, "executor": "serial", "cache": False, "attribution": "off", "progress": False}


def _text(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_off_by_default(tmp_path):
    out = build_report(FILES, tmp_path / "r.html", n=2, overrides=TINY, **FAST)
    html = out.read_text(encoding="utf-8")
    assert 'id="robustness"' not in html
    assert '<span class="num">8</span>Method and validity' in html
    assert "Parameter uncertainty" not in html


def test_section_with_a_tiny_number_of_worlds(tmp_path):
    info = build_report_info(FILES, tmp_path / "r.html", n=2, overrides=TINY, robustness=True, robustness_samples=4,
                             **FAST)  # fmt: skip
    assert info.robustness_worlds == 4 and "robustness" in info.timings
    html = info.path.read_text(encoding="utf-8")
    text = _text(_section(html, "robustness"))
    assert "re-run in 4 plausible worlds" in text and "Latin hypercube" in text
    assert re.search(r"aligned gives (more|less) profit than siloed in \d of 4 worlds", text)
    for heading in ("What drives the gap", "Regret of each scenario", "Where does it stop paying?",
                    "Which number to measure next", "Robust choice (minimax regret)"):  # fmt: skip
        assert heading in text
    assert "4 worlds are too few to rank them" in text  # no misleading driver chart from 4 worlds
    assert '<span class="num">9</span>Method and validity' in html


def test_section_with_parameter_draws(tmp_path):
    draws = pd.DataFrame({"draw": range(5), "market.ready_at": [0.4, 0.5, 0.6, 0.7, 0.55],
                          "sales.win.intercept": [-3.0, -2.8, -2.6, -2.9, -2.7]})  # fmt: skip
    info = build_report_info(FILES, tmp_path / "r.html", n=3, overrides=TINY, parameters=draws, robustness=True,
                             robustness_samples=3, **FAST)  # fmt: skip
    html = info.path.read_text(encoding="utf-8")
    assert "intervals include parameter uncertainty" in html  # the header line
    method = _text(_section(html, "method"))
    assert (
        "Parameter uncertainty included: replication i of every scenario runs with one of 5 parameter draws" in method
    )
    text = _text(_section(html, "robustness"))
    assert "re-run in 3 plausible worlds (parameter draws" in text
    assert "Market: ready at" in text and "Win: intercept" in text
    assert info.parameter_uncertainty is not None


def test_refused_before_any_run(tmp_path, monkeypatch):
    import simfunnel.present.report.build as build

    def boom(*args, **kwargs):
        raise AssertionError("nothing may run")

    monkeypatch.setattr(build, "simulate_report", boom)
    no_table = load_scenario(FILES[0], TINY).with_overrides({"uncertainty": {}})
    with pytest.raises(ValueError, match="no \\[uncertainty\\] table"):
        build_report({"a": no_table, "b": no_table.with_overrides({"sales.reps": 9})}, tmp_path / "r.html",
                     robustness=True, **FAST)  # fmt: skip
    with pytest.raises(ValueError, match="at least two scenarios"):
        build_report([FILES[0]], tmp_path / "r.html", robustness=True, **FAST)
    with pytest.raises(ScenarioError, match="column 'sales.repz'.*did you mean 'sales.reps'"):
        build_report(FILES, tmp_path / "r.html", parameters=pd.DataFrame({"sales.repz": [4]}), **FAST)
    assert not (tmp_path / "r.html").exists()


def test_cli_samples_needs_robustness(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "simfunnel.cli", "report", *map(str, FILES), "--samples", "3", "-o", str(tmp_path / "r.html")],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "add --robustness" in proc.stderr


# --------------------------------------------------------------------------- the words, on a planted world
def planted(scenario, seed):
    """Aligned pays only when buyers are ready late enough (ready_at > 0.55 of 0.45..0.70); nothing else matters."""
    ready = scenario.market.ready_at
    aligned = scenario.organisation.pass_context
    return {"profit": 1000.0 + (4000.0 * (ready - 0.55) if aligned else 0.0)}


def test_plain_words_name_the_driver_the_box_and_what_to_measure():
    pair = {"siloed": load_scenario(FILES[0], TINY), "aligned": load_scenario(FILES[1], TINY)}
    exp = explore(pair, samples=40, design="lhs", n=1, seed=3, executor="serial", progress=False,
                  _runner="tests.test_report_robustness:planted")  # fmt: skip
    ctx = robustness_section(exp, "profit")
    assert ctx["worlds"] == 40
    assert "aligned gives more profit than siloed in" in ctx["shares"][0]
    assert ctx["drivers"][0]["path"] == "market.ready_at" and ctx["drivers"][0]["clear"]
    assert ctx["drivers_text"].startswith("The gap across worlds depends most on Market: ready at")
    assert "Market: ready at between" in ctx["box_text"] and "coverage" in ctx["box_text"]
    assert set(ctx["figures"]) == {"drivers", "box"}  # the index bars and the PRIM box
    assert ctx["voi_text"].startswith("Measure Market: ready at first")
    assert "Robust choice (minimax regret)" in ctx["regret_text"]
