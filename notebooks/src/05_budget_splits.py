# %% [markdown]
# # 05 · Budget splits: acquisition, nurture, retention, training
#
# **Question.** One marketing budget is split over acquisition channels (search, events, content, outbound),
# nurture (educating known buyers until they are ready), retention (keeping customers coming back) and
# training the sales reps. **Does the split that produces the most leads (MQLs) also produce the most
# profit? And what happens to revenue when acquisition stops - with and without a retention budget?**
# Spending only on acquisition is "renting the market": the customers stay only as long as the spend.
#
# **How this notebook works.** A budget search evaluates a coarse grid of splits (steps of `step`; the
# acquisition part is spread over the channels in their current proportions) with common random numbers,
# once looking for the most MQLs and once for the most profit. Because the best of many noisy means is
# optimistic, the winners are then re-run with a fresh seed and compared pair by pair. Finally acquisition is
# stopped half-way through a longer horizon, with and without the retention budget.
#
# **Run time.** The grid has a few dozen splits of `replications` runs each, the check and the renting
# experiment a few dozen runs more: about 24 s on one core (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it).

# %% tags=["parameters"]
scenario = "preset:aligned"  # the client's scenario (a file path, or preset:NAME for a shipped preset)
replications = 2  # runs per split in the search (paired; the winners are checked with a fresh seed below)
step = 0.25  # grid step of the budget search (must divide 1)
seed = 5
confirm_replications = 6  # paired runs per split in the check with a fresh seed
renting_horizon_days = 1095  # horizon of the renting-the-market experiment ...
acquisition_stop_day = 365  # ... and the day acquisition spend stops
renting_replications = 4

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from simfunnel import best_splits, compare, load_scenario, plots, simulate
from simfunnel.experiments.shares import budget_parts, move_share, share_table
from simfunnel.formatting import format_kpi
from simfunnel.present import narrative

plt.style.use("simfunnel.styles.presentation")

sc = load_scenario(scenario)
shares = sc.marketing.shares
channels = list(sc.marketing.channels)
items = [*channels, "nurture", "retention", "training"]
budget = sc.marketing.budget_per_year
print(f"Scenario: {sc.name} - {sc.description}")
print(
    f"Marketing budget {budget:,.0f} a year; reps trained by marketing: {'yes' if sc.organisation.rep_training else 'no'}"
)
share_table(shares, budget)

# %% [markdown]
# ## MQL-optimal vs profit-optimal

# %%
splits = best_splits(sc, n=replications, seed=seed, step=step, refine=False, executor="serial", progress=False)
splits = splits.rename(columns={"current": "current", "mql_optimal": "MQL-optimal", "profit_optimal": "profit-optimal"})
narrative.splits_table(splits)

# %% [markdown]
# **How to read it.** Left: how each split divides the budget (acquisition channels together in one bar
# segment). Right: what each split yields per run, as a percentage of the current split - leads (MQLs),
# deals won and profit - with the values on the bars.

# %%
fig = plots.budget_splits(splits)
plt.show()

# %%
for col in splits.columns:
    v = budget_parts(splits.loc[items, col])
    print(
        f"{col:>15}: acquisition {v['acquisition']:.0%}, nurture {v['nurture']:.0%}, retention {v['retention']:.0%}, "
        f"training {v['training']:.0%} -> {format_kpi('mqls', splits.loc['mqls', col])} MQLs, "
        f"{format_kpi('won', splits.loc['won', col])} won, profit {format_kpi('profit', splits.loc['profit', col])}"
    )
m, p = "MQL-optimal", "profit-optimal"
if splits.loc[items, p].equals(splits.loc[items, "current"]):
    print("The current split is already the most profitable split of the grid.")
print(
    f"\nThe split that maximises leads makes {splits.loc['mqls', m] / splits.loc['mqls', p] - 1:+.0%} more MQLs "
    f"than the profit-optimal split but {splits.loc['profit', m] / splits.loc['profit', p] - 1:+.0%} profit."
)

# %% [markdown]
# A note on retention: a retention budget pays off over the customers' *next* purchases, which the
# search horizon only partly sees; the renting experiment at the end of this notebook runs longer.
#
# ### Check with a fresh seed
#
# The search picked the best of many noisy means, which flatters the winner. We re-run the three splits with
# a seed the search never used and compare them pair by pair with the current split.

# %%
candidates = {
    col: sc.with_overrides({"marketing.shares": {i: float(splits.loc[i, col]) for i in items}})
    for col in splits.columns
}
check = compare(candidates, n=confirm_replications, seed=seed + 1000, executor="serial", progress=False)
fig = plots.paired_differences(check, metrics=["mqls", "won", "profit"])
plt.show()

# %%
print(f"Fresh seed, {confirm_replications} paired runs, against the current split:")
for name in ("MQL-optimal", "profit-optimal"):
    if splits.loc[items, name].equals(splits.loc[items, "current"]):
        print(f"  {name:>14}: the current split itself")
        continue
    print(
        f"  {name:>14}: MQLs {narrative.diff_text(check, 'mqls', name)}, "
        f"profit {narrative.diff_text(check, 'profit', name)}"
    )

# %% [markdown]
# ## Renting the market: what happens when acquisition stops?
#
# Three variants over a longer horizon, the same buyers in each:
#
# - **keeps acquiring** - the scenario as it is;
# - **stops, keeps retention** - acquisition channel spend stops on `acquisition_stop_day`; nurture,
#   retention and training go on;
# - **stops, no retention** - the same, but the retention share was spent on acquisition instead (so it
#   stops too).
#
# **How to read it.** Top: weekly revenue (4-week rolling mean) of each variant, total (solid) and from
# repeat purchases (dashed); the legend gives the totals over the horizon. Bottom: the number of active
# customers. The dotted line marks the day acquisition stops.

# %%
longer = sc.with_overrides({"simulation.horizon_days": renting_horizon_days})
stopped = {"marketing.acquisition_stop_day": acquisition_stop_day}
renting = {
    "keeps acquiring": longer,
    "stops, keeps retention": longer.with_overrides(stopped),
    # the retention share goes to the acquisition channels (in their proportions), so it stops too
    "stops, no retention": longer.with_overrides(stopped | {"marketing.shares": move_share(shares, "retention", 0.0)}),
}
rent = compare(
    renting, n=renting_replications, seed=seed, baseline="stops, no retention", executor="serial", progress=False
)
series = {name: simulate(scn, rent.seed_for(0)).timeseries for name, scn in renting.items()}
fig = plots.acquisition_stop(series, acquisition_stop_day)
plt.show()

# %%
metrics = ["revenue", "new_revenue", "repeat_revenue", "marketing_spend", "profit", "customers_end", "churn_rate"]
name = f"variant (mean of {renting_replications} runs, {renting_horizon_days:,} days)"
narrative.kpi_table(rent, metrics, order=list(renting), name=name)

# %%
means = rent.summary.pivot(index="scenario", columns="metric", values="mean")
r = narrative.diff_row(rent, "customers_end", "stops, keeps retention")
print(
    f"After acquisition stops on day {acquisition_stop_day}, keeping the retention budget leaves "
    f"{narrative.diff_text(rent, 'customers_end', 'stops, keeps retention')} customers at the end "
    f"({format_kpi('customers_end', r['mean'])} instead of {format_kpi('customers_end', r['mean_baseline'])}),"
)
print(
    f"repeat revenue {narrative.diff_text(rent, 'repeat_revenue', 'stops, keeps retention')} and profit "
    f"{narrative.diff_text(rent, 'profit', 'stops, keeps retention')} over {renting_horizon_days:,} days; "
    f"churn rate {narrative.diff_text(rent, 'churn_rate', 'stops, keeps retention')}."
)
keep = means.loc["keeps acquiring", "customers_end"]
print(
    f"Without any acquisition the customer base ends at {means.loc['stops, keeps retention', 'customers_end'] / keep:.0%} "
    f"(with retention) or {means.loc['stops, no retention', 'customers_end'] / keep:.0%} (without) of what "
    f"continued acquisition gives."
)
