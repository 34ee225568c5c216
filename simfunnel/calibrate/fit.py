"""Latent parameters by simulation: the method of simulated moments with common random numbers.

Why this method. The latent parameters (how many buyers are in the market, the win model's intercept, the
follow-up probability, the length of the buying process) are recorded by no CRM; only their consequences are
(leads per month, deals per lead, win rate, waiting and closing times). A run of the model is cheap (well under
a second for a firm-sized history) but noisy, and the data are one realisation. So:

1. **Common random numbers.** Every candidate parameter set is simulated with the *same* small set of seeds
   (`FitSettings.seeds`: 1 with ``quick``, 2 by default), so the differences between candidates are differences
   of the parameters, not of the luck of the draw; the objective is smooth enough to fit locally.
2. **Rounds of a space-filling design** (scrambled Sobol points): over the whole prior box, then (Gauss-Newton
   like) in shrinking boxes around the current estimate. In each round the simulated moments are regressed
   linearly on the parameters (the finite-difference Jacobian of the moments over a local design - no global
   surrogate or emulator) and the weighted least-squares point estimate is taken inside the prior box.
3. **Uncertainty** is that of the data: the moments are simulated with fresh seeds (`FitSettings.replicates`)
   after the first local round (later rounds weight each moment by 1/its variance, W) and again at the
   estimate, to estimate their sampling covariance S there; the sandwich
   (1 + 1/seeds) G S G', G = (B'WB)^-1 B'W, gives the covariance of the estimate (the 1/seeds term is the
   simulation noise of the fitted side). 90 % intervals are +-1.645 standard errors on the fit scale (log for
   scale parameters), cut to the prior range.
4. **Identifiability.** A parameter whose 90 % interval still spans more than half its prior range
   (`IDENTIFIED_RATIO`) is reported "not identified by this data" and not written as fitted.

ABC (rejection or SMC) was the alternative: its posterior is the natural answer, but with common random numbers
its spread reflects the tolerance rather than the data's noise, and without them it needs tens of thousands of
runs for four parameters - beyond the 10-minute budget. Simulated moments with a sandwich give honest intervals
from a few hundred runs (measured coverage in docs/pages/calibration.md)."""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simfunnel.calibrate.estimate import Z90, Estimate
from simfunnel.calibrate.moments import MOMENTS, moments
from simfunnel.experiments.progress import make_bar
from simfunnel.scenario import Scenario

MIN_WIDTH = 0.08
"""Smallest half-width (unit scale) of a local design box: smaller boxes leave the slopes to the noise."""
IDENTIFIED_RATIO = 0.5
"""A parameter is identified when its 90 % interval is at most this share of its prior range (fit scale)."""


@dataclass(frozen=True)
class Latent:
    """A latent parameter: the dotted scenario `field` (``X.mean`` of a distribution scales its sd too), its
    prior range [`low`, `high`] (uniform, on the log scale when `log`), and what informs it."""

    field: str
    low: float
    high: float
    log: bool = False
    informed_by: str = ""

    def value(self, u: np.ndarray | float) -> np.ndarray | float:
        """Unit coordinate(s) in [0, 1] -> parameter value(s)."""
        if self.log:
            return np.exp(math.log(self.low) + np.asarray(u) * (math.log(self.high) - math.log(self.low)))
        return self.low + np.asarray(u) * (self.high - self.low)


def _get(data: dict, dotted: str) -> object:
    for part in dotted.split("."):
        data = data[part]
    return data


def default_latents(base: Scenario) -> list[Latent]:
    """The latent parameters fitted by default, with prior ranges around the base scenario's values."""
    d = base.to_dict()
    buyers = float(d["market"]["buyers_per_year"])
    intercept = float(d["sales"]["win"]["intercept"])
    out = [
        Latent("market.buyers_per_year", buyers / 3, buyers * 3, log=True, informed_by="leads per month"),
        Latent("sales.win.intercept", intercept - 2.0, intercept + 2.0, informed_by="win rate"),
        Latent("sales.follow_up.max_prob", 0.15, 0.95, informed_by="deals per lead"),
    ]
    process = d["market"]["process_days"]
    if isinstance(process, dict) and "mean" in process:
        m = float(process["mean"])
        out.append(Latent("market.process_days.mean", m / 2, m * 2, log=True,
                          informed_by="days from lead to deal and to close, open share"))  # fmt: skip
    return out


def latent_overrides(base_dict: dict, latents: list[Latent], values: np.ndarray) -> dict[str, object]:
    """Dotted overrides setting `latents` to `values`; a distribution's ``mean`` scales its ``sd`` with it."""
    out: dict[str, object] = {}
    for lat, v in zip(latents, values, strict=True):
        head, _, last = lat.field.rpartition(".")
        parent = _get(base_dict, head) if head else None
        if last == "mean" and isinstance(parent, dict) and "kind" in parent:
            dist = dict(parent)
            if "sd" in dist:
                dist["sd"] = float(dist["sd"]) * float(v) / float(dist["mean"])
            dist["mean"] = float(v)
            out[head] = dist
        elif lat.field == "sales.reps":
            out[lat.field] = int(round(float(v)))
        else:
            out[lat.field] = float(v)
    return out


@dataclass(frozen=True)
class FitSettings:
    """Sizes of the fit: Sobol points of the first round (whole prior), of each of `rounds` local rounds (a
    box of half-width `local_width` around the estimate, halved each round), common seeds per point, fresh
    replicates at the estimate for the moments' covariance, draws written to the sample file."""

    points: int = 64
    local_points: int = 32
    rounds: int = 3
    seeds: int = 2
    replicates: int = 24
    local_width: float = 0.15
    draws: int = 400

    @classmethod
    def quick(cls) -> FitSettings:
        """About a quarter of the runs: a first look (under 2 minutes for a firm-sized history)."""
        return cls(points=32, local_points=16, rounds=3, seeds=1, replicates=12)

    def runs(self) -> int:
        """Simulation runs of a fit."""
        return (self.points + self.rounds * self.local_points) * self.seeds + 2 * self.replicates


@dataclass(frozen=True)
class Target:
    """What the fit simulates: the base scenario (with the direct estimates set), day 0 and the export date."""

    scenario: Scenario
    start: pd.Timestamp
    export_date: pd.Timestamp

    @property
    def span(self) -> float:
        """Days from day 0 to the export date."""
        return float((self.export_date - self.start) / pd.Timedelta(days=1))


def simulate_moments(target: Target, overrides: dict[str, object], seed: np.random.SeedSequence) -> np.ndarray:
    """The `MOMENTS` of one simulated CRM export of `target` with `overrides`."""
    from simfunnel.data import crm_tables
    from simfunnel.simulate import simulate

    span = target.span
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenario = target.scenario.with_overrides({**overrides, "simulation.horizon_days": math.ceil(span) + 1})
        result = simulate(scenario, seed)
    tables = crm_tables(result, start_date=str(target.start.date()), export_day=span)
    return moments(tables["leads"], tables["deals"], target.start, target.export_date)


def _task(args: tuple) -> np.ndarray:
    target, overrides, seed = args
    return simulate_moments(target, overrides, seed)


def _run_all(tasks: list[tuple], workers: int, bar: object) -> np.ndarray:
    out: list[np.ndarray] = []
    if workers <= 1:
        for t in tasks:
            out.append(_task(t))
            bar.update(1)
    else:
        with ProcessPoolExecutor(workers) as pool:
            for m in pool.map(_task, tasks, chunksize=max(1, len(tasks) // (workers * 8))):
                out.append(m)
                bar.update(1)
    return np.array(out)


@dataclass
class LatentFit:
    """The fit: `estimates` (status 'fitted' or 'not identified'), `draws` (one column per field), the observed
    moments and the fitted ones (the local linear prediction at the estimate), the unit-scale estimate and covariance, and the runs made."""

    estimates: list[Estimate]
    draws: pd.DataFrame
    observed: pd.Series
    fitted: pd.Series
    u: np.ndarray
    cov: np.ndarray
    runs: int
    notes: list[str] = field(default_factory=list)


def _local_linear(u: np.ndarray, m: np.ndarray, obs: np.ndarray, sc: np.ndarray, weights: np.ndarray,
                  significant: bool = False) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Weighted linear regression of the scaled moments on the unit coordinates: intercept a, slopes B. With
    `significant` (the final round's Jacobian, for the intervals), a slope within 2 standard errors of zero (the regression's residual noise) is set to 0: a moment moves with a
    parameter only where the design shows it beyond noise, so a parameter nothing moves is not identified."""
    x = np.column_stack([np.ones(len(u)), u])
    y = (m - obs) / sc
    sw = np.sqrt(weights)[:, None]
    coef, *_ = np.linalg.lstsq(x * sw, y * sw, rcond=None)
    dof = max(len(u) - x.shape[1], 1)
    sigma2 = np.sum(weights[:, None] * (y - x @ coef) ** 2, axis=0) / dof
    xtx_inv = np.linalg.pinv((x * weights[:, None]).T @ x)
    se = np.sqrt(np.outer(np.diag(xtx_inv), sigma2))
    slopes = (np.where(np.abs(coef) > 2 * se, coef, 0.0) if significant else coef)[1:]
    return coef[0], slopes.T  # a (k,), B (k, p)


def _solve(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The unit point in [0, 1]^p minimising sum w (a + B u)^2 (bounded linear least squares)."""
    from scipy.optimize import lsq_linear

    sw = np.sqrt(w)
    return np.clip(lsq_linear(b * sw[:, None], -a * sw, bounds=(0.0, 1.0)).x, 0.0, 1.0)


def _nearest_weights(m: np.ndarray, obs: np.ndarray, sc: np.ndarray, share: float) -> np.ndarray:
    dist = np.sqrt(np.nansum(((m - obs) / sc) ** 2, axis=1))
    h = np.quantile(dist, share)
    return np.where(dist <= h, (1 - (dist / max(h, 1e-12)) ** 3) ** 3, 0.0) + 1e-9


def _sobol(n: int, p: int, seed: np.random.SeedSequence) -> np.ndarray:
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    return qmc.Sobol(p, scramble=True, seed=rng).random(n)


class Fitter:
    """Runs the two design rounds and the replicates of one fit (see the module docstring)."""

    def __init__(self, target: Target, latents: list[Latent], settings: FitSettings, seed: int, workers: int,
                 progress: bool | None) -> None:  # fmt: skip
        self.target, self.latents, self.settings = target, latents, settings
        self.root = np.random.SeedSequence(seed)
        design, crn, fresh = self.root.spawn(3)
        self.design_seeds = design.spawn(1 + settings.rounds)
        self.crn = crn.spawn(settings.seeds)
        self.fresh = fresh.spawn(settings.replicates)
        self.workers = workers
        self.base = target.scenario.model_dump(by_alias=True)
        self.bar = make_bar(settings.runs(), "calibrate", progress)

    def overrides(self, u: np.ndarray) -> dict[str, object]:
        values = np.array([lat.value(x) for lat, x in zip(self.latents, u, strict=True)])
        return latent_overrides(self.base, self.latents, values)

    def design(self, points: np.ndarray) -> np.ndarray:
        """Mean moments over the common seeds at each unit point."""
        tasks = [(self.target, self.overrides(u), s) for u in points for s in self.crn]
        m = _run_all(tasks, self.workers, self.bar)
        return m.reshape(len(points), len(self.crn), -1).mean(axis=1)

    def replicates(self, u: np.ndarray) -> np.ndarray:
        tasks = [(self.target, self.overrides(u), s) for s in self.fresh]
        return _run_all(tasks, self.workers, self.bar)


def _scales(m: np.ndarray) -> np.ndarray:
    mad = np.nanmedian(np.abs(m - np.nanmedian(m, axis=0)), axis=0) * 1.4826
    sd = np.nanstd(m, axis=0)
    sc = np.where(mad > 1e-9, mad, sd)
    return np.where(sc > 1e-9, sc, 1.0)


def _moment_weights(obs: np.ndarray, rep: np.ndarray, sc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the scaled moments from the replicates and the diagonal weights 1/variance (0 for a
    moment the data do not have)."""
    z = (rep - np.nanmean(rep, axis=0)) / sc
    z = np.nan_to_num(z)
    cov = np.cov(z, rowvar=False) + np.eye(z.shape[1]) * 1e-9
    w = np.where(np.isfinite(obs), 1.0 / np.diag(cov), 0.0)
    return cov, w


def sandwich(b: np.ndarray, w: np.ndarray, cov_m: np.ndarray, seeds: int) -> np.ndarray:
    """Covariance of the estimate: (1 + 1/seeds) G S G', G = (B'WB)^-1 B'W, with each variance at least the
    information bound's (B'WB)^-1 diagonal (so a direction the moments do not move - a parameter the data cannot
    inform - gets a huge variance instead of the zero a pseudo-inverse would give)."""
    bw = b.T * w
    info_inv = np.linalg.inv(bw @ b + np.eye(b.shape[1]) * 1e-9)
    g = info_inv @ bw
    cov = (1.0 + 1.0 / seeds) * g @ cov_m @ g.T
    floor = (1.0 + 1.0 / seeds) * np.diag(info_inv)
    return cov + np.diag(np.clip(floor - np.diag(cov), 0.0, None))


def fit_latent(observed: np.ndarray, target: Target, latents: list[Latent] | None = None,
               settings: FitSettings | None = None, *, seed: int = 0, workers: int = 1,
               progress: bool | None = None) -> LatentFit:  # fmt: skip
    """Fit `latents` (default: `default_latents`) to the `observed` moments by simulated moments with common
    random numbers; `workers` processes run the simulations."""
    latents = latents or default_latents(target.scenario)
    settings = settings or FitSettings()
    f = Fitter(target, latents, settings, seed, workers, progress)
    p = len(latents)
    obs = np.asarray(observed, dtype=float)
    use = np.isfinite(obs)
    u = _sobol(settings.points, p, f.design_seeds[0])
    m = np.where(use, f.design(u), 0.0)
    sc = _scales(m)
    o = np.where(use, obs, 0.0)
    a, b = _local_linear(u, m, o, sc, _nearest_weights(m, o, sc, 0.3))
    est = _solve(a, b, use.astype(float))
    w = use.astype(float)
    width = settings.local_width
    near_u, near_m = [], []
    for r in range(settings.rounds):
        lo = np.clip(est - width, 0.0, 1.0 - 2 * width)
        u = lo + _sobol(settings.local_points, p, f.design_seeds[1 + r]) * 2 * width
        m = np.where(use, f.design(u), 0.0)
        if r > 0 or settings.rounds == 1:  # the later rounds' points together: a steadier final Jacobian
            near_u.append(u)
            near_m.append(m)
            u, m = np.vstack(near_u), np.vstack(near_m)
        a, b = _local_linear(u, m, o, sc, np.ones(len(u)))
        est = _solve(a, b, w)
        width = max(width / 2, MIN_WIDTH)
        if r == 0:  # the data's noise at the first local estimate: weights of the later rounds and the sandwich
            rep = np.where(use, f.replicates(est), 0.0)
            cov_m, w = _moment_weights(obs, rep, sc)
    rep = np.where(use, f.replicates(est), 0.0)  # again at the estimate: the covariance of the sandwich
    f.bar.close()
    cov_m, w = _moment_weights(obs, rep, sc)
    est = _solve(a, b, w)
    cov_u = sandwich(_local_linear(u, m, o, sc, np.ones(len(u)), significant=True)[1], w, cov_m, settings.seeds)
    fitted = pd.Series(np.where(use, obs + sc * (a + b @ est), np.nan), index=list(MOMENTS))
    return _result(latents, est, cov_u, obs, fitted, settings, seed)


def _result(latents: list[Latent], est: np.ndarray, cov_u: np.ndarray, obs: np.ndarray, fitted: pd.Series,
            settings: FitSettings, seed: int) -> LatentFit:  # fmt: skip
    se = np.sqrt(np.clip(np.diag(cov_u), 0.0, None))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    draws_u = np.clip(rng.multivariate_normal(est, cov_u, size=settings.draws, method="eigh"), 0.0, 1.0)
    estimates, notes = [], []
    for i, lat in enumerate(latents):
        lo_u, hi_u = max(est[i] - Z90 * se[i], 0.0), min(est[i] + Z90 * se[i], 1.0)
        ratio = hi_u - lo_u
        ok = bool(np.isfinite(ratio) and ratio <= IDENTIFIED_RATIO)
        status = "fitted" if ok else "not identified"
        note = f"90 % interval spans {ratio:.0%} of the prior range [{lat.low:.4g}, {lat.high:.4g}]"
        if not ok:
            notes.append(f"{lat.field}: not identified by this data ({note})")
        src = f"simulated moments ({lat.informed_by}); {settings.runs()} runs, {settings.seeds} common seed(s)"
        estimates.append(Estimate(lat.field, float(lat.value(est[i])), float(lat.value(lo_u)),
                                  float(lat.value(hi_u)), "", src, lat.field, status, note))  # fmt: skip
    draws = pd.DataFrame({lat.field: lat.value(draws_u[:, i]) for i, lat in enumerate(latents)})
    return LatentFit(estimates=estimates, draws=draws, observed=pd.Series(obs, index=list(MOMENTS)),
                     fitted=fitted, u=est, cov=cov_u, runs=settings.runs(), notes=notes)  # fmt: skip


__all__ = [
    "IDENTIFIED_RATIO",
    "FitSettings",
    "LatentFit",
    "Latent",
    "Target",
    "default_latents",
    "fit_latent",
    "latent_overrides",
    "sandwich",
    "simulate_moments",
]
