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
# **Run time.** `6 x replications` runs of each scenario plus one run each for the journeys: well under a
# minute on one core.

# %% tags=["parameters"]
scenario = "preset:car_seat"  # first case (default: B2C car seat, a file path, or preset:NAME)
b2b_scenario = "../scenarios/b2b_software.toml"  # second case (default: long B2B cycle)
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
rows = {}
for name, run in runs.items():
    b = run.buyers
    process = b["deadline_day"] - b["arrival_day"]
    ready_window = b["deadline_day"] - b["ready_day"]
    won = b[b["terminal_state"] == "won"]
    rows[name] = {
        "purchase process, median (days)": process.median(),
        "sales-ready window, median (days)": ready_window.median(),
        "rep hours per won deal, median": won["rep_hours"].median(),
        "first-deal value, median": won["revenue"].median(),
        "in-market buyers per year": cases[name].market.buyers_per_year,
        "sales reps": cases[name].sales.reps,
        "sales cycle, contact to close (days, mean)": run.summary["sales_cycle_days"],
    }
profile = pd.DataFrame(rows)
profile.round(1)

# %%
for name in cases:
    p = profile[name]
    hours = p["rep hours per won deal, median"]
    work = f"{hours * 60:.0f} minutes" if hours < 2 else f"{hours:.0f} hours"
    print(
        f"{name}: a {p['purchase process, median (days)']:.0f}-day purchase process, sales-ready only in the last "
        f"{p['sales-ready window, median (days)']:.0f} days; a won deal takes {work} of rep time, spread over "
        f"{p['sales cycle, contact to close (days, mean)']:.0f} days from first contact to close on average."
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
cols = {
    "won": "won",
    "lost_too_early": "too early",
    "lost_too_late": "too late",
    "lost_dropped": "dropped",
    "lost_to_competitor": "lost to competitor",
    "rep_hours_wasted": "rep hours wasted",
    "revenue": "revenue",
    "profit": "profit",
}
policy_table = pd.concat(
    {
        name: exp.summary.pivot(index="scenario", columns="metric", values="mean").loc[list(policies), list(cols)]
        for name, exp in timing.items()
    }
).rename(columns=cols)
policy_table.index.names = ["case", f"policy (mean of {replications} runs)"]
policy_table.round(0).astype(int)

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
def diff_text(exp, scen: str, metric: str) -> str:
    r = exp.diffs.set_index(["scenario", "metric"]).loc[(scen, metric)]
    return f"{r['mean_diff']:+,.0f} (95 % CI {r['ci_low']:+,.0f} to {r['ci_high']:+,.0f})"


for name, exp in timing.items():
    base = exp.diffs["baseline"].iloc[0]
    print(f"{name}, against '{base}':")
    for pol in list(policies)[1:]:
        print(f"  {pol:<20} deals won {diff_text(exp, pol, 'won')}, profit {diff_text(exp, pol, 'profit')}")
    t = policy_table.loc[name]
    print(
        f"  Calling when ready wins {t.loc['when ready', 'won'] / t.loc[base, 'won']:.1f}x as many deals as calling on "
        f"receipt and writing off early buyers, and wastes {t.loc['when ready', 'rep hours wasted']:,.0f} rep hours "
        f"instead of {t.loc[base, 'rep hours wasted']:,.0f}."
    )
    if (policy_table.loc[name, "profit"] < 0).all():
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
def with_nurture(scn, share: float):
    sh = dict(scn.marketing.shares)
    channels = list(scn.marketing.channels)
    acq = sum(sh[c] for c in channels)
    delta = share - sh["nurture"]
    sh["nurture"] = share
    for c in channels:
        sh[c] -= delta * sh[c] / acq
    return scn.with_overrides({"marketing.shares": sh})


nurture = {}
for name, scn in cases.items():
    now = scn.marketing.shares["nurture"]
    variants = {
        "no nurture": with_nurture(scn, 0.0),
        f"current ({now:.0%})": scn,
        f"more nurture ({high_nurture_share:.0%})": with_nurture(scn, high_nurture_share),
    }
    nurture[name] = compare(variants, n=replications, seed=seed, executor="serial", progress=False)
ncols = {
    "mqls": "MQLs",
    "won": "won",
    "lost_dropped": "dropped",
    "lost_too_late": "too late",
    "lost_to_competitor": "lost to competitor",
    "win_rate": "win rate %",
    "revenue": "revenue",
    "profit": "profit",
}
nurture_table = pd.concat(
    {name: exp.summary.pivot(index="scenario", columns="metric", values="mean") for name, exp in nurture.items()}
)[list(ncols)].rename(columns=ncols)
nurture_table["win rate %"] *= 100
nurture_table.index.names = ["case", f"nurture (mean of {replications} runs)"]
order = [(name, v) for name, exp in nurture.items() for v in dict.fromkeys(exp.summary["scenario"])]
nurture_table.loc[order].round(1)

# %% [markdown]
# **How to read it.** One chart per case: the paired difference of each nurture budget against no nurture
# (same buyers), for deals won and profit. A filled dot means the 95 % interval excludes zero.

# %%
for name, exp in nurture.items():
    fig = plots.paired_differences(exp, metrics=["won", "profit"], title=f"{name}: nurture against no nurture")
    plt.show()

# %%
for name, exp in nurture.items():
    base = exp.diffs["baseline"].iloc[0]
    print(f"{name}, against '{base}':")
    for v in exp.diffs["scenario"].unique():
        print(f"  {v:<22} deals won {diff_text(exp, v, 'won')}, profit {diff_text(exp, v, 'profit')}")
    wr = nurture_table.loc[name, "win rate %"]
    mq = nurture_table.loc[name, "MQLs"]
    print(
        f"  Win rate (won / SQL) {' -> '.join(f'{x:.0f} %' for x in wr.loc[list(dict.fromkeys(exp.summary['scenario']))])}; "
        f"MQLs {' -> '.join(f'{x:,.0f}' for x in mq.loc[list(dict.fromkeys(exp.summary['scenario']))])} "
        f"(nurture money is taken from acquisition)."
    )
