"""One simulation run: builds the SimPy Environment, the random streams and every mechanism, runs the
market source to the horizon and closes the books in the Ledger."""

from __future__ import annotations

import math

import numpy as np
import simpy

from simfunnel.ledger import (
    DROPPED,
    NEVER_REACHED,
    NO_LEAD,
    OPEN,
    PENDING,
    REFERRAL_LEAD,
    TOO_LATE,
    BuyerTable,
    Ledger,
)
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.handoff import Handoff
from simfunnel.model.market import MIN_PROCESS_DAYS, arrival_days, buyer_attributes, ready_day
from simfunnel.model.marketing import MarketingState, expected_spend
from simfunnel.model.retention import INITIAL_CUSTOMER_KEY, customer_process
from simfunnel.model.sales import LEAD_FIELDS, RepPool, lead_process
from simfunnel.model.streams import Buffered, mechanism_streams, root_sequence
from simfunnel.scenario import Scenario

LEAD_DAY, LEAD_KIND, DEADLINE = (LEAD_FIELDS.index(n) for n in ("lead_day", "lead_kind", "deadline_day"))
STAGE_TIME_COLUMNS = (
    "queued_day",
    "engaged_day",
    "known_day",
    "lead_day",
    "handoff_day",
    "first_contact_day",
    "sql_day",
    "close_day",
)


class World:
    """The state shared by the processes of one run."""

    def __init__(self, scenario: Scenario, seed: int | np.random.SeedSequence | None) -> None:
        self.scenario = sc = scenario
        self.horizon = sc.simulation.horizon_days
        self.root = root_sequence(seed)
        rng = mechanism_streams(self.root)
        self.rng = rng
        self.env = simpy.Environment()
        self.calendar = WorkCalendar(sc.sales.calendar)
        self.pool = RepPool(self.env, sc.sales.reps, self.calendar)
        self.handoff = Handoff(sc, sc.sales.reps)
        self.marketing = MarketingState(sc, self.calendar)
        self.speed_to_lead = sc.marketing.speed_to_lead
        self.skill_uplift = sc.sales.training(self.marketing.item_rate("training") / sc.sales.reps)
        # --- market: every in-market buyer of the horizon, drawn in bulk
        m = rng["market"]
        market = buyer_attributes(sc.market, arrival_days(sc.market, self.horizon, m), m)
        n = len(market["arrival_day"])
        self.n_bulk = n
        self.buyers = BuyerTable(n + 64)
        cols = self.buyers.cols
        for name in ("arrival_day", "deadline_day", "value", "fit"):
            cols[name][:n] = market[name]
        self.buyers.n = n
        # --- per-buyer uniforms and durations, one stream per mechanism, in buyer order (common random numbers)
        mk, ho, sa = rng["marketing"], rng["handoff"], rng["sales"]
        self.u_pre = {
            "reach": mk.uniform(size=n),
            "channel": mk.uniform(size=n),
            "engage_delay": sc.marketing.engage_delay_days.sample(mk, n),
            "known": mk.uniform(size=n),
            "hand": mk.uniform(size=n),
            "score_z": mk.standard_normal(n),
            "hand_office": mk.uniform(size=n),
            "hand_time": mk.uniform(size=n),
            "commit_delay": market["commit_delay"],
        }
        self.u_follow = ho.uniform(size=n)
        self.u_engaged = sa.uniform(size=n)
        self.u_win = sa.uniform(size=n)
        self.u_return = m.uniform(size=n)
        self.contact_h = sc.sales.first_contact_hours.sample(sa, n)
        self.qual_h = sc.sales.qualification_hours.sample(sa, n)
        self._lead_draws = (self.u_follow, self.u_engaged, self.u_win, self.contact_h, self.qual_h, self.u_return)
        # --- live draws (event order), buffered
        s = sc.sales
        self.meeting_hours = Buffered(lambda k: s.meeting_hours.sample(sa, k))
        self.meeting_gap = Buffered(lambda k: s.meeting_gap_days.sample(sa, k))
        self.proposal_hours = Buffered(lambda k: s.proposal_hours.sample(sa, k))
        self.u_sales_live = Buffered(lambda k: sa.uniform(size=k))
        self.u_handoff_live = Buffered(lambda k: ho.uniform(size=k))
        self.market_rng = m
        self.ledger = Ledger(horizon=self.horizon, buyers=self.buyers, channel_names=self.marketing.channel_names)
        self.customers_active = 0
        self._batches: dict[float, list] = {}

    # ------------------------------------------------------------------ processes
    def _source(self):
        """Evaluate arrivals cohort by cohort with the marketing state of the moment; start leads only."""
        env, step = self.env, self.scenario.simulation.cohort_days
        arrivals = self.buyers.cols["arrival_day"][: self.n_bulk]
        t = 0.0
        while t < self.horizon:
            lo, hi = np.searchsorted(arrivals, [t, t + step], side="left")
            leads = self.marketing.evaluate_cohort(self.buyers.cols, int(lo), int(hi), self.u_pre)
            if len(leads):
                cols = self.buyers.cols
                infos = zip(*(cols[name][leads].tolist() for name in LEAD_FIELDS), strict=True)
                draws = zip(*(a[leads].tolist() for a in self._lead_draws), strict=True)
                for i, info, d in zip(leads.tolist(), infos, draws, strict=True):
                    self.schedule_handoff(i, info, d)
            t += step
            yield env.timeout(step)

    def schedule_handoff(self, i: int, info: tuple, draws: tuple) -> None:
        """Hand lead i to sales at its handoff day: one timeout with a callback (no process) per lead in
        real time, one per list day for a batch handoff; only followed-up leads become processes."""
        h, env = self.handoff, self.env
        lead_day, kind = info[LEAD_DAY], info[LEAD_KIND]
        day = h.handoff_day(lead_day, kind)
        item = (i, info, draws)
        if h.realtime or h.is_priority(kind):
            env.timeout(max(0.0, day - env.now)).callbacks.append(lambda _ev, item=item: self._handoff([item], day))
            return
        batch = self._batches.get(day)
        if batch is None:
            batch = self._batches[day] = []
            env.timeout(max(0.0, day - env.now)).callbacks.append(lambda _ev, day=day: self._handoff_batch(day))
        batch.append(item)

    def _handoff_batch(self, day: float) -> None:
        self._handoff(self._batches.pop(day), day)

    def _handoff(self, items: list, day: float) -> None:
        """Leads reach the reps' desk; each is followed up or left in the black hole (Sabnis et al.)."""
        h, env, cols = self.handoff, self.env, self.buyers.cols
        for i, info, draws in items:
            cols["handoff_day"][i] = day
            h.desk += 1
            if draws[0] >= h.follow_up_prob(env.now, info[LEAD_KIND]):
                h.ignore(info[DEADLINE])  # never worked: the lead ages on the desk until the deadline
                continue
            cols["followed_up"][i] = 1
            env.process(lead_process(self, i, info, draws))

    def _rebalancer(self):
        every = self.scenario.marketing.rebalance_days
        while True:
            yield self.env.timeout(every)
            self.marketing.rebalance(self.env.now)

    def _stop_acquisition(self, day: float):
        yield self.env.timeout(day)
        self.marketing.stop_acquisition(self.env.now)

    def start_customer(self, key: int, value: float, channel: int, first_need_in: float | None) -> None:
        """A new customer (won buyer `key`, or initial customer) with its own random stream."""
        led = self.ledger
        k = len(led.cust_start)
        led.cust_start.append(self.env.now)
        led.cust_end.append(math.nan)
        self.customers_active += 1
        if first_need_in is None:
            led.purchase(self.env.now, value, False, channel)
        self.env.process(customer_process(self, k, key, value, channel, first_need_in))

    def spawn_referral(self) -> None:
        """A satisfied customer refers a new buyer: warm (known, asks to be called when ready), no spend."""
        sc, m, now = self.scenario, self.market_rng, self.env.now
        self.ledger.referrals += 1
        self.buyers.reserve(1)
        i = self.buyers.n
        self.buyers.n += 1
        cols = self.buyers.cols
        process = max(float(sc.market.process_days.sample(m, 1)[0]), MIN_PROCESS_DAYS)
        lift = self.marketing.nurture_lift
        ready = ready_day(now, process, sc.market.ready_at, lift)
        cols["arrival_day"][i] = now
        cols["deadline_day"][i] = now + process
        cols["value"][i] = float(sc.market.value.sample(m, 1)[0])
        cols["fit"][i] = float(m.beta(sc.market.fit_alpha, sc.market.fit_beta))
        cols["channel"][i] = len(self.marketing.channel_names)  # the 'referral' source
        cols["engaged_day"][i] = now
        cols["known_day"][i] = now
        cols["nurture_lift"][i] = lift
        cols["ready_day"][i] = ready
        cols["commit_day"][i] = ready + float(sc.market.competitor_commit_days.sample(m, 1)[0])
        cols["lead_kind"][i] = REFERRAL_LEAD
        cols["lead_day"][i] = ready
        cols["lead_score"][i] = math.nan
        info = tuple(cols[name][i].item() for name in LEAD_FIELDS)
        draws = (
            self.u_handoff_live(),
            self.u_sales_live(),
            self.u_sales_live(),
            float(sc.sales.first_contact_hours.sample(self.rng["sales"], 1)[0]),
            float(sc.sales.qualification_hours.sample(self.rng["sales"], 1)[0]),
            float(m.uniform()),
        )
        self.schedule_handoff(i, info, draws)

    def close_lead(
        self,
        i: int,
        returned: bool,
        state: int,
        day: float,
        first_contact: float,
        contacts: int,
        r_contact: float,
        sql_day: float,
        rep_hours: float,
        wasted: float,
        revenue: float,
    ) -> None:
        """Record a worked lead's terminal state and feed the CRM (if the rep logs it)."""
        cols = self.buyers.cols
        cols["terminal"][i] = state
        cols["returned"][i] = returned
        cols["terminal_day"][i] = day
        cols["first_contact_day"][i] = first_contact
        cols["contacts"][i] = contacts
        cols["readiness_at_contact"][i] = r_contact
        cols["sql_day"][i] = sql_day
        cols["rep_hours"][i] = rep_hours
        cols["wasted_hours"][i] = wasted
        if revenue:
            cols["close_day"][i] = day
            cols["revenue"][i] = revenue
        self.handoff.resolved()
        if self.u_handoff_live() < self.scenario.organisation.crm_logging:
            self.marketing.log_outcome(int(cols["channel"][i]), revenue)

    # ------------------------------------------------------------------ run
    def run(self) -> Ledger:
        sc, env = self.scenario, self.env
        env.process(self._source())
        if sc.organisation.crm_logging > 0 and sc.marketing.mix_learning_rate > 0:
            env.process(self._rebalancer())
        if sc.marketing.acquisition_stop_day < self.horizon:
            env.process(self._stop_acquisition(sc.marketing.acquisition_stop_day))
        ret = sc.retention
        if ret.initial_customers:
            first_need = self.rng["retention"].uniform(size=ret.initial_customers) * ret.repurchase_days.mean
            for j, t in enumerate(first_need.tolist()):
                self.start_customer(INITIAL_CUSTOMER_KEY + j, ret.initial_customer_value, -1, first_need_in=t)
            self.ledger.initial_customers = ret.initial_customers
        env.run(until=self.horizon)
        self.marketing.accrue(self.horizon)
        self._finalize()
        return self.ledger

    def _finalize(self) -> None:
        """Close the books at the horizon: stages after it did not happen; undecided buyers get their state."""
        H = self.horizon
        cols = self.buyers.trimmed()
        for name in STAGE_TIME_COLUMNS:
            col = cols[name]
            col[col > H] = np.nan
        no_lead = np.isnan(cols["lead_day"])
        cols["lead_kind"][no_lead] = NO_LEAD
        cols["lead_score"][no_lead] = np.nan
        pending = cols["terminal"] == PENDING
        past = cols["deadline_day"] <= H
        handed = ~np.isnan(cols["handoff_day"])
        ignored = handed & (cols["followed_up"] == 0)
        in_sales = handed & (cols["followed_up"] == 1)
        state = np.where(
            ~past,
            OPEN,
            np.where(ignored, DROPPED, np.where(in_sales | ~no_lead, TOO_LATE, NEVER_REACHED)),
        )
        cols["terminal"][pending] = state[pending]
        cols["terminal_day"][pending] = np.where(past, cols["deadline_day"], np.nan)[pending]
        led = self.ledger
        led.spend_by_item = dict(self.marketing.spent)
        led.budget_expected = expected_spend(self.scenario, H)
        led.rep_cost = self.scenario.sales.reps * self.scenario.sales.rep_cost_per_year * H / 365.0
        eid = getattr(self.env, "_eid", None)
        led.sim_events = next(eid) if eid is not None else 0
