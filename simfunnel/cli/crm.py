"""`simfunnel export-crm`, `export-log` and `check-crm`: a simulated firm's CRM export and event log, and the
data-quality summary of a real export (`simfunnel.data`). Heavy modules are imported inside the commands."""

from __future__ import annotations

import argparse
import sys

from simfunnel.cli.common import USER_ERROR, UserError, load


def _simulate(args: argparse.Namespace):
    from simfunnel.simulate import simulate

    return simulate(load(args.file, args.set), args.seed)


def cmd_export_crm(args: argparse.Namespace) -> int:
    """Simulate once and write leads/deals/activities tables (and mapping.toml) as the firm's CRM would hold."""
    from simfunnel.data.export import export_crm, parse_messy

    try:
        parse_messy(args.messy)
    except ValueError as exc:
        raise UserError(f"--messy: {exc}") from None
    if args.messy and "short-years" in args.messy and args.date_format == "iso":
        raise UserError("--messy short-years needs --date-format dayfirst or monthfirst")
    result = _simulate(args)
    export_day = args.export_day
    window = result.scenario.simulation.horizon_days  # days after the warm-up
    if export_day is not None and not 0 < export_day <= window:
        raise UserError(f"--export-day must be in (0, {window:g}] (days after the warm-up), got {export_day:g}")
    done = export_crm(result, args.output, start_date=args.start_date, export_day=export_day, messy=args.messy,
                      date_format=args.date_format, headers=args.headers, file_format=args.file_format,
                      seed=args.seed)  # fmt: skip
    for table, path in done.files.items():
        print(f"{table:<11} {path}")
    print(f"{'mapping':<11} {done.mapping}  (export date {done.export_date:%Y-%m-%d %H:%M})")
    for (check, file), rows in sorted(done.injected.items()):
        print(f"  mess: {check} ({file}): {rows} rows", file=sys.stderr)
    return 0


def cmd_export_log(args: argparse.Namespace) -> int:
    """Simulate once and write the buyer journeys as an event log (.csv, .xes or .jsonocel)."""
    from simfunnel.data.eventlog import FORMATS, write_event_log

    if not any(args.output.lower().endswith(s) for s in FORMATS):
        raise UserError(f"-o {args.output}: the file must end in {', '.join(FORMATS)}")
    log = _simulate(args).event_log(args.start_date)
    try:
        path = write_event_log(log, args.output)
    except ImportError as exc:
        raise UserError(str(exc)) from None
    print(f"{path}: {log['case:concept:name'].nunique():,} cases, {len(log):,} events")
    return 0


def cmd_check_crm(args: argparse.Namespace) -> int:
    """Read a CRM export and print its data-quality summary and headline counts (exit 2 if unreadable)."""
    from simfunnel.data import CrmDataError, format_quality, read_crm

    try:
        data = read_crm(args.leads, args.deals, args.activities, mapping=args.mapping, export_date=args.export_date)
    except CrmDataError as exc:
        raise UserError(str(exc)) from None
    if args.format == "csv":
        data.quality.to_csv(sys.stdout, index=False)
        return 0
    print(format_quality(data.quality))
    counts = data.counts()
    print(f"\n{counts['leads']:,.0f} leads, {counts['deals']:,.0f} deals ({counts['won']:,.0f} won, "
          f"{counts['lost']:,.0f} lost, {counts['open']:,.0f} open), revenue {counts['revenue']:,.2f}; "
          f"export date {data.export_date:%Y-%m-%d}")  # fmt: skip
    return 0


__all__ = ["USER_ERROR", "cmd_check_crm", "cmd_export_crm", "cmd_export_log"]
