# %% [markdown]
# # 04 · Rep capacity: how many reps does the lead flow need?
#
# **Question.** Every call, meeting and proposal holds a rep for hours of working time. With too few reps,
# leads queue: buyers reach their deadline or choose a competitor before a rep gets to them, and reps with
# a full desk stop following up marketing's leads at all (the "lead black hole"). With too many, reps sit
# idle and cost more than they bring. **How do utilisation, lead wait, lost deals and profit change with
# the number of reps, and where do extra reps stop paying?**
#
# **How this notebook works.** A sweep runs the scenario for each team size in `reps`, `replications` times
# each with common random numbers (replication *i* of every team size sees the same buyers), so the step
# from one team size to the next is measured pair by pair. Every number quoted is computed from the sweep.
#
# **Run time.** `len(reps) x replications` simulations: well under a minute on one core.

# %% tags=["parameters"]
scenario = "preset:aligned"  # the client's scenario (a file path, or preset:NAME for a shipped preset)
reps = [4, 6, 8, 10, 12, 14, 16, 20, 24]  # team sizes to try
replications = 4  # paired replications per team size
seed = 4

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simfunnel import load_scenario, plots, simulate, sweep
from simfunnel.experiment import mean_ci

plt.style.use("simfunnel.styles.presentation")

sc = load_scenario(scenario)
years = sc.simulation.horizon_days / 365
cal = sc.sales.calendar
print(f"Scenario: {sc.name} - {sc.description}")
print(
    f"Today: {sc.sales.reps} reps at {sc.sales.rep_cost_per_year:,.0f} a year each; "
    f"{cal.hours_per_day:g} selling hours a day, {len(cal.workdays)} days a week; "
    f"{sc.market.buyers_per_year:,.0f} in-market buyers a year"
)

# %% [markdown]
# ## The sweep

# %%
sw = sweep(sc, {"sales.reps": reps}, n=replications, seed=seed, executor="serial", progress=False)
means = sw.summary.pivot(index="sales.reps", columns="metric", values="mean")
cols = {
    "rep_utilization": "utilisation %",
    "lead_wait_days": "lead wait (days)",
    "lead_wait_days_p90": "lead wait p90 (days)",
    "queue_wait_days": "queue wait (days)",
    "leads_followed_up": "leads followed up %",
    "lost_too_late": "lost: too late",
    "lost_dropped": "lost: dropped",
    "won": "won",
    "revenue": "revenue",
    "rep_cost": "rep cost",
    "profit": "profit",
}
table = means[list(cols)].rename(columns=cols)
for c in ("utilisation %", "leads followed up %"):
    table[c] *= 100
table.index.name = f"reps (mean of {replications} runs)"
table.round(1).astype({c: int for c in ("lost: too late", "lost: dropped", "won", "revenue", "rep cost", "profit")})

# %% [markdown]
# **How to read it.** One panel per KPI against the number of reps: the line is the mean over the
# replications, the band its 95 % confidence interval, the star the best value. *Utilisation* is the share
# of the reps' working hours spent on sales work. *Queue wait* is the time a lead waits for a free rep once it
# is due to be called - the capacity wait. (The *lead wait* in the table, from handoff to the first call, also
# counts deliberate waiting: when the buyer's context is passed at handoff the rep waits until the buyer is
# ready.) *Too late* counts buyers whose deadline passed, or who chose a competitor, before sales got to them:
# the deals lost to waiting.

# %%
fig = plots.staffing_curve(sw, metrics=("rep_utilization", "queue_wait_days", "lost_too_late", "profit"))
plt.show()

# %% [markdown]
# ## Where do extra reps stop paying?
#
# For each step from one team size to the next, the paired difference in profit (same buyers, different
# team), divided by the number of reps added: what one extra rep brings in profit, after its own cost.

# %%
wide = sw.wide()
profit = wide.pivot(index="replication", columns="sales.reps", values="profit")
steps = []
for a, b in zip(reps[:-1], reps[1:], strict=True):
    stats = mean_ci((profit[b] - profit[a]) / (b - a))
    steps.append(
        {
            "from": a,
            "to": b,
            "profit per extra rep": stats["mean"],
            "95 % CI low": stats["ci_low"],
            "95 % CI high": stats["ci_high"],
        }
    )
steps = pd.DataFrame(steps).set_index(["from", "to"])
steps.round(0).astype(int)

# %%
best_reps = int(means["profit"].idxmax())
other = reps[0] if best_reps != reps[0] else reps[-1]  # the team size set against the best one below


def n_reps(k: int) -> str:
    return f"{k} rep" + ("" if k == 1 else "s")


pays = steps["95 % CI low"] > 0
stop = next(((frm, to) for (frm, to), ok in pays.items() if not ok), None)
rep_cost = sc.sales.rep_cost_per_year * years
print(f"One rep costs {rep_cost:,.0f} over the {years:.0f} simulated years.")
today = f", against {means.loc[sc.sales.reps, 'profit']:,.0f} with today's {n_reps(sc.sales.reps)}"
print(
    f"Profit is highest at {n_reps(best_reps)}: {means.loc[best_reps, 'profit']:,.0f}"
    + (today if sc.sales.reps in means.index and sc.sales.reps != best_reps else "")
    + "."
)
if stop is None:
    print(f"Every step up to {n_reps(reps[-1])} still adds profit: the team is short-staffed over the whole range.")
else:
    frm, to = stop
    r = steps.loc[(frm, to)]
    verdict = "costs more than it brings" if r["95 % CI high"] < 0 else "no longer clearly adds profit"
    print(
        f"Extra reps stop paying beyond {n_reps(frm)}: going from {frm} to {to}, an extra rep {verdict} "
        f"({r['profit per extra rep']:+,.0f} each, 95 % CI {r['95 % CI low']:+,.0f} to {r['95 % CI high']:+,.0f})."
    )
u = means["rep_utilization"]
print(
    f"With {n_reps(best_reps)} the reps are busy {u[best_reps]:.0%} of their working time; "
    f"with {n_reps(reps[0])} {u[reps[0]]:.0%}, with {n_reps(reps[-1])} {u[reps[-1]]:.0%}."
)
q = means["queue_wait_days"]
print(
    f"A lead waits {q[best_reps]:.1f} days on average for a free rep with {n_reps(best_reps)}, "
    f"{q[reps[0]]:.1f} days with {n_reps(reps[0])}."
)
print(
    f"Deals lost to waiting (too late): {means.loc[other, 'lost_too_late']:,.0f} with {n_reps(other)}, "
    f"{means.loc[best_reps, 'lost_too_late']:,.0f} with {best_reps}; leads never followed up (dropped): "
    f"{means.loc[other, 'lost_dropped']:,.0f} and {means.loc[best_reps, 'lost_dropped']:,.0f}."
)

# %% [markdown]
# ## The wait in detail: the most profitable team against another size
#
# **How to read it.** One panel per team size (the most profitable one, and the smallest of the sweep - or
# the largest if the smallest is the most profitable): the distribution of the time from handoff to the first
# call over the leads of one run (same buyers in both), with the mean and the 90th percentile marked.

# %%
runs = {n_reps(k): simulate(sc.with_overrides({"sales.reps": k}), sw.seed_for(0)) for k in sorted({other, best_reps})}
fig = plots.lead_wait(runs)
plt.show()

# %% [markdown]
# **How to read it.** Weekly utilisation of the reps over the simulated period, for the same two team
# sizes. Utilisation builds up over the first months as leads start to flow.

# %%
fig = plots.rep_utilization({name: run.timeseries for name, run in runs.items()})
plt.show()

# %%
for name, run in runs.items():
    waits = (run.buyers["first_contact_day"] - run.buyers["handoff_day"]).dropna()
    print(
        f"{name}: {len(waits):,} leads called; median wait {np.median(waits):.1f} days, 90th percentile "
        f"{np.percentile(waits, 90):.1f} days; {run.summary['won']:,.0f} deals won."
    )
