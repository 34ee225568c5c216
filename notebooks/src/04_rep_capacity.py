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
# **Run time.** `len(reps) x replications` simulations: about 14 s on one core (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it).

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

from simfunnel import load_scenario, plots, simulate, sweep
from simfunnel.experiments.steps import first_step_not_paying, sweep_steps
from simfunnel.formatting import format_kpi, format_kpi_ci, format_value
from simfunnel.present import narrative
from simfunnel.present.journeys import contact_waits
from simfunnel.present.narrative import plural

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
metrics = ["rep_utilization", "contact_wait_days", "queue_wait_days", "contact_wait_days_p90", "leads_followed_up",
           "lost_too_late", "lost_dropped", "won", "revenue", "rep_cost", "profit"]  # fmt: skip
narrative.kpi_table(sw, metrics, key="sales.reps", name=f"reps (mean of {replications} runs)")

# %% [markdown]
# **How to read it.** One panel per KPI against the number of reps: the line is the mean over the
# replications, the band its 95 % confidence interval, the star the best value. *Utilisation* is the share
# of the reps' working hours spent on sales work. *Queueing for a rep* is the time a lead waits for a free rep
# once it is due to be called - the capacity wait. (The *wait for first contact* in the table, from becoming a
# lead to the first call, also counts deliberate waiting: when the buyer's context is passed at handoff the rep
# holds the call until the buyer is ready.) *Too late* counts buyers whose deadline passed, or who chose a
# competitor, before sales got to them: the deals lost to waiting.

# %%
fig = plots.staffing_curve(sw, metrics=("rep_utilization", "queue_wait_days", "lost_too_late", "profit"))
plt.show()

# %% [markdown]
# ## Where do extra reps stop paying?
#
# For each step from one team size to the next, the paired difference in profit (same buyers, different
# team), divided by the number of reps added: what one extra rep brings in profit, after its own cost.

# %%
steps = sweep_steps(sw, "sales.reps", "profit")
steps.assign(
    **{
        "profit per extra rep [95 % CI]": [
            format_kpi_ci("profit", r["mean"], r["ci_low"], r["ci_high"], signed=True) for _, r in steps.iterrows()
        ]
    }
)[["from", "to", "profit per extra rep [95 % CI]"]].set_index(["from", "to"])

# %%
best_reps = int(means["profit"].idxmax())
other = reps[0] if best_reps != reps[0] else reps[-1]  # the team size set against the best one below
stop = first_step_not_paying(steps)
rep_cost = sc.sales.rep_cost_per_year * years
print(f"One rep costs {format_kpi('rep_cost', rep_cost)} over the {years:.0f} simulated years.")
today = (
    f", against {format_kpi('profit', means.loc[sc.sales.reps, 'profit'])} with today's {plural(sc.sales.reps, 'rep')}"
)
print(
    f"Profit is highest at {plural(best_reps, 'rep')}: {format_kpi('profit', means.loc[best_reps, 'profit'])}"
    + (today if sc.sales.reps in means.index and sc.sales.reps != best_reps else "")
    + "."
)
if stop is None:
    print(
        f"Every step up to {plural(reps[-1], 'rep')} still adds profit: the team is short-staffed over the whole range."
    )
else:
    verdict = "costs more than it brings" if stop["ci_high"] < 0 else "no longer clearly adds profit"
    print(
        f"Extra reps stop paying beyond {plural(stop['from'], 'rep')}: going from {stop['from']:.0f} to "
        f"{stop['to']:.0f}, an extra rep {verdict} "
        f"({narrative.ci_phrase('profit', stop['mean'], stop['ci_low'], stop['ci_high'])} each)."
    )
u = means["rep_utilization"]
print(
    f"With {plural(best_reps, 'rep')} the reps are busy {u[best_reps]:.0%} of their working time; "
    f"with {plural(reps[0], 'rep')} {u[reps[0]]:.0%}, with {plural(reps[-1], 'rep')} {u[reps[-1]]:.0%}."
)
q = means["queue_wait_days"]
print(
    f"A lead queues {format_kpi('queue_wait_days', q[best_reps])} on average for a free rep with "
    f"{plural(best_reps, 'rep')}, {format_kpi('queue_wait_days', q[reps[0]])} with {plural(reps[0], 'rep')}."
)
print(
    f"Deals lost to waiting (too late): {means.loc[other, 'lost_too_late']:,.0f} with {plural(other, 'rep')}, "
    f"{means.loc[best_reps, 'lost_too_late']:,.0f} with {best_reps}; leads never followed up (dropped): "
    f"{means.loc[other, 'lost_dropped']:,.0f} and {means.loc[best_reps, 'lost_dropped']:,.0f}."
)

# %% [markdown]
# ## What the wait is made of
#
# **How to read it.** For each team size of the sweep, the wait from becoming a lead to the first call, split into
# batching (waiting for the handoff), queueing for a free rep and a planned call-back (the rep holds the call
# until the buyer is ready); at the right the total with its 95 % interval. Only the queueing part depends on
# the number of reps.

# %%
fig = plots.contact_wait({plural(k, "rep"): sw.summary[sw.summary["sales.reps"] == k] for k in reps})
plt.show()

# %% [markdown]
# ## The wait in detail: the most profitable team against another size
#
# **How to read it.** One panel per team size (the most profitable one, and the smallest of the sweep - or
# the largest if the smallest is the most profitable): the distribution of the wait from becoming a lead to the
# first call by a rep over the leads of one run (same buyers in both), with the mean and the 90th percentile
# marked; the count of leads contacted (and not contacted) is at the top right.

# %%
runs = {
    plural(k, "rep"): simulate(sc.with_overrides({"sales.reps": k}), sw.seed_for(0)) for k in sorted({other, best_reps})
}
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
    w = contact_waits(run)
    print(
        f"{name}: {w['contacted']:,.0f} leads called; median wait for the first contact "
        f"{format_value(w['median'], 'days')}, 90th percentile {format_value(w['p90'], 'days')}; "
        f"{run.summary['won']:,.0f} deals won."
    )
