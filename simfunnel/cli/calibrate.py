"""`simfunnel calibrate`: read a firm's CRM export, estimate what it records directly, fit the latent
parameters by simulation and write a scenario extending the base plus a parameter-sample file."""

from __future__ import annotations

import argparse
import os
import time

from simfunnel.cli.common import UserError


def add_parser(sub: argparse._SubParsersAction, make: object) -> None:
    """The `calibrate` subcommand (``make``: the parser module's subparser factory)."""
    sp = make(sub, "calibrate", "fit a scenario to a firm's CRM export (writes a scenario TOML and a sample CSV)",
              cmd_calibrate)  # fmt: skip
    sp.add_argument("leads", help="leads file (CSV, Parquet or Excel)")
    sp.add_argument("deals", nargs="?", default=None, help="deals (opportunities) file (default: none)")
    sp.add_argument("activities", nargs="?", default=None, help="activities file (default: none)")
    sp.add_argument("--map", "--mapping", dest="mapping", default=None,
                    help="TOML mapping file naming the columns (default: recognise the usual headers)")  # fmt: skip
    sp.add_argument("--export-date", default=None, help="date of the export (default: mapping, else latest date)")
    sp.add_argument("--base", default="preset:base", help="scenario the calibrated one extends (file or preset:NAME)")
    sp.add_argument("-o", "--output", required=True, help="scenario TOML to write (no default; sample next to it)")
    sp.add_argument("--quick", action="store_true", help="about a quarter of the simulation runs: a first look")
    sp.add_argument("--seed", type=int, default=0, help="root seed of the fit's random numbers")
    sp.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Calibrate, write the scenario and the sample, print the estimates."""
    from simfunnel.calibrate import calibrate
    from simfunnel.calibrate.write import write_calibration
    from simfunnel.data import CrmDataError, read_crm
    from simfunnel.scenario import ScenarioError

    if not args.output.lower().endswith(".toml"):
        raise UserError(f"-o {args.output}: the scenario file must end in .toml")
    try:
        crm = read_crm(args.leads, args.deals, args.activities, mapping=args.mapping, export_date=args.export_date)
    except CrmDataError as exc:
        raise UserError(str(exc)) from None
    if args.deals is None:
        print("no deals file: only lead arrivals and the team are estimated; no latent parameters fitted")
    start = time.perf_counter()
    try:
        cal = calibrate(crm, args.base, quick=args.quick, seed=args.seed, workers=args.workers or os.cpu_count() or 1,
                        progress=False if args.quiet else None)  # fmt: skip
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    data = ", ".join(os.path.basename(str(f)) for f in (args.leads, args.deals, args.activities) if f)
    scenario, samples = write_calibration(cal, args.output, data)
    frame = cal.frame()
    for row in frame.itertuples():
        flag = f"  [{row.status}]" if row.status != "estimated" else ""
        print(f"{row.name:<30} {row.value:>12.5g}  90 % [{row.low:.5g}, {row.high:.5g}] {row.unit}{flag}")
    runs = cal.fit.runs if cal.fit is not None else 0
    print(f"\n{scenario}  ({runs} simulation runs, {time.perf_counter() - start:.0f} s)\n{samples}")
    return 0


__all__ = ["add_parser", "cmd_calibrate"]
