# %% [markdown]
# # 09 · Calibrate to your CRM: does the model fit this firm, and does it predict what came next?
#
# **Question.** Every number the other notebooks print rests on preset assumptions. Before a consultant puts a
# client's name on "aligned makes more profit", the model has to be fitted to the client's own funnel - and has
# to show that, once fitted, it predicts what the client's data did next. **How well does the calibrated model
# reproduce this firm's CRM history, how well does it forecast the months after a cut date compared with the
# forecasts a planner would use instead, and what does aligned vs siloed look like for this firm?**
#
# **How this notebook works.** There is no real client here, so we simulate one whose true parameters we know:
# a firm that hires and spends more on marketing half-way through its history. We export its CRM tables (leads,
# deals, activities - what Salesforce or HubSpot would hold), forget everything else, and treat the files as a
# client's export: read them with `read_crm`, calibrate the base scenario to them (`calibrate`), compare the
# calibrated model's simulated histories with the observed one panel by panel (`compare_fit`), backtest it on the
# months after a cut date (`backtest`), and rerun the comparison of notebook 02 for the calibrated firm. With your
# own export, start at "Read the export" and point `read_crm` at your files.
#
# **Small settings.** To run in CI in about a minute the fits use a fraction of the default simulation runs
# (`fit_settings` below; `simfunnel calibrate` uses 368 runs by default, 104 with `--quick`) and few simulated
# histories: the intervals are wider and the panels noisier than a full calibration's. Every conclusion printed
# below is computed from the runs made here.
#
# **Run time.** About 40 s on one core (CPU time of the whole notebook as `notebooks/build.py` measures it).

# %% tags=["parameters"]
client_overrides = {  # the simulated "client": its truth, which the calibration does not see
    "simulation.horizon_days": 548,
    "market.buyers_per_year": 9000,
    "marketing.budget_per_year": 400000,
    "sales.reps": 4,
    "sales.win.intercept": -2.6,
    "sales.follow_up.max_prob": 0.6,
    "sales.headcount_plan": [{"day": 365, "reps": 7}],  # hires 3 reps after a year
    "marketing.budget_plan": [{"day": 365, "budget_per_year": 1200000}],  # and triples the budget
}
firm_seed = 4
holdout_after = "2026-01-01"  # the export starts on 2025-01-01: one year to fit, half a year to predict
fit_points = (16, 16, 2, 8)  # Sobol points of the first round and of each local round, rounds, replicates
histories = 8  # simulated histories behind each band
replications = 16  # paired replications of the aligned-vs-siloed comparison, each with a parameter draw
seed = 0

# %% [markdown]
# ## Set-up

# %%
# %matplotlib inline
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simfunnel import compare, load_scenario, simulate
from simfunnel.calibrate import FitSettings, calibrate
from simfunnel.calibrate.backtest import backtest
from simfunnel.calibrate.compare import compare_fit
from simfunnel.calibrate.write import write_calibration
from simfunnel.data import export_crm, read_crm
from simfunnel.experiments.bridge import with_organisation
from simfunnel.formatting import format_kpi
from simfunnel.present.fit import backtest_panel, category_panel, monthly_panel, share_counts, survival_panel

plt.style.use("simfunnel.styles.presentation")
pd.set_option("display.width", 160)
warnings.filterwarnings("ignore", message="The balance properties")  # small Sobol designs
work = Path(tempfile.mkdtemp(prefix="simfunnel09-"))
points, local, rounds, reps = fit_points
fit_settings = FitSettings(points=points, local_points=local, rounds=rounds, seeds=1, replicates=reps, draws=200)
print(f"{fit_settings.runs()} simulation runs per calibration; {histories} simulated histories per band")

# %% [markdown]
# ## A client firm and its CRM export
#
# The client is the base scenario with the overrides above. `export_crm` writes what its CRM would hold at the
# end of the history: one lead per buyer who became a lead, one deal per sales-qualified buyer (won, lost, or
# open at the export date), one activity per rep activity, owners named `rep-01`, `rep-02`, ...

# %%
truth = load_scenario("preset:base", client_overrides)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    export = export_crm(simulate(truth, firm_seed), work / "crm")
for name, path in export.files.items():
    print(f"{name:<11} {path.name:<15} {sum(1 for _ in path.open()) - 1:>6,} rows")

# %% [markdown]
# ## Read the export
#
# `read_crm` maps the columns (a mapping file, or the usual Salesforce, HubSpot and Pipedrive headers), repairs
# what it can and lists every problem in a data-quality summary; the team per month comes from the owners' first
# and last records.

# %%
crm = read_crm(export.files["leads"], export.files["deals"], export.files["activities"], mapping=export.mapping)
counts = crm.counts()
print(
    f"{counts['leads']:,.0f} leads, {counts['deals']:,.0f} deals ({counts['won']:,.0f} won, "
    f"{counts['open']:,.0f} open at the export date {crm.export_date:%Y-%m-%d})"
)
crm.quality[["check", "rows", "action"]]

# %%
team = crm.team_by_month.set_index("month")[["active_owners", "leads", "deals_opened"]]
team.T

# %% [markdown]
# ## Calibrate
#
# The base the calibration extends is the base preset with the one thing the client knows that its CRM does not
# record: its marketing budget at the start of the history. The hiring and the budget rise after a year are **not**
# handed over: `calibrate` learns them from the data (`history="auto"`, the default; `--history` on the command
# line). The team per month above becomes a hiring plan (`sales.headcount_plan`: a step where the count of active
# owners changes and holds); the monthly leads are tested against the model's own monthly profile, and a significant
# step becomes a budget step (`marketing.budget_plan`, the model's knob for lead volume, found with a short pilot).
# The latent parameters (buyers in the market, the win model's intercept, the follow-up probability, the length of
# the buying process) are then fitted by simulated moments with those plans in place - a calibration that assumed
# one team and one volume for the whole history would have to explain the jump with wrong latent values.

# %%
base_file = work / "client_base.toml"
base_file.write_text(
    f'extends = "preset:base"\n[marketing]\nbudget_per_year = {client_overrides["marketing.budget_per_year"]:g}\n'
)
print(base_file.read_text())
cal = calibrate(crm, str(base_file), settings=fit_settings, seed=seed, workers=1, progress=False)
learned = cal.history
print(f"Learned team: {learned.reps} reps at the start, then {learned.headcount_plan}")
for step in learned.volume:
    print(f"Learned lead volume: {step.ratio:.2f} x from {step.month:%Y-%m} -> budget plan {learned.budget_plan}")
print(
    f"The client's truth: {client_overrides['sales.reps']} reps, then {client_overrides['sales.headcount_plan']}; "
    f"budget plan {client_overrides['marketing.budget_plan']}"
)
scenario_path, samples_path = write_calibration(cal, work / "client.toml", "the simulated client's export")
print("\n".join(line for line in scenario_path.read_text().splitlines() if "plan" in line or "FORECAST" in line))
estimates = cal.frame()[["name", "value", "low", "high", "status"]]
estimates

# %% [markdown]
# How close are the fitted latent parameters to the client's truth (which a real calibration never sees)?

# %%
true_values = {
    "market.buyers_per_year": truth.market.buyers_per_year,
    "sales.win.intercept": truth.sales.win.intercept,
    "sales.follow_up.max_prob": truth.sales.follow_up.max_prob,
    "market.process_days.mean": truth.market.process_days.mean_,
}
fitted = {e.field: e for e in cal.fit.estimates}
check = pd.DataFrame(
    [
        {"parameter": f, "truth": v, "estimate": fitted[f].value, "low": fitted[f].low, "high": fitted[f].high,
         "covered": fitted[f].covers(v), "status": fitted[f].status}
        for f, v in true_values.items()
    ]
)  # fmt: skip
covered = int(check["covered"].sum())
print(f"{covered} of {len(check)} true values inside their 90 % interval.")
check

# %% [markdown]
# ## Does the calibrated model fit the history?
#
# The calibrated scenario is run over the same history `histories` times, each replication with its own draw
# from the calibration's parameter sample, exported and read back like the data. If the model were right, each
# observed point would lie inside the simulated 90 % band about nine times in ten - somewhat less with as few
# replications as here, whose band is narrower than the true one (`expected_share`). The same figures and the
# table below are what `simfunnel calibrate ... --report fit.html` writes as an HTML report.

# %%
comparison = compare_fit(
    crm, cal.scenario(), cal.direct.start, reps=histories, draws=cal.draws(), seed=seed + 1, progress=False
)
comparison.goodness[["what", "points", "inside", "inside_share", "expected_share", "statistic", "statistic_value"]]

# %%
fig = monthly_panel(comparison.table, "leads", "Monthly leads by channel", "leads")
plt.show()

# %%
fig = survival_panel(comparison.table, crm)
plt.show()

# %%
fig = category_panel(comparison.table, "win_rate", "Win rate by channel", share_counts(crm, "win_rate"))
plt.show()

# %%
fig = monthly_panel(comparison.table, "per_rep", "Deals opened per rep per month", "deals / rep")
plt.show()

# %% [markdown]
# **What the fit could not match** (about one point in ten outside the band is chance; a run of points on one
# side is something the model does not have):

# %%
good = comparison.goodness.set_index("panel")["inside_share"]
worst = good.idxmin()
print(f"Best panel: {good.idxmax()} ({good.max():.0%} of points inside the band); worst: {worst} ({good.min():.0%}).")
for line in comparison.mismatches[:8]:
    print("-", line)

# %% [markdown]
# ## Backtest: fit on the first year, predict the next half year
#
# `backtest` calibrates on the data before `holdout_after` only, then simulates the months after it with the
# team (a hiring plan) and the lead volume (a budget plan chosen to give the observed leads) the data show for
# them, and compares the monthly wins and conversion (wins / leads) with what happened - and with two naive
# forecasts given the same observed leads: last quarter's run rate, and a pipeline forecast (open deals x the
# historical win rate at their age, plus new leads x the historical wins per lead).

# %%
bt = backtest(crm, holdout_after, str(base_file), settings=fit_settings, reps=histories, seed=seed, workers=1,
              progress=False)  # fmt: skip
bt.errors

# %%
fig = backtest_panel(bt.table, bt.cut)
plt.show()

# %%
errors = bt.errors.set_index(["metric", "method"])
for metric in ("wins", "conversion"):
    model_mae = errors.loc[(metric, "model"), "mae"]
    naive_mae = {m: errors.loc[(metric, m), "mae"] for m in ("run rate", "pipeline")}
    beaten = [m for m, v in naive_mae.items() if model_mae < v]
    inside = errors.loc[(metric, "model"), "inside_band"]
    print(
        f"{metric}: model MAE {model_mae:.3g} vs run rate {naive_mae['run rate']:.3g}, pipeline "
        f"{naive_mae['pipeline']:.3g} - the model beat {' and '.join(beaten) if beaten else 'neither'}; the "
        f"observed value was inside its 90 % band in {inside:.0%} of the {len(bt.months)} months."
    )
for note in bt.notes:
    print("Note:", note)

# %% [markdown]
# Six months of one firm are few: a month's wins carry Poisson noise of about the square root of their number,
# which sets a floor under every forecast's error. Over several simulated firms with a change of regime the
# model's errors were smaller than both naive forecasts' on average, but not on every firm (see the calibration
# page of the documentation).
#
# ## Aligned vs siloed for this client
#
# Notebook 02's question, now for the calibrated firm: its market, budget and team (the hiring and budget history
# `calibrate` learned included; beyond the export date the last observed team and budget hold, over the base's two
# years), the siloed organisation of the base (what the firm does today) and the
# aligned one. `compare` takes the calibration's parameter sample (`parameters=`): every replication runs with
# one of its draws, the same draw for both organisations (common random numbers), so the interval of the profit
# gap includes the uncertainty of the calibrated parameters, not only simulation noise.

# %%
client = cal.scenario()
siloed_org, aligned_org = load_scenario("preset:siloed"), load_scenario("preset:aligned")
pair = {"siloed": with_organisation(client, siloed_org), "aligned": with_organisation(client, aligned_org)}
exp = compare(pair, n=replications, seed=seed + 10, executor="serial", progress=False, parameters=cal.draws())
print(exp.parameter_uncertainty)
wide = exp.runs[exp.runs["metric"] == "profit"].pivot(index="replication", columns="scenario", values="value")
gaps = pd.DataFrame({"siloed": wide["siloed"], "aligned": wide["aligned"], "gap": wide["aligned"] - wide["siloed"]})
gaps.describe().loc[["mean", "std", "min", "max"]]

# %%
lo, hi = np.quantile(gaps["gap"], [0.05, 0.95])
share = float((gaps["gap"] > 0).mean())
years = client.simulation.horizon_days / 365
print(
    f"Over {years:.0f} years the aligned organisation makes {format_kpi('profit', gaps['gap'].mean())} more profit "
    f"than the siloed one for this client on average (90 % of the {len(gaps)} paired runs between "
    f"{format_kpi('profit', lo)} and {format_kpi('profit', hi)}); aligned is ahead in {share:.0%} of them."
)
print(
    f"Siloed profit {format_kpi('profit', gaps['siloed'].mean())}, aligned {format_kpi('profit', gaps['aligned'].mean())} "
    f"(means over {replications} replications, each with its own parameter draw)."
)

# %% [markdown]
# ## What this shows

# %%
inside = comparison.goodness["inside_share"]
wins_beaten = [
    m for m in ("run rate", "pipeline") if errors.loc[("wins", "model"), "mae"] < errors.loc[("wins", m), "mae"]
]
print(
    f"- History: calibrate found the team of {learned.reps} reps and "
    + (", ".join(f"{p['reps']} from day {p['day']:g}" for p in learned.headcount_plan) or "no change")
    + f" (truth: {client_overrides['sales.reps']}, then "
    + ", ".join(f"{p['reps']} from day {p['day']}" for p in client_overrides["sales.headcount_plan"])
    + f"), and {len(learned.volume)} step(s) of the lead volume, without being told."
)
print(
    f"- Calibration: {covered} of {len(check)} of the client's true latent values lie inside their 90 % "
    f"intervals; {sum(check['status'] == 'fitted')} of {len(check)} parameters were identified by the data."
)
print(
    f"- Fit: {inside.min():.0%} to {inside.max():.0%} of the observed points per panel inside the simulated 90 % "
    f"band (about {comparison.goodness['expected_share'].iloc[0]:.0%} expected with {histories} histories if the "
    f"model were right); {len(comparison.mismatches)} mismatches listed above."
)
print(
    f"- Backtest: for monthly wins the model beat {' and '.join(wins_beaten) if wins_beaten else 'neither naive forecast'}"
    f" over {len(bt.months)} months."
)
print(
    f"- For this client aligned makes {format_kpi('profit', gaps['gap'].mean())} more profit than siloed over "
    f"{years:.0f} years, ahead in {share:.0%} of the paired runs, parameter uncertainty included."
)

# %% [markdown]
# Read the fit before the comparison: only a model that reproduces the client's history, and predicted its
# months after the cut at least as well as the naive forecasts, makes "aligned vs siloed for this client" a
# statement about the client.
#
# **With your own export:** `simfunnel calibrate leads.csv deals.csv activities.csv --map mapping.toml --base
# my_base.toml -o my_firm.toml --report fit.html [--holdout-after 2026-01-01]` (`my_base.toml`: the base preset
# with your marketing budget; the hiring and lead-volume history is learned from the export), then run this
# notebook's last section with `client = load_scenario("my_firm.toml")`.
