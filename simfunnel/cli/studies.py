"""`simfunnel sweep`, `attribute` and `optimize`: experiments over many scenario variants.

Every name the user typed (KPI, objective, grid field, grid syntax) is checked before the first simulation: a
typo exits with status 2 and one message with "did you mean", not a traceback after the whole run.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

from simfunnel.cli.common import (
    FAILED,
    UserError,
    check_kpi_option,
    executor_kwargs,
    horizon_text,
    load,
    load_parameters,
    parameters_line,
)
from simfunnel.cli.grid import parse_grid
from simfunnel.cli.tables import dump_json, fmt_kpi, fmt_kpi_ci, kpi_label, print_table, report_errors
from simfunnel.formatting import format_value

_FAILED_WARNING = r"\w+: \d+ of \d+ \w+\(s\) failed"  # the experiments' RuntimeWarning: the CLI prints its own


def cmd_sweep(args: argparse.Namespace) -> int:
    """Every point of a grid, ``-n`` replications each; exit 1 if every point failed, else 0 (failures listed)."""
    metric = check_kpi_option("--metric", args.metric)
    if not args.grid:
        raise UserError("sweep needs at least one --grid FIELD=START:STOP:COUNT")
    grid = parse_grid(args.grid)
    sc = load(args.file, args.set)
    from simfunnel.errors import ExperimentError
    from simfunnel.experiments import sweep
    from simfunnel.experiments.sweep import check_grid_fields

    check_grid_fields(sc, grid, "--grid")
    draws = load_parameters(args.parameters)

    total = math.prod(len(v) for v in grid.values())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_FAILED_WARNING, category=RuntimeWarning)
        try:
            exp = sweep(sc, grid, n=args.replications, seed=args.seed, checkpoint=args.checkpoint,
                        parameters=draws, **executor_kwargs(args))  # fmt: skip
            errors = exp.errors
        except ExperimentError as exc:  # every point failed: the library raises, with the error table
            exp, errors = None, exc.errors
    if exp is None or exp.summary.empty:
        report_errors(errors, total=total)
        print(f"simfunnel: error: every one of the {total} sweep point(s) failed; nothing to show", file=sys.stderr)
        return FAILED
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".parquet":
            exp.summary.to_parquet(out, index=False)
        else:
            exp.summary.to_csv(out, index=False)
        print(f"wrote {len(exp.summary)} rows to {out}", file=sys.stderr)
    fields = list(grid)
    summ = exp.summary[exp.summary["metric"] == metric]
    if args.format == "json":
        dump_json({"metric": metric, "parameter_uncertainty": parameters_line(draws, "grid point") or None,
                   "points": summ.to_dict(orient="records")})  # fmt: skip
    elif args.format == "csv":
        exp.summary.to_csv(sys.stdout, index=False)
        if draws is not None:
            print(parameters_line(draws, "grid point"), file=sys.stderr)
    else:
        horizon = horizon_text(sc.simulation.horizon_days, exp.n_replications, args.seed, sc.simulation.warmup_days)
        print(f"sweep of {', '.join(fields)} on {sc.name}: {total} points {horizon}; {metric} mean [95 % CI]")
        if draws is not None:
            print(parameters_line(draws, "grid point"))
        rows = [[*(str(r[f]) for f in fields), fmt_kpi_ci(metric, r["mean"], r["ci_low"], r["ci_high"])]
                for r in summ.to_dict(orient="records")]  # fmt: skip
        print_table(rows, [*fields, f"{kpi_label(metric)} [{metric}]"], left=0)
    failed = report_errors(exp.errors, total=total)
    if failed:
        print(f"(the table shows the {total - failed} point(s) that finished)", file=sys.stderr)
    return 0


def cmd_attribute(args: argparse.Namespace) -> int:
    """Shapley attribution of the gap between two scenarios to the alignment levers."""
    metric = check_kpi_option("--metric", args.metric)
    lo, hi = load(args.siloed, args.set), load(args.aligned, args.set)
    from simfunnel.experiments import attribute
    from simfunnel.vocabulary import LEVERS

    res = attribute(lo, hi, n=args.replications, seed=args.seed, metric=metric, **executor_kwargs(args))
    table = res.table
    if args.format == "json":
        dump_json({"metric": res.metric, "gap": res.gap, "levers": table.to_dict(orient="records")})
        return 0
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
        return 0
    how = "exact Shapley" if res.exact else f"Shapley over {res.permutations} sampled lever orders"
    horizon = horizon_text([lo.simulation.horizon_days, hi.simulation.horizon_days], res.n_replications, args.seed,
                           [lo.simulation.warmup_days, hi.simulation.warmup_days])  # fmt: skip
    print(f"{kpi_label(metric)} [{metric}]: {lo.name} -> {hi.name}, {how}, {horizon}; mean [95 % CI]")
    rows = []
    for r in table.to_dict(orient="records"):
        name = str(r["lever"])
        label = LEVERS[name].label if name in LEVERS else name
        share = format_value(r["share"], "share") if "share" in r else ""
        rows.append([label, name, fmt_kpi_ci(metric, r["shapley"], r["ci_low"], r["ci_high"], signed=True), share])
    print_table(rows, ["lever", "key", f"{kpi_label(metric)}", "share of gap"], left=2)
    g = res.gap
    gap = fmt_kpi_ci(metric, g.get("mean", math.nan), g.get("ci_low", math.nan), g.get("ci_high", math.nan),
                     signed=True)  # fmt: skip
    print(f"\ntotal gap {gap}")
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    """Search the budget split for the best mean objective."""
    objective = check_kpi_option("--objective", args.objective)
    if not 0 < args.step <= 0.5:
        raise UserError(f"--step must be in (0, 0.5], got {args.step:g}")
    sc = load(args.file, args.set)
    from simfunnel.experiments import optimize_budget

    res = optimize_budget(sc, objective=objective, n=args.replications, seed=args.seed, step=args.step,
                          **executor_kwargs(args))  # fmt: skip
    if args.format == "json":
        dump_json({"objective": res.objective, "best_shares": res.best_shares, "mean": res.mean,
                   "ci_low": res.ci_low, "ci_high": res.ci_high, "current_shares": res.current_shares,
                   "current_mean": res.current_mean, "evaluated": len(res.table)})  # fmt: skip
        return 0
    if args.format == "csv":
        res.table.to_csv(sys.stdout, index=False)
        return 0
    horizon = horizon_text(sc.simulation.horizon_days, res.n_replications, args.seed, sc.simulation.warmup_days)
    print(f"best {kpi_label(objective)} [{objective}] split of {sc.name}: {len(res.table)} splits, {horizon} each")
    print_table(
        [[k, format_value(res.current_shares.get(k, 0), "share"), format_value(v, "share")]
         for k, v in res.best_shares.items()],
        ["item", "current", "best"],
    )  # fmt: skip
    best = fmt_kpi_ci(objective, res.mean, res.ci_low, res.ci_high)
    print(f"\n{objective}: current {fmt_kpi(objective, res.current_mean)}, best {best}")
    print("(the best of many noisy splits is optimistic: confirm it with `simfunnel compare` and a new seed)")
    return 0
