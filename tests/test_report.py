"""Client report: one self-contained HTML file, built through the CLI; TOML source comments; PDF route."""

from __future__ import annotations

import html as html_lib
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
# short runs without the presets' warm-up: these tests are about the report, not the headline
SHORT = ["--set", "simulation.horizon_days=180", "--set", "market.buyers_per_year=6000"]
SHORT += ["--set", "simulation.warmup_days=0"]


@pytest.fixture(scope="module")
def report_cache(tmp_path_factory):
    """The private result cache of `quick_report`."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory, report_cache):
    """`simfunnel report siloed aligned --quick` on shortened scenarios, in a fresh folder and a private cache."""
    out_dir = tmp_path_factory.mktemp("report")
    cache = report_cache
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
    assert "warm-up that no number counts" not in html  # SHORT switches the warm-up off: nothing to mention
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
    assert "90 days simulated after a 364-day warm-up that no number counts" in html  # the preset's warm-up


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


# ============================================================================================== issue 9 / 10 defects
TINY = {"simulation.horizon_days": 90, "market.buyers_per_year": 3000}


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment (tags dropped, whitespace collapsed)."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_report_uses_the_vocabulary_lever_groups():
    """Issue 9.1: the report's lever groups are the notebooks' (vocabulary.LEVER_GROUPS), labels included."""
    from simfunnel import report, vocabulary

    assert report.LEVER_GROUPS is vocabulary.LEVER_GROUPS
    from simfunnel.present.report.runs import lever_groups

    siloed, aligned = (load_scenario(ROOT / "scenarios" / f"{x}.toml") for x in ("siloed", "aligned"))
    groups, labels = lever_groups(siloed, aligned)
    assert set(labels.values()) <= set(vocabulary.LEVER_GROUPS)
    by_lever = {lev: labels["+".join(g)] for g in groups for lev in g}
    for lev, label in by_lever.items():
        assert lev in vocabulary.LEVER_GROUPS[label], lev
    assert by_lever["too_early"] == by_lever["handoff"]  # handoff timing + context + recycling
    assert by_lever["response_sla_hours"] == by_lever["queue_policy"]  # response SLA + deadline-first queue


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """A report of siloed vs aligned with n=3 and an attribution of 2 replications (serial, no cache)."""
    files = [ROOT / "scenarios" / "siloed.toml", ROOT / "scenarios" / "aligned.toml"]
    out = build_report(files, tmp_path_factory.mktemp("tiny") / "r.html", n=3, attribution_n=2, overrides=TINY,
                       validation=False, executor="serial", cache=False)  # fmt: skip
    return out.read_text(encoding="utf-8")


def test_waterfall_states_the_attributions_own_baseline(tiny_report):
    """Issue 10.3: the waterfall's caption gives its baseline value, which is the attribution's siloed mean (the
    first 2 of the headline's 3 replications), and the headline states its replications."""
    from simfunnel.experiment import attribute, compare
    from simfunnel.formatting import format_kpi
    from simfunnel.present.report.results import Results
    from simfunnel.present.report.runs import lever_groups

    siloed, aligned = (load_scenario(ROOT / "scenarios" / f"{x}.toml", TINY) for x in ("siloed", "aligned"))
    groups, _ = lever_groups(siloed, aligned)
    attr = attribute(siloed, aligned, n=2, seed=1, levers=groups, exact=True, executor="serial", cache=False)
    exp = compare({"siloed": siloed, "aligned": aligned}, n=3, seed=1, executor="serial", cache=False)
    assert Results(exp, "siloed").mean_of_first("siloed", "profit", 2) == pytest.approx(attr.gap["siloed_mean"])

    levers = _section(tiny_report, "levers")
    caption = _text(levers[levers.index("<figcaption>") : levers.index("</figcaption>")])
    shown = re.search(r"Baseline siloed: profit (\S+), the mean of the attribution's 2 replications", caption)
    assert shown, caption
    assert shown.group(1) == format_kpi("profit", attr.gap["siloed_mean"])
    assert format_kpi("profit", attr.gap["all_levers_mean"]) in caption
    assert "over all 3 replications the baseline's mean is " + format_kpi("profit", Results(exp, "siloed").mean(
        "siloed", "profit")) in caption  # fmt: skip
    assert "Means of 3 paired replications per scenario" in _text(_section(tiny_report, "answer"))
    # every figure states its replications
    for cap in re.findall(r"<figcaption>(.*?)</figcaption>", tiny_report, flags=re.S):
        assert "replication" in cap, cap


def test_churn_count_is_not_judged_and_kpis_are_defined(tiny_report):
    """Issue 10.4: a churned count is higher/lower, never worse; the method section defines ROI and marketing ROI
    in the vocabulary's words."""
    from simfunnel.present.report.results import verdict
    from simfunnel.vocabulary import KPIS

    assert verdict("churned", 5.0, 9.0) == ("higher", "neutral")
    assert verdict("lost_dropped", 5.0, 9.0) == ("worse", "worse")
    comparison = _section(tiny_report, "comparison")
    row = comparison[comparison.index(KPIS["churned"].label) :]
    row = row[: row.index("</tr>")]
    assert "worse" not in row and "better" not in row and "churn rate" in row
    method = _text(_section(tiny_report, "method"))
    for name in ("roi", "marketing_roi"):
        assert f"{KPIS[name].label} {KPIS[name].definition}" in method


def test_missing_kpis_are_skipped():
    """Results that lack KPIs (e.g. cached before the model added them) give a report without those rows."""
    from simfunnel.experiment import compare
    from simfunnel.present.report.results import Results
    from simfunnel.present.report.sections import answer_section, comparison_table

    siloed, aligned = (load_scenario(ROOT / "scenarios" / f"{x}.toml", TINY) for x in ("siloed", "aligned"))
    exp = compare({"siloed": siloed, "aligned": aligned}, n=2, seed=1, executor="serial", cache=False)
    drop = {"profit", "won", "churned", "queue_wait_days"}
    exp.summary = exp.summary[~exp.summary["metric"].isin(drop)]
    exp.diffs = exp.diffs[~exp.diffs["metric"].isin(drop)]
    res = Results(exp, "siloed")
    assert not res.has("profit") and res.has("revenue")
    rows = [r["label"] for g in comparison_table(res, ["siloed", "aligned"]) for r in g["rows"]]
    assert "Revenue" in rows and "Profit" not in rows and "Deals won" not in rows
    answer = answer_section(res, ["siloed", "aligned"], {"siloed": "#000", "aligned": "#111"}, 90)
    assert [c["label"] for c in answer["cards"]] == ["Revenue", "Cost per won customer (CAC)"]


def test_no_machine_paths_and_formatter_numbers(quick_report, report_cache):
    """Issue 10.10: the client sees no cache path; numbers come from the formatter (a mean and its bounds share
    their decimals, no '-0.000', no '1296.0 h')."""
    _, html, _ = quick_report
    assert str(report_cache) not in html and "result cache on" in html
    body = _text(html[html.index("</style>") :])
    assert not re.search(r"(?<![\w-])-0(\.0+)?(?![\d.])", body)
    assert not re.search(r"\d{4}\.\d+ h", body)
    for mean, lo, hi in re.findall(r"(-?[\d,]+(?:\.\d+)?) \[(-?[\d,]+(?:\.\d+)?), (-?[\d,]+(?:\.\d+)?)\]", body):
        decimals = {len(x.split(".")[1]) if "." in x else 0 for x in (mean, lo, hi)}
        assert len(decimals) == 1, (mean, lo, hi)


def test_timing_section_names_the_wait_for_first_contact(quick_report):
    """Issue 10.2: the timing section speaks of the wait for first contact, not of a 'lead wait'."""
    _, html, _ = quick_report
    timing = _text(_section(html, "timing"))
    assert "Wait for first contact" in timing or "wait for first contact" in timing
    assert not re.search(r"\blead wait\b", timing, flags=re.I)
