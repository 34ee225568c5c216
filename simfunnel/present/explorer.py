"""What-if explorer: change the organisation levers, the sales headcount, the budget split or the market size
of a scenario and see the KPIs, the funnel and the lost deals move.

`what_if` is the engine (plain Python, no widgets, testable headless). It applies the controls with
`Scenario.with_overrides` and runs the what-if and the unchanged base through the public experiment API,
`simfunnel.compare` (paired: replication *i* of both sees the same buyers - common random numbers; serial, or on
the warm worker pool with ``executor="processes"``; repeated settings, and the unchanged base arm when another
lever is toggled, come from the result cache). It returns a `WhatIf`: ``.summary`` (tidy KPI table with 95 %
CIs, from ``exp.summary``), ``.diffs`` (paired differences what-if - base, from ``exp.diffs``), ``.figures``
(funnel, lost reasons, headline KPIs) and ``.text`` (the headline numbers in one sentence).

Levers are named as in `simfunnel.vocabulary.LEVERS`; each takes ``"aligned"`` or ``"siloed"`` (its value in the
shipped preset), ``True``/``False`` (the same: aligned/siloed) or a raw value of the field (``0.6``, ``"fifo"``).

`explorer_widgets` builds the ipywidgets controls (a toggle per lever between its siloed and aligned value, a
team slider (the sales reps, or with `sales.roles` one per role: SDRs and account executives), budget-share
sliders renormalised to sum 1, a market-size slider), wired with
``interactive_output`` and ``continuous_update=False`` (or a Run button with ``manual=True``). Its callback is a
plain method (`ExplorerUI.update`), so it can be driven without a browser.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from simfunnel.experiments import Experiment, child_seed, compare, root_seed
from simfunnel.experiments.cache import CacheLike, resolve_cache
from simfunnel.experiments.executors import ExecutorName, TaskExecutor
from simfunnel.formatting import format_kpi, format_kpi_ci, format_value
from simfunnel.present.report.results import with_judged_parts
from simfunnel.scenario import Scenario
from simfunnel.vocabulary import HEADLINES, KPIS, LEVERS, check_lever, lever_settings

__all__ = [
    "ALIGNED_LEVERS",
    "ROLE_HEADCOUNTS",
    "SILOED_LEVERS",
    "ExplorerUI",  # noqa: F822 - lazy re-export (module __getattr__)
    "WhatIf",
    "explorer_widgets",  # noqa: F822 - lazy re-export (module __getattr__)
    "headcounts",
    "lever_value",
    "normalise_shares",
    "what_if",
]

WHAT_IF = "what-if"
BASE = "base"
# the wait for first contact with its judged (queueing) part next to it, as the report shows it
HEADLINE_KPIS: tuple[str, ...] = tuple(with_judged_parts(HEADLINES["explorer"]))
_EXTRA_FIELDS = ("batch_interval_days",)  # organisation fields a what-if may set that are not levers


class _PresetLevers(Mapping[str, Any]):
    """Read-only view of every lever's value in a shipped preset (`simfunnel.vocabulary.lever_settings`)."""

    def __init__(self, which: str) -> None:
        self._which = which

    def __getitem__(self, name: str) -> Any:
        return lever_settings(self._which)[name]  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(LEVERS)

    def __len__(self) -> int:
        return len(LEVERS)

    def __repr__(self) -> str:
        return f"{self._which.upper()}_LEVERS({dict(self)!r})"


SILOED_LEVERS: Mapping[str, Any] = _PresetLevers("siloed")
"""Lever values of the shipped siloed preset (read from it: `simfunnel.vocabulary.lever_settings("siloed")`)."""
ALIGNED_LEVERS: Mapping[str, Any] = _PresetLevers("aligned")
"""Lever values of the shipped aligned preset (`simfunnel.vocabulary.lever_settings("aligned")`)."""


# ============================================================================================== inputs
def normalise_shares(weights: Mapping[str, float], base: Mapping[str, float] | None = None) -> dict[str, float]:
    """Budget shares from slider weights: items missing from ``weights`` keep their ``base`` weight, then all
    are divided by their sum (so they sum to 1). Negative weights are refused; all-zero weights too."""
    merged = {k: float(v) for k, v in (base or {}).items()}
    merged.update({k: float(v) for k, v in weights.items()})
    bad = {k: v for k, v in merged.items() if not (v >= 0 and math.isfinite(v))}
    if bad:
        raise ValueError(f"budget weights must be finite and >= 0, got {bad}")
    total = sum(merged.values())
    if total <= 0:
        raise ValueError("at least one budget share must be above 0")
    return {k: v / total for k, v in merged.items()}


def lever_value(name: str, setting: Any) -> tuple[str, Any]:
    """(lever name, field value) of one lever setting: ``"aligned"``/``"siloed"`` or ``True``/``False`` take the
    shipped preset's value; anything else is a raw value of the field (validated by the scenario). An unknown
    lever name raises `simfunnel.vocabulary.UnknownNameError` (a ValueError) with a "did you mean"."""
    name = str(name).removeprefix("organisation.")
    if name in _EXTRA_FIELDS:
        return name, setting
    name = check_lever(name)
    if isinstance(setting, bool):
        setting = "aligned" if setting else "siloed"
    if isinstance(setting, str) and setting in ("aligned", "siloed"):
        return name, lever_settings(setting)[name]  # type: ignore[arg-type]
    return name, setting


ROLE_HEADCOUNTS: dict[str, str] = {"sdr_reps": "sales.roles.sdr.reps", "ae_reps": "sales.roles.ae.reps"}
"""The explorer's role headcount controls (`what_if` keywords) and the scenario fields they set."""
_HEADCOUNT_TEXT = {
    "sales.reps": "Sales reps",
    "sales.roles.sdr.reps": "SDRs",
    "sales.roles.ae.reps": "Account executives",
}


def headcounts(base: Scenario) -> dict[str, int]:
    """The team size the explorer shows and changes: ``{"sales_reps": n}`` for one pool, or with `sales.roles`
    ``{"sdr_reps": n, "ae_reps": m}`` (the pools replace ``sales.reps``, which the model then ignores)."""
    roles = base.sales.roles
    if roles is None:
        return {"sales_reps": base.sales.reps}
    return {"sdr_reps": roles.sdr.reps, "ae_reps": roles.ae.reps}


def _headcount_overrides(base: Scenario, counts: Mapping[str, int | None]) -> dict[str, Any]:
    """Dotted overrides of the headcount controls that differ from ``base``; a control the scenario has no pool
    for (``sales_reps`` with roles, a role without them) is refused rather than silently ignored."""
    current = headcounts(base)
    out: dict[str, Any] = {}
    for key, value in counts.items():
        if value is None:
            continue
        if key not in current:
            have = " and ".join(f"{k}=" for k in current)
            raise ValueError(f"{base.name!r} has no {key.removesuffix('_reps')} pool: set its team with {have}")
        if int(value) != current[key]:
            out[ROLE_HEADCOUNTS.get(key, "sales.reps")] = int(value)
    return out


def _overrides(
    base: Scenario,
    levers: Mapping[str, Any] | None,
    sales_reps: int | None,
    shares: Mapping[str, float] | None,
    buyers_per_year: float | None,
    role_reps: Mapping[str, int | None] | None = None,
) -> dict[str, Any]:
    """The dotted overrides of the controls, only for values that differ from ``base``."""
    out: dict[str, Any] = {}
    for name, setting in (levers or {}).items():
        lever, value = lever_value(name, setting)
        if getattr(base.organisation, lever) != value:
            out[f"organisation.{lever}"] = value
    out.update(_headcount_overrides(base, {"sales_reps": sales_reps, **(role_reps or {})}))
    if shares is not None:
        new = normalise_shares(shares, base.marketing.shares)
        if any(abs(new[k] - base.marketing.shares.get(k, 0.0)) > 1e-9 for k in new):
            out["marketing.shares"] = new
    if buyers_per_year is not None and float(buyers_per_year) != base.market.buyers_per_year:
        out["market.buyers_per_year"] = float(buyers_per_year)
    return out


# ============================================================================================== result
@dataclass
class WhatIf:
    """The answer of `what_if`.

    ``summary``: tidy KPI table, one row per (``scenario``, ``metric``) with ``label``, ``mean``, ``std``, ``n``,
    ``ci_low``, ``ci_high``, ``half_width`` (95 % t interval over the replications; ``exp.summary``);
    ``scenario`` is ``"what-if"`` and, with ``compare=True``, ``"base"``. ``diffs``: paired differences
    what-if - base per metric (``exp.diffs``: ``mean_diff``, ``ci_low``, ``ci_high``, ...). ``runs``: one row per
    (scenario, replication, metric). ``experiment``: the `simfunnel.compare` result itself. ``figures``:
    ``funnel``, ``lost_reasons``, ``kpis`` (matplotlib Figures; close them with `close`). ``text``: the headline
    in one sentence. ``seconds``: wall time; ``simulated``: runs simulated (the rest came from the cache)."""

    scenario: Scenario
    base: Scenario
    overrides: dict[str, Any]
    summary: pd.DataFrame
    runs: pd.DataFrame
    diffs: pd.DataFrame
    experiment: Experiment
    figures: dict[str, Figure]
    text: str
    replications: int
    seed: int
    seconds: float
    simulated: int
    figure_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def kpi(self, metric: str, scenario: str = WHAT_IF) -> float:
        """Mean of one KPI for ``"what-if"`` (default) or ``"base"``."""
        row = self.summary[(self.summary["scenario"] == scenario) & (self.summary["metric"] == metric)]
        if row.empty:
            raise KeyError(f"no KPI {metric!r} for {scenario!r}")
        return float(row["mean"].iloc[0])

    def table(self, metrics: tuple[str, ...] = HEADLINE_KPIS) -> pd.DataFrame:
        """Formatted KPI table (strings): one row per KPI, a column per scenario and the paired change."""
        rows = []
        diffs = self.diffs.set_index("metric") if not self.diffs.empty else None
        present = set(self.summary["metric"])
        for m in (m for m in metrics if m in present):
            row: dict[str, str] = {"KPI": KPIS[m].label if m in KPIS else m}
            for scn in (WHAT_IF, BASE):
                sub = self.summary[(self.summary["scenario"] == scn) & (self.summary["metric"] == m)]
                if not sub.empty:
                    r = sub.iloc[0]
                    row[scn] = format_kpi_ci(m, r["mean"], r["ci_low"], r["ci_high"])
            if diffs is not None and m in diffs.index:
                d = diffs.loc[m]
                row["change"] = format_kpi_ci(m, d["mean_diff"], d["ci_low"], d["ci_high"], signed=True)
            rows.append(row)
        return pd.DataFrame(rows)

    def close(self) -> None:
        """Close the figures (free their memory)."""
        import matplotlib.pyplot as plt

        for fig in self.figures.values():
            plt.close(fig)

    def _repr_markdown_(self) -> str:
        return self.text


def setting_text(value: Any) -> str:
    """A lever or field setting as the explorer words it ("on"/"off", "none" for no limit, 6 digits)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and math.isinf(value):
        return "none"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def _describe_change(key: str, value: Any) -> str:
    """One control change in words: 'Context at handoff: on', 'Sales reps: 10', 'Budget split: search 30 %, ...'."""
    if key == "marketing.shares":
        return "Budget split: " + ", ".join(f"{k} {format_value(v, 'share')}" for k, v in value.items())
    if key in _HEADCOUNT_TEXT:
        return f"{_HEADCOUNT_TEXT[key]}: {value}"
    if key == "market.buyers_per_year":
        return f"In-market buyers per year: {value:,.0f}"
    name = key.removeprefix("organisation.")
    label = LEVERS[name].label if name in LEVERS else name.replace("_", " ")
    if name in LEVERS and isinstance(value, str):  # a named policy: its label names the aligned one
        if value == ALIGNED_LEVERS[name]:
            return f"{label}: on"
        if value == SILOED_LEVERS[name]:
            return f"{label}: off ({value})"
        return f"{name.replace('_', ' ')}: {value}"  # another policy than either preset's ('queue policy: score')
    return f"{label}: {setting_text(value)}"


def _headline(w: WhatIf, compare_base: bool) -> str:
    """The what-if in one sentence: its changes, the headline KPIs and, against the base, the profit change."""

    def stat(metric: str) -> str:
        row = w.summary[(w.summary["scenario"] == WHAT_IF) & (w.summary["metric"] == metric)].iloc[0]
        return format_kpi_ci(metric, row["mean"], row["ci_low"], row["ci_high"])

    days = w.scenario.simulation.horizon_days
    what = "; ".join(_describe_change(k, v) for k, v in w.overrides.items()) or "no change"
    first, *rest = [m for m in HEADLINE_KPIS if m in set(w.summary["metric"])]
    parts = [f"{KPIS[m].label} {format_kpi(m, w.kpi(m))}" for m in rest]
    text = f"What-if ({what}). {KPIS[first].label} {stat(first)} over {days:,.0f} days; " + "; ".join(parts)
    if compare_base and not w.diffs.empty and w.overrides:
        d = w.diffs.set_index("metric").loc[first]
        base_value = w.kpi(first, BASE)
        rel = f", {100 * d['mean_diff'] / abs(base_value):+.0f} %" if base_value else ""
        change = format_kpi_ci(first, d["mean_diff"], d["ci_low"], d["ci_high"], signed=True)
        text += f". Against the base: {KPIS[first].label} {change}{rel}"
    n = w.replications
    return text + f". {n} paired replication{'s' if n != 1 else ''}, seed {w.seed}."


# ============================================================================================== what_if
def _to_simulate(scenarios: Mapping[str, Scenario], n: int, seed: int, cache: CacheLike) -> int:
    """How many of the experiment's runs are not in the result cache (all of them without a cache)."""
    store = resolve_cache(cache)
    if store is None:
        return n * len(scenarios)
    root = root_seed(seed)
    return sum(store.get_summary(s, child_seed(root, r)) is None for s in scenarios.values() for r in range(n))


def _labelled(summary: pd.DataFrame) -> pd.DataFrame:
    """``exp.summary`` with a display ``label`` per metric (from the vocabulary) after ``metric``."""
    out = summary.reset_index(drop=True).copy()
    out.insert(list(out.columns).index("metric") + 1, "label", [KPIS[m].label if m in KPIS else m for m in out.metric])
    return out


def what_if(
    base: Scenario,
    *,
    levers: Mapping[str, Any] | None = None,
    sales_reps: int | None = None,
    shares: Mapping[str, float] | None = None,
    buyers_per_year: float | None = None,
    replications: int = 3,
    seed: int = 1,
    cache: CacheLike = True,
    compare: bool = True,
    figures: bool = True,
    reps: int | None = None,
    executor: ExecutorName | TaskExecutor = "serial",
    sdr_reps: int | None = None,
    ae_reps: int | None = None,
) -> WhatIf:
    """Apply the controls to ``base`` and compare it with the unchanged base through `simfunnel.compare`:
    ``replications`` paired runs each (serial, in this process; seed children 0..n-1 of ``seed``, as every
    experiment uses them, so the result cache is shared with the CLI, the report and the notebooks).

    ``levers``: ``{lever: setting}`` (`simfunnel.vocabulary.LEVERS`), a setting being ``"aligned"``,
    ``"siloed"``, ``True`` (aligned), ``False`` (siloed) or a raw field value. ``sales_reps``: number of sales
    reps (``reps=`` is the deprecated name); with `sales.roles`, ``sdr_reps`` and ``ae_reps`` instead (the role
    pools' headcounts; ``sales_reps`` is then refused, as the model ignores it). ``shares``: budget weights per item (channels, ``nurture``,
    ``retention``, ``training``); items left out keep their base weight and all are renormalised to sum 1.
    ``buyers_per_year``: market size. ``cache``: the result cache (default on). ``compare``: also run the
    unchanged base for paired differences (the base is not run twice when nothing changes). ``figures``: draw
    the figures (skip for speed when only numbers are needed). ``executor``: where the runs not in the cache
    execute - ``"serial"`` (default: works anywhere), ``"processes"`` (the warm worker pool shared by every
    experiment of this Python process; results identical) or an open executor."""
    if reps is not None:
        if sales_reps is not None and sales_reps != reps:
            raise ValueError("give the number of sales reps once: sales_reps= (reps= is its deprecated name)")
        warnings.warn("what_if(reps=...) is deprecated: use sales_reps=", DeprecationWarning, stacklevel=2)
        sales_reps = reps
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be an integer >= 1, got {replications!r}")
    t0 = time.perf_counter()
    role_reps = {"sdr_reps": sdr_reps, "ae_reps": ae_reps}
    overrides = _overrides(base, levers, sales_reps, shares, buyers_per_year, role_reps)
    scenario = base.with_overrides(overrides) if overrides else base
    arms = {WHAT_IF: scenario, BASE: base} if compare and overrides else {WHAT_IF: scenario}
    simulated = _to_simulate(arms, replications, seed, cache)
    exp = _run_compare(arms, replications, seed, cache, executor)
    summary, runs = _labelled(exp.summary), exp.runs
    if compare and not overrides:  # nothing changed: the base is the what-if (same runs, zero differences)
        summary = pd.concat([summary, summary.assign(scenario=BASE)], ignore_index=True)
        runs = pd.concat([runs, runs.assign(scenario=BASE)], ignore_index=True)
    result = WhatIf(
        scenario=scenario,
        base=base,
        overrides=overrides,
        summary=summary,
        runs=runs,
        diffs=exp.diffs.reset_index(drop=True),
        experiment=exp,
        figures={},
        text="",
        replications=replications,
        seed=seed,
        seconds=0.0,
        simulated=simulated,
    )
    result.text = _headline(result, compare)
    t1 = time.perf_counter()
    if figures:
        result.figures = _figures(result)
    result.figure_seconds = time.perf_counter() - t1
    result.seconds = time.perf_counter() - t0
    return result


def _run_compare(
    arms: Mapping[str, Scenario], n: int, seed: int, cache: CacheLike, executor: ExecutorName | TaskExecutor
) -> Experiment:
    """The explorer's experiment: `simfunnel.compare` of the arms, quiet, ``"base"`` the baseline."""
    baseline = BASE if BASE in arms else WHAT_IF
    return compare(dict(arms), n=n, seed=seed, baseline=baseline, executor=executor, progress=False, cache=cache)


def _figures(w: WhatIf) -> dict[str, Figure]:
    from simfunnel.present.comparison import compare_kpis
    from simfunnel.present.funnel import funnel, lost_reasons

    order = [s for s in (WHAT_IF, BASE) if s in set(w.summary["scenario"])]
    frames = {name: w.summary[w.summary["scenario"] == name].drop(columns="scenario") for name in order}
    n = w.replications
    mean_of = f"mean of {n} replications" if n > 1 else "one run"
    return {
        "funnel": funnel(frames, title=f"Buyer funnel ({mean_of})"),
        "lost_reasons": lost_reasons(frames, title="Where the buyers go: won, lost (and why) or still open"),
        "kpis": compare_kpis(
            w.summary,
            [m for m in HEADLINE_KPIS if m in set(w.summary["metric"])],
            title=f"Key results ({mean_of}, 95 % CI)",
        ),  # fmt: skip
    }


def __getattr__(name: str) -> Any:
    """The widgets (`ExplorerUI`, `explorer_widgets`) live in `simfunnel.present.explorer_ui`; served from here
    on first use (a lazy re-export: that module imports this one)."""
    if name in ("ExplorerUI", "explorer_widgets"):
        from simfunnel.present import explorer_ui

        return getattr(explorer_ui, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
