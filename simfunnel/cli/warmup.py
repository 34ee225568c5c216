"""`simfunnel warmup FILE`: how long a warm-up the scenario needs (MSER-5 on weekly series of a pilot run)."""

from __future__ import annotations

import argparse

from simfunnel.cli.common import UserError, load, warn
from simfunnel.cli.tables import dump_json, print_table

DEFAULT_SERIES = ("rep_utilization", "won")


def cmd_warmup(args: argparse.Namespace) -> int:
    """Estimate the warm-up per weekly series and print the largest, in whole weeks, as the suggestion."""
    from simfunnel.warmup import SERIES, WEEKS_PER_YEAR, estimate_warmup

    series = args.series or list(DEFAULT_SERIES)
    unknown = [s for s in series if s not in SERIES]
    if unknown:
        raise UserError(f"--series {unknown[0]!r} is not a weekly series; choose from {', '.join(SERIES)}")
    sc = load(args.file, args.set)
    estimates = [
        estimate_warmup(sc, seed=args.seed, series=s, pilot_days=args.pilot_days, replications=args.replications)
        for s in series
    ]
    suggested = max(e.days for e in estimates)
    if args.format == "json":
        dump_json({"scenario": sc.name, "file": args.file, "seed": args.seed, "suggested_warmup_days": suggested,
                   "current_warmup_days": sc.simulation.warmup_days,
                   "estimates": [{"series": e.series, "method": e.method, "days": e.days, "weeks": e.weeks,
                                  "reliable": e.reliable, "pilot_days": e.pilot_days,
                                  "replications": e.replications} for e in estimates]})  # fmt: skip
        return 0
    first = estimates[0]
    print(f"{sc.name}: warm-up by {first.method} on weekly series of a {first.pilot_days:,.0f}-day pilot without "
          f"warm-up, mean of {first.replications} replications, seed {args.seed}")  # fmt: skip
    years = int(first.pilot_days // 365)
    rows = []
    for e in estimates:
        means = [e.values[y * WEEKS_PER_YEAR : (y + 1) * WEEKS_PER_YEAR].mean() for y in range(years)]
        rows.append([e.series, f"{e.weeks} weeks", f"{e.days:,.0f} days", "yes" if e.reliable else "NO",
                     " / ".join(f"{m:,.3g}" for m in means)])  # fmt: skip
    print_table(rows, ["series", "warm-up", "days", "reliable", "weekly mean by pilot year"], left=1)
    print(f"\nsuggested: simulation.warmup_days = {suggested:,.0f} (current: {sc.simulation.warmup_days:,.0f})")
    if not all(e.reliable for e in estimates):
        warn("a series was still trending at half the pilot: rerun with a longer --pilot-days")
    return 0


def add_parser(sub: argparse._SubParsersAction, make: object) -> None:
    """The `warmup` subcommand (``make``: the parser module's subparser factory)."""
    sp = make(sub, "warmup", "estimate the warm-up a scenario needs (MSER-5 on a pilot run)", cmd_warmup)
    sp.add_argument("file", help="scenario TOML file, or preset:NAME (see `simfunnel presets`)")
    sp.add_argument("--series", action="append", metavar="NAME",
                    help="weekly series to truncate: rep_utilization, won, leads, new_revenue, repeat_revenue, "
                    "revenue, customers (repeatable; default: rep_utilization and won)")  # fmt: skip
    sp.add_argument("--pilot-days", type=float, default=None,
                    help="pilot length in days (default: three years, or twice the horizon if longer)")  # fmt: skip
    sp.add_argument("-n", "--replications", type=int, default=5, help="pilot runs averaged")
    sp.add_argument("--seed", type=int, default=1, help="root seed of the random numbers")
    sp.add_argument("--set", action="append", metavar="FIELD=VALUE",
                    help="override a field, e.g. sales.reps=12 (repeatable; default: none)")  # fmt: skip
    sp.add_argument("--format", choices=("table", "json"), default="table", help="output format")
