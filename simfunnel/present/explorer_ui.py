"""The what-if explorer's widgets: a toggle per lever, team and budget-share sliders and a market-size slider,
wired to `simfunnel.present.explorer.what_if` with ipywidgets (``interactive_output``, ``continuous_update=False``
or a Run button with ``manual=True``). The callback is a plain method (`ExplorerUI.update`), so the explorer can be
driven without a browser. Import from `simfunnel.present.explorer`, which re-exports these names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simfunnel.experiments.cache import CacheLike
from simfunnel.experiments.executors import ExecutorName, TaskExecutor
from simfunnel.formatting import format_value
from simfunnel.present.explorer import (
    ALIGNED_LEVERS,
    ROLE_HEADCOUNTS,
    SILOED_LEVERS,
    WhatIf,
    headcounts,
    normalise_shares,
    setting_text,
    what_if,
)
from simfunnel.scenario import Scenario
from simfunnel.vocabulary import LEVERS


# ============================================================================================== widgets
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
    executor: ExecutorName | TaskExecutor = "serial"

    def values(self) -> dict[str, Any]:
        """Current control values by control name."""
        return {k: w.value for k, w in self.controls.items()}

    def arguments(self, **values: Any) -> dict[str, Any]:
        """`what_if` keyword arguments from control values (``lever_<name>``: "siloed"/"aligned"/"base";
        ``sales_reps`` (or the old ``reps``), or ``sdr_reps`` and ``ae_reps`` with roles; ``share_<item>``: weights;
        ``buyers_per_year``)."""
        levers = {}
        for key, choice in values.items():
            if key.startswith("lever_"):
                name = key[len("lever_") :]
                levers[name] = self.lever_values[name][choice]
        weights = {key[len("share_") :]: float(v) for key, v in values.items() if key.startswith("share_")}
        reps = values.get("sales_reps", values.get("reps"))
        roles = {k: int(values[k]) for k in ROLE_HEADCOUNTS if values.get(k) is not None}
        return {
            "levers": levers,
            "sales_reps": int(reps) if reps is not None else None,
            **roles,
            "shares": weights or None,
            "buyers_per_year": float(values["buyers_per_year"]) if "buyers_per_year" in values else None,
        }

    def update(self, **values: Any) -> WhatIf:
        """Run the what-if for these control values (defaults: the widgets' current values); no display."""
        vals = {**self.values(), **values}
        if self.last is not None:
            self.last.close()
        self.last = what_if(
            self.base,
            replications=self.replications,
            seed=self.seed,
            cache=self.cache,
            executor=self.executor,
            **self.arguments(**vals),
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


_STYLE = {"description_width": "190px"}


def _lever_controls(
    W: Any, base: Scenario, siloed: Scenario | None, aligned: Scenario | None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A toggle per lever between its siloed and aligned value (a third choice keeps a base value that is
    neither), labelled as in the vocabulary."""
    lo = dict(SILOED_LEVERS) if siloed is None else {k: getattr(siloed.organisation, k) for k in LEVERS}
    hi = dict(ALIGNED_LEVERS) if aligned is None else {k: getattr(aligned.organisation, k) for k in LEVERS}
    controls: dict[str, Any] = {}
    lever_values: dict[str, dict[str, Any]] = {}
    for name, lever in LEVERS.items():
        cur = getattr(base.organisation, name)
        values = {"siloed": lo[name], "aligned": hi[name]}
        options = [(f"siloed: {setting_text(lo[name])}", "siloed"), (f"aligned: {setting_text(hi[name])}", "aligned")]
        if cur != lo[name] and cur != hi[name]:
            values["base"] = cur
            options.insert(0, (f"base: {setting_text(cur)}", "base"))
            value = "base"
        else:
            value = "siloed" if cur == lo[name] else "aligned"
        lever_values[name] = values
        controls[f"lever_{name}"] = W.ToggleButtons(
            options=options, value=value, description=lever.label, style={**_STYLE, "button_width": "150px"}
        )
    return controls, lever_values


def _capacity_controls(W: Any, base: Scenario) -> dict[str, Any]:
    """Sliders for the team (the sales reps, or each role's headcount with `sales.roles`) and the market size."""
    bpy = base.market.buyers_per_year
    texts = {"sales_reps": "Sales reps", "sdr_reps": "SDRs", "ae_reps": "Account executives"}
    team = {
        key: W.IntSlider(
            value=n, min=1, max=max(3 * n, n + 10), description=texts[key], continuous_update=False, style=_STYLE
        )
        for key, n in headcounts(base).items()
    }
    return {
        **team,
        "buyers_per_year": W.FloatSlider(
            value=bpy, min=round(bpy / 4, 0) or 1.0, max=round(3 * bpy, 0), step=max(1.0, round(bpy / 20, 0)),
            description="In-market buyers / year", readout_format=",.0f", continuous_update=False, style=_STYLE,
        ),
    }  # fmt: skip


def _share_controls(W: Any, base: Scenario) -> tuple[dict[str, Any], Any]:
    """A weight slider per budget item and a note with the shares they make after renormalising."""
    controls = {
        f"share_{item}": W.FloatSlider(
            value=round(share, 3), min=0.0, max=1.0, step=0.01, description=f"Budget: {item}",
            continuous_update=False, style=_STYLE,
        )
        for item, share in base.marketing.shares.items()
    }  # fmt: skip
    note = W.HTML()

    def show_shares(*_: Any) -> None:
        try:
            sh = normalise_shares({k[len("share_") :]: w.value for k, w in controls.items()})
            note.value = "Shares after renormalising to 100 %: " + ", ".join(
                f"{k} {format_value(v, 'share')}" for k, v in sh.items()
            )
        except ValueError as exc:
            note.value = f"<b>{exc}</b>"

    for s in controls.values():
        s.observe(show_shares, names="value")
    show_shares()
    return controls, note


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
    executor: ExecutorName | TaskExecutor = "serial",
) -> ExplorerUI:
    """ipywidgets controls for `what_if` on ``base``: a toggle per lever between its siloed and aligned value
    (from the ``siloed``/``aligned`` scenarios, default the shipped presets), a team slider (sales reps, or SDRs
    and AEs with roles), one weight slider per budget item (renormalised to shares summing to 1, shown beneath), a market-size slider. Sliders
    have ``continuous_update=False``; with ``manual=True`` nothing runs until "Run" is pressed (``run=True``:
    one first update at once). ``executor``: as for `what_if` (``"processes"``: warm workers, faster updates on
    a multi-core machine). Display the returned `ExplorerUI` in a notebook cell."""
    try:
        import ipywidgets as W
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("the explorer's widgets need ipywidgets: pip install 'simfunnel[notebooks]'") from exc

    lever_controls, lever_values = _lever_controls(W, base, siloed, aligned)
    capacity = _capacity_controls(W, base)
    share_controls, shares_note = _share_controls(W, base)
    controls = {**lever_controls, **capacity, **share_controls}
    output = W.Output()
    ui = ExplorerUI(base, None, controls, output, lever_values, replications, seed, cache, executor=executor)
    tabs = W.Tab(
        children=[
            W.VBox(list(lever_controls.values())),
            W.VBox(list(capacity.values())),
            W.VBox(
                [
                    W.HTML(f"Annual marketing budget: {format_value(base.marketing.budget_per_year, 'money')}"),
                    *share_controls.values(),
                    shares_note,
                ]
            ),
        ]
    )
    for i, title in enumerate(("Organisation levers", "Capacity and market", "Budget split")):
        tabs.set_title(i, title)
    header = W.HTML(
        f"<b>What-if explorer</b> on <i>{base.name}</i>: {replications} paired replications per update, seed "
        f"{seed}; the unchanged base runs with the same seeds (common random numbers) for comparison."
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
