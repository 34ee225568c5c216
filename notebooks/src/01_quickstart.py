# %% [markdown]
# # 01 · Quickstart: run a scenario, read its funnel, change one thing
#
# **Question.** In a given market and organisation, how many in-market buyers does marketing reach, how
# many become leads, how many does sales win - and what happens when we change one setting?
#
# **How this notebook works.** It loads a scenario file (by default the preset `base.toml`: a mid-size B2B
# firm with a siloed marketing and sales organisation), simulates two years of buyer journeys, reads the
# funnel and the key results, and then changes one setting and measures its effect with paired runs.
# Every number quoted below is computed from the simulation in the cell that prints it.
#
# **Run time.** One run of the preset takes well under a second; the comparison at the end runs
# `replications` paired runs per variant. The whole notebook: about 8 s on one core (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it).

# %% tags=["parameters"]
scenario = "preset:base"  # the client's scenario file (a file path, or preset:NAME for a shipped preset)
seed = 1  # same scenario + same seed = identical results
replications = 10  # paired runs per variant in the comparison at the end
change_field = "sales.reps"  # the one setting we change ...
change_value = 12  # ... and its new value

# %% [markdown]
# ## Set-up
#
# The library is `simfunnel`; the notebook only uses its public functions. Figures are drawn in the
# presentation style so that they can go straight onto a slide.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from simfunnel import compare, load_scenario, plots, simulate
from simfunnel.experiments.bridge import FATE_LABELS
from simfunnel.present import narrative
from simfunnel.vocabulary import KPIS

plt.style.use("simfunnel.styles.presentation")

sc = load_scenario(scenario)
years = sc.simulation.horizon_days / 365
print(f"Scenario: {sc.name} - {sc.description}")
print(
    f"Simulated period: {sc.simulation.horizon_days:,.0f} days ({years:.1f} years); "
    f"{sc.market.buyers_per_year:,.0f} in-market buyers a year; {sc.sales.reps} sales reps; "
    f"marketing budget {sc.marketing.budget_per_year:,.0f} a year"
)

# %% [markdown]
# ## One run
#
# `simulate(scenario, seed)` follows every buyer from the moment a need arises to the decision deadline:
# reached by marketing or not, nurtured, scored, handed to sales, contacted (too early, on time or too late),
# won or lost. The result holds a KPI summary, a table with one row per buyer, a weekly time series and a
# per-channel attribution.

# %%
result = simulate(sc, seed=seed)
k = result.summary
print(f"{k['buyers']:,.0f} in-market buyers, {len(result.buyers):,} rows in the per-buyer table")

# %% [markdown]
# ### The funnel
#
# **How to read it.** Each bar is the number of buyers who reached a stage during the simulated period:
# in-market, engaged by marketing, known (no longer anonymous), marketing-qualified lead (MQL),
# sales-qualified (SQL) and won. The small arrows give the conversion from the stage above; the line
# under the chart gives the share of all in-market buyers that were won.

# %%
fig = plots.funnel(result)
plt.show()

# %%
narrative.funnel_table(k)

# %%
print(
    f"Of {k['buyers']:,.0f} in-market buyers, marketing engaged {k['engaged']:,.0f} "
    f"({k['engaged'] / k['buyers']:.0%}); {k['mqls']:,.0f} became leads (MQLs), {k['sqls']:,.0f} were "
    f"qualified by sales and {k['won']:,.0f} were won: {k['won'] / k['buyers']:.1%} of the market, "
    f"{k['won'] / k['mqls']:.1%} of the leads."
)

# %% [markdown]
# ### The key results
#
# Money is in one currency over the whole simulated period. Profit is gross margin on revenue minus
# marketing spend minus the cost of the sales reps. The *wait for first contact* runs from the moment a buyer
# becomes a lead to the first call by a rep; the three lines below it split it into batching (waiting for the
# weekly handoff list), queueing for a free rep, and a planned call-back (the rep waits until the buyer is ready).

# %%
narrative.summary_table(
    k,
    [
        "revenue", "new_revenue", "repeat_revenue", "marketing_spend", "rep_cost", "profit", "roi", "cac",
        "win_rate", "mql_to_sql", "leads_followed_up", "contact_wait_days", "batch_wait_days", "queue_wait_days",
        "callback_wait_days", "speed_to_lead_hours", "sales_cycle_days", "rep_utilization", "customers_end",
        "churn_rate",
    ],
)  # fmt: skip

# %% [markdown]
# ### Where the buyers go
#
# **How to read it.** Every in-market buyer ends in exactly one state: won; never reached by marketing;
# dropped (handed to sales but never followed up - the "lead black hole"); lost because sales called
# too early or too late; lost to a competitor after a sales process; or still open when the simulation ends.
# Bars are percentages of all in-market buyers.

# %%
fig = plots.lost_reasons(result)
plt.show()

# %%
lost = {state: n for state, n in result.lost_by_reason.items() if state != "open"}
biggest = max(lost, key=lost.get)
reached = {state: n for state, n in lost.items() if state != "never_reached"}
biggest_reached = max(reached, key=reached.get)
print(f"Largest group of lost buyers: {FATE_LABELS[biggest].lower()} ({lost[biggest]:,.0f} buyers).")
print(
    f"Among buyers that marketing did reach, the largest loss is '{FATE_LABELS[biggest_reached].lower()}' "
    f"({reached[biggest_reached]:,.0f} buyers, against {k['won']:,.0f} won)."
)

# %% [markdown]
# ## Change one setting
#
# `scenario.with_overrides({"field.path": value})` returns a new scenario with one field changed (and
# validated again). A single run of each variant would mix the effect of the change with chance; so we
# run both variants `replications` times with **common random numbers** - replication *i* of each variant
# sees the same market, the same buyers and the same dice - and report the paired difference with a
# 95 % confidence interval.

# %%
changed = sc.with_overrides({change_field: change_value})
label = f"{change_field} = {change_value}"
exp = compare({"as is": sc, label: changed}, n=replications, seed=seed, executor="serial", progress=False)
before = narrative.scenario_value(sc, change_field)
print(f"{replications} paired replications per variant; {change_field}: {before} -> {change_value}")

# %% [markdown]
# **How to read it.** One row per KPI: the dot is the mean paired difference (changed minus as is), the
# bar its 95 % confidence interval. A filled dot means the interval excludes zero: the change really moves
# that KPI; "better" or "worse" says in which direction.

# %%
fig = plots.paired_differences(exp, metrics=["profit", "revenue", "won", "rep_utilization", "contact_wait_days"])
plt.show()

# %%
print(f"Setting {label} changes, over {years:.1f} years (paired difference, 95 % CI: verdict):")
for metric in ("profit", "revenue", "won", "rep_utilization", "contact_wait_days"):
    print(f"  {KPIS[metric].label}: {narrative.effect_text(exp, metric)}")
print("(pp = percentage points; 'no clear difference' means the interval contains zero)")
