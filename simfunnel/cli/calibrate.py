"""`simfunnel calibrate`: read a firm's CRM export, estimate what it records directly, fit the latent
parameters by simulation and write a scenario extending the base plus a parameter-sample file; optionally a fit
report (`--report`: observed vs simulated) and a backtest (`--holdout-after DATE`: fit before the date, predict
the months after it against two naive forecasts).

The fit report is an option of `calibrate` rather than its own command: it needs the data, the calibration and
its sample together, which `calibrate` has in memory - a separate command would read and check the data again and
would have to trust that the scenario and the sample belong to them."""

from __future__ import annotations

import argparse
import os
import time

from simfunnel.cli.common import UserError, require_extra

DEFAULT_REPS, QUICK_REPS = 20, 8


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
    sp.add_argument("--history", choices=("auto", "off"), default="auto",
                    help="learn the team and lead-volume history from the data as hiring and budget plans and fit "
                    "with them (auto, the default), or fit one team and one smooth volume (off)")  # fmt: skip
    sp.add_argument("--warmup", type=float, default=None, metavar="DAYS",
                    help="days simulated before the data's first day (default: the base's warm-up; 0 when the CRM "
                    "starts when the firm started selling, with an empty pipeline)")  # fmt: skip
    sp.add_argument("--quick", action="store_true", help="about a quarter of the simulation runs: a first look")
    sp.add_argument("--report", default=None, metavar="HTML",
                    help="also write the fit report (observed vs simulated, goodness of fit; default: none)")  # fmt: skip
    sp.add_argument("--holdout-after", default=None, metavar="DATE",
                    help="backtest: fit on the data before DATE (rounded up to a month start), predict the months "
                    "after it; writes <output stem>.backtest.csv (default: fit on all data)")  # fmt: skip
    sp.add_argument("--reps", type=int, default=None,
                    help=f"simulated histories of the report and backtest (default {DEFAULT_REPS}; quick {QUICK_REPS})")  # fmt: skip
    sp.add_argument("--seed", type=int, default=0, help="root seed of the fit's random numbers")
    sp.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _print_estimates(cal: object) -> None:
    from simfunnel.calibrate.write import estimate_number as num

    for row in cal.frame().itertuples():  # type: ignore[attr-defined]
        flag = f"  [{row.status}]" if row.status != "estimated" else ""
        print(f"{row.name:<30} {num(row.value):>12}  90 % [{num(row.low)}, {num(row.high)}] {row.unit}{flag}")


def _print_history(cal: object) -> None:
    h = cal.history  # type: ignore[attr-defined]
    if h is None:
        print("history: off (one team and one smooth lead volume for the whole history)")
        return
    team = ", ".join(f"{s['reps']} from day {s['day']:g}" for s in h.headcount_plan) or "no change"
    volume = ", ".join(f"{v.ratio:.2f} x from {v.month:%Y-%m}" for v in h.volume) or "no significant step"
    print(f"history learned: team {h.reps} reps at the start, {team}; lead volume {volume}"
          + (f" (budget plan: {len(h.budget_plan)} step(s))" if h.budget_plan else ""))  # fmt: skip
    for note in h.notes:
        print(f"history note: {note}")
    if h.headcount_plan or h.budget_plan:
        print("forecasting: beyond the export date the last observed team and lead volume hold unless you edit "
              "the plans in the written scenario")  # fmt: skip


def _print_backtest(bt: object, path: str) -> None:
    errors = bt.errors  # type: ignore[attr-defined]
    print(f"\nbacktest: {len(bt.months)} months after {bt.cut:%Y-%m-%d} ({bt.reps} replications)")  # type: ignore[attr-defined]
    print(errors.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for line in [*bt.verdicts(), *bt.notes]:  # type: ignore[attr-defined]
        print(line)
    print(path)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Calibrate (or backtest), write the scenario and the sample, optionally the fit report; print the estimates."""
    from simfunnel.calibrate import calibrate
    from simfunnel.calibrate.write import write_calibration
    from simfunnel.data import CrmDataError, read_crm
    from simfunnel.scenario import ScenarioError

    require_extra("calibrate", "simfunnel calibrate")
    if not args.output.lower().endswith(".toml"):
        raise UserError(f"-o {args.output}: the scenario file must end in .toml")
    if args.warmup is not None and not args.warmup >= 0:
        raise UserError(f"--warmup {args.warmup:g}: give days >= 0 (0: the CRM starts with the firm)")
    if args.report is not None and not args.report.lower().endswith((".html", ".htm")):
        raise UserError(f"--report {args.report}: the report file must end in .html")
    try:
        crm = read_crm(args.leads, args.deals, args.activities, mapping=args.mapping, export_date=args.export_date)
    except CrmDataError as exc:
        raise UserError(str(exc)) from None
    if args.deals is None:
        if args.holdout_after:
            raise UserError("--holdout-after needs a deals file (the backtest predicts wins)")
        print("no deals file: only lead arrivals and the team are estimated; no latent parameters fitted")
    start = time.perf_counter()
    workers = args.workers or os.cpu_count() or 1
    progress = False if args.quiet else None
    reps = args.reps or (QUICK_REPS if args.quick else DEFAULT_REPS)
    bt, observed = None, crm
    try:
        if args.holdout_after:
            from simfunnel.calibrate.backtest import backtest, truncate

            bt = backtest(crm, args.holdout_after, args.base, quick=args.quick, reps=reps, seed=args.seed,
                          workers=workers, progress=progress, history=args.history, warmup=args.warmup)  # fmt: skip
            cal, observed = bt.calibration, truncate(crm, bt.cut)
        else:
            cal = calibrate(
                crm,
                args.base,
                quick=args.quick,
                seed=args.seed,
                workers=workers,
                progress=progress,
                history=args.history,
                warmup=args.warmup,
            )
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:
        if not args.holdout_after:
            raise
        raise UserError(str(exc)) from None
    data = ", ".join(os.path.basename(str(f)) for f in (args.leads, args.deals, args.activities) if f)
    if bt is not None:
        data += f" (before {bt.cut:%Y-%m-%d})"
    scenario, samples = write_calibration(cal, args.output, data)
    _print_estimates(cal)
    _print_history(cal)
    runs = (cal.fit.runs if cal.fit is not None else 0) + (cal.history.runs if cal.history is not None else 0)
    print(f"\n{scenario}  ({runs} simulation runs, {time.perf_counter() - start:.0f} s)\n{samples}")
    if bt is not None:
        path = scenario.with_name(scenario.stem + ".backtest.csv")
        bt.table.to_csv(path, index=False)
        _print_backtest(bt, str(path))
    if args.report is not None:
        from simfunnel.calibrate.compare import compare_fit
        from simfunnel.present.fit_report import build_fit_report

        comparison = compare_fit(observed, cal.scenario(), cal.direct.start, reps=reps, draws=cal.draws(),
                                 seed=args.seed, workers=workers, progress=progress)  # fmt: skip
        out = build_fit_report(observed, cal, comparison, args.report, backtest=bt,
                               seconds=time.perf_counter() - start)  # fmt: skip
        print(f"{out}  (fit report, {time.perf_counter() - start:.0f} s in all)")
    return 0


__all__ = ["add_parser", "cmd_calibrate"]
