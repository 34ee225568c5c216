"""The firm's own history of team size and lead volume, learned from its CRM data and written as step plans, so the
fit (and the backtest) run with the team and volume the firm had instead of absorbing their changes into wrong
latent parameters.

**Team** (`team_history`): `sales.headcount_plan` steps from the owners active per full month
(`CrmData.team_by_month`). An owner counts as active from their first to their last record, so a count already
ignores months without records in between; what remains noisy are the edges (an owner whose first record comes a
few weeks after day 0, or whose last falls just before the final month). So a change becomes a step only when the
new count holds at least `PERSIST_MONTHS` full months; a one-month blip is ignored. `sales.reps` is the team at
the start.

**Lead volume** (`volume_steps`, `budget_plan`): the model makes leads from the market and the marketing budget, so
the budget is the knob. The observed monthly leads are compared with the model's own monthly profile at one level
(a reference run with the team plan: it has the model's empty-pipeline start and the base's seasonality, which a
trend-plus-season fit of the data would mistake for a change of volume). Binary segmentation finds the months where
the level steps (a Poisson likelihood ratio, scaled by the over-dispersion, above a Bonferroni threshold over the
candidate months, a step of at least `MIN_STEP` and segments of at least `PERSIST_MONTHS`); without a significant
step nothing is planned and the smooth fit stands. Each step becomes a budget step found with a pilot of budget
multipliers (`PILOT_MULTIPLIERS`, common seeds), placed up to `MAX_LEAD_MONTHS` earlier than the observed step
because leads lag the spend in the model.

The backtest's known inputs (`headcount_plan`, `lead_volume_plan`: one step per holdout month) use the same pilot."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simfunnel.calibrate.compare import HistorySpec, history_task, run_tasks
from simfunnel.data import CrmData
from simfunnel.model.plans import budget_steps, plan_value

PILOT_MULTIPLIERS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
"""Budget multipliers (of the budget in force) the lead-volume pilot simulates."""
PILOT_SEEDS = 2
REFERENCE_SEEDS = 4
"""Seeds of the reference profile the observed lead volume is tested against (its noise adds to the data's)."""
MONTH_DAYS = 365.0 / 12
PERSIST_MONTHS = 2
"""A team count or lead level must hold this many full months to become a step."""
MIN_STEP = 0.15
"""Smallest lead-volume step written (a relative change of the level)."""
SIGNIFICANCE = 0.01
"""Level of the step test of the lead volume (Bonferroni over the candidate months)."""
MAX_LEAD_MONTHS = 3
"""A budget step is placed up to this many months before the observed volume step (leads lag the spend)."""
MAX_STEPS = 4


def month_start(when: object) -> pd.Timestamp:
    """The first day of `when`'s month if it is one, else of the next month (plans and cuts step at month starts)."""
    t = pd.Timestamp(when)
    m = t.to_period("M").to_timestamp()
    return m if t == m else (t.to_period("M") + 1).to_timestamp()


def plan_day(start: pd.Timestamp, when: pd.Timestamp) -> float:
    """Day of the horizon of `when` (day 0 = `start`)."""
    return float((when - start) / pd.Timedelta(days=1))


def full_months(start: pd.Timestamp, export_date: pd.Timestamp) -> list[pd.Timestamp]:
    """The months from `start` to the export date with at least 90 % of their days observed."""
    months = []
    m = month_start(start)
    while m < export_date:
        nxt = (m.to_period("M") + 1).to_timestamp()
        if (min(nxt, export_date) - m) / (nxt - m) >= 0.9:
            months.append(m)
        m = nxt
    return months


def monthly_leads(crm: CrmData, months: list[pd.Timestamp]) -> np.ndarray:
    """Leads created per month in `months`."""
    m = crm.leads["created"].dt.to_period("M").dt.to_timestamp().value_counts()
    return m.reindex(pd.DatetimeIndex(months), fill_value=0).to_numpy(float)


def headcount_plan(crm: CrmData, start: pd.Timestamp, months: list[pd.Timestamp]) -> list[dict]:
    """`sales.headcount_plan` steps: at each of `months`, the owners the data show active that month."""
    team = crm.team_by_month.set_index("month")["active_owners"]
    return [{"day": plan_day(start, m), "reps": max(1, int(team.get(m, team.iloc[-1])))} for m in months]


def persistent_levels(values: list[int], persist: int = PERSIST_MONTHS) -> list[int]:
    """`values` with every run of equal values shorter than `persist` replaced by the level of the last longer run
    before it (the first longer run after it for a short run at the start): what is left changed persistently."""
    runs: list[list[int]] = []
    for v in values:
        if runs and runs[-1][0] == v:
            runs[-1][1] += 1
        else:
            runs.append([v, 1])
    if not runs:
        return []
    kept = [r[1] >= persist for r in runs]
    if not any(kept):
        kept[max(range(len(runs)), key=lambda i: runs[i][1])] = True
    first = runs[kept.index(True)][0]
    out: list[int] = []
    level = first
    for (v, n), keep in zip(runs, kept, strict=True):
        level = v if keep else level
        out += [level] * n
    return out


def team_history(crm: CrmData, start: pd.Timestamp) -> tuple[int, list[dict]]:
    """The team at the start and the `sales.headcount_plan` steps where it changed persistently (module docstring);
    (0, []) without owners."""
    months = full_months(start, crm.export_date)
    team = crm.team_by_month.set_index("month")["active_owners"]
    counts = [int(team.get(m, 0)) for m in months]
    if not counts or max(counts) <= 0:
        return 0, []
    levels = persistent_levels([max(c, 1) for c in counts])
    steps = [{"day": plan_day(start, m), "reps": int(v)} for m, v, prev in
             zip(months[1:], levels[1:], levels[:-1], strict=True) if v != prev]  # fmt: skip
    return int(levels[0]), steps


# ----------------------------------------------------------------------------------------------- volume steps
@dataclass(frozen=True)
class VolumeStep:
    """A step of the lead volume: from `month` on the level is `ratio` x the level before it; `statistic` the
    over-dispersion-scaled likelihood ratio, `threshold` what it had to exceed."""

    month: pd.Timestamp
    ratio: float
    statistic: float
    threshold: float


def _segment_ll(n: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray]:
    c = max(n.sum(), 1e-9) / max(s.sum(), 1e-9)
    mu = np.maximum(c * s, 1e-9)
    return float(np.sum(n * np.log(mu) - mu)), mu


def _fit(n: np.ndarray, s: np.ndarray, cuts: list[int]) -> tuple[float, np.ndarray]:
    edges = [0, *sorted(cuts), len(n)]
    ll, mu = 0.0, np.zeros(len(n))
    for a, b in zip(edges, edges[1:], strict=False):
        one, mu[a:b] = _segment_ll(n[a:b], s[a:b])
        ll += one
    return ll, mu


def volume_steps(observed: np.ndarray, reference: np.ndarray, months: list[pd.Timestamp]) -> list[VolumeStep]:
    """Months where the observed monthly leads step away from the reference profile (binary segmentation, module
    docstring); empty when no step is significant."""
    from scipy.stats import chi2

    n, s = np.asarray(observed, float), np.maximum(np.asarray(reference, float), 0.5)
    cuts: list[int] = []
    found: list[VolumeStep] = []
    while len(cuts) < MAX_STEPS:
        ll0, _ = _fit(n, s, cuts)
        edges = [0, *sorted(cuts), len(n)]
        cands = [i for a, b in zip(edges, edges[1:], strict=False)
                 for i in range(a + PERSIST_MONTHS, b - PERSIST_MONTHS + 1)]  # fmt: skip
        if not cands:
            break
        threshold = float(chi2.isf(SIGNIFICANCE / len(cands), 1))
        best = None
        for i in cands:
            ll1, mu = _fit(n, s, [*cuts, i])
            dof = max(len(n) - len(cuts) - 2, 1)
            phi = max(1.0, float(np.sum((n - mu) ** 2 / mu)) / dof)
            stat = 2 * (ll1 - ll0) / phi
            if best is None or stat > best[0]:
                best = (stat, i, mu)
        stat, i, mu = best
        ratio = (mu[i] / s[i]) / (mu[i - 1] / s[i - 1])
        if stat <= threshold or abs(math.log(max(ratio, 1e-9))) < math.log1p(MIN_STEP):
            break
        cuts.append(i)
        found.append(VolumeStep(months[i], float(ratio), float(stat), threshold))
    found.sort(key=lambda v: v.month)
    _, mu = _fit(n, s, cuts)  # the ratios of the final segmentation
    level = mu / s
    return [VolumeStep(v.month, float(level[months.index(v.month)] / level[months.index(v.month) - 1]),
                       v.statistic, v.threshold) for v in found]  # fmt: skip


# ----------------------------------------------------------------------------------------------- the budget pilot
def budget_in_force(scenario: object, day: float) -> float:
    """The marketing budget per year in force on `day` of the horizon (the plan's last step at or before it)."""
    mk = scenario.marketing  # type: ignore[attr-defined]
    return float(plan_value(budget_steps(mk), mk.budget_per_year, day))


def budget_pilot(spec: HistorySpec, extra: dict[str, object], earlier: list[dict], day: float,
                 months: list[pd.Timestamp], *, seed: int, workers: int, progress: bool | None,
                 desc: str = "lead volume pilot", multipliers: tuple[float, ...] = PILOT_MULTIPLIERS,
                 seeds: int = PILOT_SEEDS) -> np.ndarray:  # fmt: skip
    """Simulated leads per month in `months` (multipliers x months, mean over `seeds` common seeds) with the
    budget in force on `day` times each of `multipliers` from `day` on, after the `earlier` budget steps."""
    unit = budget_in_force(spec.scenario.with_overrides({"marketing.budget_plan": earlier}), day)
    common = np.random.SeedSequence(seed).spawn(seeds)
    tasks = []
    for k in multipliers:
        plan = [*earlier, {"day": day, "budget_per_year": float(unit * k)}]
        tasks += [(spec, {**extra, "marketing.budget_plan": plan}, s, None) for s in common]
    sims = run_tasks(history_task, tasks, workers, desc, progress)
    counts = np.array([monthly_leads(c, months) for c in sims])
    return counts.reshape(len(multipliers), seeds, len(months)).mean(axis=1)


def _interp_volume(volume: np.ndarray, logk: float) -> np.ndarray:
    """The pilot's monthly volume at multiplier exp(logk), interpolated in log volume between the multipliers."""
    lk = np.log(PILOT_MULTIPLIERS)
    lv = np.log(np.maximum(volume, 1e-9))
    return np.exp(np.array([np.interp(logk, lk, lv[:, j]) for j in range(volume.shape[1])]))


def _best_step(volume: np.ndarray, n: np.ndarray, offset: int, shift_max: int) -> tuple[int, float]:
    """The budget step - `shift` months before the observed step, log multiplier - that best fits the observed
    months `n` (Poisson deviance). `volume`: the pilot over the same months with its step at position `offset`
    (= `shift_max` months before the observed step); a later step is the pilot's response moved later (the response
    to a step does not depend on when it is made), scaled to the observed level of the months before it."""
    base = volume[list(PILOT_MULTIPLIERS).index(1.0)]
    scale = n[:offset].sum() / max(base[:offset].sum(), 1e-9)
    grid = np.linspace(math.log(PILOT_MULTIPLIERS[0]), math.log(PILOT_MULTIPLIERS[-1]), 121)
    ratios = [(_interp_volume(volume, lk) / np.maximum(base, 1e-9))[offset:] for lk in grid]
    best = (math.inf, 0, 0.0)
    for shift in range(shift_max + 1):
        lag = shift_max - shift
        for lk, ratio in zip(grid, ratios, strict=True):
            resp = np.ones(len(n))
            resp[offset + lag :] = ratio[: len(ratio) - lag]
            mu = np.maximum(scale * base * resp, 1e-9)
            dev = float(np.sum(mu - n * np.log(mu)))
            if dev < best[0]:
                best = (dev, shift, float(lk))
    return best[1], best[2]


@dataclass
class History:
    """The learned history: the team at the start (`reps`, 0 when unknown), `headcount_plan` and `budget_plan`
    steps (plan dicts), the lead-volume steps found, what each came from, notes, and the simulation runs made."""

    reps: int
    headcount_plan: list[dict]
    budget_plan: list[dict]
    volume: list[VolumeStep] = field(default_factory=list)
    team_source: str = ""
    volume_source: str = ""
    notes: list[str] = field(default_factory=list)
    runs: int = 0

    def overrides(self) -> dict[str, object]:
        """The scenario overrides: start team, plans (only those learned)."""
        out: dict[str, object] = {}
        if self.reps > 0:
            out["sales.reps"] = self.reps
        if self.headcount_plan:
            out["sales.headcount_plan"] = self.headcount_plan
        if self.budget_plan:
            out["marketing.budget_plan"] = self.budget_plan
        return out


def budget_plan(spec: HistorySpec, crm: CrmData, extra: dict[str, object], *, seed: int, workers: int,
                progress: bool | None) -> tuple[list[dict], list[VolumeStep], list[str]]:  # fmt: skip
    """`marketing.budget_plan` steps reproducing the observed steps of the lead volume (module docstring); the steps
    found; notes. One reference run of the pilot and one pilot per step found."""
    months = full_months(spec.start, crm.export_date)
    n = monthly_leads(crm, months)
    if len(months) < 2 * PERSIST_MONTHS + 1:
        return [], [], []
    first = budget_pilot(spec, extra, [], 0.0, months, seed=seed, workers=workers, progress=progress,
                         desc="lead volume reference", multipliers=(1.0,), seeds=REFERENCE_SEEDS)  # fmt: skip
    found = volume_steps(n, first[0], months)
    plan: list[dict] = []
    notes: list[str] = []
    for j, step in enumerate(found):
        i = months.index(step.month)
        prev = months.index(found[j - 1].month) if j > 0 else 0
        stop = months.index(found[j + 1].month) if j + 1 < len(found) else len(months)
        shift_max = min(MAX_LEAD_MONTHS, i - prev - 1)
        window = months[prev:stop]
        offset = i - shift_max - prev
        day = plan_day(spec.start, window[offset])
        vol = budget_pilot(spec, extra, plan, day, window, seed=seed + 1 + j, workers=workers, progress=progress)
        shift, lk = _best_step(vol, n[prev:stop], offset, shift_max)
        unit = budget_in_force(spec.scenario.with_overrides({"marketing.budget_plan": plan}), day)
        plan.append(
            {"day": plan_day(spec.start, months[i - shift]), "budget_per_year": float(f"{unit * math.exp(lk):.4g}")}
        )
        if not math.log(PILOT_MULTIPLIERS[0]) + 1e-9 < lk < math.log(PILOT_MULTIPLIERS[-1]) - 1e-9:
            notes.append(f"the lead volume step of {step.month:%Y-%m} ({step.ratio:.2f} x) is beyond what "
                         f"{PILOT_MULTIPLIERS[0]:g} to {PILOT_MULTIPLIERS[-1]:g} x the budget gives in the model: "
                         "capped")  # fmt: skip
    return plan, found, notes


def _files(crm: CrmData, *keys: str) -> str:
    names = [str(crm.files.get(k, "")).replace("\\", "/").rsplit("/", 1)[-1] for k in keys]
    return ", ".join(n for n in names if n) or "the data"


def learn_history(crm: CrmData, scenario: object, start: pd.Timestamp, *, seed: int = 0, workers: int = 1,
                  progress: bool | None = None) -> History:  # fmt: skip
    """The team and lead-volume history of `crm` as plans for `scenario` (module docstring). A plan the scenario
    already has (the user's own) is kept and not learned; a team of SDR/AE roles gets no headcount plan."""
    notes: list[str] = []
    sales, mk = scenario.sales, scenario.marketing  # type: ignore[attr-defined]
    reps, steps = team_history(crm, start)
    who = _files(crm, "activities") if crm.activities is not None else _files(crm, "leads", "deals")
    team_source = f"owners active per full month in {who} (a change kept when it held {PERSIST_MONTHS}+ months)"
    if sales.roles is not None:
        reps, steps = 0, []
        notes.append("the base has sales.roles (SDR and AE pools): the team history is not learned; set each "
                     "pool's headcount_plan by hand")  # fmt: skip
    elif sales.headcount_plan:
        reps, steps = 0, []
        notes.append("the base has its own sales.headcount_plan: kept, the team history is not learned")
    elif reps <= 0:
        notes.append("no owners in the data: the team history is not learned")
    extra: dict[str, object] = {}
    if reps > 0:
        extra = {"sales.reps": reps, "sales.headcount_plan": steps}
    budget: list[dict] = []
    volume: list[VolumeStep] = []
    runs = 0
    if mk.budget_plan:
        notes.append("the base has its own marketing.budget_plan: kept, the lead-volume history is not learned")
    else:
        spec = HistorySpec(scenario.with_overrides(extra), start, crm.export_date)  # type: ignore[attr-defined]
        budget, volume, more = budget_plan(spec, crm, extra, seed=seed, workers=workers, progress=progress)
        notes += more
        runs = REFERENCE_SEEDS + len(volume) * len(PILOT_MULTIPLIERS) * PILOT_SEEDS
    src = (f"leads per full month in {_files(crm, 'leads')} against the model's own monthly profile (a step kept "
           f"when significant at {SIGNIFICANCE:.0%} and at least {MIN_STEP:.0%}); budget steps found by a pilot")  # fmt: skip
    return History(reps=reps, headcount_plan=steps, budget_plan=budget, volume=volume, team_source=team_source,
                   volume_source=src, notes=notes, runs=runs)  # fmt: skip


__all__ = [
    "MAX_LEAD_MONTHS",
    "MIN_STEP",
    "MONTH_DAYS",
    "PERSIST_MONTHS",
    "PILOT_MULTIPLIERS",
    "PILOT_SEEDS",
    "REFERENCE_SEEDS",
    "History",
    "VolumeStep",
    "budget_in_force",
    "budget_pilot",
    "budget_plan",
    "full_months",
    "headcount_plan",
    "learn_history",
    "month_start",
    "monthly_leads",
    "persistent_levels",
    "plan_day",
    "team_history",
    "volume_steps",
]
