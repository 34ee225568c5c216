# %% [markdown]
# # 08 · Model validation: does the model reproduce what is known?
#
# **Question.** Before trusting any what-if, a sceptical client should ask: do the model's parts behave as
# theory and published evidence say they must? This notebook checks three of them:
#
# 1. **The sales team as a queue (Erlang C).** Reduced to one queue - leads arriving at random, a first call of
#    random length, a fixed number of reps working around the clock - the rep pool is the textbook M/M/c queue,
#    for which the Erlang C formula gives exactly how many leads have to wait and for how long.
# 2. **Little's law** (Little 1961): at every stage, the average number of leads in the stage equals the rate
#    at which they enter times the average time they spend there. It holds for any system in balance, so a
#    model that breaks it is miscounting.
# 3. **Speed to lead.** The model's decay of a demo request's interest, fitted to the published ratios of
#    Oldroyd, McElheran & Elkington (HBR 2011: within an hour ~7x the second hour, >60x a day or more), must
#    reproduce those ratios when simulated.
#
# **How a check is judged.** Each simulated figure is the mean over independent replications; it passes when
# it lies within 4 standard errors of the theoretical or published value (a correct model fails a single
# check about once in a few hundred runs). The interval shown is the 95 % confidence interval of the mean.
#
# **Run time.** The quick set of checks plus the curves below: about 24 s on one core (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it).

# %% tags=["parameters"]
scenario = "preset:base"  # the client's scenario: its speed-to-lead parameters and sales stage
seed = 0
servers = [2, 5]  # reps in the Erlang C curves
utilizations = [0.5, 0.6, 0.7, 0.8, 0.9]  # loads at which the queue is simulated
erlang_replications = 8  # replications per (reps, load) point
erlang_arrivals = 5000  # leads per replication (twice as many at loads >= 0.9, which settle slowly)
little_replications = 4  # three-year runs of the client's scenario for Little's law
speed_to_lead_replications = 4  # runs of the speed-to-lead experiment (10,000 demo requests each)

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

from simfunnel import load_scenario, plots, validation
from simfunnel.experiments import mean_ci

plt.style.use("simfunnel.styles.presentation")

sc = load_scenario(scenario)
print(f"Scenario: {sc.name} - {sc.description}")

# %% [markdown]
# ## All checks at a glance
#
# `simfunnel.validation.run_checks(quick=True)`: the same checks as the command `simfunnel validate-model
# --quick`. Each row compares the expected value (theory or published figure) with the simulated one.

# %%
checks = validation.run_checks(quick=True, seed=seed)
shown = checks.copy()
for c in ("expected", "simulated", "ci_low", "ci_high", "tolerance"):
    shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:.3f}" if abs(v) < 100 else f"{v:,.0f}")
shown["passed"] = shown["passed"].map({True: "yes", False: "NO"})
shown.set_index("check")

# %%
print(f"{int(checks['passed'].sum())} of {len(checks)} checks pass.")
failed = checks.loc[~checks["passed"], "check"].tolist()
if failed:
    print("Failed: " + "; ".join(failed))

# %% [markdown]
# ## Erlang C: simulated queue against theory
#
# The model reduced to one queue (`scenarios/mmc_validation.toml`): `c` reps, first calls of one hour on
# average, leads arriving at random at a rate that keeps the reps busy a share `rho` of the time. Theory
# (Erlang C) gives the chance that a lead has to wait for a rep, and the mean wait.
#
# **How to read it.** Lines: Erlang C for each team size; dots: the simulated mean over the replications, with
# its 95 % interval. The dots lying on the lines is the check.

# %%
rows = []
for c in servers:
    for rho in utilizations:
        design = {"arrivals": 2 * erlang_arrivals, "warmup_share": 0.3} if rho >= 0.9 else {"arrivals": erlang_arrivals}
        runs = validation.mmc_replications(c, rho, erlang_replications, validation.point_seed(seed, c, rho), **design)
        theory = validation.mmc_theory(c, rho)
        judged = validation.mmc_check_rows(c, rho, runs)[:2]  # P(wait), Wq: the 4-SE rule of run_checks
        for metric, check in zip(("p_wait", "wq_hours"), judged, strict=True):
            s = mean_ci(runs[metric])
            rows.append(
                {
                    "reps": c,
                    "utilisation": rho,
                    "metric": metric,
                    "theory": theory[metric],
                    "simulated": s["mean"],
                    "ci_low": s["ci_low"],
                    "ci_high": s["ci_high"],
                    "passed": check["passed"],
                }
            )
erlang = pd.DataFrame(rows)

fig = plots.erlang_c(erlang)
plt.show()

# %%
table = erlang.pivot_table(index=["reps", "utilisation"], columns="metric", values=["theory", "simulated"])
table.index.names = ["reps", "utilisation rho"]
table.columns = [f"{m} {kind}" for kind, m in table.columns]
table = table[["p_wait theory", "p_wait simulated", "wq_hours theory", "wq_hours simulated"]]
table.columns = ["P(wait) theory", "P(wait) simulated", "mean wait (h) theory", "mean wait (h) simulated"]
table.round(3)

# %%
inside = ((erlang["ci_low"] <= erlang["theory"]) & (erlang["theory"] <= erlang["ci_high"])).mean()
worst = erlang.assign(rel=(erlang["simulated"] / erlang["theory"] - 1).abs()).sort_values("rel").iloc[-1]
print(
    f"{len(erlang)} simulated values; {int(erlang['passed'].sum())} pass the 4-standard-error check; the theoretical "
    f"value lies inside the 95 % interval for {inside:.0%} of them (about 95 % expected)."
)
print(
    f"Largest relative deviation: {worst['rel']:.0%} ({'mean wait' if worst['metric'] == 'wq_hours' else 'P(wait)'}, "
    f"{worst['reps']:.0f} reps, utilisation {worst['utilisation']:.0%}): queues under heavy load settle slowly, "
    f"so their means over a few thousand leads scatter most."
)

# %% [markdown]
# ## Little's law in the client's scenario
#
# The whole sales stage of the client's scenario - every lead from its handoff until it is closed (won or
# lost) or, if nobody follows it up, until its deadline - over the second year of a three-year run started
# empty (its first year plays the preset's warm-up: the desk fills, trust and lead scoring learn). Little's law says
# *L = lambda x W*: the average number of leads on the reps' desks equals the leads handed over per day times
# the average days each spends there.

# %%
three_years = sc.with_overrides(
    {"simulation.warmup_days": 0, "simulation.horizon_days": validation.SALES_STAGE_HORIZON}
)
stage = validation.sales_stage_littles_law(little_replications, seed, scenario=three_years)
ll = stage[["L", "lam", "W", "lam_W", "ratio"]].mean()
ratio = mean_ci(stage["ratio"])
print(
    f"Leads on the desks (L): {ll['L']:,.0f} on average; handed over: {ll['lam']:,.1f} a day (lambda); "
    f"time on the desk: {ll['W']:,.1f} days (W)."
)
print(
    f"lambda x W = {ll['lam_W']:,.0f}; lambda x W / L = {ratio['mean']:.3f} (95 % CI {ratio['ci_low']:.3f} to "
    f"{ratio['ci_high']:.3f}; Little's law: 1)."
)

# %% [markdown]
# ## Speed to lead against the published ratios
#
# **How to read it.** The blue curve is the model's chance that a demo request is still interested after a
# response delay (log scale); the orange bars its mean over the response buckets of the HBR study; the box sets
# the model's ratios beside the published ones. The black diamonds are simulated: one overloaded rep answers
# 10,000 demo requests per run with delays spread evenly over 0-32 hours, and we count how many qualify in each
# bucket.

# %%
stl = validation.speed_to_lead_ratios(
    speed_to_lead_replications, validation.point_seed(seed, 2), leads=10_000, speed_to_lead=sc.marketing.speed_to_lead
)
pooled = {f"share_{b}": stl[f"q_{b}"].sum() / stl[f"n_{b}"].sum() for b in validation.SPEED_BUCKETS}
fig = plots.speed_to_lead_curve(sc, observed=pooled)
plt.show()

# %%
decay, floor = sc.marketing.speed_to_lead.decay_hours, sc.marketing.speed_to_lead.floor
fit_decay, fit_floor = validation.fit_decay()
r1 = mean_ci(validation.jackknife_ratio(stl["q_lt1h"], stl["n_lt1h"], stl["q_1to2h"], stl["n_1to2h"]))
r24 = mean_ci(validation.jackknife_ratio(stl["q_lt1h"], stl["n_lt1h"], stl["q_ge24h"], stl["n_ge24h"]))
print(
    f"Fitted to the published ratios: decay {fit_decay:.3f} h, floor {fit_floor:.4f}; the scenario uses "
    f"{decay:.3f} h and {floor:.4f}."
)
print(
    f"Simulated: within 1 h vs 1-2 h {r1['mean']:.1f}x (95 % CI {r1['ci_low']:.1f} to {r1['ci_high']:.1f}; "
    f"published: nearly {validation.HBR_RATIO_1H:.0f}x)"
)
print(
    f"Simulated: within 1 h vs 24 h or more {r24['mean']:.0f}x (95 % CI {r24['ci_low']:.0f} to {r24['ci_high']:.0f}; "
    f"published: more than {validation.HBR_RATIO_24H:.0f}x)"
)

# %% [markdown]
# ## What this does and does not show
#
# These checks show that the model's machinery is right: its queue is a correct queue, its counts balance, and
# its speed-to-lead mechanism reproduces the evidence it was fitted to. They do not show that a client's
# scenario file describes that client's market: the market size, conversion rates, deal values and win
# probabilities are inputs to calibrate against the client's own CRM data, and the published industry
# figures used as defaults (see the references page of the documentation, docs/pages/references.md, and the comments in the scenario files) are plausible ranges,
# not facts about any one firm.
