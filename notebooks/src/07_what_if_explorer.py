# %% [markdown]
# # 07 · What-if explorer
#
# **Question.** What if *we* changed something - aligned one lever, hired two reps, moved budget into
# nurture, or the market grew? This notebook puts the main controls of the model on switches and sliders:
# each update reruns a small set of paired simulations of the scenario as it is and of the what-if, and
# redraws the key results.
#
# **How this notebook works.** Everything happens in `simfunnel.explorer.what_if(...)`: it turns the controls
# into scenario overrides and runs both variants through `simfunnel.compare` with common random numbers
# (replication *i* of each sees the same buyers), so the differences are paired. The widgets
# (`explorer_widgets`) only call that function, so it can also be called directly - as in the cell after the
# widgets, whose output is what this notebook shows when it is opened without a running kernel.
#
# **Run time.** About a second of computing per update with the replications below (a few seconds of wall
# time on a busy machine); about 5 s for the whole notebook (CPU time of the whole notebook, kernel start included, as `notebooks/build.py` measures it).

# %% tags=["parameters"]
scenario = "preset:siloed"  # the starting point (a shipped preset, or a path relative to notebooks/)
aligned_scenario = "preset:aligned"  # where each lever switch takes its aligned value from
replications = 3  # paired runs per variant and update: about 1 s of CPU per update
seed = 7
executor = "processes"  # where the explorer's runs execute: the warm worker pool (about 0.5 s an update on 2 cores once it has started) or "serial"

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from simfunnel import load_scenario
from simfunnel.explorer import explorer_widgets, what_if
from simfunnel.vocabulary import LEVERS

plt.style.use("simfunnel.styles.presentation")

base = load_scenario(scenario)
aligned = load_scenario(aligned_scenario)
print(f"Starting point: {base.name} - {base.description}")
print(
    f"Each update runs {replications} paired replications of the starting point and of the what-if "
    f"({2 * replications} simulations of {base.simulation.horizon_days:,.0f} days). That keeps an update within "
    f"about a second of computing on one core - fast enough to explore - while the pairing keeps the differences readable. "
    f"Confirm a promising setting with more replications (notebooks 01-02)."
)

# %% [markdown]
# ## The controls
#
# - one switch per organisation lever: its siloed or its aligned value (from the aligned scenario above);
# - the number of sales reps;
# - the budget split: one weight per channel and per nurture, retention and training, renormalised to 100 %;
# - the market size: in-market buyers per year.
#
# Each update shows one sentence with the headline numbers, a table of the key results (what-if, as is, and
# the paired change with its 95 % interval) and three figures: the funnel, where the buyers go, and the key
# results side by side.

# %%
print("Levers:", ", ".join(lever.label for lever in LEVERS.values()))

# %% [markdown]
# ## The explorer
#
# Set the controls and press **Run**. (This needs a running notebook: in a static copy of this notebook the
# widgets do not appear.) With `executor = "processes"` the runs go to a pool of worker processes that stays
# warm between updates: the first update also starts the pool (a second or two), later ones take about half a
# second on 2 cores; the numbers are the same as with `"serial"`.

# %% tags=["nbval-ignore-output"]
explorer = explorer_widgets(
    base, aligned=aligned, replications=replications, seed=seed, manual=True, run=False, executor=executor
)
explorer

# %% [markdown]
# ## One what-if, computed
#
# The same function called directly: the siloed starting point with the handoff levers aligned (real-time
# handoff, context at handoff, recycling of too-early leads) and two more reps.

# %%
example = what_if(
    base,
    levers={"handoff": "aligned", "pass_context": "aligned", "too_early": "aligned"},
    sales_reps=base.sales.reps + 2,
    replications=replications,
    seed=seed,
)
print(example.text)
display(HTML(example.table().to_html(index=False)))
for fig in example.figures.values():
    display(fig)
example.close()
