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
# **Run time.** About 25 s on one core (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it): the comparison runs `2 x replications` simulations and the
# attribution `16 x attribution_replications` (every combination of four lever groups).
#
# **Another client.** `papermill 02_aligned_vs_siloed.ipynb out.ipynb -p scenario preset:b2b_software`
# keeps that client's market, budget and team and switches only the organisation section to the siloed
# and the aligned presets.

# %% tags=["parameters"]
scenario = None  # optional: one client scenario; its siloed and aligned variants are derived from it
siloed_scenario = "preset:siloed"  # used as is when scenario is None; else its organisation only
aligned_scenario = "preset:aligned"  # idem
parameters = None  # optional: a calibration's parameter sample (my_firm.samples.csv): one draw per replication
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
from simfunnel.experiments.bridge import FATE_LABELS, profit_bridge, with_organisation
from simfunnel.formatting import format_kpi, format_value
from simfunnel.present import narrative
from simfunnel.vocabulary import HEADLINES, KPIS, LEVER_GROUPS, LEVERS, lever_group_label

plt.style.use("simfunnel.styles.presentation")

siloed_preset = load_scenario(siloed_scenario)
aligned_preset = load_scenario(aligned_scenario)


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
# The two organisations differ only in these settings, the alignment levers (everything else is identical):

# %%
narrative.lever_table(siloed, aligned)

# %% [markdown]
# ## The paired comparison

# %%
exp = compare(
    {"siloed": siloed, "aligned": aligned},
    n=replications,
    seed=seed,
    executor="serial",
    progress=False,
    parameters=parameters,
)
print(f"{replications} paired replications of {years:.1f} years each")
if exp.parameters is not None:
    print(exp.parameter_uncertainty)

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
p = narrative.diff_row(exp, "profit")
r = narrative.diff_row(exp, "revenue")
print(f"Aligned earns {narrative.diff_text(exp, 'profit')} more profit per {years:.0f} years than siloed:")
print(
    f"  siloed {format_kpi('profit', p['mean_baseline'])} -> aligned {format_kpi('profit', p['mean'])} "
    f"({p['mean'] / p['mean_baseline'] - 1:+.0%} profit, {r['mean'] / r['mean_baseline'] - 1:+.0%} revenue)."
)
print(f"Revenue {narrative.diff_text(exp, 'revenue')}; deals won {narrative.diff_text(exp, 'won')}.")
print(f"Win rate (won / SQL) {narrative.diff_text(exp, 'win_rate')}.")
narrowing = p["half_width_unpaired"] / p["half_width"]
if narrowing > 1:
    print(
        f"Pairing (common random numbers) makes the profit interval {narrowing:.1f}x narrower than comparing "
        f"independent runs would (half-width {format_kpi('profit', p['half_width'])} instead of "
        f"{format_kpi('profit', p['half_width_unpaired'])})."
    )
else:
    print("Here pairing does not narrow the profit interval: the two organisations' profits vary independently.")

# %% [markdown]
# ## How long a lead waits for the first call
#
# **How to read it.** The wait from becoming a lead to the first call by a rep, split into its parts: batching
# (waiting for the weekly handoff list), queueing for a free rep, and a planned call-back (the rep holds the call
# until the buyer is expected to be ready - possible only when the buyer's context comes with the lead). At the
# right: the total with its 95 % interval.

# %%
fig = plots.contact_wait(exp.summary)
plt.show()

# %%
waits = narrative.diff_table(exp, HEADLINES["waits"])
print(waits.to_string())
cw = narrative.diff_row(exp, "contact_wait_days")
parts = {m: narrative.diff_row(exp, m)["mean"] for m in HEADLINES["waits"][1:]}
planned = parts["callback_wait_days"] / cw["mean"] if cw["mean"] > 0 else 0.0
print(
    f"\nSiloed leads wait {format_kpi('contact_wait_days', cw['mean_baseline'])} for the first call, aligned "
    f"leads {format_kpi('contact_wait_days', cw['mean'])}; {planned:.0%} of the aligned wait is a planned "
    f"call-back (the rep waits for the buyer to be ready), not a queue."
)

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
states = ["won", "lost_never_reached", "lost_dropped", "lost_too_early", "lost_too_late", "lost_to_competitor", "open"]
narrative.diff_table(exp, states)

# %%
changes = {m: narrative.diff_row(exp, m)["mean_diff"] for m in states[1:]}
down, up = min(changes, key=changes.get), max(changes, key=changes.get)
print(
    f"The aligned organisation wins {narrative.diff_text(exp, 'won')} more buyers per run. "
    f"The largest fall is in buyers '{KPIS[down].label}' ({changes[down]:+,.0f}); the largest rise in "
    f"'{KPIS[up].label}' ({changes[up]:+,.0f})."
)

# %% [markdown]
# ## Why the profit differs: a profit bridge by the buyer's siloed fate
#
# Every run also returns one row per buyer with its final state and the revenue of its first deal. We take the
# first replication of each organisation - the same in-market buyers, thanks to the common random numbers - and
# follow each buyer from its fate in the siloed organisation to its fate in the aligned one. Profit = gross
# margin x (new + repeat revenue) - marketing spend - rep cost, so the profit gap splits exactly into: the
# margin on first deals of the buyers by how the siloed organisation ended with them, the referral buyers
# (brought by customers, different in each run), repeat purchases, and the costs.
#
# **How to read it.** One row per siloed fate: how many buyers ended that way in the siloed run, how many of
# them each organisation won, and what the row adds to the profit gap (a negative row: buyers the siloed
# organisation won and the aligned one did not). The last row is the profit difference of the two runs.

# %%
draw = exp.draw_for(
    0
)  # replication 0's parameter draw ({} without a parameter sample): the same run as the comparison's
runs = {
    name: simulate(scn.with_overrides(draw), exp.seed_for(0))
    for name, scn in (("siloed", siloed), ("aligned", aligned))
}
bridge = profit_bridge(runs["siloed"], runs["aligned"])
shown = pd.DataFrame(
    {
        "buyers": bridge["buyers"].map(lambda v: format_value(v, "count")),
        "won: siloed": bridge["won_base"].map(lambda v: format_value(v, "count")),
        "won: aligned": bridge["won_other"].map(lambda v: format_value(v, "count")),
        "profit gap": bridge["profit"].map(lambda v: format_value(v, "money", signed=True)),
    }
).replace("n/a", "")
shown

# %%
gap = bridge.loc["Profit difference", "profit"]
lost_fates = bridge.loc[
    [FATE_LABELS[s] for s in ("never_reached", "dropped", "too_early", "too_late", "lost_to_competitor")]
]
top = lost_fates["profit"].idxmax()
print(
    f"Replication 1: the aligned organisation earns {format_value(gap, 'money', signed=True)} more profit. "
    f"Buyers the siloed organisation lost bring {format_value(lost_fates['profit'].sum(), 'money', signed=True)} "
    f"({lost_fates['won_other'].sum():,.0f} of them won by the aligned one); the largest part comes from buyers "
    f"the siloed organisation ended as '{top}' ({format_value(lost_fates.loc[top, 'profit'], 'money', signed=True)}, "
    f"{lost_fates.loc[top, 'won_other']:,.0f} won)."
)
kept = bridge.loc["Deals won"]
print(
    f"Of the {kept['buyers']:,.0f} buyers the siloed organisation won, the aligned one won {kept['won_other']:,.0f} "
    f"({format_value(kept['profit'], 'money', signed=True)}); repeat purchases add "
    f"{format_value(bridge.loc['Repeat revenue', 'profit'], 'money', signed=True)}."
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
if exp.parameters is not None:
    print(
        "The attribution runs at the scenarios' own parameter values (no parameter draws), so its total gap "
        "differs from the comparison's above, which includes parameter uncertainty."
    )

# %% [markdown]
# **How to read it.** The chart starts at the siloed profit; each step adds one lever group's Shapley
# value (whisker: its 95 % interval), largest first, and ends at the profit with all levers aligned.

# %%
fig = plots.attribution_waterfall(att)
plt.show()

# %%
narrative.attribution_table(att)

# %%
table = att.table.sort_values("shapley", ascending=False)
labels = [lever_group_label(x.split("+")) for x in table["lever"]]
total = narrative.ci_phrase("profit", att.gap["mean"], att.gap["ci_low"], att.gap["ci_high"])
print(f"Total gap in this attribution: {total} per {years:.0f} years.")
for rank, (label, (_, row)) in enumerate(zip(labels, table.iterrows(), strict=True)):
    lead = "The lever group that contributes most is" if rank == 0 else "  then"
    print(f"{lead} '{label}': {format_kpi('profit', row['shapley'])} ({row['share']:.0%} of the gap)")
negative = [label for label, hi in zip(labels, table["ci_high"], strict=True) if hi < 0]
if negative:
    print(f"Lever groups that cost profit on their own account: {', '.join(negative)}.")
