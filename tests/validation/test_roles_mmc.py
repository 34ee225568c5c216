"""Each role pool reduces to M/M/c (docs/pages/model.md#sales-roles): in the M/M/c reduction of the model
(`scenarios/mmc_validation.toml`, as in tests/validation/test_erlang_c.py) with `sales.roles` set,

- the SDR pool, which does the first contacts, is the M/M/c queue of the leads (c SDRs, Poisson leads,
  exponential contacts): Erlang C gives the share of leads that wait and their mean wait;
- the AE pool gets the qualified leads after a zero-delay handoff. With many SDRs the SDR stage is M/M/c too,
  and the departures of a stationary M/M/c queue are Poisson (Burke's theorem), so with an exponential proposal
  (the AEs' only step) the AE pool is M/M/c as well.

Statistics as in test_erlang_c.py: R replications, a 20 % warm-up and 5 % cool-down window, replication means
within 4 SE of Erlang C (mean waits on the log scale)."""

from __future__ import annotations

import numpy as np
import pytest

from simfunnel.simulate import simulate
from simfunnel.validation import check_row, erlang_c, erlang_c_wq, mmc_scenario, point_seed, replication_seeds

HOURS = 24.0
CAL_OFF = {"enabled": False}


def role_scenario(sdrs: int, aes: int, utilization: float, pool: str):
    """The M/M/c reduction with roles: the pool under test (`sdr` or `ae`) has `utilization` at 1 h mean work."""
    c = sdrs if pool == "sdr" else aes
    base = mmc_scenario(c, utilization, arrivals=3_000)
    roles = {
        "sdr": {"reps": sdrs, "rep_cost_per_year": 0.0, "calendar": CAL_OFF},
        "ae": {"reps": aes, "rep_cost_per_year": 0.0, "calendar": CAL_OFF},
        "handoff_delay_days": {"kind": "fixed", "value": 0.0},
        "context_loss": 0.0,
    }
    over = {"sales.roles": roles}
    if pool == "ae":
        over["sales.proposal_hours"] = {"kind": "exponential", "mean": 1.0}
    return base.with_overrides(over), c


def waits(result, pool: str, t1: float, t2: float) -> np.ndarray:
    """Hours each lead handed off in [t1, t2) waited for the pool: SDR, first contact - handoff; AE, start of
    its AE step - end of its qualifying contact."""
    b = result.buyers
    if pool == "sdr":
        inside = (b["handoff_day"] >= t1) & (b["handoff_day"] < t2)
        return ((b["first_contact_day"] - b["handoff_day"])[inside] * HOURS).to_numpy()
    a = result.activities
    contact_end = a[a["kind"] == "contact"].set_index("buyer")["end"]
    step_start = a[a["kind"] == "sales_step"].set_index("buyer")["start"]
    both = step_start.index.intersection(contact_end.index)
    start_of = b["handoff_day"].reindex(both)
    keep = both[(start_of >= t1) & (start_of < t2)]
    return ((step_start[keep] - contact_end[keep]) * HOURS).to_numpy()


@pytest.mark.parametrize(
    ("sdrs", "aes", "rho", "pool"),
    [(3, 40, 0.7, "sdr"), (1, 40, 0.6, "sdr"), (40, 3, 0.7, "ae"), (40, 2, 0.5, "ae")],
)
def test_role_pool_is_mmc(sdrs: int, aes: int, rho: float, pool: str) -> None:
    sc, c = role_scenario(sdrs, aes, rho, pool)
    lam_per_hour = rho * c  # mean work 1 h
    H = sc.simulation.horizon_days
    t1, t2 = 0.2 * H, 0.95 * H
    p_wait, wq = [], []
    for seed in replication_seeds(point_seed(20_261_202, sdrs, aes, rho), 12):
        w = waits(simulate(sc, seed), pool, t1, t2)
        assert len(w) > 1_000 and not np.isnan(w).any()
        p_wait.append(float((w > 1e-9).mean()))
        wq.append(float(w.mean()))
    rows = [
        check_row(f"{pool} P(wait)", erlang_c(c, rho * c), p_wait),
        check_row(f"{pool} Wq", erlang_c_wq(c, lam_per_hour, 1.0), wq, log_scale=True),
    ]
    bad = [r for r in rows if not r["passed"]]
    assert not bad, bad
