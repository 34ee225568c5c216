"""Validation of the model against exact queueing theory and published figures (docs/pages/validation.md).

A model is only worth presenting if its parts reproduce what is known. This module holds the theory, the
reduced scenarios and the measurements behind `simfunnel validate-model`, notebook 08 and ``tests/validation``:

1. **Erlang C.** Reduced to one queue - Poisson leads, an exponential first contact, `c` reps working around the
   clock (`scenarios/mmc_validation.toml`, `mmc_scenario`) - the rep pool is an M/M/c queue. Erlang C then gives
   the share of leads that wait for a rep, ``P(wait > 0) = C(c, a)``, and the mean wait
   ``Wq = C(c, a) / (c mu - lambda)`` (`erlang_c`, `erlang_c_wq`; docs/pages/references.md, "Queueing"). The same holds
   whatever the order in which reps work their queue (FIFO, earliest deadline, score), because every policy is
   work-conserving and the contact time does not depend on the order.
2. **Little's law** ``L = lambda W`` (Little 1961) for a stage with a holding time: the time-average number of
   leads in the stage equals the rate at which leads enter it times their mean time in it (`littles_law`).
3. **Speed to lead.** The chance that a hand-raiser is still engaged after a response delay of ``d`` hours,
   ``floor + (1 - floor) exp(-d / decay_hours)``, fitted to Oldroyd et al. (HBR 2011): leads answered within an
   hour qualify ~7x as often as leads answered an hour later and ~60x as often as leads answered after 24 h or
   more (`fit_decay`, `speed_to_lead_ratios`).

How a simulated figure is judged. Every check runs ``R`` independent replications (seeds from
``numpy.random.SeedSequence``, one child per replication, as in `simfunnel.experiments`; each check point has a
root seed of its own, `point_seed`). The replication means are independent, so their standard error
``SE = sd / sqrt(R)`` is honest even though successive leads in one run are strongly correlated (a long wait is
followed by long waits; an SE from the leads of one run would be far too small). A check passes when
``|simulated - expected| <= Z * SE`` with ``Z = 4`` (`Z`; `check_row`): a correct model fails a single check
about once in a few hundred runs, a model off by a few SE fails it. Mean waits are judged on the log scale
(their replication means are right-skewed under load). ``ci_low``/``ci_high`` are the 95 % Student-t interval
of the mean. A queue starts empty, which biases early waits down: leads arriving in the first ``warmup_share``
of the horizon are discarded (20 %; 30 % and twice as many leads from utilisation 0.9 on, where the queue
relaxes slowly), and so are leads arriving in the last ``cooldown_share`` (5 %), whose contact might fall after
the horizon.

Beyond these statistical checks, ``tests/validation`` checks pathwise that the rep pool of the reduction is
exactly a FIFO c-server queue (every first contact equals the textbook recursion fed with the model's arrivals
and contact times) and that the ledger's stage times match the model's own live counters
(`simulate_with_probes`).
"""

from simfunnel.validation.checks import (
    CHECK_COLUMNS,
    FULL,
    QUICK,
    Z,
    check_row,
    exact_row,
    mmc_check_rows,
    mmc_design,
    run_checks,
)
from simfunnel.validation.measures import (
    BASE_PRESET,
    MMC_PRESET,
    ROLE_POOLS,
    SALES_STAGE_HORIZON,
    SALES_STAGE_WINDOW,
    SCENARIO_DIR,
    ae_queue_entries,
    leads_on_desk,
    measured_pool,
    measurement_window,
    mmc_measure,
    mmc_replications,
    mmc_scenario,
    point_seed,
    queue_waits,
    replication_seeds,
    sales_stage_littles_law,
    simulate_with_probes,
    waiting_leads,
)
from simfunnel.validation.speed_to_lead import (
    HBR_RATIO_1H,
    HBR_RATIO_24H,
    SPEED_BUCKETS,
    base_speed_to_lead,
    bucket_engagement,
    fit_decay,
    jackknife_ratio,
    speed_to_lead_measure,
    speed_to_lead_model_ratios,
    speed_to_lead_ratios,
    speed_to_lead_scenario,
)
from simfunnel.validation.theory import (
    HOURS_PER_DAY,
    erlang_c,
    erlang_c_wait_sd,
    erlang_c_wq,
    littles_law,
    mmc_theory,
    time_average_count,
)

__all__ = [
    "BASE_PRESET",
    "CHECK_COLUMNS",
    "FULL",
    "HBR_RATIO_1H",
    "HBR_RATIO_24H",
    "HOURS_PER_DAY",
    "MMC_PRESET",
    "QUICK",
    "SALES_STAGE_HORIZON",
    "ROLE_POOLS",
    "SALES_STAGE_WINDOW",
    "SCENARIO_DIR",
    "SPEED_BUCKETS",
    "Z",
    "ae_queue_entries",
    "base_speed_to_lead",
    "bucket_engagement",
    "check_row",
    "erlang_c",
    "erlang_c_wait_sd",
    "erlang_c_wq",
    "exact_row",
    "fit_decay",
    "jackknife_ratio",
    "leads_on_desk",
    "littles_law",
    "measured_pool",
    "measurement_window",
    "mmc_check_rows",
    "mmc_design",
    "mmc_measure",
    "mmc_replications",
    "mmc_scenario",
    "mmc_theory",
    "point_seed",
    "queue_waits",
    "replication_seeds",
    "run_checks",
    "sales_stage_littles_law",
    "simulate_with_probes",
    "speed_to_lead_measure",
    "speed_to_lead_model_ratios",
    "speed_to_lead_ratios",
    "speed_to_lead_scenario",
    "time_average_count",
    "waiting_leads",
]
