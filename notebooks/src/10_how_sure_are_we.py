# %% [markdown]
# # 10 · How sure are we? Siloed vs aligned across sampled worlds
#
# **Question.** Notebook 02 measures how much more profit the aligned organisation makes *in one scenario*.
# But several numbers in that scenario are assumptions or ranges from the literature: how often a buyer
# dropped as "too early" comes back by itself, how much knowing the buyer's context helps a rep win, the base
# win rate, what training is worth, how long a ready buyer waits before buying from a competitor. **Does
# alignment still pay when these assumptions are wrong - which of them matter most for the size of the gap,
# is there a region of plausible worlds where aligned stops paying, and which number should we measure next?**
#
# **How this notebook works.** Each uncertain input has a distribution (the `[uncertainty]` table of
# `scenarios/base.toml`, which both presets inherit). `explore` draws `samples` *worlds* from them with a Latin
# hypercube and runs both organisations in every world with the same random buyers (common random numbers),
# so each world gives a paired profit gap. The analyses then read those gaps: which inputs explain their
# variance (first-order sensitivity index with a bootstrap interval), a one-at-a-time tornado, the regret of
# each policy in groups of similar worlds, PRIM scenario discovery and the expected value of partial perfect
# information (EVPPI).
#
# **A small version of the full analysis.** To run in CI this notebook uses five of the eight inputs and a
# few dozen worlds. The full analysis is `simfunnel explore scenarios/siloed.toml scenarios/aligned.toml
# --samples 128` (Sobol design over all eight inputs, 1,280 worlds, 15 min wall on two busy cores; see the
# robustness page of the documentation). It found aligned ahead in every one of its 1,280 worlds, a two-year
# profit gap of 1.78 M in the median world (10-90 %: 1.12 M to 2.50 M; +53 %, 10-90 %: +33 % to +86 %), and
# two inputs on top for the size of the gap: the base win rate (`sales.win.intercept`, total-order Sobol index
# 0.28, 95 % interval 0.17-0.38) and how early buyers are ready (`market.ready_at`, 0.28, 0.19-0.36), followed
# by how fast a ready buyer commits to a competitor (0.21, 0.15-0.28) and what training is worth (0.21,
# 0.15-0.27), whose intervals overlap. No region of the ranges makes alignment stop paying, so the expected value
# of learning any one input before choosing is zero. Every conclusion printed below is computed from the worlds
# run here.
#
# **Run time.** About 30 s on one core (CPU time of the whole notebook as `notebooks/build.py` measures it):
# `2 x samples` two-year runs for the worlds plus `2 x (2 x inputs + 1)` for the tornado.

# %% tags=["parameters"]
siloed_scenario = "preset:siloed"
aligned_scenario = "preset:aligned"
inputs = [  # uncertain inputs explored (dotted paths of the [uncertainty] table)
    "sales.win.context",
    "market.return_when_ready",
    "sales.win.intercept",
    "sales.training.max_effect",
    "market.competitor_commit_days.mean",
]
samples = 48  # worlds (Latin hypercube)
replications = 1  # paired replications per world and policy
seed = 1
tornado_quantiles = [0.1, 0.9]  # low and high value of each input in the tornado
low_gap_share = 0.2  # PRIM describes this share of worlds with the smallest gap

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

from simfunnel import load_scenario
from simfunnel.analysis import explore
from simfunnel.analysis.oat import one_at_a_time
from simfunnel.experiments import RunOptions
from simfunnel.formatting import format_kpi, format_value
from simfunnel.present.robustness import input_label, prim_box, regret_heatmap, sobol_bars, tornado

plt.style.use("simfunnel.styles.presentation")

siloed = load_scenario(siloed_scenario)
aligned = load_scenario(aligned_scenario)
policies = {"siloed": siloed, "aligned": aligned}
table = {name: siloed.uncertainty[name] for name in inputs}
years = siloed.simulation.horizon_days / 365


def describe(inp):
    """The distribution of an uncertain input in words."""
    if inp.kind == "triangular":
        return f"triangular {inp.low:g} / {inp.mode:g} / {inp.high:g}"
    if inp.kind == "uniform":
        return f"uniform {inp.low:g} - {inp.high:g}"
    if inp.kind == "normal":
        return f"normal, mean {inp.mean:g}, sd {inp.sd:g}"
    return inp.kind


pd.DataFrame(
    {"input": [input_label(n) for n in inputs], "path": inputs, "distribution": [describe(table[n]) for n in inputs]}
)

# %% [markdown]
# ## Both organisations in the same sampled worlds

# %%
serial = RunOptions(executor="serial", progress=False)
exp = explore(policies, table, samples=samples, design="lhs", n=replications, seed=seed, options=serial)
gap = exp.difference("profit", "aligned", "siloed")
siloed_profit = exp.outcome("profit")["siloed"]
relative = gap / siloed_profit
rob = exp.robustness("profit")
wins = int((gap > 0).sum())
print(f"{len(exp.worlds)} worlds x 2 policies x {replications} replication(s) = {len(exp.results)} runs "
      f"of {years:.0f} years")  # fmt: skip
print(f"Aligned beats siloed in {wins} of {len(gap)} worlds ({format_value(wins / len(gap), 'share')}).")
print(f"Profit gap over {years:.0f} years: median {format_kpi('profit', gap.median(), signed=True)}, "
      f"10-90 % of worlds {format_kpi('profit', gap.quantile(0.1), signed=True)} to "
      f"{format_kpi('profit', gap.quantile(0.9), signed=True)}, smallest {format_kpi('profit', gap.min(), signed=True)}, "
      f"largest {format_kpi('profit', gap.max(), signed=True)}")  # fmt: skip
print(f"Relative to siloed profit: {format_value(relative.min(), 'share')} to {format_value(relative.max(), 'share')}"
      f" (median {format_value(relative.median(), 'share')})")  # fmt: skip
print(f"Robust choice ({rob.rule}): {rob.choice}")

# %% [markdown]
# ## Which assumptions matter most for the gap?
#
# **How to read it.** Each bar is the share of the variance of the profit gap across the worlds that one input
# explains on its own (first-order index, estimated from the Latin hypercube by binning the input; the noise
# of the binning is subtracted), with its 95 % bootstrap interval. A Sobol design (`design="sobol"`) would add
# the total-order index, which includes interactions; with few worlds its intervals are too wide to be useful.

# %%
sens = exp.sensitivity("profit", "aligned", "siloed")
fig = sobol_bars(sens, title="Which assumptions drive the profit gap")
plt.show()

# %%
print("The three assumptions that matter most for the aligned-vs-siloed profit gap "
      "(first-order index, 95 % interval):")  # fmt: skip
for rank, row in enumerate(sens.head(3).itertuples(), start=1):
    lo, hi = max(row.S1_low, 0.0), max(row.S1_high, 0.0)
    print(f"  {rank}. {input_label(row.input)}: {row.S1:.2f} [{lo:.2f}, {hi:.2f}]")
overlap = [
    f"{input_label(a.input)} and {input_label(b.input)}"
    for a, b in zip(sens.itertuples(), sens.iloc[1:].itertuples(), strict=False)
    if max(b.S1_high, 0.0) >= max(a.S1_low, 0.0)
][:3]
if overlap:
    print("Intervals that overlap (order not settled by this many worlds): " + "; ".join(overlap))
rest = sens.iloc[3:]
print("The others: " + ", ".join(f"{input_label(r.input)} {r.S1:.2f}" for r in rest.itertuples()))
print(f"Together the inputs explain {format_value(sens['S1'].clip(lower=0).sum(), 'share')} of the variance "
      "on their own; the rest is interactions and the seeds' noise.")  # fmt: skip

# %% [markdown]
# ## One input at a time
#
# **How to read it.** The vertical line is the gap with every input at its median. Each bar moves one input to
# its low (vermillion) and its high (blue) value - in brackets - while the others stay at their medians. Long
# bars are the inputs the gap is most sensitive to *locally*; the tornado does not see interactions.

# %%
swings = one_at_a_time(policies, table, "profit", quantiles=tuple(tornado_quantiles), n=replications, seed=seed,
                       options=serial)  # fmt: skip
fig = tornado(swings, title="Profit gap (aligned - siloed), one input at a time")
plt.show()

# %%
print(f"Gap with every input at its median: {format_kpi('profit', swings.attrs['centre'], signed=True)}")
for row in swings.itertuples():
    print(f"  {input_label(row.input)} from {row.low_value:.3g} to {row.high_value:.3g}: gap "
          f"{format_kpi('profit', row.low, signed=True)} -> {format_kpi('profit', row.high, signed=True)}")  # fmt: skip

# %% [markdown]
# ## Regret: how far each organisation falls short of the best, by kind of world
#
# **How to read it.** The worlds are grouped by low / mid / high values of the two most important inputs (equal
# numbers of worlds per third). Each cell is the mean regret: how much less profit the organisation makes
# than the better of the two in those worlds (0: it is the better one in every such world).

# %%
top_two = list(sens["input"].head(2))
fig = regret_heatmap(exp, "profit", inputs=top_two)
plt.show()

# %%
print(rob.table.assign(
    mean=rob.table["mean"].map(lambda v: format_kpi("profit", v)),
    regret_mean=rob.table["regret_mean"].map(lambda v: format_kpi("profit", v)),
    regret_max=rob.table["regret_max"].map(lambda v: format_kpi("profit", v)),
)[["policy", "mean", "regret_mean", "regret_max"]].to_string(index=False))  # fmt: skip

# %% [markdown]
# ## Is there a region where aligned stops paying?
#
# **How to read it.** Each dot is a world, placed by two inputs. PRIM (scenario discovery) looks for a box of
# input ranges that holds most of the worlds of interest - here the worlds where aligned does not beat siloed,
# or, when there are none, the `low_gap_share` of worlds where it adds least - and as few others as possible.

# %%
losing = int((gap <= 0).sum())
if losing:
    box = exp.discover("profit", "aligned", "siloed")
    margin = 0.0
    print(f"Aligned does not pay in {losing} of {len(gap)} worlds; PRIM describes them as: {box.describe()}")
else:
    margin = float(gap.quantile(low_gap_share))
    box = exp.discover("profit", "aligned", "siloed", margin=margin)
    print(f"No region where aligned stops paying exists within these ranges: it beats siloed in all {len(gap)} "
          f"worlds (smallest gap {format_kpi('profit', gap.min(), signed=True)}).")  # fmt: skip
    print(f"Where it pays least (gap below {format_kpi('profit', margin)}, {int((gap <= margin).sum())} worlds): "
          f"{box.describe()}")  # fmt: skip
fig = prim_box(exp, box, "profit", "aligned", "siloed", margin=margin,
               title="Where does alignment pay least?" if not losing else None)  # fmt: skip
plt.show()

# %% [markdown]
# ## Which number to measure next
#
# **How to read it.** EVPI is what knowing every uncertain input before choosing between the two organisations
# would be worth (in profit over the horizon); EVPPI the same for one input alone. An input with a large EVPPI
# is worth measuring before deciding; 0 means the choice does not depend on it - even when, as above, the
# *size* of the gap does.

# %%
voi = exp.evppi("profit")
print(f"Choice with the best expected profit: {voi.attrs['choice']}; EVPI: {format_kpi('profit', voi.attrs['evpi'])}")
pd.DataFrame({
    "input": [input_label(i) for i in voi["input"]],
    "EVPPI": [format_kpi("profit", v) for v in voi["evppi_adjusted"]],
    "estimator noise": [format_kpi("profit", v) for v in voi["noise_floor"]],
    "share of EVPI": [format_value(v, "share") for v in voi["share_of_evpi"]],
})  # fmt: skip

# %%
if voi.attrs["evpi"] <= 0:
    print("No measurement could change the choice within these ranges: aligned is better in every world. "
          f"To size the gain, measure first {input_label(sens['input'].iloc[0])} "
          "(it explains most of the variance of the gap).")  # fmt: skip
else:
    print(f"Measure next: {input_label(voi['input'].iloc[0])} "
          f"(EVPPI {format_kpi('profit', voi['evppi_adjusted'].iloc[0])}).")  # fmt: skip
