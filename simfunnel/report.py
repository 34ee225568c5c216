"""A client report: one self-contained HTML file (figures embedded as PNG, CSS inline, no network needed).

`build_report` runs the comparison (`simfunnel.compare`, common random numbers), the lever attribution
(`simfunnel.attribute`, when exactly two scenarios differ in their organisation) and one representative run per
scenario for the figures, and renders ``simfunnel/templates/report.html.j2`` (Jinja2) with:

1. the question and the answer in brief (headline numbers with 95 % confidence intervals);
2. the scenarios and their assumptions: the shared basics, and every parameter that differs from the baseline
   scenario (a diff of the `Scenario.to_dict` trees) with its source where the scenario file cites one (the TOML
   comments on or above the line that sets the field, e.g. "# ... (HBR 2015, IS)");
3. the headline comparison (KPI table with paired differences and CIs; figures);
4. what closes the gap: Shapley attribution of the gap to the alignment levers;
5. funnel and lost deals, timing (lead wait, speed to lead), capacity (rep utilisation), revenue over time;
6. method and validity: replications, seed, model version, the checks of `simfunnel.validation.run_checks`.

Cost. A run of the base preset (730 days) takes ~0.2-0.6 s. A full Shapley attribution over the 9 levers would
need ~200 coalitions x n runs, so the report attributes the gap to four *groups* of levers (`LEVER_GROUPS`),
exactly (16 coalitions), with ``attribution_n`` replications. Defaults: 20 replications for the comparison and
10 for the attribution (~1-2 minutes on 2 cores); ``quick=True``: 5 and 3 (~20 s). Results come from the result
cache (`simfunnel.cache`, on by default here) when the same runs were done before, so a re-render is fast.

PDF: `html_to_pdf` prints the HTML with headless Chromium (Debian package ``chromium``), if it is installed.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import math
import os
import platform
import re
import shutil
import subprocess
import time
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.cache import CacheLike, model_fingerprint, resolve_cache
from simfunnel.executors import ExecutorName, TaskExecutor, executor_scope
from simfunnel.experiment import attribute, child_seed, compare, root_seed
from simfunnel.scenario import LEVERS, Scenario, load_scenario

__all__ = [
    "LEVER_GROUPS",
    "ReportInfo",
    "build_report",
    "field_sources",
    "find_chromium",
    "html_to_pdf",
    "parameter_differences",
    "toml_field_comments",
]

DEFAULT_N = 20
DEFAULT_ATTRIBUTION_N = 10
QUICK_N = 5
QUICK_ATTRIBUTION_N = 3
FIGURE_DPI = 110

LEVER_GROUPS: dict[str, tuple[str, ...]] = {
    "Agreed lead definition and feedback": ("mql_threshold", "crm_logging"),
    "Fast handoff with context": ("handoff", "pass_context", "response_sla_hours"),
    "Deadline-first queue and recycling": ("queue_policy", "too_early"),
    "Rep training and post-sale follow-up": ("rep_training", "post_sale_followup"),
}
"""Lever groups of the report's attribution (every lever of `simfunnel.LEVERS` in exactly one group)."""

_TABLE_KPIS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Money", ("profit", "revenue", "new_revenue", "repeat_revenue", "marketing_spend", "rep_cost", "cac", "roi")),
    ("Funnel", ("mqls", "sqls", "won", "mql_to_sql", "win_rate")),
    ("Timing", ("lead_wait_days", "lead_wait_days_p90", "queue_wait_days", "speed_to_lead_hours", "sales_cycle_days")),
    ("Capacity", ("rep_utilization", "leads_followed_up", "rep_hours_wasted")),
    ("Customers", ("customers_end", "churned", "referrals")),
)
_HEADLINE_KPIS = ("profit", "revenue", "won", "lead_wait_days", "queue_wait_days", "rep_utilization")
_CARD_KPIS = ("profit", "revenue", "won", "cac")
_WAIT_KPIS = ("lead_wait_days", "lead_wait_days_p90")

_ORG_LABELS = {
    "mql_threshold": "MQL threshold (lead score, 0-1)",
    "handoff": "Handoff of leads to sales",
    "batch_interval_days": "Handoff batch interval (days)",
    "pass_context": "Context passed at handoff",
    "response_sla_hours": "Response SLA for hand-raisers (working hours)",
    "queue_policy": "Order in which reps work their queue",
    "too_early": "Leads called too early",
    "crm_logging": "CRM logging (share of outcomes)",
    "rep_training": "Rep training by marketing",
    "post_sale_followup": "Post-sale follow-up by reps",
}


# ============================================================================================== TOML sources
@dataclass(frozen=True)
class FieldComment:
    """Where a field is set in a TOML file and the comment on or directly above that line."""

    file: str
    line: int
    comment: str
    inherited: bool = False  # True: the comment is the one above the field's [table] header


def _split_comment(text: str) -> tuple[str, str]:
    """(code, comment) of one TOML line: the first ``#`` outside a string starts the comment."""
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return text[:i].rstrip(), text[i + 1 :].strip()
        i += 1
    return text.rstrip(), ""


def _key_parts(text: str) -> list[str]:
    """A TOML (dotted, possibly quoted) key as its parts: ``a."b.c".d`` -> ``["a", "b.c", "d"]``."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text)
    return [a or b or c for a, b, c in parts]


def _inline_keys(value: str) -> list[list[str]]:
    """Keys (dotted) of an inline table ``{ a = 1, b = { c = 2 } }`` written on one line."""
    value = value.strip()
    if not (value.startswith("{") and value.endswith("}")):
        return []
    out: list[list[str]] = []
    body = value[1:-1]
    depth, start, quote = 0, 0, None
    items = []
    for i, ch in enumerate(body):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    for item in items:
        if "=" not in item:
            continue
        k, v = item.split("=", 1)
        key = _key_parts(k)
        out.append(key)
        out += [key + sub for sub in _inline_keys(v)]
    return out


def toml_field_comments(path: str | os.PathLike) -> dict[str, FieldComment]:
    """The comment of every field set in one TOML file, by dotted path (``organisation.mql_threshold``).

    A field's comment is its inline comment and the comment lines directly above it (no blank line between);
    a field without one inherits the comment above its ``[table]`` header (marked ``inherited``). Fields of an
    inline table (``reach = { max_effect = 0.35, ... }``) get the comment of their line. Unreadable files give {}.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    out: dict[str, FieldComment] = {}
    table: list[str] = []
    table_comment = ""
    pending: list[str] = []
    depth = 0  # open brackets of a multi-line array
    for number, raw in enumerate(lines, start=1):
        code, comment = _split_comment(raw)
        stripped = code.strip()
        if depth > 0:
            depth += stripped.count("[") - stripped.count("]")
            continue
        if not stripped:
            if comment:
                pending.append(comment)
            else:
                pending = []
            continue
        if stripped.startswith("["):
            header = stripped.strip("[]").strip()
            table = _key_parts(header)
            table_comment = " ".join([*pending, comment]).strip()
            if table_comment:
                out[".".join(table)] = FieldComment(str(path), number, table_comment)
            pending = []
            continue
        if "=" not in stripped:
            pending = []
            continue
        key_text, value = stripped.split("=", 1)
        key = table + _key_parts(key_text)
        own = " ".join([*pending, comment]).strip()
        note = FieldComment(str(path), number, own) if own else FieldComment(str(path), number, table_comment, True)
        dotted = ".".join(key)
        out[dotted] = note
        for sub in _inline_keys(value):
            out[".".join(key + sub)] = note
        depth = value.count("[") - value.count("]")
        depth = max(depth, 0)
        pending = []
    return out


def _extends_chain(path: Path) -> list[Path]:
    """The file and the files it extends, nearest first."""
    chain: list[Path] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None and current.is_file() and current.resolve() not in seen:
        seen.add(current.resolve())
        chain.append(current)
        try:
            with current.open("rb") as fh:
                parent = tomllib.load(fh).get("extends")
        except (OSError, tomllib.TOMLDecodeError):
            break
        current = current.parent / parent if isinstance(parent, str) else None
    return chain


def field_sources(path: str | os.PathLike) -> dict[str, FieldComment]:
    """`toml_field_comments` of a scenario file merged over the files it ``extends`` (the file that sets a
    field last wins)."""
    merged: dict[str, FieldComment] = {}
    for p in reversed(_extends_chain(Path(path))):
        merged.update(toml_field_comments(p))
    return merged


def _comment_for(sources: Mapping[str, FieldComment], dotted: str) -> FieldComment | None:
    """The comment of the line that sets ``dotted`` (or the enclosing inline table or [table] header *of the same
    file*); None when the field is set without a comment or not set in the files at all."""
    parts = dotted.split(".")
    setter = None
    for i in range(len(parts), 0, -1):
        hit = sources.get(".".join(parts[:i]))
        if hit is None:
            continue
        if setter is None:
            setter = hit
        if hit.file == setter.file and hit.comment:
            return hit
    return None


# ============================================================================================== differences
def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


_MISSING = object()


def parameter_differences(scenarios: Mapping[str, Scenario], baseline: str | None = None) -> pd.DataFrame:
    """Every parameter (dotted path into `Scenario.to_dict`) whose value differs between the baseline (default:
    the first) and any other scenario; ``name`` and ``description`` are left out. Columns: ``field`` and one
    column per scenario (the value, or None where the field does not exist, e.g. after a distribution kind
    change). A distribution whose ``kind`` differs is shown whole (``market.value``), not key by key."""
    names = list(scenarios)
    if not names:
        return pd.DataFrame(columns=["field"])
    baseline = names[0] if baseline is None else baseline
    flat = {n: _flatten({k: v for k, v in s.to_dict().items() if k not in ("name", "description")})
            for n, s in scenarios.items()}  # fmt: skip
    kinds = {n: {k[: -len(".kind")] for k in f if k.endswith(".kind")} for n, f in flat.items()}
    rows = []
    seen: set[str] = set()
    order = list(dict.fromkeys(k for n in [baseline, *names] for k in flat[n]))
    for key in order:
        # a distribution whose kind differs: compare the table whole
        dist = next((d for d in kinds[baseline] | set().union(*kinds.values()) if key.startswith(d + ".")), None)
        if dist is not None:
            kind_values = {n: flat[n].get(dist + ".kind", _MISSING) for n in names}
            if len({str(v) for v in kind_values.values()}) > 1:
                if dist in seen:
                    continue
                seen.add(dist)
                vals = {n: {k[len(dist) + 1 :]: v for k, v in flat[n].items() if k.startswith(dist + ".")} or None
                        for n in names}  # fmt: skip
                rows.append({"field": dist, **vals})
                continue
        values = {n: flat[n].get(key, _MISSING) for n in names}
        base_v = values[baseline]
        if all(_same(v, base_v) for v in values.values()):
            continue
        rows.append({"field": key, **{n: (None if v is _MISSING else v) for n, v in values.items()}})
    return pd.DataFrame(rows, columns=["field", *names])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _describe_field(dotted: str) -> str:
    """The schema's description of a dotted field: the most specific described field on its path."""
    from typing import get_args, get_origin

    from pydantic import BaseModel

    model: Any = Scenario
    best = ""
    parts = dotted.split(".")
    i = 0
    while i < len(parts) and model is not None:
        info = getattr(model, "model_fields", {}).get(parts[i])
        if info is None:
            break
        if info.description:
            best = info.description
        ann = info.annotation
        i += 1
        if get_origin(ann) is dict:
            i += 1  # the dict key: a channel name or a budget item
            ann = get_args(ann)[1]
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return best


# ============================================================================================== formatting
def _fmt_value(v: Any, dotted: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, Mapping):
        if "kind" in v:
            params = ", ".join(f"{k} {_fmt_value(x)}" for k, x in v.items() if k != "kind")
            return f"{v['kind']} ({params})" if params else str(v["kind"])
        return ", ".join(f"{k} {_fmt_value(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(_fmt_value(x) for x in v)
    if isinstance(v, float):
        if math.isinf(v):
            return "none (∞)" if "sla" in dotted or "stop" in dotted else ("∞" if v > 0 else "−∞")
        if "shares" in dotted:
            return f"{100 * v:.0f} %"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _fmt_kpi(v: float, metric: str, signed: bool = False) -> str:
    from simfunnel.plots import _fmt

    kind = _kpi_label(metric)[1]
    if kind == "count" and np.isfinite(v) and abs(v) < 100 and not float(v).is_integer():
        return ("+" if signed and v > 0 else "") + f"{v:,.1f}"
    return _fmt(v, kind, signed=signed)


_EXTRA_KPI_LABELS: dict[str, tuple[str, str, int]] = {
    "queue_wait_days": ("Queue wait for a free rep", "days", -1),
}


def _kpi_label(metric: str) -> tuple[str, str, int]:
    """(label, unit kind, better direction) of a KPI, as in the figures."""
    from simfunnel.plots import _METRICS, _metric_info

    if metric not in _METRICS and metric in _EXTRA_KPI_LABELS:
        return _EXTRA_KPI_LABELS[metric]
    return _metric_info(metric)


def _verdict(metric: str, lo: float, hi: float) -> tuple[str, str]:
    """(text, css class) of a paired difference's CI: better / worse / higher / lower / no clear difference."""
    _, _, better = _kpi_label(metric)
    if not (np.isfinite(lo) and np.isfinite(hi)) or (lo <= 0 <= hi):
        return "no clear difference", "neutral"
    up = lo > 0
    if better == 0:
        return ("higher" if up else "lower"), "neutral"
    return ("better", "better") if up == (better > 0) else ("worse", "worse")


# ============================================================================================== figures
def _png(fig: Any, dpi: int = FIGURE_DPI) -> str:
    """A figure as a ``data:image/png;base64,...`` URI (no dates in the metadata: stable bytes); closes it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(
            buf,
            format="png",
            dpi=dpi,
            bbox_inches="tight",
            pad_inches=0.12,
            facecolor="white",
            metadata={"Software": None},
        )
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass
class _Figure:
    src: str
    alt: str
    caption: str
    wide: bool = True


# ============================================================================================== inputs
def _load_inputs(
    scenarios: Mapping[str, Scenario | str | os.PathLike] | Sequence[Scenario | str | os.PathLike],
    overrides: Mapping[str, Any] | None,
) -> tuple[dict[str, Scenario], dict[str, Path | None]]:
    items: list[tuple[str | None, Any]]
    if isinstance(scenarios, Mapping):
        items = [(str(k), v) for k, v in scenarios.items()]
    elif isinstance(scenarios, str | os.PathLike | Scenario):
        items = [(None, scenarios)]
    else:
        items = [(None, v) for v in scenarios]
    if not items:
        raise ValueError("a report needs at least one scenario")
    loaded: list[tuple[str | None, Scenario, Path | None]] = []
    for name, item in items:
        if isinstance(item, Scenario):
            scn = item.with_overrides(overrides) if overrides else item
            loaded.append((name, scn, None))
        elif isinstance(item, str | os.PathLike):
            loaded.append((name, load_scenario(item, overrides), Path(item)))
        else:
            raise TypeError(f"expected a Scenario or a path to a scenario TOML file, got {type(item).__name__}")
    names = [n if n is not None else s.name for n, s, _ in loaded]
    if len(set(names)) != len(names):
        names = [n if n is not None else (p.stem if p is not None else s.name) for n, s, p in loaded]
    if len(set(names)) != len(names):
        names = [f"{n}_{i + 1}" for i, n in enumerate(names)]
    return {n: s for n, (_, s, _) in zip(names, loaded, strict=True)}, {
        n: p for n, (_, _, p) in zip(names, loaded, strict=True)
    }


# ============================================================================================== report
@dataclass
class ReportInfo:
    """What `build_report` did (also returned by the CLI): timings in seconds and the settings used."""

    path: Path
    n: int
    attribution_n: int | None
    seed: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    pdf: Path | None = None
    cache_dir: Path | None = None
    simulated_runs: int = 0


def _org_differs(a: Scenario, b: Scenario) -> bool:
    return a.organisation != b.organisation


def _lever_groups(lo: Scenario, hi: Scenario) -> tuple[list[tuple[str, ...]], dict[str, str]]:
    """The groups of `LEVER_GROUPS` restricted to the levers whose values differ, and their labels."""
    differ = {f for f in LEVERS if getattr(lo.organisation, f) != getattr(hi.organisation, f)}
    groups, labels = [], {}
    for label, fields in LEVER_GROUPS.items():
        g = tuple(f for f in fields if f in differ)
        if g:
            groups.append(g)
            labels["+".join(g)] = label
    rest = sorted(differ - {f for g in LEVER_GROUPS.values() for f in g})
    for f in rest:
        groups.append((f,))
        labels[f] = f.replace("_", " ").capitalize()
    return groups, labels


def build_report(
    scenarios: Mapping[str, Scenario | str | os.PathLike] | Sequence[Scenario | str | os.PathLike],
    path: str | os.PathLike,
    *,
    n: int | None = None,
    seed: int = 1,
    baseline: str | None = None,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    attribution: str = "grouped",
    attribution_n: int | None = None,
    permutations: int = 2,
    attribution_metric: str = "profit",
    validation: bool = True,
    title: str | None = None,
    question: str | None = None,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    progress: bool | None = None,
    cache: CacheLike = True,
    pdf: str | os.PathLike | bool | None = None,
) -> Path:
    """Write the client report for ``scenarios`` to ``path`` (one self-contained HTML file) and return the path.

    ``scenarios``: ``{name: Scenario or path}`` or a list of scenario TOML paths (names from the files; the
    parameter sources are read from the files' comments). ``baseline``: the scenario the others are compared
    with (default: the first). ``overrides``: dotted fields applied to every scenario (the CLI's ``--set``).
    ``n``: replications of the comparison (default 20; ``quick``: 5). ``attribution``: ``"grouped"`` (default:
    exact Shapley over the four `LEVER_GROUPS`), ``"levers"`` (each lever, ``permutations`` sampled orders)
    or ``"off"``; it runs only when exactly two scenarios are given and their organisations differ.
    ``attribution_n``: its replications (default 10; ``quick``: 3). ``validation``: include the quick model
    checks of `simfunnel.validation.run_checks`. ``cache``: the result cache (default on). ``pdf``: also print
    a PDF with headless Chromium (True: next to the HTML; or a path); raises RuntimeError if Chromium is missing.
    """
    info = build_report_info(
        scenarios, path, n=n, seed=seed, baseline=baseline, quick=quick, overrides=overrides,
        attribution=attribution, attribution_n=attribution_n, permutations=permutations,
        attribution_metric=attribution_metric, validation=validation, title=title, question=question,
        executor=executor, workers=workers, address=address, progress=progress, cache=cache, pdf=pdf,
    )  # fmt: skip
    return info.path


def build_report_info(
    scenarios: Mapping[str, Scenario | str | os.PathLike] | Sequence[Scenario | str | os.PathLike],
    path: str | os.PathLike,
    *,
    n: int | None = None,
    seed: int = 1,
    baseline: str | None = None,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    attribution: str = "grouped",
    attribution_n: int | None = None,
    permutations: int = 2,
    attribution_metric: str = "profit",
    validation: bool = True,
    title: str | None = None,
    question: str | None = None,
    executor: ExecutorName | TaskExecutor = "processes",
    workers: int | None = None,
    address: str | None = None,
    progress: bool | None = None,
    cache: CacheLike = True,
    pdf: str | os.PathLike | bool | None = None,
) -> ReportInfo:
    """`build_report`, returning a `ReportInfo` (timings, settings) instead of only the path."""
    from simfunnel import __version__
    from simfunnel.simulate import simulate

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    if attribution not in ("grouped", "levers", "off"):
        raise ValueError(f"attribution must be 'grouped', 'levers' or 'off', got {attribution!r}")
    scns, files = _load_inputs(scenarios, overrides)
    names = list(scns)
    baseline = names[0] if baseline is None else str(baseline)
    if baseline not in scns:
        stems = {p.stem: nm for nm, p in files.items() if p is not None}
        if baseline in stems:
            baseline = stems[baseline]
        else:
            raise ValueError(f"baseline {baseline!r} is not one of the scenarios: {', '.join(names)}")
    names = [baseline, *[x for x in names if x != baseline]]
    scns = {x: scns[x] for x in names}
    n = (QUICK_N if quick else DEFAULT_N) if n is None else int(n)
    if n < 2:
        raise ValueError("a report needs n >= 2 replications (confidence intervals)")
    attr_n = (QUICK_ATTRIBUTION_N if quick else DEFAULT_ATTRIBUTION_N) if attribution_n is None else attribution_n
    attr_n = max(2, min(int(attr_n), n))
    store = resolve_cache(cache)
    do_attr = attribution != "off" and len(names) == 2 and _org_differs(scns[names[0]], scns[names[1]])

    # ------------------------------------------------------------------ simulations
    t_checks = time.perf_counter()
    background = validation and not (executor == "serial" or getattr(executor, "name", "") == "serial")
    pending_checks = _Checks(0, store, background) if validation else None
    try:
        with executor_scope(executor, workers=workers, address=address, progress=progress) as ex:
            exp, attr, attr_labels = _simulate_all(
                scns, names, baseline, n, attr_n, seed, store, ex, do_attr, attribution, permutations,
                attribution_metric, timings,
            )  # fmt: skip
        t0 = time.perf_counter()
        root = root_seed(seed)
        runs = {x: simulate(scns[x], child_seed(root, 0)) for x in names}
        timings["representative_runs"] = time.perf_counter() - t0
        checks = None
        if pending_checks is not None:
            checks = pending_checks.table()
            timings["validation"] = time.perf_counter() - t_checks  # ran alongside the simulations
    finally:
        if pending_checks is not None:
            pending_checks.close()

    # ------------------------------------------------------------------ figures and text
    t0 = time.perf_counter()
    ctx = _context(
        scns=scns, files=files, names=names, baseline=baseline, exp=exp, attr=attr, attr_labels=attr_labels,
        attribution=attribution, runs=runs, checks=checks, n=n, seed=seed, title=title, question=question,
        version=__version__, quick=quick, store=store, executor=ex,
    )  # fmt: skip
    timings["figures"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    ctx["timings"] = {k: f"{v:.1f} s" for k, v in timings.items()}
    ctx["runtime"] = f"{timings['total']:.0f} s"
    html = _render(ctx)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    pdf_path = None
    if pdf:
        pdf_path = out.with_suffix(".pdf") if pdf is True else Path(pdf)
        html_to_pdf(out, pdf_path)
    return ReportInfo(
        path=out,
        n=n,
        attribution_n=attr_n if attr is not None else None,
        seed=seed,
        seconds=time.perf_counter() - t_start,
        timings=timings,
        pdf=pdf_path,
        cache_dir=store.directory if store is not None else None,
        simulated_runs=store.writes if store is not None else -1,
    )


def _simulate_all(
    scns: dict[str, Scenario],
    names: list[str],
    baseline: str,
    n: int,
    attr_n: int,
    seed: int,
    store: Any,
    ex: TaskExecutor,
    do_attr: bool,
    attribution: str,
    permutations: int,
    metric: str,
    timings: dict[str, float],
) -> tuple[Any, Any, dict[str, str]]:
    """The comparison and (if asked) the attribution, on one open executor."""
    t0 = time.perf_counter()
    exp = compare(scns, n=n, seed=seed, baseline=baseline, executor=ex, cache=store)
    timings["compare"] = time.perf_counter() - t0
    if not do_attr:
        return exp, None, {}
    lo, hi = scns[names[0]], scns[names[1]]
    if attribution == "grouped":
        groups, labels = _lever_groups(lo, hi)
        kw: dict[str, Any] = {"levers": groups, "exact": len(groups) <= 6}
    else:
        labels = {}
        kw = {"levers": [f for f in LEVERS if getattr(lo.organisation, f) != getattr(hi.organisation, f)]}
        kw["permutations"] = permutations
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # differences outside the levers are reported in the text
        attr = attribute(lo, hi, n=attr_n, seed=seed, metric=metric, executor=ex, cache=store, **kw)
    timings["attribution"] = time.perf_counter() - t0
    return exp, attr, labels


def _validation_key() -> dict[str, Any] | None:
    try:
        from simfunnel import validation as v
    except Exception:  # noqa: BLE001 - optional section
        return None
    source = hashlib.sha256(Path(v.__file__).read_bytes()).hexdigest()[:16]
    return {"check": "run_checks", "quick": True, "validation_source": source}


def _run_checks_records(seed: int) -> list[dict[str, Any]] | str:
    """Worker: `run_checks(quick=True)` as plain records, or an error message (module level: picklable)."""
    try:
        from simfunnel import validation as v

        return _records(v.run_checks(quick=True, seed=seed))
    except Exception as exc:  # noqa: BLE001 - a failing check module must not sink the report
        return f"model checks could not run ({type(exc).__name__}: {exc})"


class _Checks:
    """The quick model checks of `simfunnel.validation`: from the cache, else run - in a background process
    (alongside the simulations, when ``background``) or here - and stored in the cache."""

    def __init__(self, seed: int, store: Any, background: bool) -> None:
        self.seed, self.store = seed, store
        self.key = _validation_key()
        self.result: list[dict[str, Any]] | str | None = None
        self._pool = self._future = None
        if self.key is None:
            self.result = "model checks not available (simfunnel.validation cannot be imported)"
            return
        if store is not None:
            got = store.get(self.key, seed, "validation")
            if isinstance(got, list):
                self.result = got
                return
        if background:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._future = self._pool.submit(_run_checks_records, seed)

    def table(self) -> pd.DataFrame | str:
        if self.result is None:
            if self._future is not None:
                try:
                    self.result = self._future.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a killed worker
                    self.result = f"model checks could not run ({type(exc).__name__}: {exc})"
                finally:
                    self.close()
            else:
                self.result = _run_checks_records(self.seed)
            if isinstance(self.result, list) and self.store is not None:
                try:
                    self.store.put(self.key, self.seed, self.result, "validation")
                except OSError:
                    pass
        return pd.DataFrame(self.result) if isinstance(self.result, list) else self.result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict(orient="records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


# ============================================================================================== context
def _context(
    *,
    scns: dict[str, Scenario],
    files: dict[str, Path | None],
    names: list[str],
    baseline: str,
    exp: Any,
    attr: Any,
    attr_labels: dict[str, str],
    attribution: str,
    runs: dict[str, Any],
    checks: pd.DataFrame | str | None,
    n: int,
    seed: int,
    title: str | None,
    question: str | None,
    version: str,
    quick: bool,
    store: Any,
    executor: Any,
) -> dict[str, Any]:
    from simfunnel import plots

    others = [x for x in names if x != baseline]
    colors = plots.scenario_colors(names)
    base_scn = scns[baseline]
    horizon = base_scn.simulation.horizon_days
    horizons = {s.simulation.horizon_days for s in scns.values()}
    span = f"{horizon:,.0f} days" + (f" (about {horizon / 365:.1f} years)" if horizon >= 365 else "")
    summ = exp.summary.set_index(["scenario", "metric"])
    diffs = exp.diffs.set_index(["scenario", "metric"]) if exp.diffs is not None else None
    org_differs = any(_org_differs(base_scn, scns[o]) for o in others)

    def mean(nm: str, m: str) -> float:
        return float(summ.loc[(nm, m), "mean"]) if (nm, m) in summ.index else math.nan

    def ci(nm: str, m: str) -> tuple[float, float]:
        if (nm, m) not in summ.index:
            return math.nan, math.nan
        r = summ.loc[(nm, m)]
        return float(r["ci_low"]), float(r["ci_high"])

    planned_waits = any(s.organisation.pass_context for s in scns.values())

    def diff(o: str, m: str) -> dict[str, Any] | None:
        """Paired difference o - baseline in metric m: rounded to 0 below float noise, formatted, with verdict."""
        if diffs is None or (o, m) not in diffs.index:
            return None
        d = diffs.loc[(o, m)]
        scale = abs(mean(o, m)) + abs(mean(baseline, m))
        vals = [float(d[c]) for c in ("mean_diff", "ci_low", "ci_high")]
        md, lo, hi = (0.0 if np.isfinite(v) and abs(v) <= 1e-9 * scale else v for v in vals)
        if md == lo == hi == 0.0:
            verdict, css = "same", "neutral"
        else:
            verdict, css = _verdict(m, lo, hi)
            if m in _WAIT_KPIS and planned_waits and css != "neutral":
                verdict, css = ("longer" if lo > 0 else "shorter"), "neutral"
        bm = mean(baseline, m)
        kind = _kpi_label(m)[1]
        rel = f"{100 * md / abs(bm):+.0f} %" if kind in ("money", "count") and np.isfinite(bm) and bm != 0 else ""
        return {
            "mean": _fmt_kpi(md, m, signed=True),
            "ci": f"{_fmt_kpi(lo, m, True)} – {_fmt_kpi(hi, m, True)}",
            "ci_text": f"95 % CI {_fmt_kpi(lo, m, True)} to {_fmt_kpi(hi, m, True)}",
            "rel": rel,
            "verdict": verdict,
            "css": css,
        }

    # ---------------------------------------------------------------- question and answer
    if question is None:
        if org_differs and len(others) == 1:
            question = (
                f"What does the {baseline} way of working cost, compared with {others[0]}, and which alignment "
                "levers close the gap?"
            )
        else:
            question = f"How do {_join(names)} compare on profit, revenue, deals won, lead wait and sales capacity?"
    title = title or ("Marketing and sales: " + " vs ".join(names))
    answer = []
    for o in others:
        for m in _HEADLINE_KPIS:
            d = diff(o, m)
            if d is None:
                continue
            bm = mean(baseline, m)
            note = ""
            if m in _WAIT_KPIS and planned_waits:
                note = " - with context at handoff, reps call a buyer when it becomes sales-ready, so part of this wait is planned"
            answer.append(
                {
                    "label": _kpi_label(m)[0],
                    "scenario": o,
                    "text": (
                        f"{_fmt_kpi(mean(o, m), m)} with {o} vs {_fmt_kpi(bm, m)} with {baseline}: "
                        f"{d['mean']}{', ' + d['rel'] if d['rel'] else ''} ({d['ci_text']}){note}"
                    ),
                    "verdict": d["verdict"],
                    "css": d["css"],
                }
            )
    # KPI cards: first other vs baseline
    cards = []
    for m in _CARD_KPIS:
        label, kind, _ = _kpi_label(m)
        vals = []
        for nm in names:
            lo, hi = ci(nm, m)
            vals.append(
                {"scenario": nm, "value": _fmt_kpi(mean(nm, m), m), "ci": f"{_fmt_kpi(lo, m)} – {_fmt_kpi(hi, m)}",
                 "color": colors[nm]}
            )  # fmt: skip
        d = diff(others[0], m) if others else None
        delta = {"text": d["mean"], "verdict": d["verdict"], "css": d["css"]} if d else None
        unit = "per won customer" if m == "cac" else (f"over {horizon:,.0f} days" if kind in ("money", "count") else "")
        cards.append({"label": label, "entries": vals, "delta": delta, "unit": unit})

    # ---------------------------------------------------------------- assumptions
    sources = {nm: (field_sources(p) if p is not None else {}) for nm, p in files.items()}
    pdiff = parameter_differences(scns, baseline)
    diff_rows = []
    for rec in pdiff.to_dict(orient="records"):
        dotted = rec["field"]
        by_line: dict[tuple[str, int], dict[str, Any]] = {}
        for nm in names:
            c = _comment_for(sources[nm], dotted)
            if c is None:
                continue
            note = by_line.setdefault(
                (c.file, c.line),
                {
                    "scenarios": [],
                    "text": c.comment,
                    "where": f"{Path(c.file).name}:{c.line}",
                    "inherited": c.inherited,
                },
            )
            note["scenarios"].append(nm)
        notes = [
            {**x, "scenario": None if len(x["scenarios"]) == len(names) else ", ".join(x["scenarios"])}
            for x in by_line.values()
        ]
        diff_rows.append(
            {
                "field": dotted,
                "label": _field_title(dotted),
                "description": _describe_field(dotted),
                "cells": [
                    {
                        "text": _fmt_value(rec[nm], dotted),
                        "changed": nm != baseline and not _same(rec[nm], rec[baseline]),
                    }
                    for nm in names
                ],
                "notes": notes,
            }
        )
    scenario_rows = [
        {
            "name": nm,
            "description": scns[nm].description or "",
            "file": str(files[nm]) if files[nm] is not None else "(built in Python)",
            "color": colors[nm],
            "baseline": nm == baseline,
        }
        for nm in names
    ]
    common = _common_assumptions(base_scn)

    # ---------------------------------------------------------------- comparison table
    table_groups = []
    for group, metrics in _TABLE_KPIS:
        rows = []
        for m in metrics:
            if (baseline, m) not in summ.index:
                continue
            label, kind, _ = _kpi_label(m)
            cells = []
            for nm in names:
                lo, hi = ci(nm, m)
                cells.append({"mean": _fmt_kpi(mean(nm, m), m), "ci": f"{_fmt_kpi(lo, m)} – {_fmt_kpi(hi, m)}"})
            dcells = []
            for o in others:
                d = diff(o, m)
                dcells.append(d or {"mean": "—", "ci": "", "verdict": "", "css": "neutral"})
            rows.append({"label": label, "unit": _unit(kind), "cells": cells, "diffs": dcells})
        if rows:
            table_groups.append({"name": group, "rows": rows})

    # ---------------------------------------------------------------- figures
    figs: dict[str, _Figure] = {}
    summary = exp.summary
    figs["kpis"] = _Figure(
        _png(plots.compare_kpis(summary, title="Headline KPIs per scenario")),
        "Bar charts of profit, revenue, deals won, win rate, lead wait and rep utilisation per scenario",
        f"Mean of {n} replications per scenario; whiskers: 95 % confidence interval.",
    )
    if diffs is not None and not exp.diffs.empty:
        figs["diffs"] = _Figure(
            _png(plots.paired_differences(exp.diffs, metrics=list(_HEADLINE_KPIS), title="Paired differences")),
            "Forest plot of the paired differences with their 95 % confidence intervals",
            "Difference to the baseline, replication by replication (same random numbers), with its 95 % CI. "
            "Filled marker: the interval excludes zero.",
        )
    figs["revenue"] = _Figure(
        _png(plots.revenue_over_time({nm: runs[nm] for nm in names})),
        "Weekly revenue and active customers over time per scenario",
        "One representative run per scenario (replication 0, the same random numbers for all).",
    )
    figs["funnel"] = _Figure(
        _png(plots.funnel(summary)),
        "Buyer funnel per scenario from in-market buyers to won deals",
        f"Mean of {n} replications.",
    )
    figs["lost"] = _Figure(
        _png(plots.lost_reasons(summary)),
        "Share of in-market buyers won, lost by reason or still open, per scenario",
        f"Mean of {n} replications with 95 % confidence intervals. 'Never reached': marketing never engaged the buyer.",
    )
    figs["wait"] = _Figure(
        _png(plots.lead_wait({nm: runs[nm] for nm in names})),
        "Histogram of the wait from handoff to first contact per scenario",
        "One representative run per scenario (replication 0).",
    )
    figs["timing"] = _Figure(
        _png(
            plots.compare_kpis(
                summary,
                [m for m in ("lead_wait_days", "queue_wait_days", "speed_to_lead_hours") if m in exp.metrics]
                or ["lead_wait_days", "lead_wait_days_p90", "speed_to_lead_hours"],
                title="Timing KPIs",
            )
        ),
        "Bar charts of the lead wait, the queue wait for a free rep and speed to lead per scenario",
        f"Mean of {n} replications; whiskers: 95 % confidence interval. Speed to lead: hours from a buyer's demo "
        "request to the first call.",
    )
    figs["utilisation"] = _Figure(
        _png(plots.rep_utilization({nm: runs[nm] for nm in names})),
        "Weekly rep utilisation over time per scenario",
        "One representative run per scenario (replication 0); dashed: the mean over the horizon.",
    )
    figs["capacity"] = _Figure(
        _png(
            plots.compare_kpis(
                summary, ["rep_utilization", "leads_followed_up", "rep_hours_wasted"], title="Capacity KPIs"
            )
        ),
        "Bar charts of rep utilisation, share of leads followed up and rep hours wasted per scenario",
        f"Mean of {n} replications; whiskers: 95 % confidence interval. Wasted hours: rep time spent on buyers "
        "called too early or too late.",
    )

    # ---------------------------------------------------------------- attribution
    attr_ctx = None
    if attr is not None:
        lo_name, hi_name = names[0], names[1]
        t = attr.table.copy()
        label_of = {lev: attr_labels.get(lev, lev) for lev in t["lever"]}
        fig = plots.attribution_waterfall(
            attr,
            start_label=lo_name.capitalize(),
            end_label=(hi_name.capitalize() if _only_org_differs(scns[lo_name], scns[hi_name]) else "All levers"),
            title=f"What closes the gap: contribution to {_kpi_label(attr.metric)[0].lower()}",
        )
        _relabel_levers(fig, {plots._lever_label(k): v for k, v in label_of.items()})
        rows = []
        for r in t.sort_values("shapley", ascending=False).to_dict(orient="records"):
            verdict, css = _verdict(attr.metric, r["ci_low"], r["ci_high"])
            rows.append(
                {
                    "label": label_of[r["lever"]],
                    "fields": ", ".join(_field_title("organisation." + f) for f in r["fields"].split(", ")),
                    "value": _fmt_kpi(r["shapley"], attr.metric, signed=True),
                    "ci": f"{_fmt_kpi(r['ci_low'], attr.metric, True)} – {_fmt_kpi(r['ci_high'], attr.metric, True)}",
                    "share": f"{100 * r['share']:.0f} %" if np.isfinite(r["share"]) else "—",
                    "css": css,
                }
            )
        g = attr.gap
        how = (
            f"exact Shapley values over {len(t)} lever groups ({2 ** len(t)} combinations)"
            if attr.exact
            else f"Shapley values estimated from {attr.permutations} sampled lever orders"
        )
        top = rows[0] if rows else None
        attr_ctx = {
            "figure": _Figure(
                _png(fig),
                "Waterfall chart from the baseline to the aligned profit, one step per lever group",
                f"{how[0].upper() + how[1:]}, {attr.n_replications} replications each; whiskers: 95 % CI.",
            ),
            "rows": rows,
            "metric": _kpi_label(attr.metric)[0],
            "gap": _fmt_kpi(g["mean"], attr.metric, signed=True),
            "gap_ci": f"{_fmt_kpi(g['ci_low'], attr.metric, True)} to {_fmt_kpi(g['ci_high'], attr.metric, True)}",
            "how": how,
            "n": attr.n_replications,
            "top": top,
            "lo": lo_name,
            "hi": hi_name,
            "other_fields": not _only_org_differs(scns[lo_name], scns[hi_name]),
            "grouped": attribution == "grouped",
        }
        if top is not None:
            answer.append(
                {
                    "label": "Largest lever",
                    "scenario": hi_name,
                    "text": f"{top['label']}: {top['value']} of {_kpi_label(attr.metric)[0].lower()} "
                    f"({top['share']} of the gap; 95 % CI {top['ci']})",
                    "verdict": "",
                    "css": "neutral",
                }
            )

    # ---------------------------------------------------------------- method and validity
    check_ctx = None
    if isinstance(checks, pd.DataFrame):
        crow = []
        for r in checks.to_dict(orient="records"):
            sim, lo, hi = r.get("simulated"), r.get("ci_low"), r.get("ci_high")
            crow.append(
                {
                    "check": r["check"],
                    "expected": _num(r.get("expected")),
                    "simulated": _num(sim) + (f" [{_num(lo)}, {_num(hi)}]" if _finite(lo) and _finite(hi) else ""),
                    "passed": bool(r["passed"]),
                }
            )
        check_ctx = {"rows": crow, "passed": sum(x["passed"] for x in crow), "total": len(crow)}
    elif isinstance(checks, str):
        check_ctx = {"message": checks}
    ex_name = getattr(executor, "name", str(executor))
    workers = getattr(executor, "workers", None)
    method = {
        "n": n,
        "seed": seed,
        "horizon": span,
        "same_horizon": len(horizons) == 1,
        "version": version,
        "fingerprint": model_fingerprint(),
        "python": platform.python_version(),
        "executor": ex_name + (f", {workers} workers" if workers else ""),
        "cache": str(store.directory) if store is not None else "off",
        "cache_hits": store.hits if store is not None else 0,
        "quick": quick,
        "libs": _lib_versions(),
    }
    return {
        "title": title,
        "question": question,
        "generated": _dt.date.today().isoformat(),
        "names": names,
        "baseline": baseline,
        "others": others,
        "colors": colors,
        "answer": answer,
        "cards": cards,
        "scenarios": scenario_rows,
        "common": common,
        "differences": diff_rows,
        "table_groups": table_groups,
        "figures": figs,
        "attribution": attr_ctx,
        "attribution_skipped": _attr_skip_reason(names, scns, attribution) if attr is None else None,
        "checks": check_ctx,
        "method": method,
        "horizon": span,
        "n": n,
        "planned_waits": planned_waits,
    }


def _attr_skip_reason(names: list[str], scns: dict[str, Scenario], attribution: str) -> str:
    if attribution == "off":
        return "The lever attribution was switched off for this report."
    if len(names) != 2:
        return "The lever attribution needs exactly two scenarios that differ in their organisation."
    return "The two scenarios have the same organisation: there are no alignment levers to attribute."


def _only_org_differs(a: Scenario, b: Scenario) -> bool:
    da = {k: v for k, v in a.to_dict().items() if k not in ("name", "description", "organisation")}
    db = {k: v for k, v in b.to_dict().items() if k not in ("name", "description", "organisation")}
    return da == db


def _relabel_levers(fig: Any, mapping: Mapping[str, str]) -> None:
    ax = fig.axes[0]
    labels = ax.get_yticklabels()
    for tl in labels:
        new = mapping.get(tl.get_text())
        if new:
            tl.set_text(new)
    ax.set_yticks(ax.get_yticks(), labels)
    for tl in ax.get_yticklabels():
        if tl.get_text() not in mapping.values() and tl.get_text() != "Other / interactions":
            tl.set_fontweight("bold")


def _field_title(dotted: str) -> str:
    """A readable name of a dotted scenario field."""
    from simfunnel.plots import _FIELD_LABELS

    parts = dotted.split(".")
    if parts[0] == "organisation" and len(parts) == 2 and parts[1] in _ORG_LABELS:
        return _ORG_LABELS[parts[1]]
    if dotted in _FIELD_LABELS:
        return _FIELD_LABELS[dotted].format(money="currency")
    if dotted.startswith("marketing.shares."):
        return f"Budget share: {parts[-1]}"
    words = [p.replace("_", " ") for p in parts[1:]] or [parts[0].replace("_", " ")]
    text = " · ".join(words)
    return text[0].upper() + text[1:]


def _unit(kind: str) -> str:
    return {"money": "currency", "share": "%", "days": "days", "hours": "hours", "ratio": "×", "count": ""}.get(
        kind, ""
    )


def _num(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(x):
        return "—"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _lib_versions() -> str:
    import matplotlib
    import simpy

    try:
        simpy_v = simpy.__version__
    except AttributeError:  # pragma: no cover
        simpy_v = "?"
    return f"SimPy {simpy_v}, NumPy {np.__version__}, pandas {pd.__version__}, matplotlib {matplotlib.__version__}"


def _common_assumptions(s: Scenario) -> list[dict[str, str]]:
    d = s.to_dict()
    shares = ", ".join(f"{k} {100 * v:.0f} %" for k, v in s.marketing.shares.items())
    return [
        {"label": "Simulated period", "value": f"{s.simulation.horizon_days:,.0f} days"},
        {"label": "In-market buyers", "value": f"{s.market.buyers_per_year:,.0f} per year"},
        {"label": "Purchase process (trigger → decision)", "value": _fmt_value(d["market"]["process_days"]) + " days"},
        {"label": "Deal value", "value": _fmt_value(d["market"]["value"])},
        {"label": "Buyer is sales-ready at", "value": f"{100 * s.market.ready_at:.0f} % of the decision made"},
        {"label": "Marketing budget", "value": f"{s.marketing.budget_per_year:,.0f} per year"},
        {"label": "Budget split", "value": shares},
        {"label": "Sales reps", "value": f"{s.sales.reps} at {s.sales.rep_cost_per_year:,.0f} per year each"},
        {"label": "Gross margin", "value": f"{100 * s.money.gross_margin:.0f} %"},
        {"label": "Customers at the start", "value": f"{s.retention.initial_customers:,}"},
    ]  # fmt: skip


# ============================================================================================== rendering
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simfunnel", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _render(ctx: Mapping[str, Any]) -> str:
    return _environment().get_template("report.html.j2").render(**ctx)


# ============================================================================================== PDF
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """A headless-capable Chromium/Chrome: ``$SIMFUNNEL_CHROMIUM``, else the first of `CHROMIUM_NAMES` on PATH."""
    env = os.environ.get("SIMFUNNEL_CHROMIUM")
    if env:
        return env if (Path(env).is_file() or shutil.which(env)) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


PDF_HELP = (
    "a PDF needs headless Chromium, which was not found: install it (Debian/Ubuntu: `apt-get install -y chromium`; "
    "or set SIMFUNNEL_CHROMIUM to a Chrome/Chromium binary), or open the HTML report in a browser and print it "
    "to PDF"
)


def html_to_pdf(html: str | os.PathLike, pdf: str | os.PathLike, timeout: float = 180.0) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, the report's print style sheet). RuntimeError with
    installation advice when no Chromium is found or printing fails."""
    exe = find_chromium()
    if exe is None:
        raise RuntimeError(PDF_HELP)
    html, pdf = Path(html).resolve(), Path(pdf).resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.as_uri(),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"printing the PDF with {exe} failed: {exc}") from None
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        raise RuntimeError(f"printing the PDF with {exe} failed (exit {proc.returncode}): {' | '.join(tail)}")
    return pdf
