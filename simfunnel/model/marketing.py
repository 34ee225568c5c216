"""Acquisition and nurture: budget shares -> spend per item, Hill-curve reach per channel, engaged -> known
-> nurtured -> lead score -> MQL (or a hand-raise), and CRM learning of the score and the channel mix. The lead score is a quality
signal (fit, intent, noise); when a qualifying buyer becomes an MQL is decided by its activity (readiness)."""

from __future__ import annotations

import numpy as np

from simfunnel.ledger import HAND_RAISE, MQL, NO_LEAD
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.market import ready_day
from simfunnel.model.plans import budget_steps, plan_integral, plan_value
from simfunnel.scenario import NON_CHANNEL_SHARES, Scenario


def effective_shares(scenario: Scenario) -> dict[str, float]:
    """Budget shares actually spent: without the rep-training lever, the training share is spread
    pro rata over the other items (the money is not lost, it buys more of everything else)."""
    shares = dict(scenario.marketing.shares)
    if not scenario.organisation.rep_training and shares["training"] > 0:
        rest = 1.0 - shares["training"]
        shares = {k: (0.0 if k == "training" else (v / rest if rest > 0 else 0.0)) for k, v in shares.items()}
    return shares


def expected_spend(scenario: Scenario, horizon: float, offset: float = 0.0) -> float:
    """Marketing spend over the run [0, horizon] computed from the scenario alone (the conservation reference);
    `offset`: the warm-up, where the budget plan's day 0 falls in the run."""
    shares = effective_shares(scenario)
    budget = scenario.marketing.budget_per_year
    acquisition = sum(v for k, v in shares.items() if k not in NON_CHANNEL_SHARES)
    stopped_days = max(0.0, horizon - min(horizon, scenario.marketing.acquisition_stop_day))
    if scenario.marketing.budget_plan:
        steps, stop = budget_steps(scenario.marketing), min(horizon, scenario.marketing.acquisition_stop_day)
        total = plan_integral(steps, budget, -offset, horizon - offset)
        stopped = plan_integral(steps, budget, stop - offset, horizon - offset)
        return (total * sum(shares.values()) - stopped * acquisition) / 365.0
    # sum(shares) is 1, or 0 when the whole budget is training and the training lever is off (nothing to spend)
    return budget * sum(shares.values()) * horizon / 365.0 - budget * acquisition * stopped_days / 365.0


class MarketingState:
    """Spend rates, what they buy (reach, nurture lift, retention, training) and the CRM's learning."""

    def __init__(self, scenario: Scenario, calendar: WorkCalendar | None = None, offset: float = 0.0) -> None:
        mk = scenario.marketing
        self.calendar = calendar if calendar is not None and calendar.enabled else None
        self.sc = scenario
        self.channel_names = tuple(mk.channels)
        self.channels = [mk.channels[c] for c in self.channel_names]
        self.quality = np.array([c.quality for c in self.channels])
        shares = effective_shares(scenario)
        # the budget in force at the start of the run (`set_budget` moves it at a budget plan's steps)
        self.budget = plan_value(budget_steps(mk), mk.budget_per_year, -offset)
        acq = sum(shares[c] for c in self.channel_names)
        self.acquisition_share = acq
        self.mix = np.array([shares[c] / acq if acq > 0 else 0.0 for c in self.channel_names])
        self.item_share = {k: shares[k] for k in NON_CHANNEL_SHARES}
        self.acquisition_on = scenario.marketing.acquisition_stop_day > 0
        self.spent = {name: 0.0 for name in (*self.channel_names, *NON_CHANNEL_SHARES)}
        self._last_accrual = 0.0
        # CRM learning state
        self.logged_outcomes = 0
        self.logged_leads = np.zeros(len(self.channels))
        self.logged_revenue = np.zeros(len(self.channels))
        self._refresh()

    # ------------------------------------------------------------------ spend
    def channel_rates(self) -> np.ndarray:
        """Current spend per channel, currency/year."""
        if not self.acquisition_on:
            return np.zeros(len(self.channels))
        return self.budget * self.acquisition_share * self.mix

    def item_rate(self, item: str) -> float:
        return self.budget * self.item_share[item]

    def accrue(self, t: float) -> None:
        """Book the spend of every item from the last accrual to t (rates are piecewise constant)."""
        dt = (t - self._last_accrual) / 365.0
        if dt <= 0:
            return
        for name, rate in zip(self.channel_names, self.channel_rates(), strict=True):
            self.spent[name] += rate * dt
        for item in NON_CHANNEL_SHARES:
            self.spent[item] += self.item_rate(item) * dt
        self._last_accrual = t

    def schedule_budget_plan(self, env: object, offset: float) -> None:
        """Schedule the budget plan's steps (plan days from the start of the horizon, at `offset` in the run)."""
        steps = budget_steps(self.sc.marketing)
        if not steps:
            return
        for day, budget in steps:
            if day + offset > 0:
                env.timeout(day + offset).callbacks.append(  # type: ignore[attr-defined]
                    lambda ev, b=budget: self.set_budget(ev.env.now, b)
                )

    def set_budget(self, t: float, budget: float) -> None:
        """From t on the budget is `budget` per year (spend so far booked at the old one)."""
        self.accrue(t)
        self.budget = budget
        self._refresh()

    def stop_acquisition(self, t: float) -> None:
        self.accrue(t)
        self.acquisition_on = False
        self._refresh()

    def _refresh(self) -> None:
        rates = self.channel_rates()
        self.reach = np.array([ch.reach(r) for ch, r in zip(self.channels, rates, strict=True)])
        self.nurture_lift = self.sc.marketing.nurture.lift(self.item_rate("nurture"))

    # ------------------------------------------------------------------ CRM learning
    def noise_sd(self) -> float:
        """Scoring noise: falls from noise_sd toward min_noise_fraction * noise_sd as outcomes are logged."""
        sc = self.sc.marketing.scoring
        learned = self.logged_outcomes / (self.logged_outcomes + sc.learning_half_outcomes)
        return sc.noise_sd * (1.0 - (1.0 - sc.min_noise_fraction) * learned)

    def log_outcome(self, channel: int, revenue: float) -> None:
        self.logged_outcomes += 1
        if 0 <= channel < len(self.channels):
            self.logged_leads[channel] += 1
            self.logged_revenue[channel] += revenue

    def rebalance(self, t: float, min_outcomes: int = 5) -> bool:
        """Move the channel mix toward logged revenue per unit of spend; no move without enough logged outcomes."""
        if not self.acquisition_on or (self.logged_revenue > 0).sum() == 0:
            return False
        if self.logged_outcomes < min_outcomes:
            return False
        self.accrue(t)
        spent = np.array([max(self.spent[c], 1.0) for c in self.channel_names])
        perf = self.logged_revenue / spent
        active = self.mix > 0
        if perf[active].sum() <= 0:
            return False
        target = np.where(active, perf, 0.0)
        target = target / target.sum()
        rate = self.sc.marketing.mix_learning_rate
        self.mix = (1 - rate) * self.mix + rate * target
        self.mix = self.mix / self.mix.sum()
        self._refresh()
        return True

    # ------------------------------------------------------------------ the journey before sales
    def lead_score(self, fit: np.ndarray, intent: np.ndarray, score_z: np.ndarray) -> np.ndarray:
        """A lead-quality signal: fit_weight * fit + (1 - fit_weight) * intent + noise (the noise CRM feedback
        reduces, `noise_sd`). It does not grow with time: a higher threshold passes fewer, better buyers."""
        w = self.sc.marketing.scoring.fit_weight
        return w * fit + (1.0 - w) * intent + self.noise_sd() * score_z

    def evaluate_cohort(self, b: dict[str, np.ndarray], lo: int, hi: int, u: dict[str, np.ndarray]) -> np.ndarray:
        """Decide, for buyers lo..hi arriving now, reach, engagement, known, nurture, MQL or hand-raise,
        writing the stage times into the buyer columns. Returns the indices that become leads."""
        if hi <= lo:
            return np.empty(0, dtype=np.int64)
        sc = self.sc
        sl = slice(lo, hi)
        arrival = b["arrival_day"][sl]
        deadline = b["deadline_day"][sl]
        process = deadline - arrival
        fit = b["fit"][sl]
        reach = self.reach
        total = reach.sum()
        if total <= 0:
            return np.empty(0, dtype=np.int64)
        p_any = 1.0 - np.prod(1.0 - reach)
        cum = np.cumsum(reach) / total
        channel = np.minimum(np.searchsorted(cum, u["channel"][sl], side="right"), len(reach) - 1)
        engaged = arrival + u["engage_delay"][sl]
        reached = (u["reach"][sl] < p_any) & (engaged < deadline)
        quality = self.quality[channel]
        known = reached & (u["known"][sl] < np.minimum(1.0, sc.marketing.known_rate * quality))
        lift = np.where(known, self.nurture_lift, 0.0)
        ready_at = sc.market.ready_at
        ready = ready_day(arrival, process, ready_at, lift)
        hand = known & (u["hand"][sl] < np.minimum(1.0, sc.marketing.hand_raise_rate * quality))
        hand_day = np.maximum(ready, engaged)
        if self.calendar is not None and hand.any():
            office = hand & (u["hand_office"][sl] < sc.marketing.hand_raise_office_hours)
            hours = sc.sales.calendar.hours_per_day
            for j in np.flatnonzero(office).tolist():  # the request comes in during the next working day
                hand_day[j] = self.calendar.finish(hand_day[j], u["hand_time"][lo + j] * hours)
        # MQL: the lead score (fit and intent plus noise; no time in it) reaches the threshold, and the buyer's
        # activity shows it is in a buying process: readiness reaches mql_readiness (+- activity_sd)
        scoring = sc.marketing.scoring
        intent = u["intent"][sl] if "intent" in u else np.full(hi - lo, 0.5)  # neutral when not drawn
        score = self.lead_score(fit, intent, u["score_z"][sl])
        activity_z = u["activity_z"][sl] if "activity_z" in u else np.zeros(hi - lo)
        r_act = np.clip(scoring.mql_readiness + scoring.activity_sd * activity_z, 0.0, 1.0)
        r_known = np.minimum(1.0, (engaged - arrival) / process * (1.0 + lift))
        mql_day = np.where(r_act <= r_known, engaged, arrival + process * r_act / (1.0 + lift))
        is_mql = known & (score >= sc.organisation.mql_threshold) & (mql_day < deadline)
        mql_first = is_mql & (~hand | (mql_day <= hand_day))
        lead_kind = np.where(mql_first, MQL, np.where(hand, HAND_RAISE, NO_LEAD)).astype(np.int8)
        lead_day = np.where(mql_first, mql_day, np.where(hand, hand_day, np.nan))
        b["channel"][sl] = np.where(reached, channel, -1)
        b["engaged_day"][sl] = np.where(reached, engaged, np.nan)
        b["known_day"][sl] = np.where(known, engaged, np.nan)
        b["nurture_lift"][sl] = lift
        b["ready_day"][sl] = ready
        b["commit_day"][sl] = ready + u["commit_delay"][sl]
        b["lead_kind"][sl] = lead_kind
        b["lead_day"][sl] = lead_day
        b["lead_score"][sl] = np.where(lead_kind != NO_LEAD, score, np.nan)
        return lo + np.flatnonzero(lead_kind != NO_LEAD)
