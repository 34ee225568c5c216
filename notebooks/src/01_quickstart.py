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
# `replications` paired runs per variant. The whole notebook runs in well under a minute on one core.

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
import pandas as pd

from simfunnel import compare, load_scenario, plots, simulate

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
stages = [
    ("buyers", "in-market buyers"),
    ("engaged", "engaged by marketing"),
    ("known", "known"),
    ("mqls", "marketing-qualified leads"),
    ("sqls", "sales-qualified"),
    ("won", "won"),
]
funnel_table = pd.DataFrame(
    {
        "stage": [label for _, label in stages],
        "buyers": [k[key] for key, _ in stages],
        "% of in-market buyers": [100 * k[key] / k["buyers"] for key, _ in stages],
    }
).set_index("stage")
above = 100 * funnel_table["buyers"] / funnel_table["buyers"].shift(1)
funnel_table["% of stage above"] = above.map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
funnel_table["buyers"] = funnel_table["buyers"].astype(int)
funnel_table.round(1)

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
# marketing spend minus the cost of the sales reps.

# %%
KPIS = {
    "revenue": ("Revenue (new + repeat)", "{:,.0f}"),
    "new_revenue": ("  from new customers", "{:,.0f}"),
    "repeat_revenue": ("  from repeat purchases", "{:,.0f}"),
    "marketing_spend": ("Marketing spend", "{:,.0f}"),
    "rep_cost": ("Sales rep cost", "{:,.0f}"),
    "profit": ("Profit", "{:,.0f}"),
    "roi": ("Marketing ROI (margin - spend) / spend", "{:.2f}"),
    "cac": ("Cost per won customer (CAC)", "{:,.0f}"),
    "win_rate": ("Win rate (won / SQL)", "{:.1%}"),
    "mql_to_sql": ("MQL -> SQL conversion", "{:.1%}"),
    "leads_followed_up": ("Leads followed up by sales", "{:.1%}"),
    "lead_wait_days": ("Lead wait, handoff -> first contact (days)", "{:.1f}"),
    "speed_to_lead_hours": ("Response to demo requests (hours)", "{:.1f}"),
    "sales_cycle_days": ("Sales cycle, contact -> close (days)", "{:.1f}"),
    "rep_utilization": ("Rep utilisation (share of working hours)", "{:.1%}"),
    "customers_end": ("Customers at the end", "{:,.0f}"),
}
pd.DataFrame(
    {"value": [fmt.format(k[key]) for key, (_, fmt) in KPIS.items()]},
    index=pd.Index([label for label, _ in KPIS.values()], name="KPI"),
)

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
print(f"Largest group of lost buyers: {biggest.replace('_', ' ')} ({lost[biggest]:,.0f} buyers).")
print(
    f"Among buyers that marketing did reach, the largest loss is '{biggest_reached.replace('_', ' ')}' "
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


def field_value(scn, path: str):
    value = scn.model_dump()
    for part in path.split("."):
        value = value[part]
    return value


print(
    f"{replications} paired replications per variant; {change_field}: {field_value(sc, change_field)} -> {change_value}"
)

# %% [markdown]
# **How to read it.** One row per KPI: the dot is the mean paired difference (changed minus as is), the
# bar its 95 % confidence interval. A filled dot means the interval excludes zero: the change really moves
# that KPI; "better" or "worse" says in which direction.

# %%
fig = plots.paired_differences(exp, metrics=["profit", "revenue", "won", "rep_utilization", "lead_wait_days"])
plt.show()

# %%
d = exp.diffs.set_index("metric")


def verdict(metric: str, fmt: str = "{:+,.0f}", scale: float = 1.0) -> str:
    """Paired difference of one KPI with its 95 % CI, and whether the CI excludes zero."""
    r = d.loc[metric]
    m, lo, hi = (scale * r[c] for c in ("mean_diff", "ci_low", "ci_high"))
    sig = "a real effect" if (lo > 0 or hi < 0) else "not distinguishable from zero"
    return f"{fmt.format(m)} (95 % CI {fmt.format(lo)} to {fmt.format(hi)}; {sig})"


print(f"Setting {label} changes, over {years:.1f} years:")
print(f"  profit   {verdict('profit')}")
print(f"  revenue  {verdict('revenue')}")
print(f"  deals won {verdict('won')}")
print(f"  rep utilisation {verdict('rep_utilization', '{:+.1f} pp', 100)} (pp = percentage points)")
