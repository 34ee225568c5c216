"""The model's side of the validation: the M/M/c reduction (`mmc_scenario`), its measurement (`mmc_measure`,
`mmc_replications`), the sales stage of the base preset under Little's law (`sales_stage_littles_law`), probes of
the live model (`simulate_with_probes`) and the seeds of every check (`point_seed`, `replication_seeds`, built on
`simfunnel.experiments.seeds`: docs/pages/experiments.md#seeds)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simfunnel.experiments.seeds import child_seed, root_seed, seed_from_parts
from simfunnel.model.world import World
from simfunnel.presets import preset_dir
from simfunnel.scenario import Scenario, load_scenario
from simfunnel.simulate import Probe, RunResult, simulate
from simfunnel.validation.theory import HOURS_PER_DAY, check_positive, check_servers, littles_law

__all__ = [
    "BASE_PRESET",
    "MMC_PRESET",
    "ROLE_POOLS",
    "SALES_STAGE_HORIZON",
    "SALES_STAGE_WINDOW",
    "SCENARIO_DIR",
    "ae_queue_entries",
    "leads_on_desk",
    "measured_pool",
    "measurement_window",
    "mmc_measure",
    "mmc_replications",
    "mmc_scenario",
    "point_seed",
    "queue_waits",
    "replication_seeds",
    "sales_stage_littles_law",
    "simulate_with_probes",
    "waiting_leads",
]

SCENARIO_DIR = preset_dir()  # the shipped presets (identical to the repository's scenarios/)
MMC_PRESET = SCENARIO_DIR / "mmc_validation.toml"
"""The M/M/c reduction preset (documented field by field in the file)."""
BASE_PRESET = SCENARIO_DIR / "base.toml"


def mmc_scenario(
    servers: int,
    utilization: float,
    mean_service_hours: float = 1.0,
    horizon_days: float | None = None,
    policy: str = "fifo",
    *,
    arrivals: float = 10_000,
    preset: str | Path | None = None,
) -> Scenario:
    """The model reduced to one M/M/c queue (`scenarios/mmc_validation.toml`) with ``servers`` reps, each lead
    needing one first contact of exponential length (mean ``mean_service_hours``), leads arriving as a Poisson
    process at ``lambda = utilization * servers / mean_service_hours`` per hour, and the queue worked in order
    ``policy`` (``"fifo"``, ``"deadline"``: earliest deadline first, ``"score"``: highest lead score first).

    The horizon is ``horizon_days``, or (default) long enough for ``arrivals`` leads on average.
    Erlang C for this scenario: ``erlang_c(servers, servers * utilization)`` and
    ``erlang_c_wq(servers, lam, 1 / mean_service_hours)`` in hours."""
    c = check_servers(servers)
    if not 0 < utilization < 1:
        raise ValueError(f"utilization must be in (0, 1) for a stable queue, got {utilization!r}")
    check_positive("mean_service_hours", mean_service_hours)
    if policy not in ("fifo", "deadline", "score"):
        raise ValueError(f"policy must be 'fifo', 'deadline' or 'score', got {policy!r}")
    lam_per_day = utilization * c * HOURS_PER_DAY / mean_service_hours
    if horizon_days is None:
        check_positive("arrivals", arrivals)
        horizon_days = arrivals / lam_per_day
    check_positive("horizon_days", horizon_days)
    base = load_scenario(preset or MMC_PRESET)
    return base.with_overrides(
        {
            "name": f"mmc c={c} rho={utilization:g} {policy}",
            "sales.reps": c,
            "sales.first_contact_hours": {"kind": "exponential", "mean": float(mean_service_hours)},
            "market.buyers_per_year": lam_per_day * 365.0,
            "simulation.horizon_days": float(horizon_days),
            "organisation.queue_policy": policy,
        }
    )


def measurement_window(horizon: float, warmup_share: float, cooldown_share: float) -> tuple[float, float]:
    """The measurement window ``[warmup_share * horizon, (1 - cooldown_share) * horizon]`` (days)."""
    if not (0 <= warmup_share < 1 and 0 <= cooldown_share < 1 and warmup_share + cooldown_share < 1):
        raise ValueError(
            f"warmup_share and cooldown_share must be in [0, 1) with a sum < 1, got {warmup_share}, {cooldown_share}"
        )
    return warmup_share * horizon, (1.0 - cooldown_share) * horizon


def queue_waits(buyers: pd.DataFrame, t1: float, t2: float) -> np.ndarray:
    """Waits for a first contact, in hours, of the leads handed to sales in ``[t1, t2)`` (days):
    ``first_contact_day - handoff_day``. Raises if one of them has no first contact (its wait is censored by
    the horizon: end the window earlier)."""
    handoff = buyers["handoff_day"].to_numpy(dtype=float)
    first = buyers["first_contact_day"].to_numpy(dtype=float)
    inside = (handoff >= t1) & (handoff < t2)
    if np.isnan(first[inside]).any():
        k = int(np.isnan(first[inside]).sum())
        raise ValueError(f"{k} lead(s) handed off in [{t1:g}, {t2:g}) were not contacted by the horizon")
    return (first[inside] - handoff[inside]) * HOURS_PER_DAY


def simulate_with_probes(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None,
    times: Sequence[float],
    probe: Callable[[World], float],
) -> tuple[RunResult, np.ndarray]:
    """Run the model once and read ``probe(world)`` from the live model at each of ``times`` (days, increasing,
    before the horizon): a thin wrapper of ``simulate(scenario, seed, probe=Probe(times, probe))``. The probe only
    reads the model state, so the run is that of ``simulate(scenario, seed)``. Used to compare the ledger with the
    model's own counters (e.g. ``len(world.pool.queue)``, the leads waiting for a rep)."""
    reader = Probe(times, probe)
    result = simulate(scenario, seed, probe=reader)
    return result, np.asarray(reader.values, dtype=float)


def waiting_leads(world: World) -> float:
    """Probe: the number of requests waiting for a rep right now (in the M/M/c reduction: leads waiting for
    their first contact)."""
    return float(len(world.pool.queue))


def leads_on_desk(world: World) -> float:
    """Probe: leads handed to sales and not yet resolved right now - worked or ignored (an ignored lead stays
    on the desk until its deadline). Expired ignored leads are removed first, as the model does lazily."""
    world.handoff.open_leads_per_rep(world.env.now)
    return float(world.handoff.desk)


def point_seed(seed: int, *labels: float) -> np.random.SeedSequence:
    """A root seed of its own for one check point, e.g. ``point_seed(0, c, rho)``: different points get
    independent streams (so that their checks fail or pass independently), the same point the same stream."""
    return seed_from_parts([int(seed), *(round(float(v) * 1000) for v in labels)])


def replication_seeds(seed: int | np.random.SeedSequence, replications: int) -> list[np.random.SeedSequence]:
    """One child seed per replication of ``seed`` (`simfunnel.experiments.seeds`: child ``i`` of the root)."""
    root = root_seed(seed)
    if replications < 2:
        raise ValueError(f"need at least 2 replications for a standard error, got {replications}")
    return [child_seed(root, i) for i in range(replications)]


ROLE_POOLS = ("sdr", "ae")
"""The pools of a scenario with `sales.roles`: the SDRs (first contacts) and the account executives."""


def measured_pool(scenario: Scenario, pool: str | None = None) -> tuple[str | None, int]:
    """The pool a queue measurement is about and its headcount: ``(None, sales.reps)`` without roles; with
    `sales.roles`, ``pool`` (default ``"sdr"``, the first-contact queue) and that role's ``reps``."""
    roles = scenario.sales.roles
    if roles is None:
        if pool is not None:
            raise ValueError(f"pool={pool!r} needs a scenario with sales.roles (this one has one pool)")
        return None, scenario.sales.reps
    pool = pool or "sdr"
    if pool not in ROLE_POOLS:
        raise ValueError(f"pool must be one of {ROLE_POOLS}, got {pool!r}")
    return pool, getattr(roles, pool).reps


def ae_queue_entries(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Per qualified lead, when it joined the account executives' queue and when its first AE step started
    (days). It joins at the end of its qualifying contact: exact in the M/M/c reduction, where the SDR-to-AE
    handoff delay and the meeting gap are 0 (otherwise the wait includes them)."""
    acts = result.activities
    contact_end = acts[acts["kind"] == "contact"].groupby("buyer")["end"].max()
    step_start = acts[acts["kind"] == "sales_step"].groupby("buyer")["start"].min()
    both = step_start.index.intersection(contact_end.index)
    return contact_end[both].to_numpy(float), step_start[both].to_numpy(float)


def mmc_measure(
    result: RunResult, warmup_share: float = 0.2, cooldown_share: float = 0.05, pool: str | None = None
) -> dict[str, float]:
    """Queue statistics of one run of the M/M/c reduction, on leads that joined the queue in the window
    ``[warmup_share * H, (1 - cooldown_share) * H]``:

    - ``leads``: their number; ``p_wait``: share that waited at all (``first_contact_day > handoff_day``);
    - ``wq_hours``: their mean wait, hours; ``lam_per_hour``: their arrival rate;
    - ``L``: time-average number of leads waiting over the window (exact integral of the wait intervals);
      ``little_ratio`` = ``lam * Wq / L`` (Little's law: 1 up to edge effects);
    - ``utilization``: share of the reps' time spent on their work over the window (``rho = lambda / (c mu)``).

    With `sales.roles` the measured queue is that of ``pool`` (`measured_pool`): ``"sdr"`` (default), the first
    contacts, over the SDRs' headcount and activities; ``"ae"``, the qualified leads from the end of their
    qualifying contact to their first AE step (`ae_queue_entries`), over the AEs'."""
    sc = result.scenario
    role, reps = measured_pool(sc, pool)
    H = sc.simulation.horizon_days
    t1, t2 = measurement_window(H, warmup_share, cooldown_share)
    if role == "ae":
        entry, start = ae_queue_entries(result)
        inside = (entry >= t1) & (entry < t2)
        waits = (start[inside] - entry[inside]) * HOURS_PER_DAY
    else:
        b = result.buyers
        waits = queue_waits(b, t1, t2)
        entry, start = b["handoff_day"].to_numpy(float), b["first_contact_day"].to_numpy(float)
    ll = littles_law(entry, start, t1, t2, H)
    acts = result.activities
    if role is not None:
        acts = acts[acts["role"] == role]
    busy = np.clip(np.minimum(acts["end"].to_numpy(), t2) - np.maximum(acts["start"].to_numpy(), t1), 0.0, None)
    return {
        "leads": float(len(waits)),
        "p_wait": float((waits > 0).mean()) if len(waits) else math.nan,
        "wq_hours": float(waits.mean()) if len(waits) else math.nan,
        "lam_per_hour": ll["lam"] / HOURS_PER_DAY,
        "L": ll["L"],
        "little_ratio": ll["ratio"],
        "utilization": float(busy.sum() / (reps * (t2 - t1))),
    }


def mmc_replications(
    servers: int,
    utilization: float,
    replications: int = 10,
    seed: int | np.random.SeedSequence = 0,
    *,
    arrivals: float = 10_000,
    mean_service_hours: float = 1.0,
    policy: str = "fifo",
    warmup_share: float = 0.2,
    cooldown_share: float = 0.05,
) -> pd.DataFrame:
    """``replications`` independent runs of `mmc_scenario` (``arrivals`` leads each on average), one row per
    replication with the columns of `mmc_measure` plus ``replication``. Replication ``i`` uses the same seed for
    every policy (common random numbers: same arrivals, same contact time for each lead)."""
    sc = mmc_scenario(servers, utilization, mean_service_hours, policy=policy, arrivals=arrivals)
    rows = []
    for i, s in enumerate(replication_seeds(seed, replications)):
        row = mmc_measure(simulate(sc, s), warmup_share, cooldown_share)
        rows.append({"replication": i, **row})
    return pd.DataFrame(rows)


SALES_STAGE_HORIZON = 1095.0
SALES_STAGE_WINDOW = (365.0, 730.0)
"""Little's law for the sales stage of the base preset: a three-year run, the stage measured over the second
year. The first year is a warm-up (the desk fills from empty, trust, scoring and channel mix learn); the window
is exactly one year long, so the seasonal phase is the same at both edges; it ends a year before the horizon, so
nearly every lead handed off in it has left the stage by then."""


def sales_stage_littles_law(
    replications: int = 10, seed: int | np.random.SeedSequence = 0, scenario: Scenario | None = None
) -> pd.DataFrame:
    """Little's law for the whole sales stage of the base preset (default): every lead handed to sales, from
    its ``handoff_day`` to its ``terminal_day`` (worked leads until closed, ignored ones until their deadline),
    measured over `SALES_STAGE_WINDOW` of a `SALES_STAGE_HORIZON`-day run. One row per replication with the
    columns of `littles_law` (days; ``ratio = lam W / L``)."""
    # the window skips the run's first year itself, so the preset's own warm-up would only add a year of work
    sc = scenario or load_scenario(
        BASE_PRESET, {"simulation.warmup_days": 0, "simulation.horizon_days": SALES_STAGE_HORIZON}
    )
    H = sc.simulation.horizon_days
    t1, t2 = SALES_STAGE_WINDOW
    rows = []
    for i, s in enumerate(replication_seeds(seed, replications)):
        b = simulate(sc, s).buyers
        handed = ~b["handoff_day"].isna()
        ll = littles_law(b["handoff_day"][handed].to_numpy(float), b["terminal_day"][handed].to_numpy(float), t1, t2, H)
        rows.append({"replication": i, **ll})
    return pd.DataFrame(rows)
