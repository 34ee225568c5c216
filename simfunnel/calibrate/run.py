"""`calibrate(crm, base)`: direct estimates, then the latent parameters by simulated moments, as one
`Calibration` - what `simfunnel calibrate` writes as a scenario and a parameter-sample file."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from simfunnel.calibrate.direct import DirectEstimates, direct_estimates
from simfunnel.calibrate.estimate import Estimate, estimates_frame
from simfunnel.calibrate.fit import FitSettings, LatentFit, Target, default_latents, fit_latent, latent_overrides
from simfunnel.calibrate.history import History, learn_history
from simfunnel.calibrate.moments import moments
from simfunnel.data import CrmData
from simfunnel.scenario import Scenario, load_scenario


@dataclass
class Calibration:
    """A calibration: the `direct` estimates, the latent `fit`, the base scenario it `extends` (as given) and
    the overrides of the fitted scenario (direct fields, the learned `history` of team and lead volume as plans,
    and identified latent parameters)."""

    base: str
    direct: DirectEstimates
    fit: LatentFit | None
    overrides: dict[str, object]
    history: History | None = None

    def estimates(self) -> list[Estimate]:
        """Every estimate, direct first."""
        return [*self.direct.estimates, *(self.fit.estimates if self.fit else [])]

    def frame(self) -> pd.DataFrame:
        """Every estimate as a table (`simfunnel.calibrate.estimate.ESTIMATE_COLUMNS`)."""
        return estimates_frame(self.estimates())

    def scenario(self) -> Scenario:
        """The fitted scenario (the base with `overrides`)."""
        return load_scenario(self.base, self.overrides)

    def draws(self) -> pd.DataFrame:
        """The parameter sample: one column per dotted field, one row per draw (the direct distributional
        fields drawn from their 90 % intervals as normals; latent ones from the fit)."""
        n = len(self.fit.draws) if self.fit is not None else 400
        rng = np.random.default_rng(np.random.SeedSequence(11))
        cols: dict[str, np.ndarray] = {}
        for e in self.direct.estimates:
            if e.field and e.field != "sales.reps":
                sd = (e.high - e.low) / (2 * 1.6448536269514722)
                cols[e.field] = np.clip(rng.normal(e.value, sd, n), e.value * 0.05, None)
        if self.fit is not None:
            for e in self.fit.estimates:
                if e.status == "fitted":
                    cols[e.field] = self.fit.draws[e.field].to_numpy()
        return pd.DataFrame(cols)


def direct_overrides(direct: DirectEstimates, base: Scenario) -> dict[str, object]:
    """Scenario overrides from the direct estimates that name a field (deal value, reps)."""
    by_field = {e.field: e.value for e in direct.estimates if e.field}
    out: dict[str, object] = {}
    if "market.value.mean" in by_field:
        dist = dict(base.to_dict()["market"]["value"])
        out["market.value"] = {"kind": "lognormal", "mean": round(by_field["market.value.mean"], 2),
                               "sd": round(by_field.get("market.value.sd", float(dist.get("sd", 0.0))), 2)}  # fmt: skip
    if "sales.reps" in by_field:
        out["sales.reps"] = max(1, int(round(by_field["sales.reps"])))
    return out


def observed_moments(crm: CrmData, start: pd.Timestamp) -> np.ndarray:
    """The fit's moments of the firm's data."""
    return moments(crm.leads, crm.deals, start, crm.export_date)


HISTORY_MODES = ("auto", "off")
"""`calibrate(history=...)`: learn the team and lead-volume history as plans (auto) or not (off: one team, the
median, and one smooth lead volume for the whole history - the behaviour before the history was learned)."""


def calibrate(crm: CrmData, base: str = "preset:base", *, quick: bool = False, seed: int = 0, workers: int = 1,
              progress: bool | None = None, settings: FitSettings | None = None,
              history: str = "auto", warmup: float | None = None) -> Calibration:  # fmt: skip
    """Calibrate `base` (a scenario file or preset:NAME) to `crm`: direct estimates, the firm's history of team
    and lead volume as plans (`history="auto"`, `simfunnel.calibrate.history`; "off" to skip), then the latent
    parameters (`simfunnel.calibrate.fit`) with those plans in place when the data have deals. `quick` uses
    `FitSettings.quick`. `warmup`: days simulated before the data's first day (default: the base's own; 0 for a
    CRM that starts when the firm started selling, whose pipeline was empty)."""
    if history not in HISTORY_MODES:
        raise ValueError(f"history={history!r}: choose one of {', '.join(HISTORY_MODES)}")
    if warmup is not None and not (math.isfinite(warmup) and warmup >= 0):
        raise ValueError(f"warmup={warmup!r}: give days >= 0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base_scenario = load_scenario(base)
    direct = direct_estimates(crm, seed)
    fixed = direct_overrides(direct, base_scenario)
    if warmup is not None:
        fixed["simulation.warmup_days"] = float(warmup)
    learned = None
    if history == "auto":
        learned = learn_history(crm, base_scenario.with_overrides(fixed), direct.start, seed=seed + 101,
                                workers=workers, progress=progress)  # fmt: skip
        fixed.update(learned.overrides())
        learned.notes.extend(ramp_note(learned, direct.start, base_scenario.with_overrides(fixed)))
        if learned.headcount_plan:
            note = "the team changes over the data: written as sales.reps (the start) and sales.headcount_plan"
            direct.estimates = [replace(e, field="", note=note) if e.field == "sales.reps" else e
                                for e in direct.estimates]  # fmt: skip
    fit = None
    overrides = dict(fixed)
    if crm.deals is not None and len(crm.deals):
        scenario = base_scenario.with_overrides(fixed)
        target = Target(scenario, direct.start, crm.export_date)
        chosen = settings or (FitSettings.quick() if quick else FitSettings())
        latents = default_latents(scenario)
        fit = fit_latent(observed_moments(crm, direct.start), target, latents, chosen, seed=seed, workers=workers,
                         progress=progress)  # fmt: skip
        ok = [(lat, e.value) for lat, e in zip(latents, fit.estimates, strict=True) if e.status == "fitted"]
        if ok:
            values = np.array([v for _, v in ok])
            overrides.update(latent_overrides(scenario.model_dump(by_alias=True), [lat for lat, _ in ok], values))
    return Calibration(base=base, direct=direct, fit=fit, overrides=_rounded(overrides), history=learned)


def ramp_note(learned: History, start: pd.Timestamp, scenario: Scenario) -> list[str]:
    """A note when the lead volume steps up within the data's first quarter while the model is warmed up: the
    data probably start with the firm (an empty pipeline), which the warm-up does not reproduce."""
    if scenario.simulation.warmup_days <= 0:
        return []
    early = [v for v in learned.volume if v.ratio > 1.5 and v.month < start + pd.DateOffset(months=3)]
    if not early:
        return []
    return [f"the lead volume ramps up {early[0].ratio:.2f} x in the data's first months while the model starts "
            f"warmed up ({scenario.simulation.warmup_days:g} days): if the CRM starts when the firm started selling, "
            "calibrate again with --warmup 0"]  # fmt: skip


def _rounded(overrides: dict[str, object]) -> dict[str, object]:
    def r(v: object) -> object:
        if isinstance(v, float) and math.isfinite(v):
            return float(f"{v:.5g}")
        if isinstance(v, dict):
            return {k: r(x) for k, x in v.items()}
        return v

    return {k: r(v) for k, v in overrides.items()}


__all__ = ["HISTORY_MODES", "Calibration", "calibrate", "direct_overrides", "observed_moments", "ramp_note"]
