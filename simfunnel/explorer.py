"""What-if explorer: change the organisation levers, the sales headcount, the budget split or the market size
of a scenario and see the KPIs, the funnel, the lost deals and the revenue move.

`what_if` is the engine (plain Python, no widgets, testable headless): it applies the controls with
`Scenario.with_overrides`, runs a small set of replications *serially* in this process (the base scenario of
`scenarios/base.toml`, 730 days: about 0.2-0.3 s per run, so ~1 s for 3 replications plus ~1 s for the three
figures; repeated settings come from the result cache in a few milliseconds) and returns a `WhatIf`:
``.summary`` (tidy KPI table with 95 % CIs), ``.figures`` (funnel, lost reasons, revenue over time) and
``.text`` (the headline numbers in one sentence). With ``compare=True`` (default) the unchanged base scenario is
run with the same seeds (common random numbers) and shown alongside, so every change is read against it.

`explorer_widgets` builds the ipywidgets controls (a toggle per lever of `simfunnel.LEVERS` between its siloed
and aligned value, a reps slider, budget-share sliders renormalised to sum 1, a market-size slider), wired with
``interactive_output`` and ``continuous_update=False`` (or a Run button with ``manual=True``). Its callback is a
plain method (`ExplorerUI.update`), so it can be driven without a browser.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simfunnel.cache import CacheLike, ResultCache, resolve_cache
from simfunnel.executors import flatten_summary
from simfunnel.experiment import child_seed, mean_ci, root_seed
from simfunnel.scenario import LEVERS, Scenario

__all__ = [
    "ALIGNED_LEVERS",
    "SILOED_LEVERS",
    "ExplorerUI",
    "WhatIf",
    "explorer_widgets",
    "normalise_shares",
    "what_if",
]

SILOED_LEVERS: dict[str, Any] = {
    "mql_threshold": 0.45,
    "handoff": "batch",
    "pass_context": False,
    "response_sla_hours": math.inf,
    "queue_policy": "fifo",
    "too_early": "drop",
    "crm_logging": 0.3,
    "rep_training": False,
    "post_sale_followup": False,
}
"""Lever values of the siloed preset (`scenarios/siloed.toml`; DESIGN.md section 3)."""

ALIGNED_LEVERS: dict[str, Any] = {
    "mql_threshold": 0.50,
    "handoff": "realtime",
    "pass_context": True,
    "response_sla_hours": 1.0,
    "queue_policy": "deadline",
    "too_early": "recycle",
    "crm_logging": 0.6,
    "rep_training": True,
    "post_sale_followup": True,
}
"""Lever values of the aligned preset (`scenarios/aligned.toml`)."""

WHAT_IF = "what-if"
BASE = "base"

HEADLINE_KPIS = ("profit", "revenue", "won", "win_rate", "lead_wait_days", "rep_utilization")

_MEMORY: OrderedDict[tuple[Any, ...], tuple[dict[str, float], pd.DataFrame]] = OrderedDict()
_MEMORY_SIZE = 128


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


def _overrides(
    base: Scenario,
    levers: Mapping[str, Any] | None,
    reps: int | None,
    shares: Mapping[str, float] | None,
    buyers_per_year: float | None,
) -> dict[str, Any]:
    """The dotted overrides of the controls, only for values that differ from ``base``."""
    out: dict[str, Any] = {}
    for name, value in (levers or {}).items():
        lever = name.removeprefix("organisation.")
        if lever not in LEVERS and lever != "batch_interval_days":
            raise ValueError(f"unknown lever {name!r}; levers: {', '.join(LEVERS)}")
        if getattr(base.organisation, lever) != value:
            out[f"organisation.{lever}"] = value
    if reps is not None and int(reps) != base.sales.reps:
        out["sales.reps"] = int(reps)
    if shares is not None:
        new = normalise_shares(shares, base.marketing.shares)
        if any(abs(new[k] - base.marketing.shares.get(k, 0.0)) > 1e-9 for k in new):
            out["marketing.shares"] = new
    if buyers_per_year is not None and float(buyers_per_year) != base.market.buyers_per_year:
        out["market.buyers_per_year"] = float(buyers_per_year)
    return out


# ============================================================================================== runs
def _run(
    scenario: Scenario, seed: np.random.SeedSequence, store: ResultCache | None
) -> tuple[dict[str, float], pd.DataFrame, bool]:
    """(flat KPI summary, weekly time series, simulated?) of one replication, from the cache when possible."""
    if store is not None:
        summary = store.get_summary(scenario, seed)
        ts = store.get(scenario, seed, "timeseries") if summary is not None else None
        if summary is not None and isinstance(ts, dict):
            return summary, pd.DataFrame(ts), False
    else:
        key = (scenario, seed.entropy, tuple(seed.spawn_key))
        if key in _MEMORY:
            _MEMORY.move_to_end(key)
            summary, ts = _MEMORY[key]
            return summary, ts, False
    from simfunnel.simulate import simulate

    result = simulate(scenario, seed)
    summary = flatten_summary(result.summary)
    ts = result.timeseries.reset_index(drop=True)
    if store is not None:
        try:
            store.put_summary(scenario, seed, summary)
            store.put(scenario, seed, {c: ts[c].astype(float).tolist() for c in ts.columns}, "timeseries")
        except OSError:  # a read-only or full disk: the answer is still good
            pass
    else:
        _MEMORY[(scenario, seed.entropy, tuple(seed.spawn_key))] = (summary, ts)
        while len(_MEMORY) > _MEMORY_SIZE:
            _MEMORY.popitem(last=False)
    return summary, ts, True


def _replications(
    scenario: Scenario, n: int, seed: int, store: ResultCache | None
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Tidy runs (replication, metric, value), mean weekly time series, number of runs simulated."""
    root = root_seed(seed)
    rows: list[tuple[int, str, float]] = []
    series: list[pd.DataFrame] = []
    simulated = 0
    for r in range(n):
        summary, ts, fresh = _run(scenario, child_seed(root, r), store)
        simulated += fresh
        rows += [(r, m, v) for m, v in summary.items()]
        series.append(ts)
    runs = pd.DataFrame(rows, columns=["replication", "metric", "value"])
    mean_ts = pd.concat(series).groupby("day", sort=True).mean().reset_index() if series else pd.DataFrame()
    return runs, mean_ts, simulated


def _summarise(runs: pd.DataFrame, scenario_label: str) -> pd.DataFrame:
    from simfunnel.plots import _metric_info

    rows = []
    for metric, values in runs.groupby("metric", sort=False)["value"]:
        rows.append({"scenario": scenario_label, "metric": metric, "label": _metric_info(metric)[0], **mean_ci(values)})
    return pd.DataFrame(
        rows, columns=["scenario", "metric", "label", "mean", "std", "n", "ci_low", "ci_high", "half_width"]
    )


# ============================================================================================== result
@dataclass
class WhatIf:
    """The answer of `what_if`.

    ``summary``: tidy KPI table, one row per (``scenario``, ``metric``) with ``label``, ``mean``, ``std``, ``n``,
    ``ci_low``, ``ci_high``, ``half_width`` (95 % t interval over the replications); ``scenario`` is
    ``"what-if"`` and, with ``compare=True``, ``"base"``. ``diffs``: paired differences what-if - base per
    metric (same seeds: common random numbers). ``figures``: ``funnel``, ``lost_reasons``, ``revenue``
    (matplotlib Figures; close them with `close` when done). ``text``: the headline in one sentence.
    ``timeseries``: mean weekly series per scenario label. ``seconds``: wall time of the update;
    ``simulated``: runs actually simulated (the rest came from the cache)."""

    scenario: Scenario
    base: Scenario
    overrides: dict[str, Any]
    summary: pd.DataFrame
    runs: pd.DataFrame
    diffs: pd.DataFrame
    timeseries: dict[str, pd.DataFrame]
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
        """Formatted KPI table (strings): one row per KPI, a column per scenario and the change."""
        from simfunnel.plots import _fmt, _metric_info

        rows = []
        for m in metrics:
            label, kind, _ = _metric_info(m)
            row: dict[str, str] = {"KPI": label}
            for scn in (WHAT_IF, BASE):
                sub = self.summary[(self.summary["scenario"] == scn) & (self.summary["metric"] == m)]
                if not sub.empty:
                    r = sub.iloc[0]
                    ci = f" [{_fmt(r.ci_low, kind)}, {_fmt(r.ci_high, kind)}]" if np.isfinite(r.ci_low) else ""
                    row[scn] = _fmt(r["mean"], kind) + ci
            d = self.diffs[self.diffs["metric"] == m] if not self.diffs.empty else self.diffs
            if d is not None and not d.empty:
                r = d.iloc[0]
                row["change"] = _fmt(r["mean_diff"], kind, signed=True)
            rows.append(row)
        return pd.DataFrame(rows)

    def close(self) -> None:
        """Close the figures (free their memory)."""
        import matplotlib.pyplot as plt

        for fig in self.figures.values():
            plt.close(fig)

    def _repr_markdown_(self) -> str:
        return self.text


def _paired(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> pd.DataFrame:
    a = runs_a.pivot(index="replication", columns="metric", values="value")
    b = runs_b.pivot(index="replication", columns="metric", values="value")
    rows = []
    for m in a.columns:
        if m not in b.columns:
            continue
        d = (a[m] - b[m]).to_numpy(float)
        stats = mean_ci(d)
        rows.append({"metric": m, "mean_diff": stats["mean"], "ci_low": stats["ci_low"], "ci_high": stats["ci_high"]})
    return pd.DataFrame(rows, columns=["metric", "mean_diff", "ci_low", "ci_high"])


def _describe_change(key: str, value: Any) -> str:
    from simfunnel.plots import _field_label

    if key == "marketing.shares":
        return "budget split " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in value.items())
    label = _field_label(key).split(" (")[0]
    if isinstance(value, bool):
        return f"{label.lower()} {'on' if value else 'off'}"
    if isinstance(value, float) and math.isinf(value):
        return f"{label.lower()}: none"
    if isinstance(value, float):
        return f"{label.lower()} {value:,.6g}"
    return f"{label.lower()} {value}"


def _headline(w: WhatIf, compare: bool) -> str:
    from simfunnel.plots import _fmt

    def stat(metric: str, kind: str) -> str:
        row = w.summary[(w.summary["scenario"] == WHAT_IF) & (w.summary["metric"] == metric)].iloc[0]
        s = _fmt(row["mean"], kind)
        if np.isfinite(row["ci_low"]):
            s += f" (95 % CI {_fmt(row['ci_low'], kind)} to {_fmt(row['ci_high'], kind)})"
        return s

    days = w.scenario.simulation.horizon_days
    what = "; ".join(_describe_change(k, v) for k, v in w.overrides.items()) or "no change"
    text = (
        f"What-if ({what}): profit {stat('profit', 'money')} over {days:,.0f} days, "
        f"{w.kpi('won'):,.0f} deals won, revenue {_fmt(w.kpi('revenue'), 'money')}, "
        f"lead wait {_fmt(w.kpi('lead_wait_days'), 'days')}, rep utilisation {_fmt(w.kpi('rep_utilization'), 'share')}"
    )
    if compare and not w.diffs.empty and w.overrides:
        d = w.diffs.set_index("metric")
        dp = d.loc["profit"]
        base_profit = w.kpi("profit", BASE)
        rel = f", {100 * dp['mean_diff'] / abs(base_profit):+.0f} %" if base_profit else ""
        ci = (
            f" [95 % CI {_fmt(dp['ci_low'], 'money', True)} to {_fmt(dp['ci_high'], 'money', True)}]"
            if np.isfinite(dp["ci_low"])
            else ""
        )
        text += f". Against the base: profit {_fmt(dp['mean_diff'], 'money', True)}{rel}{ci}"
    text += f". {w.replications} replication{'s' if w.replications != 1 else ''}, seed {w.seed}."
    return text


# ============================================================================================== what_if
def what_if(
    base: Scenario,
    *,
    levers: Mapping[str, Any] | None = None,
    reps: int | None = None,
    shares: Mapping[str, float] | None = None,
    buyers_per_year: float | None = None,
    replications: int = 3,
    seed: int = 1,
    cache: CacheLike = True,
    compare: bool = True,
    figures: bool = True,
) -> WhatIf:
    """Apply the controls to ``base`` and run ``replications`` serial replications (seed children 0..n-1 of
    ``seed``, the same as `simfunnel.replicate` uses, so the cache is shared).

    ``levers``: ``{lever: value}`` for fields of ``base.organisation`` (`simfunnel.LEVERS`; e.g.
    ``{"pass_context": True}``). ``reps``: number of sales reps. ``shares``: budget weights per item (channels,
    ``nurture``, ``retention``, ``training``); items left out keep their base weight and all are renormalised
    to sum 1. ``buyers_per_year``: market size. ``cache``: the result cache (default on: repeated settings are
    instant; ``SIMFUNNEL_CACHE=0`` switches it off; without it an in-memory memo still serves repeats).
    ``compare``: also run the unchanged base (same seeds) for side-by-side figures and paired differences.
    ``figures``: draw the three figures (skip for speed when only numbers are needed).

    Time: the base scenario (730 days) simulates in ~0.2-0.3 s per run, serial, so a fresh update with 3
    replications takes ~1 s plus ~1 s for the figures; a repeat is served from the cache."""
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be an integer >= 1, got {replications!r}")
    t0 = time.perf_counter()
    overrides = _overrides(base, levers, reps, shares, buyers_per_year)
    scenario = base.with_overrides(overrides) if overrides else base
    store = resolve_cache(cache)
    runs, ts, simulated = _replications(scenario, replications, seed, store)
    summaries = [_summarise(runs, WHAT_IF)]
    series = {WHAT_IF: ts}
    diffs = pd.DataFrame(columns=["metric", "mean_diff", "ci_low", "ci_high"])
    all_runs = [runs.assign(scenario=WHAT_IF)]
    if compare:
        if overrides:
            base_runs, base_ts, n_base = _replications(base, replications, seed, store)
            simulated += n_base
        else:
            base_runs, base_ts = runs, ts
        summaries.append(_summarise(base_runs, BASE))
        series[BASE] = base_ts
        diffs = _paired(runs, base_runs)
        all_runs.append(base_runs.assign(scenario=BASE))
    summary = pd.concat(summaries, ignore_index=True)
    all_runs_df = pd.concat(all_runs, ignore_index=True)[["scenario", "replication", "metric", "value"]]
    result = WhatIf(
        scenario=scenario,
        base=base,
        overrides=overrides,
        summary=summary,
        runs=all_runs_df,
        diffs=diffs,
        timeseries=series,
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
        result.figures = _figures(result, compare)
    result.figure_seconds = time.perf_counter() - t1
    result.seconds = time.perf_counter() - t0
    return result


def _figures(w: WhatIf, compare: bool) -> dict[str, Figure]:
    from simfunnel import plots

    order = [WHAT_IF, BASE] if compare else [WHAT_IF]
    frames = {name: w.summary[w.summary["scenario"] == name].drop(columns="scenario") for name in order}
    n = w.replications
    mean_of = f"mean of {n} replications" if n > 1 else "one run"
    figs = {
        "funnel": plots.funnel(frames, title=f"Buyer funnel ({mean_of})"),
        "lost_reasons": plots.lost_reasons(frames, title="Where the buyers go: won, lost (and why) or still open"),
    }
    ts = w.timeseries
    if compare and len(ts) > 1:
        figs["revenue"] = plots.revenue_over_time({k: ts[k] for k in order}, title=f"Revenue over time ({mean_of})")
    else:
        figs["revenue"] = plots.revenue_over_time(ts[WHAT_IF], title=f"Revenue over time ({mean_of})")
    return figs


# ============================================================================================== widgets
def _value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float) and math.isinf(v):
        return "none"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


@dataclass
class ExplorerUI:
    """The explorer's widgets: ``widget`` (display it), ``controls`` (name -> widget), ``output`` (where the
    callback draws), ``last`` (the last `WhatIf`). `update` is the callback without display; `callback` is what
    ``interactive_output`` calls (update + display)."""

    base: Scenario
    widget: Any
    controls: dict[str, Any]
    output: Any
    lever_values: dict[str, dict[str, Any]]
    replications: int = 3
    seed: int = 1
    cache: CacheLike = True
    last: WhatIf | None = None
    history: list[float] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        """Current control values by control name."""
        return {k: w.value for k, w in self.controls.items()}

    def arguments(self, **values: Any) -> dict[str, Any]:
        """`what_if` keyword arguments from control values (``lever_<name>``: "siloed"/"aligned"/"base";
        ``reps``; ``share_<item>``: weights; ``buyers_per_year``)."""
        levers = {}
        for key, choice in values.items():
            if key.startswith("lever_"):
                name = key[len("lever_") :]
                levers[name] = self.lever_values[name][choice]
        weights = {key[len("share_") :]: float(v) for key, v in values.items() if key.startswith("share_")}
        return {
            "levers": levers,
            "reps": int(values["reps"]) if "reps" in values else None,
            "shares": weights or None,
            "buyers_per_year": float(values["buyers_per_year"]) if "buyers_per_year" in values else None,
        }

    def update(self, **values: Any) -> WhatIf:
        """Run the what-if for these control values (defaults: the widgets' current values); no display."""
        vals = {**self.values(), **values}
        if self.last is not None:
            self.last.close()
        self.last = what_if(
            self.base, replications=self.replications, seed=self.seed, cache=self.cache, **self.arguments(**vals)
        )
        self.history.append(self.last.seconds)
        return self.last

    def callback(self, **values: Any) -> WhatIf | None:
        """What ``interactive_output`` calls: `update`, then show the sentence, the KPI table and the figures."""
        from IPython.display import HTML, Markdown, display

        try:
            w = self.update(**values)
        except Exception as exc:  # noqa: BLE001 - a bad combination is shown, the explorer stays usable
            display(Markdown(f"**Cannot run this combination:** {exc}"))
            return None
        display(Markdown(w.text + f" *(updated in {w.seconds:.1f} s; {w.simulated} runs simulated)*"))
        display(HTML(w.table().to_html(index=False)))
        for fig in w.figures.values():
            display(fig)
        w.close()
        return w

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def explorer_widgets(
    base: Scenario,
    *,
    siloed: Scenario | None = None,
    aligned: Scenario | None = None,
    replications: int = 3,
    seed: int = 1,
    cache: CacheLike = True,
    manual: bool = False,
    run: bool = True,
) -> ExplorerUI:
    """ipywidgets controls for `what_if` on ``base``: a toggle per lever between its siloed and aligned value
    (from the ``siloed``/``aligned`` scenarios, default `SILOED_LEVERS`/`ALIGNED_LEVERS`; a third choice keeps
    a base value that is neither), a reps slider, one weight slider per budget item (renormalised to shares
    summing to 1, shown beneath), a market-size slider. Sliders have ``continuous_update=False``; with
    ``manual=True`` nothing runs until "Run" is pressed (``run=True``: one first update at once).
    Display the returned `ExplorerUI` in a notebook cell."""
    try:
        import ipywidgets as W
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("the explorer's widgets need ipywidgets: pip install 'simfunnel[notebooks]'") from exc

    lo = dict(SILOED_LEVERS) if siloed is None else {k: getattr(siloed.organisation, k) for k in LEVERS}
    hi = dict(ALIGNED_LEVERS) if aligned is None else {k: getattr(aligned.organisation, k) for k in LEVERS}
    from simfunnel.plots import LEVER_LABELS

    style = {"description_width": "190px"}
    controls: dict[str, Any] = {}
    lever_values: dict[str, dict[str, Any]] = {}
    lever_rows = []
    for name in LEVERS:
        cur = getattr(base.organisation, name)
        values = {"siloed": lo[name], "aligned": hi[name]}
        options = [(f"siloed: {_value_text(lo[name])}", "siloed"), (f"aligned: {_value_text(hi[name])}", "aligned")]
        if cur != lo[name] and cur != hi[name]:
            values["base"] = cur
            options.insert(0, (f"base: {_value_text(cur)}", "base"))
            value = "base"
        else:
            value = "siloed" if cur == lo[name] else "aligned"
        lever_values[name] = values
        tb = W.ToggleButtons(
            options=options,
            value=value,
            description=LEVER_LABELS.get(name, name),
            style={**style, "button_width": "150px"},
        )
        controls[f"lever_{name}"] = tb
        lever_rows.append(tb)
    reps0 = base.sales.reps
    controls["reps"] = W.IntSlider(
        value=reps0,
        min=1,
        max=max(3 * reps0, reps0 + 10),
        description="Sales reps",
        continuous_update=False,
        style=style,
    )
    bpy = base.market.buyers_per_year
    controls["buyers_per_year"] = W.FloatSlider(
        value=bpy,
        min=round(bpy / 4, 0) or 1.0,
        max=round(3 * bpy, 0),
        step=max(1.0, round(bpy / 20, 0)),
        description="In-market buyers / year",
        readout_format=",.0f",
        continuous_update=False,
        style=style,
    )
    share_sliders = []
    for item, share in base.marketing.shares.items():
        s = W.FloatSlider(
            value=round(share, 3),
            min=0.0,
            max=1.0,
            step=0.01,
            description=f"Budget: {item}",
            continuous_update=False,
            style=style,
        )
        controls[f"share_{item}"] = s
        share_sliders.append(s)
    shares_note = W.HTML()

    def show_shares(*_: Any) -> None:
        try:
            sh = normalise_shares({k[len("share_") :]: controls[k].value for k in controls if k.startswith("share_")})
            shares_note.value = "Shares after renormalising to 100 %: " + ", ".join(
                f"{k} {100 * v:.0f} %" for k, v in sh.items()
            )
        except ValueError as exc:
            shares_note.value = f"<b>{exc}</b>"

    for s in share_sliders:
        s.observe(show_shares, names="value")
    show_shares()
    output = W.Output()
    ui = ExplorerUI(
        base=base,
        widget=None,
        controls=controls,
        output=output,
        lever_values=lever_values,
        replications=replications,
        seed=seed,
        cache=cache,
    )
    budget = base.marketing.budget_per_year
    tabs = W.Tab(
        children=[
            W.VBox(lever_rows),
            W.VBox([controls["reps"], controls["buyers_per_year"]]),
            W.VBox([W.HTML(f"Annual marketing budget: {budget:,.0f}"), *share_sliders, shares_note]),
        ]
    )
    for i, title in enumerate(("Organisation levers", "Capacity and market", "Budget split")):
        tabs.set_title(i, title)
    header = W.HTML(
        f"<b>What-if explorer</b> on <i>{base.name}</i>: {replications} replications per update, seed {seed}; "
        "the unchanged base runs with the same seeds for comparison."
    )
    if manual:
        button = W.Button(description="Run", button_style="primary", icon="play")

        def on_click(_: Any) -> None:
            with output:
                output.clear_output(wait=True)
                ui.callback(**ui.values())

        button.on_click(on_click)
        ui.widget = W.VBox([header, tabs, button, output])
        if run:
            on_click(None)
    else:
        ui.output = W.interactive_output(ui.callback, controls)  # runs the first update now
        ui.widget = W.VBox([header, tabs, ui.output])
    return ui
