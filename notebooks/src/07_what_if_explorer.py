# %% [markdown]
# # 07 · What-if explorer
#
# **Question.** What if *we* changed something - aligned one lever, hired two reps, moved budget into
# nurture, or the market grew? This notebook puts the main controls of the model on sliders and switches:
# each update reruns a small set of paired simulations of the scenario as it is and of the what-if, and
# redraws the key results.
#
# **How this notebook works.** Everything happens in one plain function, `what_if(...)`, defined below. It
# turns the controls into scenario overrides, runs both variants with common random numbers (replication *i*
# of each sees the same buyers) and prints and draws the comparison. The widgets only call that function, so
# it can also be called directly - as in the cell after the widgets, whose output is what this notebook
# shows when it is opened without a running kernel.
#
# **Run time.** A few seconds per update (see the replications below); well under a minute for the notebook.

# %% tags=["parameters"]
scenario = "../scenarios/siloed.toml"  # the starting point (path relative to notebooks/)
aligned_scenario = "../scenarios/aligned.toml"  # where each lever switch takes its aligned value from
replications = 3  # paired runs per variant and update: ~1-2 s of simulation, a second of drawing
seed = 7

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import ipywidgets as widgets
import matplotlib.pyplot as plt

from simfunnel import LEVERS, compare, load_scenario, plots

plt.style.use("simfunnel.styles.presentation")

base = load_scenario(scenario)
aligned_org = load_scenario(aligned_scenario).organisation
channels = list(base.marketing.channels)
print(f"Starting point: {base.name} - {base.description}")
print(
    f"Each update runs {replications} paired replications of the starting point and of the what-if "
    f"({2 * replications} simulations of {base.simulation.horizon_days:,.0f} days). That keeps an update within "
    f"about 3 seconds on one core - fast enough to explore - while the pairing keeps the differences readable. "
    f"Confirm a promising setting with more replications (notebooks 01-02)."
)

# %% [markdown]
# ## The what-if function
#
# Controls:
#
# - one switch per organisation lever: on = the lever takes its value from the aligned preset;
# - `reps`: the number of sales reps;
# - `nurture_pct`, `retention_pct`, `training_pct`: shares of the marketing budget (%); the rest goes to the
#   acquisition channels in their current proportions;
# - `market_pct`: the number of in-market buyers, as % of today's.

# %%
LEVER_LABELS = {k: plots.LEVER_LABELS[k] for k in LEVERS}  # the labels the figures use
assert set(LEVER_LABELS) == set(LEVERS)
today = {k: round(100 * base.marketing.shares[k]) for k in ("nurture", "retention", "training")}


def what_if(
    mql_threshold=False,
    handoff=False,
    pass_context=False,
    response_sla_hours=False,
    queue_policy=False,
    too_early=False,
    crm_logging=False,
    rep_training=False,
    post_sale_followup=False,
    reps=base.sales.reps,
    nurture_pct=today["nurture"],
    retention_pct=today["retention"],
    training_pct=today["training"],
    market_pct=100,
    n=replications,
):
    """Compare the starting point with the what-if described by the controls; print and draw the result.
    Returns the `compare` experiment (or None if the controls are inconsistent)."""
    levers = {
        "mql_threshold": mql_threshold,
        "handoff": handoff,
        "pass_context": pass_context,
        "response_sla_hours": response_sla_hours,
        "queue_policy": queue_policy,
        "too_early": too_early,
        "crm_logging": crm_logging,
        "rep_training": rep_training,
        "post_sale_followup": post_sale_followup,
    }
    switched = {k for k, on in levers.items() if on}
    overrides = {f"organisation.{k}": getattr(aligned_org, k) for k in sorted(switched)}
    rest = 100 - nurture_pct - retention_pct - training_pct
    if rest < 0:
        print(f"Nurture + retention + training = {100 - rest} % of the budget: at most 100 % please.")
        return None
    acq_now = sum(base.marketing.shares[c] for c in channels)
    shares = {c: rest / 100 * base.marketing.shares[c] / acq_now for c in channels}
    shares |= {"nurture": nurture_pct / 100, "retention": retention_pct / 100, "training": training_pct / 100}
    overrides |= {
        "sales.reps": int(reps),
        "marketing.shares": shares,
        "market.buyers_per_year": base.market.buyers_per_year * market_pct / 100,
    }
    changed = base.with_overrides(overrides)
    exp = compare({"as is": base, "what if": changed}, n=n, seed=seed, executor="serial", progress=False)
    d = exp.diffs.set_index("metric")

    def line(metric, label, fmt="{:+,.0f}", scale=1.0):
        r = d.loc[metric]
        m, lo, hi = (scale * r[c] for c in ("mean_diff", "ci_low", "ci_high"))
        print(f"  {label:<28}{fmt.format(m):>14}   (95 % CI {fmt.format(lo)} to {fmt.format(hi)})")

    what = [LEVER_LABELS[k] for k in LEVER_LABELS if k in switched]
    print(
        "What if: " + (", ".join(what) + " aligned" if what else "no lever switched") + f"; {reps} reps; "
        f"budget: acquisition {rest} %, nurture {nurture_pct} %, retention {retention_pct} %, "
        f"training {training_pct} %; market {market_pct} % of today's"
    )
    print(f"Difference against 'as is' ({n} paired replications, {base.simulation.horizon_days:,.0f} days):")
    line("profit", "profit")
    line("revenue", "revenue")
    line("won", "deals won")
    line("mqls", "leads (MQLs)")
    line("rep_utilization", "rep utilisation (pp)", "{:+.1f}", 100)
    line("lead_wait_days", "lead wait (days)", "{:+.1f}")
    plots.compare_kpis(exp, title="As is vs what if: key results (mean and 95 % CI)")
    plt.show()
    plots.lost_reasons(exp.summary, kind="stacked", title="Where the buyers go")
    plt.show()
    return exp


# %% [markdown]
# ## The explorer
#
# Set the controls and press **Run simulation**. (This needs a running notebook: in a static copy of this
# notebook the widgets do not appear.)

# %% tags=["nbval-ignore-output"]
style = {"description_width": "initial"}
controls = {k: widgets.Checkbox(value=False, description=label, style=style) for k, label in LEVER_LABELS.items()}
controls |= {
    "reps": widgets.IntSlider(value=base.sales.reps, min=1, max=40, description="Sales reps", style=style),
    "nurture_pct": widgets.IntSlider(
        value=today["nurture"], min=0, max=60, step=5, description="Nurture %", style=style
    ),
    "retention_pct": widgets.IntSlider(
        value=today["retention"], min=0, max=60, step=5, description="Retention %", style=style
    ),
    "training_pct": widgets.IntSlider(
        value=today["training"], min=0, max=40, step=5, description="Training %", style=style
    ),
    "market_pct": widgets.IntSlider(value=100, min=50, max=200, step=10, description="Market size %", style=style),
    "n": widgets.fixed(replications),
}


def update(**controls_values):
    what_if(**controls_values)  # returns nothing, so that the widget shows no experiment object


explorer = widgets.interact_manual.options(manual_name="Run simulation")
_ = explorer(update, **controls)

# %% [markdown]
# ## One what-if, computed
#
# The same function called directly: the siloed starting point with the handoff levers aligned (real-time
# handoff, context at handoff, recycling of too-early leads) and two more reps.

# %%
example = what_if(handoff=True, pass_context=True, too_early=True, reps=base.sales.reps + 2)
