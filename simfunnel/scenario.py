"""Scenario schema (pydantic v2, frozen, unknown keys refused), TOML loading with `extends`, dotted overrides.

Units: time in days unless a field name says hours; money in one currency; `_per_year` means per 365 days.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, ConfigDict, Field, ValidationError, model_validator

from simfunnel.distributions import (
    Distribution,
    Exponential,
    Fixed,
    FrozenModel,
    LogNormal,
)
from simfunnel.errors import FieldValueError, ScenarioError
from simfunnel.plausibility import PlausibilityWarning, check_plausibility
from simfunnel.presets import resolve
from simfunnel.schema.calendar import Calendar
from simfunnel.schema.context import Context
from simfunnel.schema.interactions import check_interactions
from simfunnel.schema.messages import as_scenario_error, did_you_mean
from simfunnel.schema.roles import Roles
from simfunnel.schema.scoring import Scoring
from simfunnel.schema.team import BudgetStep, Staffing, check_plan
from simfunnel.schema.uncertainty import UncertainInput, check_uncertainty

__all__ = ["LEVERS", "PlausibilityWarning", "Scenario", "ScenarioError", "deep_merge", "load_scenario",
           "did_you_mean", "extends_chain", "extends_files", "parse_override"]  # fmt: skip

NON_CHANNEL_SHARES = ("nurture", "retention", "training")
MAX_EXPECTED_BUYERS = 5_000_000

FloatOrInf = Annotated[float, AllowInfNan(True)]
"""A float where ``inf`` has a documented meaning ('never', 'no SLA'); NaN is still refused by the field's bound."""


class _Section(FrozenModel):
    """A scenario section: frozen, hashable, unknown keys, NaN, inf and bool/string coercion refused."""


class Simulation(_Section):
    """How long to simulate and how finely the market source batches arrivals."""

    horizon_days: float = Field(
        730.0, gt=0, le=36_500, description="Measured time span in days: what every KPI, table and figure covers."
    )
    warmup_days: float = Field(
        0.0, ge=0, le=3650, multiple_of=7, description="Whole weeks simulated before the horizon and left out of "
        "every KPI (start-up transient: the run starts with an empty pipeline); 0 = none."
    )  # fmt: skip
    cohort_days: float = Field(
        1.0, gt=0, le=30, description="Arrivals are evaluated by marketing in cohorts of this many days."
    )


class HillCurve(_Section):
    """Saturating response f(x) = max * x^S / (K^S + x^S) (Jin et al. 2017, Google MMM)."""

    max_effect: float = Field(ge=0, description="Effect reached at infinite spend (a probability or a lift).")
    half_saturation: float = Field(gt=0, description="Spend (currency/year) at which half the max effect is reached.")
    shape: float = Field(1.0, gt=0, le=10, description="Hill slope S; >1 is S-shaped, <=1 concave.")

    def __call__(self, spend: float) -> float:
        if spend <= 0:
            return 0.0
        xs = spend**self.shape
        return self.max_effect * xs / (self.half_saturation**self.shape + xs)


class Market(_Section):
    """In-market buyers: arrivals, purchase process length, deal value, fit and when they become sales-ready."""

    buyers_per_year: float = Field(gt=0, description="Poisson rate of buyers entering the market (need trigger).")
    seasonality_amplitude: float = Field(0.0, ge=0, lt=1, description="Relative swing of the arrival rate over a year.")
    seasonality_peak_day: float = Field(
        0.0, ge=0, lt=365, description="Day of year with the highest arrival rate (day 0: start of the horizon)."
    )
    process_days: Distribution = Field(
        description="Purchase process length: need trigger -> decision deadline, in days."
    )
    value: Distribution = Field(description="Deal value of a first purchase, currency.")
    fit_alpha: float = Field(2.0, gt=0, description="Beta(alpha, beta) distribution of buyer fit in 0..1.")
    fit_beta: float = Field(2.0, gt=0, description="Beta(alpha, beta) distribution of buyer fit in 0..1.")
    intent_alpha: float = Field(2.0, gt=0, description="Beta(alpha, beta) of buyer intent in 0..1 (scored, wins).")
    intent_beta: float = Field(2.0, gt=0, description="Beta(alpha, beta) of buyer intent in 0..1 (scored, wins).")
    ready_at: float = Field(
        0.57,
        gt=0,
        lt=1,
        description="Readiness (share of the decision made) at which a buyer becomes sales-ready; "
        "HBR 2015 'Making the Consensus Sale': 57 % through before engaging a rep.",
    )
    return_when_ready: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance that a buyer whom sales dropped as too early comes back by itself once sales-ready.",
    )
    competitor_commit_days: Distribution = Field(
        default_factory=lambda: Exponential(mean=30.0),
        description="Days after becoming sales-ready until an uncontacted buyer commits to a competitor.",
    )


class Channel(_Section):
    """An acquisition channel: saturating reach in spend, and how engaged the buyers it reaches become."""

    reach: HillCurve = Field(description="Share of in-market buyers reached, as a function of channel spend/year.")
    quality: float = Field(1.0, gt=0, le=3, description="Lead-quality factor: multiplies known and hand-raise rates.")


class Nurture(_Section):
    """Nurture programme: spend raises known buyers' readiness and preference."""

    lift: HillCurve = Field(description="Readiness/preference lift as a function of nurture spend/year.")


class SpeedToLead(_Section):
    """Chance a hand-raiser is still engaged after a response delay d (wall-clock hours):
    floor + (1 - floor) * exp(-d / decay_hours). Derived from HBR 2011 (see docs in scenarios/base.toml)."""

    decay_hours: float = Field(0.487, gt=0, description="e-folding time of engagement, hours.")
    floor: float = Field(0.0071, ge=0, le=1, description="Engagement that never decays (share).")

    def engaged(self, delay_hours: float) -> float:
        return self.floor + (1.0 - self.floor) * math.exp(-delay_hours / self.decay_hours)


class Marketing(_Section):
    """One annual budget split over channels, nurture, retention and training; the funnel before sales."""

    budget_per_year: float = Field(ge=0, description="Total marketing budget, currency/year.")
    budget_plan: tuple[BudgetStep, ...] = Field(
        (), description="Budget steps {day, budget_per_year}; before the first, budget_per_year (empty: constant)."
    )
    shares: dict[str, float] = Field(
        description="Budget shares by channel name and 'nurture', 'retention', 'training'; sum to 1."
    )
    channels: dict[str, Channel] = Field(min_length=1, description="Acquisition channels by name.")
    acquisition_stop_day: FloatOrInf = Field(
        math.inf,
        ge=0,
        description="Day of the horizon (after any warm-up) from which acquisition channel spend stops (inf = never).",
    )
    engage_delay_days: Distribution = Field(
        default_factory=lambda: Exponential(mean=14.0), description="Days from need trigger to engagement."
    )
    known_rate: float = Field(
        0.4, ge=0, le=1, description="Share of engaged buyers who become known (anonymous -> known)."
    )
    hand_raise_rate: float = Field(
        0.1, ge=0, le=1, description="Share of known buyers who request a demo themselves when sales-ready."
    )
    hand_raise_office_hours: float = Field(
        0.75,
        ge=0,
        le=1,
        description="Share of demo requests made during the reps' working hours (the rest at any time).",
    )
    nurture: Nurture
    scoring: Scoring = Field(default_factory=Scoring)
    speed_to_lead: SpeedToLead = Field(default_factory=SpeedToLead)
    rebalance_days: float = Field(
        91.0, gt=0, description="How often the channel mix is re-weighted from logged CRM outcomes."
    )
    mix_learning_rate: float = Field(
        0.3, ge=0, le=1, description="Share of the channel mix moved toward logged revenue per spend at each rebalance."
    )

    @model_validator(mode="after")
    def _shares_match_channels(self) -> Marketing:
        check_plan(self.budget_plan, "budget_plan")
        expected = set(self.channels) | set(NON_CHANNEL_SHARES)
        missing = sorted(expected - set(self.shares))
        unknown = sorted(set(self.shares) - expected)
        if unknown:
            raise FieldValueError(
                "shares",
                f"unknown key(s) {unknown}; allowed: channel names {sorted(self.channels)} "
                f"and {list(NON_CHANNEL_SHARES)}",
            )
        if missing:
            raise FieldValueError(
                "shares", f"missing {missing}; give every channel and {list(NON_CHANNEL_SHARES)} a share"
            )
        bad = {k: v for k, v in self.shares.items() if not (0 <= v <= 1)}
        if bad:
            raise FieldValueError("shares", f"each share must be in [0, 1], got {bad}")
        total = sum(self.shares.values())
        if abs(total - 1.0) > 1e-6:
            raise FieldValueError("shares", f"shares must sum to 1, they sum to {total:.6g}")
        return self


class FollowUp(_Section):
    """The lead black hole (Sabnis et al. 2013): p = max_prob * trust^trust_weight / (1 + open leads per rep
    / desk_half); then tracking closes part of the gap: p + crm_logging * tracking_effect * (1 - p)."""

    max_prob: float = Field(0.95, ge=0, le=1, description="Follow-up chance with an empty desk and full trust.")
    desk_half: float = Field(
        20.0, gt=0, description="Open leads per rep at which the follow-up chance halves (lead volume)."
    )
    initial_trust: float = Field(0.5, ge=0, le=1, description="Reps' initial trust in marketing leads.")
    trust_weight: float = Field(1.0, ge=0, le=5, description="How strongly trust drives follow-up.")
    tracking_effect: float = Field(
        0.5, ge=0, le=1, description="Share of the follow-up gap closed when every lead is logged and tracked."
    )
    trust_memory: float = Field(
        50.0, gt=0, description="Leads over which trust averages the share of contacted leads that were ready."
    )


class WinModel(_Section):
    """Logit of winning = intercept + fit*fit + readiness*(readiness - ready_at) + context*[context known]
    + skill*training uplift + time_left*(share of process left) + preference*nurture lift
    + intent*(intent - mean intent). The context term counts for a buyer who stated a timeline."""

    intercept: float = -1.5
    fit: float = 2.0
    readiness: float = 2.0
    context: float = 0.5
    skill: float = 1.0
    time_left: float = 1.0
    preference: float = 1.0
    intent: float = Field(2.0, description="Logit per unit of buyer intent (centred on the market's mean intent).")


class Sales(_Section, Staffing):
    """The rep pool, its calendar and queue, activity durations (hours) and the deal model."""

    reps: int = Field(ge=1, le=10_000, description="Number of sales reps.")
    rep_cost_per_year: float = Field(ge=0, description="Fully loaded cost per rep, currency/year.")
    calendar: Calendar = Field(default_factory=Calendar)
    first_contact_hours: Distribution = Field(default_factory=lambda: Fixed(value=0.5))
    qualification_hours: Distribution = Field(default_factory=lambda: Fixed(value=1.0))
    meetings: int = Field(2, ge=0, le=50, description="Meetings in a sales cycle after qualification.")
    meeting_hours: Distribution = Field(default_factory=lambda: Fixed(value=1.5))
    meeting_gap_days: Distribution = Field(
        default_factory=lambda: Exponential(mean=7.0), description="Buyer's thinking time between sales steps."
    )
    proposal_hours: Distribution = Field(default_factory=lambda: Fixed(value=2.0))
    checkin_hours: Distribution = Field(default_factory=lambda: Fixed(value=0.5))
    checkin_delay_days: float = Field(30.0, ge=0, description="Days after a sale when the rep checks in.")
    follow_up: FollowUp = Field(default_factory=FollowUp)
    win: WinModel = Field(default_factory=WinModel)
    training: HillCurve = Field(
        default_factory=lambda: HillCurve(max_effect=1.0, half_saturation=5_000.0),
        description="Skill uplift (logit units) as a function of training spend per rep per year.",
    )
    roles: Roles | None = Field(None, description="SDR and account-executive pools (none: one pool of reps).")
    deal_ownership: bool = Field(False, description="A deal's later steps wait for the rep who took its first step.")

    @model_validator(mode="after")
    def _roles_own_staffing(self) -> Sales:
        changed = [f for f, info in Staffing.model_fields.items() if getattr(self, f) != info.default]
        if self.roles is not None and changed:
            raise FieldValueError(
                "roles", f"with roles each pool has its own staffing fields; set them in sales.roles.sdr/ae: {changed}"
            )
        return self


class Retention(_Section):
    """After a purchase: next need, coming back to us or churning, referrals."""

    repurchase_days: Distribution = Field(
        default_factory=lambda: LogNormal(mean=365.0, sd=90.0), description="Days from a purchase to the next need."
    )
    repeat_value_fraction: float = Field(0.5, ge=0, le=10, description="Repeat purchase value / first deal value.")
    base_repeat_prob: float = Field(
        0.4, ge=0, le=1, description="Chance a customer buys again from us with no programme."
    )
    marketing: HillCurve = Field(
        default_factory=lambda: HillCurve(max_effect=0.2, half_saturation=50.0),
        description="Repeat-probability lift from retention spend per customer per year.",
    )
    followup_lift: float = Field(0.15, ge=0, le=1, description="Repeat-probability lift from a rep check-in.")
    referral_prob: float = Field(0.05, ge=0, le=1, description="Chance a purchase yields a referral.")
    referral_followup_lift: float = Field(0.1, ge=0, le=1, description="Chance that a rep check-in yields a referral.")
    initial_customers: int = Field(0, ge=0, le=2_000_000, description="Customers at day 0 (their next need is spread).")
    initial_customer_value: float = Field(0.0, ge=0, description="Typical first-deal value of an initial customer.")


class Money(_Section):
    gross_margin: float = Field(0.6, gt=0, le=1, description="Gross margin on revenue.")


class Organisation(_Section):
    """The alignment levers (docs/pages/model.md#organisation-levers), each its own field: switched one at a time."""

    mql_threshold: float = Field(ge=0, le=1, description="Lead score needed for an MQL.")
    handoff: Literal["batch", "realtime"] = Field(
        description="MQLs go to sales on a list every batch_interval_days, or in real time."
    )
    batch_interval_days: float = Field(7.0, gt=0, le=365, description="Days between batch handoffs.")
    pass_context: bool = Field(
        description="The buyer's stated timeline (an estimate, see [context]) passed to the rep at handoff."
    )
    response_sla_hours: FloatOrInf = Field(
        description="Response target for hand-raisers and referrals, working hours (inf = no SLA): routed in real "
        "time, always followed up, the call planned within the SLA and served first when its deadline comes."
    )
    queue_policy: Literal["fifo", "deadline", "score"] = Field(description="Order in which reps work their queue.")
    too_early: Literal["drop", "recycle"] = Field(description="What happens to a lead contacted before it is ready.")
    crm_logging: float = Field(ge=0, le=1, description="Share of outcomes reps log in the CRM (feeds learning).")
    rep_training: bool = Field(description="Marketing trains reps (spends the training share).")
    post_sale_followup: bool = Field(description="Reps check in after each sale.")

    @model_validator(mode="after")
    def _sla_positive(self) -> Organisation:
        if not self.response_sla_hours > 0:
            raise FieldValueError(
                "response_sla_hours", f"must be > 0 working hours (use inf for no SLA), got {self.response_sla_hours}"
            )
        return self


LEVERS = tuple(f for f in Organisation.model_fields if f != "batch_interval_days")
"""Names of the organisation levers (fields of `Scenario.organisation`)."""


class Scenario(FrozenModel):
    """A complete, validated, immutable (frozen, hashable, comparable) scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field("scenario", description="Short name shown in tables and figures.")
    description: str = ""
    simulation: Simulation = Field(default_factory=Simulation)
    market: Market
    marketing: Marketing
    sales: Sales
    retention: Retention = Field(default_factory=Retention)
    money: Money = Field(default_factory=Money)
    organisation: Organisation
    context: Context = Field(default_factory=Context)
    uncertainty: dict[str, UncertainInput] = Field(
        default_factory=dict, description="Uncertain inputs by dotted field path; read only by explore."
    )

    @model_validator(mode="after")
    def _sizes(self) -> Scenario:
        expected = self.market.buyers_per_year * (self.simulation.warmup_days + self.simulation.horizon_days) / 365
        if expected > MAX_EXPECTED_BUYERS:
            raise FieldValueError(
                "market.buyers_per_year",
                f"market.buyers_per_year x (simulation.warmup_days + horizon_days)/365 = {expected:,.0f} buyers; "
                f"at most {MAX_EXPECTED_BUYERS:,} per run",
            )
        return self

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """A new scenario with dotted-path fields replaced, e.g. ``{"sales.reps": 12}``; validated again."""
        data = self.model_dump(by_alias=True)
        for key, value in overrides.items():
            _set_dotted(data, key, value, source="overrides")
        return _validate(data, source="overrides")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/TOML-able apart from inf) of every field, for caching and reports."""
        return self.model_dump(mode="json", by_alias=True)


# ----------------------------------------------------------------------------------------------- loading
def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read a scenario TOML file (following `extends`), apply dotted overrides and validate it.

    ``path`` is a file or a shipped preset, ``"preset:aligned"`` (`simfunnel.presets.list_presets()`).
    A valid value outside its field's plausible range (`simfunnel.plausibility`) emits a `PlausibilityWarning`
    naming the file, the field, the value and the range: a likely typo is flagged, never refused."""
    shown = str(path)  # as the user wrote it: 'preset:base' rather than the installed file
    path = resolve(path)
    data = _read_with_extends(path, chain=())
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, source=str(path))
    scenario = _validate(data, source=str(path))
    # at load time, not on every override: a sweep may change a distribution the table refers to
    check_uncertainty(scenario, source=str(path))
    check_plausibility(scenario.to_dict(), source=shown, stacklevel=2)
    check_interactions(scenario, source=shown, stacklevel=2)
    return scenario


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a CLI ``field.path=value``; the value is read as TOML (numbers, booleans, strings, inf, tables)."""
    if "=" not in text:
        raise ScenarioError("--set", text, "expected field.path=value, e.g. sales.reps=12")
    key, raw = text.split("=", 1)
    key = key.strip()
    raw = raw.strip()
    if not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError(
            "--set", text, "expected field.path=value with a non-empty dotted field, e.g. sales.reps=12"
        )
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError(str(path), "", "file not found")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), "", f"not a UTF-8 text file: {exc}") from None
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot be read: {exc.strerror or exc}") from None


def extends_files(path: str | Path, *, strict: bool = True) -> list[tuple[Path, dict[str, Any]]]:
    """A scenario file and the files it ``extends``, nearest first, each with its TOML table (``extends``
    removed): the one walk of the chain, used by `load_scenario` and by the report's parameter sources.
    ``strict``: refuse a cycle, an unreadable, empty or missing file with a `ScenarioError`; otherwise stop the
    chain at the first such file (what could be read is returned)."""
    current, files, seen = resolve(path), [], []
    while True:
        resolved = current.resolve()
        if resolved in seen:
            if not strict:
                return files
            cycle = " -> ".join(p.name for p in (*seen, resolved))
            raise ScenarioError(str(current), "extends", f"extends cycle: {cycle}")
        try:
            data = _read_toml(current)
        except ScenarioError:
            if strict:
                raise
            return files
        if not data and strict:
            only = "" if not current.read_bytes().strip() else " (it holds only comments)"
            raise ScenarioError(
                str(current),
                "",
                f"the file is empty{only}; a scenario needs [market], [marketing], [sales] and "
                '[organisation], or extends = "base.toml" to start from another scenario',
            )
        parent = data.pop("extends", None)
        files.append((current, data))
        seen.append(resolved)
        if parent is None or (not isinstance(parent, str) and not strict):
            return files
        if not isinstance(parent, str):
            raise ScenarioError(str(current), "extends", "must be a file name (string), relative to this file")
        parent_path = resolve(parent, relative_to=current.parent)  # a file next to this one, or preset:NAME
        if not parent_path.is_file():
            if not strict:
                return files
            raise ScenarioError(
                str(current), "extends", f"extended file {parent!r} not found (looked at {parent_path})"
            )
        current = parent_path


def extends_chain(path: str | Path, *, strict: bool = True) -> list[Path]:
    """The file and the files it ``extends``, nearest first (`extends_files` without the tables)."""
    return [p for p, _ in extends_files(path, strict=strict)]


def _read_with_extends(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The scenario table of ``path`` with its ``extends`` chain merged in (the nearest file wins)."""
    data: dict[str, Any] = {}
    for _, table in reversed(extends_files(path)):
        data = deep_merge(data, table) if data else table
    return data


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key (top wins); any other value in `top` replaces the base's.
    Distribution tables (with a ``kind``) are replaced whole, so a kind change drops the old parameters."""
    out = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "kind" not in value:
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            raise ScenarioError(source, ".".join(parts[:i]), "is not a table; cannot set a field inside it")
        node = node.setdefault(part, {})
    if not isinstance(node, dict):
        raise ScenarioError(source, ".".join(parts[:-1]), "is not a table; cannot set a field inside it")
    node[parts[-1]] = value


def _validate(data: dict[str, Any], source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise as_scenario_error(exc, source, root=Scenario) from None
