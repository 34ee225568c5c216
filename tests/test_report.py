"""Client report: one self-contained HTML file, built through the CLI; TOML source comments; PDF route."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simfunnel import load_scenario
from simfunnel.report import (
    build_report,
    field_sources,
    find_chromium,
    html_to_pdf,
    parameter_differences,
    toml_field_comments,
)

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["--set", "simulation.horizon_days=180", "--set", "market.buyers_per_year=6000"]


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """`simfunnel report siloed aligned --quick` on shortened scenarios, in a fresh folder and a private cache."""
    out_dir = tmp_path_factory.mktemp("report")
    cache = tmp_path_factory.mktemp("cache")
    env = {**os.environ, "SIMFUNNEL_CACHE_DIR": str(cache), "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}
    env.pop("SIMFUNNEL_CACHE", None)
    cmd = [sys.executable, "-m", "simfunnel.cli", "report", str(ROOT / "scenarios" / "siloed.toml"),
           str(ROOT / "scenarios" / "aligned.toml"), "-o", str(out_dir / "report.html"), "--quick", "-q", *SHORT]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out_dir, (out_dir / "report.html").read_text(encoding="utf-8"), proc.stderr


def test_single_self_contained_file(quick_report):
    out_dir, html, stderr = quick_report
    assert [p.name for p in out_dir.iterdir()] == ["report.html"]
    assert "wrote" in stderr
    assert html.count("data:image/png;base64,") >= 8
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert refs and not [r for r in refs if r.startswith(("http:", "https:", "//"))]
    assert not [r for r in refs if not r.startswith(("data:", "#"))]  # nothing loaded from disk either
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)  # no remote CSS resources
    assert "<link" not in html and "<script" not in html


def test_content_for_the_client(quick_report):
    _, html, _ = quick_report
    assert "siloed" in html and "aligned" in html
    assert "The question" in html and "The answer in brief" in html
    # the parameter differences with their sources from the TOML comments
    table = html[html.index('id="differences"') :]
    table = table[: table.index("</table>")]
    for field in ("organisation.mql_threshold", "organisation.handoff", "organisation.too_early"):
        assert field in table
    assert "marketing is paid for MQL volume" in table  # siloed.toml's comment on mql_threshold
    assert "siloed.toml:" in table and "aligned.toml:" in table
    assert "simulation.horizon_days" not in table  # the --set override applies to both: no difference
    # headline comparison with confidence intervals, the lever attribution and the figures' sections
    assert "Headline comparison" in html and "95 % CI" in html
    assert "What closes the gap" in html and "Shapley" in html
    for section in ('id="funnel"', 'id="timing"', 'id="capacity"', 'id="method"'):
        assert section in html
    # method and validity
    method = html[html.index('id="method"') :]
    assert "simfunnel 0." in method and "Root seed" in method and "Replications" in method
    assert "checks passed" in method or "model checks" in method
    assert "quick preview" in html


def test_report_api_with_scenario_objects(tmp_path):
    siloed = load_scenario(ROOT / "scenarios" / "siloed.toml")
    more_reps = siloed.with_overrides({"sales.reps": 12, "name": "more reps"})
    out = build_report(
        {"siloed": siloed, "more reps": more_reps},
        tmp_path / "sub" / "r.html",
        n=2,
        overrides={"simulation.horizon_days": 90, "market.buyers_per_year": 3000},
        validation=False,
        executor="serial",
        cache=False,
    )
    html = out.read_text(encoding="utf-8")
    assert out == tmp_path / "sub" / "r.html"
    assert "sales.reps" in html and "more reps" in html
    assert "same organisation" in html  # no levers to attribute
    assert "model checks were not run" in html


def test_toml_comments(tmp_path):
    p = tmp_path / "a.toml"
    p.write_text(
        "# header note\n"
        "[market]\n"
        "# buyers are 57 % through (HBR 2015, IS)\n"
        "ready_at = 0.57\n"
        'value = { kind = "lognormal", mean = 5, sd = 2 }  # deal size # with a hash\n'
        "fit_alpha = 2.0\n"
        "\n"
        "[sales.calendar]\n"
        "workdays = [\n  0, 1, 2,\n]\n"
        'name = "x # not a comment"\n',
        encoding="utf-8",
    )
    c = toml_field_comments(p)
    assert c["market.ready_at"].comment == "buyers are 57 % through (HBR 2015, IS)"
    assert c["market.ready_at"].line == 4
    assert c["market.value.mean"].comment == "deal size # with a hash"
    assert c["market.fit_alpha"].inherited and c["market.fit_alpha"].comment == "header note"
    assert c["sales.calendar.workdays"].line == 9
    assert c["sales.calendar.name"].comment == ""
    child = tmp_path / "b.toml"
    child.write_text('extends = "a.toml"\n[market]\nready_at = 0.6  # our survey\n', encoding="utf-8")
    merged = field_sources(child)
    assert merged["market.ready_at"].comment == "our survey" and merged["market.value"].file.endswith("a.toml")


def test_parameter_differences():
    base = load_scenario(ROOT / "scenarios" / "base.toml")
    other = base.with_overrides({"market.value": {"kind": "fixed", "value": 9000.0}, "sales.reps": 9})
    d = parameter_differences({"base": base, "other": other.with_overrides({"name": "other"})})
    assert list(d["field"]) == ["market.value", "sales.reps"]
    assert d.set_index("field").loc["sales.reps", "other"] == 9
    assert d.set_index("field").loc["market.value", "other"] == {"kind": "fixed", "value": 9000.0}


def test_pdf_without_chromium_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMFUNNEL_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert find_chromium() is None
    (tmp_path / "r.html").write_text("<html><body>x</body></html>", encoding="utf-8")
    with pytest.raises(RuntimeError, match="apt-get install -y chromium"):
        html_to_pdf(tmp_path / "r.html", tmp_path / "r.pdf")


@pytest.mark.skipif(find_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_pdf_with_chromium(quick_report, tmp_path):
    out_dir, _, _ = quick_report
    pdf = html_to_pdf(out_dir / "report.html", tmp_path / "report.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
