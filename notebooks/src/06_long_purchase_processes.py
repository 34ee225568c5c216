# %% [markdown]
# # 06 · Long purchase processes: when should sales call, and what does nurture do meanwhile?
#
# **Question.** Buying a child car seat takes the shop assistant 15 minutes, but the parents' purchase
# process takes about six months - from the first ultrasound to the due date, a deadline that does not
# move. A B2B software purchase takes months of research before a supplier is called, and then a sales
# process of several meetings. In both, the buyer is only ready to talk near the end. **When should sales
# call, and what does nurturing the buyer meanwhile bring?**
#
# **How this notebook works.** Two client scenarios (by default `car_seat.toml` and `b2b_software.toml`)
# are each run under three calling policies and three nurture budgets, with common random numbers
# (replication *i* of every variant sees the same buyers). Every number quoted is computed in the cell that
# prints it.
#
# **Run time.** `6 x replications` runs of each scenario plus one run each for the journeys: about 20 s on
# one core (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it).

# %% tags=["parameters"]
scenario = "preset:car_seat"  # first case (default: B2C car seat, a file path, or preset:NAME)
b2b_scenario = "preset:b2b_software"  # second case (default: long B2B cycle; a file path, or preset:NAME)
replications = 3  # paired replications per variant
seed = 6
journeys = 20  # buyers shown in the journey timeline
high_nurture_share = 0.30  # the "more nurture" variant: share of the budget moved from acquisition to nurture

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

from simfunnel import compare, load_scenario, plots, simulate
from simfunnel.experiments.shares import with_share
from simfunnel.formatting import format_value
from simfunnel.present import narrative
from simfunnel.present.journeys import journey_profile

plt.style.use("simfunnel.styles.presentation")

cases = {load_scenario(path).name: load_scenario(path) for path in (scenario, b2b_scenario)}
for name, scn in cases.items():
    print(f"{name}: {scn.description}")

# %% [markdown]
# ## Two kinds of purchase
#
# One run of each scenario, summarised from its per-buyer table: how long the purchase process lasts
# (need to deadline), when the buyer becomes ready for sales, how much rep time a won deal takes, and what
# a deal is worth.

# %%
runs = {name: simulate(scn, seed=seed) for name, scn in cases.items()}
profiles = {name: journey_profile(run) for name, run in runs.items()}
labels = {
    "process_days": ("purchase process, median", "days"),
    "ready_window_days": ("sales-ready window, median", "days"),
    "rep_hours_per_win": ("rep hours per won deal, median", "hours"),
    "deal_value": ("first-deal value, median", "money"),
    "sales_cycle_days": ("sales cycle, contact to close, mean", "days"),
}
profile = pd.DataFrame(
    {name: [format_value(p[key], unit) for key, (_, unit) in labels.items()] for name, p in profiles.items()},
    index=pd.Index([label for label, _ in labels.values()], name="one run"),
)
profile.loc["in-market buyers a year"] = [format_value(c.market.buyers_per_year, "count") for c in cases.values()]
profile.loc["sales reps"] = [format_value(c.sales.reps, "count") for c in cases.values()]
profile

# %%
for name, p in profiles.items():
    hours = p["rep_hours_per_win"]
    work = f"{hours * 60:.0f} minutes" if hours < 2 else f"{hours:.0f} hours"
    print(
        f"{name}: a {p['process_days']:.0f}-day purchase process, sales-ready only in the last "
        f"{p['ready_window_days']:.0f} days; a won deal takes {work} of rep time, spread over "
        f"{p['sales_cycle_days']:.0f} days from first contact to close on average."
    )

# %% [markdown]
# **How to read it.** Journeys of a sample of buyers of the first case (default: car seats) that reached
# sales. Grey: the purchase process from the need to the deadline; blue: the window in which the buyer is
# ready to buy. Triangle: handoff to sales; circle: first contact; diamond: outcome.

# %%
first = next(iter(cases))
fig = plots.journey_timeline(runs[first], n=journeys, seed=seed, title=f"Buyer journeys: {first}")
plt.show()

# %% [markdown]
# ## When should sales call?
#
# Three policies, everything else as in each scenario:
#
# - **on receipt, drop** - sales calls as soon as the lead comes in and writes off a buyer who is not ready;
# - **on receipt, recycle** - calls as soon as the lead comes in, and a buyer who is not ready goes back into
#   nurture with a call-back when ready;
# - **when ready** - the buyer's deadline and readiness come with the lead (context), and sales calls when the
#   buyer is ready.

# %%
policies = {
    "on receipt, drop": {"organisation.pass_context": False, "organisation.too_early": "drop"},
    "on receipt, recycle": {"organisation.pass_context": False, "organisation.too_early": "recycle"},
    "when ready": {"organisation.pass_context": True, "organisation.too_early": "recycle"},
}
timing = {
    name: compare(
        {p: scn.with_overrides(ov) for p, ov in policies.items()},
        n=replications,
        seed=seed,
        executor="serial",
        progress=False,
    )
    for name, scn in cases.items()
}
metrics = ["won", "lost_too_early", "lost_too_late", "lost_dropped", "lost_to_competitor", "rep_hours_wasted",
           "contact_wait_days", "revenue", "profit"]  # fmt: skip
pd.concat(
    {name: narrative.kpi_table(exp, metrics, order=list(policies)) for name, exp in timing.items()},
    names=["case", f"policy (mean of {replications} runs)"],
)

# %% [markdown]
# **How to read it.** One chart per case: for each policy, how the journeys that reached sales end (mean
# number of buyers per run, whisker: 95 % interval).

# %%
for name, exp in timing.items():
    fig = plots.lost_reasons(
        exp.summary,
        states=("won", "lost_to_competitor", "too_late", "too_early", "dropped"),
        share=False,
        title=f"{name}: how the journeys that reached sales end, by calling policy",
    )
    plt.show()


# %%
for name, exp in timing.items():
    means = exp.summary.pivot(index="scenario", columns="metric", values="mean")
    base = exp.baseline
    print(f"{name}, against '{base}':")
    for pol in list(policies)[1:]:
        print(
            f"  {pol:<20} deals won {narrative.diff_text(exp, 'won', pol)}, "
            f"profit {narrative.diff_text(exp, 'profit', pol)}"
        )
    print(
        f"  Calling when ready wins {means.loc['when ready', 'won'] / means.loc[base, 'won']:.1f}x as many deals as "
        f"calling on receipt and writing off early buyers, and wastes "
        f"{format_value(means.loc['when ready', 'rep_hours_wasted'], 'hours')} of rep time instead of "
        f"{format_value(means.loc[base, 'rep_hours_wasted'], 'hours')}."
    )
    if (means["profit"] < 0).all():
        print(
            "  Note: profit is negative under every policy in this scenario - marketing and staff cost more than the "
            "gross margin on these sales over the horizon; the differences between policies are what matter here."
        )

# %% [markdown]
# ## What does nurture do meanwhile?
#
# Nurture (content, newsletters, reminders for known buyers) raises a buyer's readiness and its preference
# for us while it is not yet ready. Three nurture budgets, each under the scenario's own calling policy; the
# budget for nurture is taken from (or given back to) the acquisition channels in their current proportions:
#
# - **no nurture**, **current** (the scenario's share), and **more nurture** (`high_nurture_share`).


# %%
nurture = {}
for name, scn in cases.items():
    now = scn.marketing.shares["nurture"]
    variants = {
        "no nurture": with_share(scn, "nurture", 0.0),
        f"current ({now:.0%})": scn,
        f"more nurture ({high_nurture_share:.0%})": with_share(scn, "nurture", high_nurture_share),
    }
    nurture[name] = compare(variants, n=replications, seed=seed, executor="serial", progress=False)
nmetrics = ["mqls", "won", "lost_dropped", "lost_too_late", "lost_to_competitor", "win_rate", "revenue", "profit"]
pd.concat(
    {name: narrative.kpi_table(exp, nmetrics) for name, exp in nurture.items()},
    names=["case", f"nurture (mean of {replications} runs)"],
)

# %% [markdown]
# **How to read it.** One chart per case: the paired difference of each nurture budget against no nurture
# (same buyers), for deals won and profit. A filled dot means the 95 % interval excludes zero.

# %%
for name, exp in nurture.items():
    fig = plots.paired_differences(exp, metrics=["won", "profit"], title=f"{name}: nurture against no nurture")
    plt.show()

# %%
for name, exp in nurture.items():
    print(f"{name}, against '{exp.baseline}':")
    for v in exp.diffs["scenario"].unique():
        print(
            f"  {v:<22} deals won {narrative.diff_text(exp, 'won', v)}, profit {narrative.diff_text(exp, 'profit', v)}"
        )
    means = exp.summary.pivot(index="scenario", columns="metric", values="mean").loc[
        list(dict.fromkeys(exp.summary["scenario"]))
    ]
    print(
        f"  Win rate (won / SQL) {' -> '.join(format_value(x, 'share') for x in means['win_rate'])}; "
        f"MQLs {' -> '.join(format_value(x, 'count') for x in means['mqls'])} "
        f"(nurture money is taken from acquisition)."
    )
