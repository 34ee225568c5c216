# %% [markdown]
# # 03 · Handoff timing: too early, too late, and how fast to answer
#
# **Question.** A buyer is only ready to talk to sales near the end of its purchase process; at its
# deadline it buys - from us or from a competitor. If sales calls too early, the call wastes rep time and
# the lead may be written off; if it calls too late, the deal is gone. **How many deals does the timing of
# the handoff cost, does it help to pass the buyer's deadline and readiness to the rep at handoff, and how
# fast must a buyer who asks for a demo be answered?**
#
# **How this notebook works.** One run of the scenario shows when leads reach sales compared with when
# the buyers are ready. Four handoff policies (context passed or not x too-early leads dropped or
# recycled) are then compared with common random numbers, and the speed-to-lead mechanism is set beside
# the published figures. Every number quoted is computed in the cell that prints it.
#
# **Run time.** About `8 x replications` simulations of the scenario plus a small speed-to-lead experiment:
# well under a minute on one core.

# %% tags=["parameters"]
scenario = "preset:siloed"  # the client's scenario (a file path, or preset:NAME for a shipped preset)
replications = 5  # paired replications per policy
seed = 3
journeys = 24  # buyers shown in each journey timeline
speed_to_lead_replications = 4  # runs of the speed-to-lead experiment (10,000 demo requests each)

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simfunnel import compare, load_scenario, plots, simulate, validation

plt.style.use("simfunnel.styles.presentation")

sc = load_scenario(scenario)
org = sc.organisation
print(f"Scenario: {sc.name} - {sc.description}")
print(
    f"Handoff: {org.handoff}"
    + (f" every {org.batch_interval_days:g} days" if org.handoff == "batch" else "")
    + f"; context passed: {'yes' if org.pass_context else 'no'}; too-early leads: {org.too_early}; "
    f"response SLA for demo requests: {'none' if math.isinf(org.response_sla_hours) else f'{org.response_sla_hours:g} h'}"
)
print(f"A buyer becomes sales-ready {sc.market.ready_at:.0%} of the way through its purchase process.")

# %% [markdown]
# ## When do leads reach sales?
#
# We run the scenario once and look at every lead that sales contacted: was the buyer already sales-ready
# at the first call, inside its ready window, or was its deadline already past?

# %%
as_is = simulate(sc, seed=seed)
b = as_is.buyers
handed = b[b["handoff_day"].notna()]
contacted = handed[handed["first_contact_day"].notna()]
when = np.select(
    [
        contacted["first_contact_day"] < contacted["ready_day"],
        contacted["first_contact_day"] >= contacted["deadline_day"],
    ],
    ["1 before the buyer was ready", "3 after the buyer's deadline"],
    "2 inside the sales-ready window",
)
timing = pd.crosstab(pd.Series(when, name="first call came", index=contacted.index), contacted["terminal_state"])
timing = timing.rename(index=lambda s: s[2:])
timing["all contacted"] = timing.sum(axis=1)
timing

# %%
ready_at_handoff = (handed["handoff_day"] >= handed["ready_day"]).mean()
early = (contacted["first_contact_day"] < contacted["ready_day"]).mean()
print(
    f"{len(handed):,} leads were handed to sales; only {ready_at_handoff:.0%} of the buyers were sales-ready "
    f"at that moment. Sales contacted {len(contacted):,} of them ({len(contacted) / len(handed):.0%})."
)
print(f"{early:.0%} of the first calls came before the buyer was ready.")
print(
    f"Rep hours spent on calls that led nowhere (too early or too late): {as_is.summary['rep_hours_wasted']:,.0f} "
    f"of {as_is.summary['rep_hours']:,.0f} ({as_is.summary['rep_hours_wasted'] / as_is.summary['rep_hours']:.0%})."
)

# %% [markdown]
# ### Journeys
#
# **How to read it.** Each row is one buyer that reached sales (a sample mixing outcomes). The grey bar is
# its purchase process from the need to the decision deadline; the blue part is the window in which it is
# ready to talk to sales. The black triangle marks the handoff, the open circle the first call (a dotted
# line: waiting for sales), the diamond the outcome, coloured by how the journey ended. A circle left of
# the blue window is a call made too early; a diamond after the deadline a call made too late.

# %%
fig = plots.journey_timeline(as_is, n=journeys, seed=seed, title=f"Buyer journeys as is ({sc.name})")
plt.show()

# %% [markdown]
# ## Does it help to pass the buyer's context at handoff?
#
# Four policies, each run `replications` times on the same buyers:
#
# - **context** - the rep receives the buyer's deadline and readiness with the lead (CRM and marketing
#   automation carry it), and calls when the buyer is ready; or not, and calls as soon as the lead comes in;
# - **too-early leads** - written off ("drop"), or sent back into nurture with a call-back once the buyer is
#   ready ("recycle").
#
# All other settings stay as in the scenario.

# %%
policies = {
    "no context, drop": {"organisation.pass_context": False, "organisation.too_early": "drop"},
    "no context, recycle": {"organisation.pass_context": False, "organisation.too_early": "recycle"},
    "context, drop": {"organisation.pass_context": True, "organisation.too_early": "drop"},
    "context, recycle": {"organisation.pass_context": True, "organisation.too_early": "recycle"},
}
exp = compare(
    {name: sc.with_overrides(ov) for name, ov in policies.items()},
    n=replications,
    seed=seed,
    executor="serial",
    progress=False,
)
means = exp.summary.pivot(index="scenario", columns="metric", values="mean").loc[list(policies)]
cols = {
    "won": "won",
    "lost_too_early": "too early",
    "lost_too_late": "too late",
    "lost_dropped": "dropped",
    "lost_to_competitor": "lost to competitor",
    "rep_hours_wasted": "rep hours wasted",
    "rep_utilization": "rep utilisation %",
    "profit": "profit",
}
table = means[list(cols)].rename(columns=cols)
table["rep utilisation %"] *= 100
table.index.name = f"policy (mean of {replications} runs)"
table.round(0).astype(int)

# %% [markdown]
# **How to read it.** For each policy, the number of buyers whose journey ended in each state (mean per
# run, whisker: 95 % interval). Buyers never reached by marketing and buyers still open at the end are
# left out: the handoff policy does not touch them.

# %%
fig = plots.lost_reasons(
    exp.summary,
    states=("won", "lost_to_competitor", "too_late", "too_early", "dropped"),
    share=False,
    title="Handoff policies: how the journeys that reached sales end",
)
plt.show()

# %%
d = exp.diffs.set_index(["scenario", "metric"])


def diff_text(policy: str, metric: str, fmt: str = "{:+,.0f}") -> str:
    r = d.loc[(policy, metric)]
    return f"{fmt.format(r['mean_diff'])} (95 % CI {fmt.format(r['ci_low'])} to {fmt.format(r['ci_high'])})"


base = list(policies)[0]
print(f"Against '{base}', per run of {sc.simulation.horizon_days:,.0f} days:")
for name in list(policies)[1:]:
    print(f"  {name:<20} profit {diff_text(name, 'profit')}, deals won {diff_text(name, 'won')}")
top = table.index[table["profit"] == table["profit"].max()]
print(f"Most profitable: {' and '.join(repr(x) for x in top)}" + (" (identical results)." if len(top) > 1 else "."))
if table.loc["context, drop"].equals(table.loc["context, recycle"]):
    print(
        "With the context passed, dropping and recycling give identical results: the rep waits until the "
        "buyer is ready, so no lead is called too early and the too-early rule never fires."
    )
print(
    f"Passing the context changes the calls made too early by {diff_text('context, recycle', 'lost_too_early')} "
    f"and too late by {diff_text('context, recycle', 'lost_too_late')} buyers, and the rep hours wasted by "
    f"{diff_text('context, recycle', 'rep_hours_wasted')}."
)

# %% [markdown]
# **Why can "too late" rise when the context is passed?** With the context passed, more leads are worked
# to the end (none is written off as too early), so the reps are busier and some of the buyers they wait for
# reach their deadline or choose a competitor before the sales process ends. The table above shows the rep
# utilisation of each policy; notebook 04 shows what more reps would recover.
#
# ### The same buyers with the context passed
#
# **How to read it.** As above, for the same market and buyers (same seed) under the policy "context,
# recycle"; the sample of journeys shown is drawn again from them. The rep now calls when the buyer is ready:
# first calls fall inside the blue sales-ready window.

# %%
with_context = simulate(sc.with_overrides(policies["context, recycle"]), seed=seed)
fig = plots.journey_timeline(
    with_context, n=journeys, seed=seed, title="Buyer journeys with the context passed at handoff"
)
plt.show()

# %% [markdown]
# ## Speed to lead: how fast must a demo request be answered?
#
# Some buyers raise their hand themselves (a demo request). The published evidence (Oldroyd, McElheran &
# Elkington, "The Short Life of Online Sales Leads", HBR 2011, one vendor's data on 1.25 million leads) is
# that firms that tried to contact such a lead within an hour were nearly 7 times as likely to qualify it as
# firms that waited one hour longer, and more than 60 times as likely as firms that waited 24 hours or more.
# The model turns this into the chance that a hand-raiser is still engaged after a response delay of *d*
# hours: `floor + (1 - floor) exp(-d / decay)`, with the two parameters fitted to those two ratios.
#
# **How to read it.** The blue curve is that chance against the response delay (log scale; left: the first
# hours, right: two days). The orange bars are its mean over the delay buckets of the study; the box
# compares the model's ratios with the published ones. The black diamonds are the qualification rates
# measured in a simulation in which the delays are spread evenly over 0-32 hours (scaled to the model in the
# first bucket).

# %%
stl = validation.speed_to_lead_ratios(
    speed_to_lead_replications, seed, leads=10_000, speed_to_lead=sc.marketing.speed_to_lead
)
pooled = {f"share_{bucket}": stl[f"q_{bucket}"].sum() / stl[f"n_{bucket}"].sum() for bucket in validation.SPEED_BUCKETS}
fig = plots.speed_to_lead_curve(sc, observed=pooled)
plt.show()

# %%
decay, floor = sc.marketing.speed_to_lead.decay_hours, sc.marketing.speed_to_lead.floor
r1, r24 = validation.speed_to_lead_model_ratios(decay, floor)
sim1 = pooled["share_lt1h"] / pooled["share_1to2h"]
sim24 = pooled["share_lt1h"] / pooled["share_ge24h"]
print(
    f"Engagement halves every {decay * math.log(2) * 60:.0f} minutes of waiting; {floor:.1%} stay interested however long they wait."
)
print(f"Qualified within 1 h vs 1-2 h:   model {r1:.1f}x, simulated {sim1:.1f}x (published: nearly 7x)")
print(f"Qualified within 1 h vs >= 24 h: model {r24:.0f}x, simulated {sim24:.0f}x (published: more than 60x)")

# %% [markdown]
# ### Demo requests in this organisation
#
# In the study, 37 % of the firms responded within an hour, 16 % within 1-24 hours, 24 % after more than
# 24 hours and 23 % never. How does this organisation answer its hand-raisers, with and without a response
# SLA of one working hour (hand-raisers routed in real time and answered first)?

# %%
sla = {
    "no response SLA": sc.with_overrides({"organisation.response_sla_hours": math.inf}),
    "1 h response SLA": sc.with_overrides({"organisation.response_sla_hours": 1.0}),
}
buckets = [(0, 1, "within 1 h"), (1, 24, "1-24 h"), (24, math.inf, "24 h or more")]
rows = {}
for name, scn in sla.items():
    hb = simulate(scn, seed=seed).buyers
    hb = hb[hb["lead_kind"] == "hand_raiser"]
    delay = (hb["first_contact_day"] - hb["lead_day"]) * 24
    row = {}
    for lo, hi, label in buckets:
        m = (delay >= lo) & (delay < hi)
        row[f"answered {label}"] = m.mean()
        row[f"qualified, if answered {label}"] = hb.loc[m, "sql_day"].notna().mean() if m.any() else np.nan
    row["never answered"] = delay.isna().mean()
    row["hand-raisers"] = len(hb)
    rows[name] = row
hand = pd.DataFrame(rows)
shown = (hand.drop(index="hand-raisers") * 100).map(lambda v: "-" if pd.isna(v) else f"{v:.1f} %")
shown.loc["hand-raisers (count)"] = hand.loc["hand-raisers"].map("{:,.0f}".format)
shown.index.name = f"demo requests (one run, seed {seed})"
shown

# %%
sla_exp = compare(sla, n=replications, seed=seed, executor="serial", progress=False)
sd = sla_exp.diffs.set_index("metric")


def sla_text(metric: str, fmt: str = "{:+,.0f}") -> str:
    r = sd.loc[metric]
    return f"{fmt.format(r['mean_diff'])} (95 % CI {fmt.format(r['ci_low'])} to {fmt.format(r['ci_high'])})"


r = sd.loc["speed_to_lead_hours"]
print(
    f"Mean response to a demo request: {r['mean_baseline']:.1f} h without an SLA, {r['mean']:.1f} h with a "
    f"1 h SLA (the SLA counts working hours; requests made at night or at the weekend wait for the next morning)."
)
print(f"The SLA changes deals won by {sla_text('won')} and profit by {sla_text('profit')} per run.")
