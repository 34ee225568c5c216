# %% [markdown]
# # 02 · Aligned vs siloed: how much is alignment worth, and which lever pays?
#
# **Question.** Two organisations share the same market, the same marketing budget and the same sales
# team. In one, marketing and sales work in silos: marketing is paid for lead volume, leads go over on a
# weekly list without context, reps work them first-come-first-served and write off anyone called too
# early. In the other they are aligned: a lead threshold agreed with sales, real-time handoff with the
# buyer's deadline and readiness, a response time promise for buyers who ask for a demo, deadline-first
# queues, recycling of too-early leads, CRM feedback, rep training by marketing and after-sales check-ins.
# **How much more profit does the aligned organisation make - and which of these levers brings it?**
#
# **How this notebook works.** Both organisations are simulated `replications` times with common random
# numbers (replication *i* of each sees the same buyers), so the difference is measured pair by pair and
# its confidence interval is tight. A per-buyer table then explains where the profit comes from, and a
# Shapley attribution splits the gap over four groups of levers.
#
# **Run time.** Well under a minute on one core: the comparison runs `2 x replications` simulations and the
# attribution `16 x attribution_replications` (every combination of four lever groups).
#
# **Another client.** `papermill 02_aligned_vs_siloed.ipynb out.ipynb -p scenario preset:b2b_software`
# keeps that client's market, budget and team and switches only the organisation section to the siloed
# and the aligned presets.

# %% tags=["parameters"]
scenario = None  # optional: one client scenario; its siloed and aligned variants are derived from it
siloed_scenario = "preset:siloed"  # used as is when scenario is None; else its organisation only
aligned_scenario = "preset:aligned"  # idem
replications = 10  # paired replications of the comparison
attribution_replications = 4  # replications of each of the 16 lever combinations
seed = 2

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

from simfunnel import attribute, compare, load_scenario, plots, simulate
from simfunnel.vocabulary import LEVER_GROUPS, LEVERS, lever_group_label

plt.style.use("simfunnel.styles.presentation")

siloed_preset = load_scenario(siloed_scenario)
aligned_preset = load_scenario(aligned_scenario)


def with_organisation(base, preset):
    """`base` with every organisation field taken from `preset` (market, budget and team stay)."""
    org = preset.organisation.model_dump()
    return base.with_overrides({f"organisation.{field}": value for field, value in org.items()})


if scenario is None:
    siloed, aligned = siloed_preset, aligned_preset
else:
    client = load_scenario(scenario)
    siloed, aligned = with_organisation(client, siloed_preset), with_organisation(client, aligned_preset)
years = siloed.simulation.horizon_days / 365
print(f"Market, budget and team: {(load_scenario(scenario) if scenario else siloed).name}")
print(
    f"{siloed.simulation.horizon_days:,.0f} days; {siloed.market.buyers_per_year:,.0f} buyers a year; "
    f"{siloed.sales.reps} reps; marketing budget {siloed.marketing.budget_per_year:,.0f} a year"
)

# %% [markdown]
# The two organisations differ only in these settings (everything else is identical):

# %%
levers = pd.DataFrame(
    {"siloed": siloed.organisation.model_dump(), "aligned": aligned.organisation.model_dump()}
).astype(str)
levers.index.name = "organisation setting"
levers

# %% [markdown]
# ## The paired comparison

# %%
exp = compare({"siloed": siloed, "aligned": aligned}, n=replications, seed=seed, executor="serial", progress=False)
d = exp.diffs.set_index("metric")
print(f"{replications} paired replications of {years:.1f} years each")

# %% [markdown]
# **How to read it.** One panel per KPI: the bar is the mean over the replications, the whisker its 95 %
# confidence interval.

# %%
fig = plots.compare_kpis(exp)
plt.show()

# %% [markdown]
# **How to read it.** The same comparison as paired differences (aligned minus siloed, replication by
# replication). A filled dot means the 95 % interval excludes zero.

# %%
fig = plots.paired_differences(exp, metrics=["profit", "revenue", "won", "win_rate", "rep_utilization"])
plt.show()


# %%
def diff_text(metric: str, fmt: str = "{:,.0f}", scale: float = 1.0) -> str:
    r = d.loc[metric]
    m, lo, hi = (scale * r[c] for c in ("mean_diff", "ci_low", "ci_high"))
    return f"{fmt.format(m)} (95 % CI {fmt.format(lo)} to {fmt.format(hi)})"


p = d.loc["profit"]
print(f"Aligned earns {diff_text('profit')} more profit per {years:.0f} years than siloed:")
print(f"  siloed {p['mean_baseline']:,.0f} -> aligned {p['mean']:,.0f} ({p['mean'] / p['mean_baseline'] - 1:+.0%}).")
print(f"Revenue {diff_text('revenue', '{:+,.0f}')}; deals won {diff_text('won', '{:+,.0f}')}.")
print(f"Win rate {diff_text('win_rate', '{:+.1f}', 100)} percentage points.")
narrowing = p["half_width_unpaired"] / p["half_width"]
if narrowing > 1:
    print(
        f"Pairing (common random numbers) makes the profit interval {narrowing:.1f}x narrower than comparing "
        f"independent runs would (half-width {p['half_width']:,.0f} instead of {p['half_width_unpaired']:,.0f})."
    )
else:
    print("Here pairing does not narrow the profit interval: the two organisations' profits vary independently.")

# %% [markdown]
# ## Where the buyers go
#
# **How to read it.** The buyers whose journey reached a decision, by how it ended: won, lost to a
# competitor after a sales process, called too late, called too early, or dropped (handed to sales and never
# followed up). One bar per organisation: the mean number of buyers per run, with its 95 % interval. The table
# below adds the buyers marketing never reached and those still open when the simulation ends.

# %%
fig = plots.lost_reasons(
    exp.summary, states=("won", "lost_to_competitor", "too_late", "too_early", "dropped"), share=False
)
plt.show()

# %%
states = {
    "won": "won",
    "lost_never_reached": "never reached",
    "lost_dropped": "dropped (never followed up)",
    "lost_too_early": "called too early",
    "lost_too_late": "called too late",
    "lost_to_competitor": "lost to a competitor",
    "open": "still open at the end",
}
moves = pd.DataFrame(
    {
        "siloed": [d.loc[m, "mean_baseline"] for m in states],
        "aligned": [d.loc[m, "mean"] for m in states],
        "difference": [d.loc[m, "mean_diff"] for m in states],
        "95 % CI low": [d.loc[m, "ci_low"] for m in states],
        "95 % CI high": [d.loc[m, "ci_high"] for m in states],
    },
    index=pd.Index(list(states.values()), name="buyers ending as (mean per run)"),
)
moves.round(0).astype(int)

# %%
changes = moves["difference"].drop("won")
down, up = changes.idxmin(), changes.idxmax()
print(
    f"The aligned organisation wins {moves.loc['won', 'difference']:,.0f} more buyers per run. "
    f"The largest fall is in buyers '{down}' ({changes[down]:+,.0f}); the largest rise in '{up}' "
    f"({changes[up]:+,.0f})."
)

# %% [markdown]
# ## Why the profit differs: the per-buyer table
#
# Every run also returns one row per buyer with its final state and the revenue it brought. We take the
# first replication of each organisation (the same buyers, thanks to the common random numbers) and count
# the buyers and the money by final state. Profit = gross margin x (new + repeat revenue) - marketing
# spend - rep cost, so the profit gap splits exactly into these parts.

# %%
runs = {name: simulate(scn, exp.seed_for(0)) for name, scn in (("siloed", siloed), ("aligned", aligned))}
by_state = pd.concat(
    {
        name: r.buyers.groupby("terminal_state").agg(buyers=("buyer_id", "size"), revenue=("revenue", "sum"))
        for name, r in runs.items()
    },
    axis=1,
).fillna(0)
order = ["won", "never_reached", "dropped", "too_early", "too_late", "lost_to_competitor", "open"]
by_state = by_state.reindex([x for x in order if x in by_state.index] + [x for x in by_state.index if x not in order])
by_state[("difference", "buyers")] = by_state[("aligned", "buyers")] - by_state[("siloed", "buyers")]
by_state[("difference", "revenue")] = by_state[("aligned", "revenue")] - by_state[("siloed", "revenue")]
by_state.index.name = "final state (replication 1)"
by_state.round(0).astype(int)

# %%
s, a = runs["siloed"].summary, runs["aligned"].summary
margin = siloed.money.gross_margin
bridge = pd.Series(
    {
        "margin on new-customer revenue": margin * (a["new_revenue"] - s["new_revenue"]),
        "margin on repeat revenue": margin * (a["repeat_revenue"] - s["repeat_revenue"]),
        "less extra marketing spend": s["marketing_spend"] - a["marketing_spend"],
        "less extra rep cost": s["rep_cost"] - a["rep_cost"],
    }
)
bridge["= profit difference"] = bridge.sum()
assert abs(bridge["= profit difference"] - (a["profit"] - s["profit"])) < 1e-6 * max(1.0, abs(a["profit"]))
won_extra = a["won"] - s["won"]
print(f"Profit bridge, replication 1 (gross margin {margin:.0%}):")
print(bridge.map("{:+,.0f}".format).to_string())
print(
    f"\nWith the same budget and team, the aligned organisation wins {won_extra:,.0f} more new customers "
    f"({s['won']:,.0f} -> {a['won']:,.0f}); their first deals account for "
    f"{bridge.iloc[0] / bridge['= profit difference']:.0%} of the profit gap and repeat purchases for "
    f"{bridge.iloc[1] / bridge['= profit difference']:.0%}."
)

# %% [markdown]
# ## Which lever pays?
#
# Switching the levers one at a time would credit each lever differently depending on what was switched
# before it (the levers interact: once the rep knows the buyer's deadline and calls when the buyer is ready,
# recycling too-early leads no longer matters).
# The **Shapley value** is the fair split: the average extra profit a lever brings over every order in which
# the levers can be switched on. We group the nine levers into four groups and compute it exactly from all
# 16 combinations, each run `attribution_replications` times with common random numbers.

# %%
groups = list(LEVER_GROUPS.values())  # the one grouping the report and the CLI use too
for label, members in LEVER_GROUPS.items():
    print(f"{label}: {', '.join(LEVERS[m].label for m in members)}")
att = attribute(
    siloed, aligned, n=attribution_replications, seed=seed, levers=groups, executor="serial", progress=False
)
print(f"{len(groups)} lever groups, {2 ** len(groups)} combinations x {attribution_replications} replications")

# %% [markdown]
# **How to read it.** The chart starts at the siloed profit; each step adds one lever group's Shapley
# value (whisker: its 95 % interval), largest first, and ends at the profit with all levers aligned.

# %%
fig = plots.attribution_waterfall(att)
plt.show()

# %%
table = att.table.assign(lever=[lever_group_label(x.split("+")) for x in att.table["lever"]]).set_index("lever")
table = table[["shapley", "ci_low", "ci_high", "share"]].sort_values("shapley", ascending=False)
shown = table.assign(share=100 * table["share"]).rename(
    columns={
        "shapley": "profit contribution",
        "ci_low": "95 % CI low",
        "ci_high": "95 % CI high",
        "share": "% of the gap",
    }
)
shown.round(0).astype(int)

# %%
top = table.index[0]
print(
    f"Total gap in this attribution: {att.gap['mean']:,.0f} (95 % CI {att.gap['ci_low']:,.0f} to "
    f"{att.gap['ci_high']:,.0f}) per {years:.0f} years."
)
print(
    f"The lever group that contributes most is '{top}': {table.loc[top, 'shapley']:,.0f} "
    f"({table.loc[top, 'share']:.0%} of the gap)."
)
for name, row in table.iloc[1:].iterrows():
    print(f"  then '{name}': {row['shapley']:,.0f} ({row['share']:.0%})")
negative = table[table["ci_high"] < 0]
if not negative.empty:
    print(f"Lever groups that cost profit on their own account: {', '.join(negative.index)}.")
