"""One simulation run: builds the SimPy Environment, the random streams and every mechanism, runs the
market source to the horizon and closes the books in the Ledger. The decisions live in the mechanisms
(`handoff`, `sales`, `retention`, `marketing`); the World holds the shared state and the run's clock."""

from __future__ import annotations

import numpy as np
import simpy

from simfunnel.ledger import DROPPED, NEVER_REACHED, NO_LEAD, OPEN, PENDING, TOO_LATE, BuyerTable, Ledger
from simfunnel.model.calendar import WorkCalendar
from simfunnel.model.flow import Walker
from simfunnel.model.handoff import Handoff, schedule_handoff
from simfunnel.model.leads import LEAD_FIELDS, Lead, LeadDraws, LeadInfo
from simfunnel.model.market import arrival_days, buyer_attributes
from simfunnel.model.marketing import MarketingState, expected_spend
from simfunnel.model.retention import CUSTOMER_STREAMS, spawn_referral, start_customer, start_initial_customers
from simfunnel.model.sales import RepPool
from simfunnel.model.streams import SeedStore, buffered, mechanism_streams, root_sequence
from simfunnel.model.team import ROLES_STREAM, Team, initial_headcount
from simfunnel.scenario import Scenario

STAGE_TIME_COLUMNS = (
    "callback_day",
    "queued_day",
    "engaged_day",
    "known_day",
    "lead_day",
    "handoff_day",
    "first_contact_day",
    "sql_day",
    "close_day",
)


def model_scenario(scenario: Scenario) -> Scenario:
    """The scenario in the run's clock: with a warm-up, the day-of-year and stop day fields, which count from
    the start of the horizon, move by the warm-up (the scenario itself when there is none)."""
    warmup = scenario.simulation.warmup_days
    if not warmup:
        return scenario
    return scenario.with_overrides(
        {
            "market.seasonality_peak_day": (scenario.market.seasonality_peak_day + warmup) % 365.0,
            "marketing.acquisition_stop_day": scenario.marketing.acquisition_stop_day + warmup,
        }
    )


class World:
    """The state shared by the processes of one run."""

    def __init__(self, scenario: Scenario, seed: int | np.random.SeedSequence | None) -> None:
        self.scenario = scenario
        self.warmup = scenario.simulation.warmup_days
        """Start of the measured window (day of the run); the run lasts warm-up + horizon days."""
        self.horizon = self.warmup + scenario.simulation.horizon_days
        """End of the run (day of the run): where the books close."""
        self.model_scenario = sc = model_scenario(scenario)
        self.root = root_sequence(seed)
        rng = mechanism_streams(self.root)
        self.rng = rng
        self.env = simpy.Environment()
        self.generators: list = []
        """The generators of the run's flows (`simfunnel.model.flow.Flow`), closed by `simulate` at the end."""
        self.walker = Walker(self.env)
        """Handoffs waiting for their day, out of SimPy's queue until they are next."""
        self.roles = sc.sales.roles
        """The SDR and AE pools' spec (None: one pool does everything)."""
        reps0 = self._build_pools(sc)
        self.handoff = Handoff(sc, reps0, self.calendar)
        self.team = Team(self)
        """The reps over time (hiring plan, attrition, skill, ramp-up)."""
        self.marketing = MarketingState(sc, self.calendar, self.warmup)
        self.speed_to_lead = sc.marketing.speed_to_lead
        self.skill_uplift = sc.sales.training(self.marketing.item_rate("training") / len(self.team.active))
        self._draw_buyers(sc, rng)
        # --- live draws (event order), buffered
        s, sa, ho = sc.sales, rng["sales"], rng["handoff"]
        self.meeting_hours = buffered(lambda k: s.meeting_hours.sample(sa, k))
        self.meeting_gap = buffered(lambda k: s.meeting_gap_days.sample(sa, k))
        self.proposal_hours = buffered(lambda k: s.proposal_hours.sample(sa, k))
        self.u_sales_live = buffered(lambda k: sa.uniform(size=k))
        self.u_handoff_live = buffered(lambda k: ho.uniform(size=k))
        self.market_rng = rng["market"]
        self.ledger = Ledger(
            horizon=self.horizon, buyers=self.buyers, channel_names=self.marketing.channel_names, start=self.warmup
        )
        self.customers_active = 0
        self.customer_seeds = SeedStore(self.root, CUSTOMER_STREAMS)
        """Seed words of the customers' streams, worked out in bulk for the leads and initial customers."""

    def _build_pools(self, sc: Scenario) -> int:
        """The rep pools and their calendar: one pool, or the SDRs' and the AEs' (with the SDR-to-AE handoff's
        own stream). Returns the front pool's starting headcount."""
        roles = self.roles
        if roles is None:
            self.calendar = WorkCalendar(sc.sales.calendar)
            reps0 = initial_headcount(sc.sales, self.warmup)
            self.pool = RepPool(self.env, reps0, self.calendar)
            self.ae_pool = self.pool
            """The pool that works qualified deals and check-ins (the account executives; `pool` without roles)."""
        else:
            self.calendar = WorkCalendar(roles.sdr.calendar)
            reps0 = roles.sdr.reps
            self.pool = RepPool(self.env, reps0, self.calendar)
            self.ae_pool = RepPool(self.env, roles.ae.reps, WorkCalendar(roles.ae.calendar), first_id=reps0)
            g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.root.entropy,
                                                                           spawn_key=(*self.root.spawn_key, ROLES_STREAM))))  # fmt: skip
            self.ae_handoff_delay = buffered(lambda k: roles.handoff_delay_days.sample(g, k))
            self.u_roles = buffered(lambda k: g.uniform(size=k))
        return reps0

    def _draw_buyers(self, sc: Scenario, rng: dict[str, np.random.Generator]) -> None:
        """Every in-market buyer of the run, drawn in bulk (the buyer table), and the per-buyer uniforms and
        durations, one stream per mechanism, in buyer order (common random numbers across scenarios)."""
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
        u_follow = ho.uniform(size=n)
        u_engaged = sa.uniform(size=n)
        u_win = sa.uniform(size=n)
        u_return = m.uniform(size=n)
        contact_hours = sc.sales.first_contact_hours.sample(sa, n)
        qualification_hours = sc.sales.qualification_hours.sample(sa, n)
        # drawn after the draws above, so that those stay the same numbers whatever these are
        intent = m.beta(sc.market.intent_alpha, sc.market.intent_beta, n)
        self.u_pre["intent"] = intent
        self.u_pre["activity_z"] = mk.standard_normal(n)
        u_sla, u_stated, z_timeline = ho.uniform(size=n), ho.uniform(size=n), ho.standard_normal(n)
        self.lead_draws = LeadDraws(
            u_follow,
            u_engaged,
            u_win,
            contact_hours,
            qualification_hours,
            u_return,
            intent,
            u_sla,
            u_stated,
            z_timeline,
        )
        """Per-buyer lead draws (one array per `LeadDraws` field), used when the buyer becomes a lead."""

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
                cols, ids = self.buyers.cols, leads.tolist()
                self.customer_seeds.expect(ids)  # a lead may be won: its customer stream's seed, hashed in bulk
                infos = zip(*(cols[name][leads].tolist() for name in LEAD_FIELDS), strict=True)
                draws = zip(*(a[leads].tolist() for a in self.lead_draws), strict=True)
                for i, info, d in zip(ids, infos, draws, strict=True):
                    schedule_handoff(self, Lead(i, LeadInfo._make(info), LeadDraws._make(d)))
            t += step
            yield env.timeout(step)

    def schedule_handoff(self, i: int, info: tuple, draws: tuple) -> None:
        """Deprecated: use `simfunnel.model.handoff.schedule_handoff(world, Lead(i, info, draws))`."""
        schedule_handoff(self, Lead(i, LeadInfo._make(info), LeadDraws._make(draws)))

    def _rebalancer(self):
        every = self.scenario.marketing.rebalance_days
        while True:
            yield self.env.timeout(every)
            self.marketing.rebalance(self.env.now)

    def _stop_acquisition(self, day: float):
        yield self.env.timeout(day)
        self.marketing.stop_acquisition(self.env.now)

    def _open_window(self, _event: object) -> None:
        """End of the warm-up: book the spend so far, so that the KPIs count the window's spend only."""
        self.marketing.accrue(self.env.now)
        self.ledger.spend_at_start = dict(self.marketing.spent)

    def start_customer(self, key: int, value: float, channel: int, first_need_in: float | None) -> None:
        """A new customer: see `simfunnel.model.retention.start_customer` (the hub sales calls when it wins)."""
        start_customer(self, key, value, channel, first_need_in)

    def spawn_referral(self) -> None:
        """Deprecated: use `simfunnel.model.retention.spawn_referral(world)`."""
        spawn_referral(self)

    # ------------------------------------------------------------------ run
    def run(self) -> Ledger:
        sc, env = self.model_scenario, self.env
        env.process(self._source())
        if sc.organisation.crm_logging > 0 and sc.marketing.mix_learning_rate > 0:
            env.process(self._rebalancer())
        if sc.marketing.acquisition_stop_day < self.horizon:
            env.process(self._stop_acquisition(sc.marketing.acquisition_stop_day))
        start_initial_customers(self)
        self.team.start()
        self.marketing.schedule_budget_plan(env, self.warmup)
        if self.warmup > 0:
            env.timeout(self.warmup).callbacks.append(self._open_window)
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
        led.budget_expected = expected_spend(self.model_scenario, H, self.warmup)
        team = self.team
        led.record_team(team.hired, team.left, team.skill, team.varies, team.cost, team.role)
        if team.varies:
            led.rep_cost = led.rep_cost_over(0.0, H)
        else:
            led.rep_cost = self.scenario.sales.reps * self.scenario.sales.rep_cost_per_year * H / 365.0
        eid = getattr(self.env, "_eid", None)
        led.sim_events = next(eid) if eid is not None else 0
