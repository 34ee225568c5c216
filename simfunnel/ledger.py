"""What happened to every buyer, every rep activity and every purchase: columnar, numpy-backed.

Buyers are rows of preallocated arrays (grown by a quarter when referrals add buyers); activities and
purchases are appended to flat Python lists and turned into arrays once, at the end of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simfunnel.errors import ConservationError

# Terminal states, in the order of docs/pages/model.md#terminal-states (code -> name).
TERMINAL_STATES = ("won", "never_reached", "dropped", "too_early", "too_late", "lost_to_competitor", "open")
WON, NEVER_REACHED, DROPPED, TOO_EARLY, TOO_LATE, LOST, OPEN = range(len(TERMINAL_STATES))
PENDING = -1
LOST_REASONS = TERMINAL_STATES[1:]

LEAD_KINDS = ("none", "mql", "hand_raiser", "referral", "returning")
NO_LEAD, MQL, HAND_RAISE, REFERRAL_LEAD, RETURNING = range(len(LEAD_KINDS))

INITIAL_BASE = -1
"""Channel code of the initial customer base (customers before day 0) in purchases; won buyers always have a
source channel >= 0 (a marketing channel, or the 'referral' source after the channels)."""

ACTIVITY_KINDS = ("contact", "sales_step", "checkin")
CONTACT, SALES_STEP, CHECKIN = range(len(ACTIVITY_KINDS))
NON_BUYER_ACTIVITIES = (CHECKIN,)
"""Rep activities that belong to no buyer (buyer -1): post-sale check-ins of customers. Every other rep hour is
a buyer's (its `rep_hours`)."""

NAN = math.nan

# Buyer columns and their dtypes. Times are days since the start; NaN = stage not reached.
BUYER_COLUMNS: dict[str, type | str] = {
    "arrival_day": float,
    "deadline_day": float,
    "ready_day": float,
    "commit_day": float,
    "value": float,
    "fit": float,
    "channel": np.int16,
    "engaged_day": float,
    "known_day": float,
    "nurture_lift": float,
    "lead_kind": np.int8,
    "lead_day": float,
    "lead_score": float,
    "handoff_day": float,
    "followed_up": np.int8,
    "callback_day": float,
    "queued_day": float,
    "first_contact_day": float,
    "contacts": np.int16,
    "returned": np.int8,
    "readiness_at_contact": float,
    "sql_day": float,
    "close_day": float,
    "terminal": np.int8,
    "terminal_day": float,
    "revenue": float,
    "rep_hours": float,
    "wasted_hours": float,
    "owner": np.int32,
}
ZERO_FILLED = ("revenue", "rep_hours", "wasted_hours")


class BuyerTable:
    """Preallocated columns, one row per in-market buyer."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.cols: dict[str, np.ndarray] = {}
        for name, dtype in BUYER_COLUMNS.items():
            self.cols[name] = self._empty(name, dtype, max(capacity, 16))

    @staticmethod
    def _empty(name: str, dtype: type | str, size: int) -> np.ndarray:
        if dtype is float:
            return np.full(size, 0.0 if name in ZERO_FILLED else NAN)
        fill = PENDING if name in ("terminal", "channel", "owner") else 0
        return np.full(size, fill, dtype=dtype)

    def reserve(self, extra: int) -> None:
        """Make room for `extra` more rows (25 % headroom, at least 64 rows), keeping the existing ones."""
        need = self.n + extra
        cap = len(self.cols["arrival_day"])
        if need <= cap:
            return
        new_cap = need + max(64, need // 4)  # referrals add few rows: doubling every column would waste memory
        for name, dtype in BUYER_COLUMNS.items():
            grown = self._empty(name, dtype, new_cap)
            grown[: self.n] = self.cols[name][: self.n]
            self.cols[name] = grown

    def trimmed(self) -> dict[str, np.ndarray]:
        """The filled part of every column (views)."""
        return {name: col[: self.n] for name, col in self.cols.items()}


@dataclass
class Ledger:
    """Everything a run recorded; `check()` proves nothing was lost. Times are days since the start of the run;
    the measured window is [`start`, `horizon`] (`start` = the warm-up, 0 without one). The ledger holds the whole
    run (conservation covers it); `simfunnel.metrics` counts the window only."""

    horizon: float
    buyers: BuyerTable
    channel_names: tuple[str, ...]
    start: float = 0.0
    # rep activities
    act_rep: list[int] = field(default_factory=list)
    act_start: list[float] = field(default_factory=list)
    act_end: list[float] = field(default_factory=list)
    act_hours: list[float] = field(default_factory=list)
    act_kind: list[int] = field(default_factory=list)
    act_buyer: list[int] = field(default_factory=list)
    # purchases (first and repeat)
    pur_day: list[float] = field(default_factory=list)
    pur_amount: list[float] = field(default_factory=list)
    pur_repeat: list[bool] = field(default_factory=list)
    pur_channel: list[int] = field(default_factory=list)
    # customers: start day, end day (churn; NaN while active), whether it reached a repurchase decision in the run
    cust_start: list[float] = field(default_factory=list)
    cust_end: list[float] = field(default_factory=list)
    cust_decided: list[bool] = field(default_factory=list)
    # every repurchase decision (customer index, day): which customers decided within a window
    decision_customer: list[int] = field(default_factory=list)
    decision_day: list[float] = field(default_factory=list)
    initial_customers: int = 0
    referrals: int = 0
    # money
    spend_by_item: dict[str, float] = field(default_factory=dict)
    spend_at_start: dict[str, float] = field(default_factory=dict)  # booked by `start` (empty: start 0)
    budget_expected: float = 0.0
    rep_cost: float = 0.0
    sim_events: int = 0
    # the team: per rep id, hire day, leaving day (NaN: still employed), skill (logit units)
    rep_hired: list[float] = field(default_factory=list)
    rep_left: list[float] = field(default_factory=list)
    rep_skill: list[float] = field(default_factory=list)
    rep_cost_rate: list[float] = field(default_factory=list)  # currency/year
    rep_role: list[int] = field(default_factory=list)  # code in simfunnel.model.team.ROLES
    staffing_varies: bool = False  # a changing headcount or role pools: costs and capacity follow the records

    def record_team(
        self,
        hired: list[float],
        left: list[float],
        skill: list[float],
        varies: bool,
        cost: list[float],
        role: list[int],
    ) -> None:
        """Keep the team's records (`simfunnel.model.team.Team`) for costs, capacity and `RunResult.reps`."""
        self.rep_hired, self.rep_left, self.rep_skill = list(hired), list(left), list(skill)
        self.rep_cost_rate, self.rep_role = list(cost), list(role)
        self.staffing_varies = varies

    def rep_cost_over(self, lo: float, hi: float) -> float:
        """The reps' cost over [lo, hi] from the records: each rep's cost rate x its days employed in it / 365."""
        return sum(self.rep_cost_rate[rep] * (b - a) for rep, a, b in self.rep_spans(lo, hi)) / 365.0

    def rep_spans(self, lo: float, hi: float) -> list[tuple[int, float, float]]:
        """(rep, from, to) of every rep employed for part of [lo, hi]: the overlap of its employment with it."""
        out = []
        for rep, (a, b) in enumerate(zip(self.rep_hired, self.rep_left, strict=True)):
            a, b = max(a, lo), min(hi if b != b else b, hi)
            if b > a:
                out.append((rep, a, b))
        return out

    def rep_days(self, lo: float, hi: float) -> float:
        """Rep-days employed in [lo, hi] (the headcount's integral over time)."""
        return sum(b - a for _, a, b in self.rep_spans(lo, hi))

    def activity(self, rep: int, start: float, end: float, hours: float, kind: int, buyer: int) -> None:
        """Log a finished rep activity."""
        self.act_rep.append(rep)
        self.act_start.append(start)
        self.act_end.append(end)
        self.act_hours.append(hours)
        self.act_kind.append(kind)
        self.act_buyer.append(buyer)

    def purchase(self, day: float, amount: float, repeat: bool, channel: int) -> None:
        self.pur_day.append(day)
        self.pur_amount.append(amount)
        self.pur_repeat.append(repeat)
        self.pur_channel.append(channel)

    def decided(self, customer: int, day: float) -> None:
        """Customer `customer` made a repurchase decision (buy again or churn) on `day`."""
        self.cust_decided[customer] = True
        self.decision_customer.append(customer)
        self.decision_day.append(day)

    def window_spend(self) -> dict[str, float]:
        """Marketing spend by item booked within the window [start, horizon]."""
        if not self.spend_at_start:
            return dict(self.spend_by_item)
        return {k: v - self.spend_at_start.get(k, 0.0) for k, v in self.spend_by_item.items()}

    def window_rep_cost(self) -> float:
        """The reps' cost over the window [start, horizon] (`rep_cost` is the whole run's)."""
        if self.staffing_varies:
            return self.rep_cost_over(self.start, self.horizon)
        if not self.start:
            return self.rep_cost
        return self.rep_cost * (self.horizon - self.start) / self.horizon

    def activities(self) -> dict[str, np.ndarray]:
        return {
            "rep": np.asarray(self.act_rep, dtype=np.int32),
            "start": np.asarray(self.act_start, dtype=float),
            "end": np.asarray(self.act_end, dtype=float),
            "hours": np.asarray(self.act_hours, dtype=float),
            "kind": np.asarray(self.act_kind, dtype=np.int8),
            "buyer": np.asarray(self.act_buyer, dtype=np.int64),
        }

    def purchases(self) -> dict[str, np.ndarray]:
        return {
            "day": np.asarray(self.pur_day, dtype=float),
            "amount": np.asarray(self.pur_amount, dtype=float),
            "repeat": np.asarray(self.pur_repeat, dtype=bool),
            "channel": np.asarray(self.pur_channel, dtype=np.int16),
        }

    def check(self) -> None:
        """Raise ConservationError if any buyer, customer or unit of money is unaccounted for."""
        b = self.buyers.trimmed()
        term = b["terminal"]
        if (term < 0).any() or (term >= len(TERMINAL_STATES)).any():
            bad = int(((term < 0) | (term >= len(TERMINAL_STATES))).sum())
            raise ConservationError(f"{bad} buyers have no terminal state")
        won = term == WON
        if (b["revenue"][~won] != 0).any() or not np.array_equal(b["revenue"][won], b["value"][won]):
            raise ConservationError("won buyers and booked first-purchase revenue disagree")
        stages = [
            ~np.isnan(b["engaged_day"]),
            ~np.isnan(b["known_day"]),
            ~np.isnan(b["lead_day"]),
            ~np.isnan(b["sql_day"]),
            won,
        ]
        for upper, lower in zip(stages, stages[1:], strict=False):
            if (lower & ~upper).any():
                raise ConservationError("a buyer reached a funnel stage without the one before it")
        first = self.purchases()
        new_rev = float(first["amount"][~first["repeat"]].sum())
        if not math.isclose(new_rev, float(b["revenue"].sum()), rel_tol=1e-9, abs_tol=1e-6):
            raise ConservationError(f"first-purchase revenue {new_rev} != per-buyer revenue {b['revenue'].sum()}")
        if int((~first["repeat"]).sum()) != int(won.sum()):
            raise ConservationError("number of first purchases != buyers won")
        ended = np.asarray(self.cust_end, dtype=float)
        if len(self.cust_start) != self.initial_customers + int(won.sum()):
            raise ConservationError("customers started != initial customers + buyers won")
        if (ended < np.asarray(self.cust_start)).any():
            raise ConservationError("a customer churned before it started")
        if (
            len(self.cust_decided) != len(self.cust_start)
            or (~np.isnan(ended) & ~np.asarray(self.cust_decided, dtype=bool)).any()
        ):
            raise ConservationError("a customer churned without a repurchase decision")
        if len(np.unique(np.asarray(self.decision_customer, dtype=np.int64))) != int(sum(self.cust_decided)):
            raise ConservationError("customers with a logged repurchase decision != customers who decided")
        if (b["channel"][won] < 0).any():
            raise ConservationError("a won buyer has no source channel (its purchases would count as the initial base)")
        spend = sum(self.spend_by_item.values())
        if not math.isclose(spend, self.budget_expected, rel_tol=1e-9, abs_tol=1e-6):
            raise ConservationError(f"marketing spend by item {spend:.2f} != budget spent {self.budget_expected:.2f}")
        acts = self.activities()
        if len(acts["start"]) and ((acts["end"] < acts["start"]).any()):
            raise ConservationError("an activity ends before it starts")
        self._check_rep_hours(b, acts)
        self._check_employment(acts)

    def _check_employment(self, acts: dict[str, np.ndarray]) -> None:
        """Every activity was started by a rep employed at the time (a leaver only finishes its current one)."""
        if not self.staffing_varies or not len(acts["rep"]):
            return
        hired = np.asarray(self.rep_hired, dtype=float)[acts["rep"]]
        left = np.asarray(self.rep_left, dtype=float)[acts["rep"]]
        if (acts["start"] < hired - 1e-9).any() or (acts["start"] > left + 1e-9).any():
            raise ConservationError("a rep activity started before the rep was hired or after it left")

    def _check_rep_hours(self, b: dict[str, np.ndarray], acts: dict[str, np.ndarray]) -> None:
        """Every rep hour belongs to a buyer (its rep_hours, contacts and first contact agree with its activities)
        or to a named non-buyer activity (NON_BUYER_ACTIVITIES)."""
        own = acts["buyer"] >= 0
        if np.isin(acts["kind"][~own], NON_BUYER_ACTIVITIES, invert=True).any():
            raise ConservationError("a non-buyer rep activity is not of a named non-buyer kind")
        n = len(b["rep_hours"])
        hours = np.bincount(acts["buyer"][own], weights=acts["hours"][own], minlength=n)[:n]
        if len(hours) != n or not np.allclose(hours, b["rep_hours"], rtol=1e-9, atol=1e-6):
            raise ConservationError("rep hours logged for buyers != the buyers' rep hours")
        calls = own & (acts["kind"] == CONTACT)
        if not np.array_equal(np.bincount(acts["buyer"][calls], minlength=n)[:n], b["contacts"]):
            raise ConservationError("contacts logged for buyers != the buyers' contacts")
        first = np.full(n, np.inf)
        np.minimum.at(first, acts["buyer"][calls], acts["start"][calls])
        called = b["contacts"] > 0
        if (
            not np.array_equal(first[called], b["first_contact_day"][called])
            or (~np.isnan(b["first_contact_day"][~called])).any()
        ):
            raise ConservationError("a buyer's first contact differs from its first logged call")
