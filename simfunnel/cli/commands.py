"""`simfunnel validate`, `presets`, `run` and `compare`: check, list and simulate scenarios.

Heavy modules (pandas, SimPy) are imported inside the commands that simulate, so `validate` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simfunnel.cli.common import (
    USER_ERROR,
    UserError,
    executor_kwargs,
    horizon_text,
    load,
    load_parameters,
    parameters_line,
)
from simfunnel.cli.tables import (
    dump_json,
    fmt_kpi,
    fmt_kpi_ci,
    kpi_label,
    lost_by_reason,
    print_table,
    report_errors,
    summary_dict,
    table_kpis,
)
from simfunnel.errors import ScenarioError

if TYPE_CHECKING:
    from simfunnel.scenario import Scenario


def cmd_validate(args: argparse.Namespace) -> int:
    """Load each file (or preset) without simulating: 'ok' per valid file, plausibility warnings on stderr."""
    failed = 0
    for path in args.files:
        try:
            sc = load(path)
            print(f"ok    {path}  ({sc.name}: {sc.market.buyers_per_year:,.0f} buyers/year, {sc.sales.reps} reps)")
        except ScenarioError as exc:
            print(f"error {exc}", file=sys.stderr)
            failed += 1
    return USER_ERROR if failed else 0


def cmd_presets(args: argparse.Namespace) -> int:
    """List the shipped presets with their descriptions (use them as ``preset:NAME``)."""
    from simfunnel.presets import list_presets, preset_description

    names = list_presets()
    if args.format == "json":
        dump_json({name: preset_description(name) for name in names})
        return 0
    print_table([[f"preset:{n}", preset_description(n)] for n in names], ["preset", "description"], left=2)
    print("\nuse a preset wherever a scenario file goes, e.g. `simfunnel run preset:aligned`")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate one scenario once (a table of KPIs and channels) or ``-n`` times (means with 95 % intervals)."""
    sc = load(args.file, args.set)
    draws = load_parameters(args.parameters)
    if args.replications == 1 and draws is None:
        return _run_once(sc, args)
    from simfunnel.experiments import replicate

    exp = replicate(sc, n=args.replications, seed=args.seed, parameters=draws, **executor_kwargs(args))
    summ = exp.summary
    if args.format == "json":
        out = summary_dict(summ)
        dump_json({"scenario": sc.name, "file": args.file, "seed": args.seed, "replications": exp.n_replications,
                   "kpis": out, "lost_by_reason": lost_by_reason(out),
                   "parameter_uncertainty": parameters_line(draws) or None})  # fmt: skip
    elif args.format == "csv":
        summ.to_csv(sys.stdout, index=False)
        if draws is not None:
            print(parameters_line(draws), file=sys.stderr)
    else:
        span = horizon_text(sc.simulation.horizon_days, exp.n_replications, args.seed, sc.simulation.warmup_days)
        print(f"{sc.name}: {span}; mean [95 % CI]")
        if draws is not None:
            print(parameters_line(draws))
        by = summ.set_index("metric")
        rows = [[kpi_label(k), k, fmt_kpi_ci(k, by.at[k, "mean"], by.at[k, "ci_low"], by.at[k, "ci_high"])]
                for k in table_kpis(by.index)]  # fmt: skip
        print_table(rows, ["kpi", "key", "mean [95 % CI]"], left=2)
    report_errors(exp.errors, what="replication")
    return 0


def _run_once(sc: Scenario, args: argparse.Namespace) -> int:
    import pandas as pd

    from simfunnel.simulate import simulate

    result = simulate(sc, seed=args.seed)
    if args.format == "json":
        dump_json({"scenario": sc.name, "file": args.file, "seed": args.seed, "replications": 1, **result.kpis()})
    elif args.format == "csv":
        summary = result.summary
        pd.DataFrame({"metric": list(summary), "value": list(summary.values())}).to_csv(sys.stdout, index=False)
    else:
        print(f"{sc.name}: {horizon_text(sc.simulation.horizon_days, 1, args.seed, sc.simulation.warmup_days)}")
        s = result.summary
        print_table([[kpi_label(k), k, fmt_kpi(k, s[k])] for k in table_kpis(s)], ["kpi", "key", "value"], left=2)
        print()
        print_table(
            [[r.channel, fmt_kpi("marketing_spend", r.spend), fmt_kpi("mqls", r.leads), fmt_kpi("won", r.won),
              fmt_kpi("revenue", r.revenue), fmt_kpi("roi", r.roi)] for r in result.channels.itertuples()],
            ["channel", "spend (currency)", "leads", "won", "revenue (currency)", "roi (×)"],
        )  # fmt: skip
    return 0


def scenario_names(files: Sequence[str], scenarios: Sequence[Scenario]) -> list[str]:
    """Distinct display names: the scenarios' names, else the file stems, else numbered."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        names = [Path(f.removeprefix("preset:")).stem for f in files]
    if len(set(names)) != len(names):
        names = [f"{n}_{i + 1}" for i, n in enumerate(names)]
    return names


def _baseline(args: argparse.Namespace, names: list[str]) -> str:
    baseline = args.baseline or names[0]
    if baseline in names:
        return baseline
    stems = {Path(f.removeprefix("preset:")).stem: n for f, n in zip(args.files, names, strict=True)}
    if baseline in stems:
        return stems[baseline]
    raise UserError(f"--baseline {args.baseline!r} is not one of the scenarios: {', '.join(names)}")


def cmd_compare(args: argparse.Namespace) -> int:
    """Paired comparison (common random numbers): each scenario's means and the differences to the baseline."""
    if len(args.files) < 2:
        raise UserError("compare needs at least two scenario files")
    scenarios = [load(f, args.set) for f in args.files]
    names = scenario_names(args.files, scenarios)
    baseline = _baseline(args, names)
    draws = load_parameters(args.parameters)
    from simfunnel.experiments import compare

    exp = compare(dict(zip(names, scenarios, strict=True)), n=args.replications, seed=args.seed, baseline=baseline,
                  parameters=draws, **executor_kwargs(args))  # fmt: skip
    summ, diffs = exp.summary, exp.diffs
    if args.format == "json":
        dump_json(_compare_json(args, exp, names, baseline))
        return 0
    if args.format == "csv":
        summ.to_csv(sys.stdout, index=False)
        if draws is not None:
            print(parameters_line(draws), file=sys.stderr)
        return 0
    horizon = horizon_text([s.simulation.horizon_days for s in scenarios], exp.n_replications, args.seed,
                           [s.simulation.warmup_days for s in scenarios])  # fmt: skip
    print(f"{' vs '.join(names)}: {horizon}, paired (common random numbers); mean [95 % CI]")
    if draws is not None:
        print(parameters_line(draws))
    s = summ.set_index(["scenario", "metric"])
    d = diffs.set_index(["scenario", "metric"])
    others = [n for n in names if n != baseline]
    rows = []
    for k in table_kpis(summ.loc[summ["scenario"] == baseline, "metric"]):
        row = [kpi_label(k), k]
        row += [fmt_kpi_ci(k, *(s.loc[(n, k), c] for c in ("mean", "ci_low", "ci_high"))) for n in names]
        row += [fmt_kpi_ci(k, *(d.loc[(n, k), c] for c in ("mean_diff", "ci_low", "ci_high")), signed=True)
                for n in others]  # fmt: skip
        rows.append(row)
    print_table(rows, ["kpi", "key", *names, *[f"{n} - {baseline}" for n in others]], left=2)
    report_errors(exp.errors, total=len(names), what="scenario")
    return 0


def _compare_json(args: argparse.Namespace, exp: Any, names: list[str], baseline: str) -> dict[str, Any]:
    diffs = exp.diffs
    return {
        "seed": args.seed,
        "replications": exp.n_replications,
        "baseline": baseline,
        "parameter_uncertainty": parameters_line(exp.parameters) or None,
        "scenarios": {n: summary_dict(exp.summary, "scenario", n) for n in names},
        "differences": {
            n: {
                r.metric: {"mean_diff": r.mean_diff, "ci_low": r.ci_low, "ci_high": r.ci_high}
                for r in diffs[diffs["scenario"] == n].itertuples()
            }
            for n in names
            if n != baseline
        },
    }
