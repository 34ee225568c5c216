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
# **Run time.** About `23 x replications` simulations of the scenario (policies, the value of a stated
# timeline, a threshold sweep) plus a small speed-to-lead experiment: about 27 s on one core (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it).

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
import pandas as pd

from simfunnel import RunOptions, compare, load_scenario, plots, simulate, sweep, validation
from simfunnel.experiments.information import value_of_information
from simfunnel.formatting import format_kpi, format_value
from simfunnel.present import narrative
from simfunnel.present.journeys import contact_timing, handoff_facts, response_buckets
from simfunnel.vocabulary import KPIS

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
contact_timing(as_is)

# %%
facts = handoff_facts(as_is)
k = as_is.summary
print(
    f"{facts['handed']:,.0f} leads were handed to sales; only {facts['ready_at_handoff']:.0%} of the buyers were "
    f"sales-ready at that moment. Sales contacted {facts['contacted']:,.0f} of them "
    f"({facts['contacted'] / facts['handed']:.0%})."
)
print(f"{facts['called_early']:.0%} of the first calls came before the buyer was ready.")
print(
    f"Rep hours spent on calls that led nowhere (too early or too late): {format_kpi('rep_hours', k['rep_hours_wasted'])} "
    f"of {format_kpi('rep_hours', k['rep_hours'])} ({k['rep_hours_wasted'] / k['rep_hours']:.0%})."
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
# - **context** - the rep receives the timeline the buyer stated (CRM and marketing automation carry it; an
#   estimate, and not every buyer states one) and calls when the buyer should be ready; or not, and calls as soon
#   as the lead comes in;
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
metrics = ["won", "lost_too_early", "lost_too_late", "lost_dropped", "lost_to_competitor", "rep_hours_wasted",
           "rep_utilization", "contact_wait_days", "profit"]  # fmt: skip
narrative.kpi_table(exp, metrics, order=list(policies), name=f"policy (mean of {replications} runs)")

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
base = list(policies)[0]
print(f"Against '{base}', per run of {sc.simulation.horizon_days:,.0f} days:")
for name in list(policies)[1:]:
    print(
        f"  {name:<20} profit {narrative.diff_text(exp, 'profit', name)}, "
        f"deals won {narrative.diff_text(exp, 'won', name)}"
    )
top = means.index[means["profit"] == means["profit"].max()]
print(f"Most profitable: {' and '.join(repr(x) for x in top)}" + (" (identical results)." if len(top) > 1 else "."))
if means.loc["context, drop"].equals(means.loc["context, recycle"]):
    print(
        "With the context passed, dropping and recycling give identical results: the rep waits until the "
        "buyer is ready, so no lead is called too early and the too-early rule never fires."
    )
print(
    "Passing the context changes the calls made too early by "
    f"{narrative.diff_text(exp, 'lost_too_early', 'context, recycle')} and too late by "
    f"{narrative.diff_text(exp, 'lost_too_late', 'context, recycle')} buyers, and the rep hours wasted by "
    f"{narrative.diff_text(exp, 'rep_hours_wasted', 'context, recycle')}."
)

# %% [markdown]
# **How to read it.** The wait from becoming a lead to the first call under each policy, split into batching
# (the weekly handoff list), queueing for a free rep and a planned call-back (the rep holds the call until the
# buyer is ready - only possible when the context is passed). At the right: the total with its 95 % interval.

# %%
fig = plots.contact_wait(exp.summary)
plt.show()

# %%
cw = means["contact_wait_days"]
cb = means["callback_wait_days"]
print(
    f"Without context a lead waits {format_kpi('contact_wait_days', cw['no context, drop'])} for its first call; "
    f"with the context {format_kpi('contact_wait_days', cw['context, recycle'])}, of which "
    f"{format_kpi('callback_wait_days', cb['context, recycle'])} is a planned call-back: a longer wait, "
    "but the call now comes when the buyer is ready."
)

# %% [markdown]
# **Does passing the context also lose buyers?** Two effects pull in opposite directions: no call comes too
# early any more, but more leads are worked to the end (none is written off), so the reps are busier, and a
# buyer the rep waits for can reach its deadline or choose a competitor before the sales process ends. The cell
# below sets the changes side by side; notebook 04 shows what more reps would recover.

# %%
for metric in ("lost_too_late", "lost_to_competitor", "rep_utilization"):
    print(
        f"{KPIS[metric].label}, context and recycling against '{base}': {narrative.effect_text(exp, metric, 'context, recycle')}"
    )

# %% [markdown]
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
# ### How precise must the buyer's timeline be?
#
# Context is only as good as the timeline the buyer states. Each point compares, on the same buyers, passing
# the stated timeline against not passing it, for a timeline of the given precision (`context.timeline_error`,
# the log-sd of the buyer's estimate: 0 is exact, 0.4 about ±40 %). **How to read it.** The curve is the profit
# gain from passing context; the band its 95 % confidence interval.

# %%
voi = value_of_information(
    sc, errors=(0.0, 0.2, 0.4, 0.8, 1.6), n=replications, seed=seed, options=RunOptions(progress=False)
)
fig = plots.information_curve(voi)
plt.show()

# %%
now = sc.context.timeline_error
exact, worst = voi.iloc[0], voi.iloc[-1]
print(
    f"With an exact timeline, context adds {format_kpi('profit', exact['gain'], signed=True)} of profit "
    f"({exact['relative_gain']:+.0%}); at this scenario's precision ({now:g}) see the curve."
)
paying = voi[voi["gain_ci_low"] > 0]
if not paying.empty:
    print(f"Context still pays for certain up to a timeline error of {paying['timeline_error'].max():g}.")
if worst["gain_ci_high"] < 0:
    print(f"A timeline that is off by a log-sd of {worst['timeline_error']:g} costs profit: worse than none.")

# %% [markdown]
# ## Does a higher MQL threshold buy better leads?
#
# The lead score measures fit and intent, with noise that CRM feedback reduces; a higher threshold passes fewer
# leads, and better ones. To see the quality effect without a capacity limit, the team is tripled here.
# **How to read it.** Each panel against the threshold: MQL volume, the win rate per SQL, and profit
# (mean and 95 % band over `replications` paired runs).

# %%
thresholds = [0.25, 0.35, 0.45, 0.55, 0.65]
roomy = sc.with_overrides({"sales.reps": 3 * sc.sales.reps})
trade = sweep(roomy, {"organisation.mql_threshold": thresholds}, n=replications, seed=seed, progress=False)
fig = plots.staffing_curve(trade.summary, x="organisation.mql_threshold", metrics=("mqls", "win_rate", "profit"),
                           title="The MQL threshold trades lead volume for lead quality")  # fmt: skip
plt.show()

# %%
means = trade.summary.pivot_table(index="organisation.mql_threshold", columns="metric", values="mean")
lo, hi = means.index.min(), means.index.max()
print(
    f"From threshold {lo:g} to {hi:g}: MQLs {format_kpi('mqls', means.loc[lo, 'mqls'])} -> "
    f"{format_kpi('mqls', means.loc[hi, 'mqls'])}, win rate per SQL {format_kpi('win_rate', means.loc[lo, 'win_rate'])} "
    f"-> {format_kpi('win_rate', means.loc[hi, 'win_rate'])}."
)
best = means["profit"].idxmax()
print(f"Profit is highest at threshold {best:g} ({format_kpi('profit', means.loc[best, 'profit'])}) with this team.")

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
hand = pd.DataFrame({name: response_buckets(simulate(scn, seed=seed)) for name, scn in sla.items()})
shown = hand.drop(index="leads").map(lambda v: format_value(v, "share"))
shown.loc["demo requests (count)"] = hand.loc["leads"].map(lambda v: format_value(v, "count"))
shown.index.name = f"demo requests (one run, seed {seed})"
shown

# %%
sla_exp = compare(sla, n=replications, seed=seed, executor="serial", progress=False)
r = narrative.diff_row(sla_exp, "speed_to_lead_hours")
print(
    f"Mean response to a demo request: {format_kpi('speed_to_lead_hours', r['mean_baseline'])} without an SLA, "
    f"{format_kpi('speed_to_lead_hours', r['mean'])} with a 1 h SLA (the SLA counts working hours; requests made "
    "at night or at the weekend wait for the next morning)."
)
print(
    f"The SLA changes deals won by {narrative.diff_text(sla_exp, 'won')} and profit by "
    f"{narrative.diff_text(sla_exp, 'profit')} per run."
)
