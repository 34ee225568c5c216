"""`simfunnel run|compare|sweep|attribute|optimize|validate|validate-model`: the command line on the public API.

A user mistake (missing file, bad field, bad value, bad option) exits with status 2 and one message on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.errors import ScenarioError
from simfunnel.scenario import Scenario, load_scenario, parse_override

USER_ERROR = 2

HEADLINE = (
    "buyers", "mqls", "sqls", "won", "lost_never_reached", "lost_dropped", "lost_too_early", "lost_too_late",
    "lost_to_competitor", "open", "revenue", "new_revenue", "repeat_revenue", "customers_end", "churned",
    "referrals", "marketing_spend", "rep_cost", "profit", "cac", "roi", "win_rate", "mql_to_sql",
    "lead_wait_days", "lead_wait_days_p90", "queue_wait_days", "speed_to_lead_hours", "sales_cycle_days", "rep_utilization",
    "leads_followed_up", "rep_hours_wasted",
)  # fmt: skip
"""KPIs shown in tables (JSON and CSV carry every KPI)."""


class UserError(Exception):
    """A mistake on the command line, reported as one message with exit status 2."""


# ------------------------------------------------------------------------------------------- helpers
def _scenario(path: str, sets: Sequence[str] | None) -> Scenario:
    overrides = dict(parse_override(s) for s in sets or ())
    return load_scenario(path, overrides)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) < 1e-6:  # float noise of a difference (e.g. -2e-10) prints as 0
        x = 0.0
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 10 or float(x).is_integer():
        return f"{x:,.1f}" if not float(x).is_integer() else f"{x:,.0f}"
    return f"{x:.3f}"


def _ci(mean: float, lo: float, hi: float) -> str:
    if math.isnan(lo) or math.isnan(hi):
        return _fmt(mean)
    return f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]"


def _print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))


def _json_default(x: Any) -> Any:
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return str(x)


def _clean(obj: Any) -> Any:
    """NaN/inf -> null so the output is strict JSON."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _dump_json(obj: Any) -> None:
    print(json.dumps(_clean(obj), indent=2, default=_json_default))


def _executor_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    progress = False if args.quiet else None
    return {"executor": args.executor, "workers": args.workers, "address": args.address, "progress": progress}


def _summary_dict(summary: pd.DataFrame, key: str | None = None, value: str | None = None) -> dict[str, Any]:
    sub = summary if key is None else summary[summary[key] == value]
    return {
        row.metric: {"mean": row.mean, "std": row.std, "n": row.n, "ci_low": row.ci_low, "ci_high": row.ci_high}
        for row in sub.itertuples()
    }


def _lost_by_reason(kpis: dict[str, Any]) -> dict[str, Any]:
    from simfunnel.metrics import LOST_KEYS

    return {reason: kpis[key] for reason, key in LOST_KEYS.items() if key in kpis}


# ------------------------------------------------------------------------------------------- commands
def cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            sc = load_scenario(path)
            print(f"ok    {path}  ({sc.name}: {sc.market.buyers_per_year:,.0f} buyers/year, {sc.sales.reps} reps)")
        except ScenarioError as exc:
            print(f"error {exc}", file=sys.stderr)
            failed += 1
    return USER_ERROR if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from simfunnel.experiment import replicate
    from simfunnel.simulate import simulate

    sc = _scenario(args.file, args.set)
    if args.replications == 1:
        result = simulate(sc, seed=args.seed)
        kpis = result.kpis()
        if args.format == "json":
            _dump_json({"scenario": sc.name, "file": args.file, "seed": args.seed, "replications": 1, **kpis})
        elif args.format == "csv":
            pd.DataFrame({"metric": list(result.summary), "value": list(result.summary.values())}).to_csv(
                sys.stdout, index=False
            )
        else:
            print(f"{sc.name}: one run, seed {args.seed}")
            _print_table([[k, _fmt(result.summary[k])] for k in HEADLINE], ["kpi", "value"])
            print()
            ch = result.channels
            _print_table(
                [
                    [r.channel, _fmt(r.spend), str(r.leads), str(r.won), _fmt(r.revenue), _fmt(r.roi)]
                    for r in ch.itertuples()
                ],
                ["channel", "spend", "leads", "won", "revenue", "roi"],
            )
        return 0
    exp = replicate(sc, n=args.replications, seed=args.seed, **_executor_kwargs(args))
    summ = exp.summary
    if args.format == "json":
        out = _summary_dict(summ)
        _dump_json(
            {
                "scenario": sc.name,
                "file": args.file,
                "seed": args.seed,
                "replications": exp.n_replications,
                "kpis": out,
                "lost_by_reason": _lost_by_reason(out),
            }
        )
    elif args.format == "csv":
        summ.to_csv(sys.stdout, index=False)
    else:
        print(f"{sc.name}: {exp.n_replications} replications, seed {args.seed}; mean [95 % CI]")
        by = summ.set_index("metric")
        _print_table(
            [[k, _ci(by.at[k, "mean"], by.at[k, "ci_low"], by.at[k, "ci_high"])] for k in HEADLINE if k in by.index],
            ["kpi", "mean [95 % CI]"],
        )
    _report_errors(exp.errors)
    return 0


def _names(files: Sequence[str], scenarios: Sequence[Scenario]) -> list[str]:
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        names = [Path(f).stem for f in files]
    if len(set(names)) != len(names):
        names = [f"{n}_{i + 1}" for i, n in enumerate(names)]
    return names


def cmd_compare(args: argparse.Namespace) -> int:
    from simfunnel.experiment import compare

    if len(args.files) < 2:
        raise UserError("compare needs at least two scenario files")
    scenarios = [_scenario(f, args.set) for f in args.files]
    names = _names(args.files, scenarios)
    baseline = args.baseline or names[0]
    if baseline not in names:
        stems = {Path(f).stem: n for f, n in zip(args.files, names, strict=True)}
        if baseline in stems:
            baseline = stems[baseline]
        else:
            raise UserError(f"--baseline {args.baseline!r} is not one of the scenarios: {', '.join(names)}")
    exp = compare(
        dict(zip(names, scenarios, strict=True)), n=args.replications, seed=args.seed, baseline=baseline,
        **_executor_kwargs(args),
    )  # fmt: skip
    summ, diffs = exp.summary, exp.diffs
    if args.format == "json":
        _dump_json(
            {
                "seed": args.seed,
                "replications": exp.n_replications,
                "baseline": baseline,
                "scenarios": {n: _summary_dict(summ, "scenario", n) for n in names},
                "differences": {
                    n: {
                        r.metric: {"mean_diff": r.mean_diff, "ci_low": r.ci_low, "ci_high": r.ci_high}
                        for r in diffs[diffs["scenario"] == n].itertuples()
                    }
                    for n in names
                    if n != baseline
                },
            }
        )
        return 0
    if args.format == "csv":
        summ.to_csv(sys.stdout, index=False)
        return 0
    print(
        f"{' vs '.join(names)}: {exp.n_replications} paired replications (common random numbers), seed {args.seed}; "
        "mean [95 % CI]"
    )
    s = summ.set_index(["scenario", "metric"])
    d = diffs.set_index(["scenario", "metric"])
    others = [n for n in names if n != baseline]
    rows = []
    for k in HEADLINE:
        if (baseline, k) not in s.index:
            continue
        row = [k] + [_ci(*(s.loc[(n, k), c] for c in ("mean", "ci_low", "ci_high"))) for n in names]
        row += [_ci(*(d.loc[(n, k), c] for c in ("mean_diff", "ci_low", "ci_high"))) for n in others]
        rows.append(row)
    _print_table(rows, ["kpi", *names, *[f"{n} - {baseline}" for n in others]])
    _report_errors(exp.errors)
    return 0


def _parse_grid(specs: Sequence[str]) -> dict[str, list[Any]]:
    """``field=start:stop:count`` (evenly spaced, integers kept integral) or ``field=v1,v2,...``."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        if "=" not in spec:
            raise UserError(f"--grid {spec!r}: expected field=start:stop:count or field=v1,v2,...")
        key, raw = spec.split("=", 1)
        if raw.count(":") == 2:
            try:
                a, b, c = raw.split(":")
                start, stop, count = float(a), float(b), int(c)
            except ValueError:
                raise UserError(f"--grid {spec!r}: start and stop must be numbers and count an integer") from None
            if count < 1:
                raise UserError(f"--grid {spec!r}: count must be >= 1")
            values = np.linspace(start, stop, count).tolist()
            if all(float(x).is_integer() for x in (a, b)) and all(float(v).is_integer() for v in values):
                values = [int(v) for v in values]
            else:
                values = [round(v, 10) for v in values]
        else:
            values = [parse_override(f"{key}={v}")[1] for v in raw.split(",") if v.strip()]
        if not values:
            raise UserError(f"--grid {spec!r}: no values")
        grid[key.strip()] = values
    return grid


def cmd_sweep(args: argparse.Namespace) -> int:
    from simfunnel.experiment import sweep

    sc = _scenario(args.file, args.set)
    if not args.grid:
        raise UserError("sweep needs at least one --grid field=start:stop:count")
    grid = _parse_grid(args.grid)
    exp = sweep(sc, grid, n=args.replications, seed=args.seed, checkpoint=args.checkpoint, **_executor_kwargs(args))
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".parquet":
            exp.summary.to_parquet(out, index=False)
        else:
            exp.summary.to_csv(out, index=False)
        print(f"wrote {len(exp.summary)} rows to {out}", file=sys.stderr)
    fields = list(grid)
    metric = args.metric
    summ = exp.summary[exp.summary["metric"] == metric]
    if args.format == "json":
        _dump_json({"metric": metric, "points": summ.to_dict(orient="records")})
    elif args.format == "csv":
        exp.summary.to_csv(sys.stdout, index=False)
    else:
        print(f"sweep of {', '.join(fields)}: {exp.n_replications} replications per point; {metric} mean [95 % CI]")
        rows = [
            [*(str(r[f]) for f in fields), _ci(r["mean"], r["ci_low"], r["ci_high"])]
            for r in summ.to_dict(orient="records")
        ]
        _print_table(rows, [*fields, metric])
    _report_errors(exp.errors)
    return 0


def cmd_attribute(args: argparse.Namespace) -> int:
    from simfunnel.experiment import attribute

    lo, hi = _scenario(args.siloed, args.set), _scenario(args.aligned, args.set)
    res = attribute(lo, hi, n=args.replications, seed=args.seed, metric=args.metric, **_executor_kwargs(args))
    table = res.table
    if args.format == "json":
        _dump_json({"metric": res.metric, "gap": res.gap, "levers": table.to_dict(orient="records")})
    elif args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        how = "exact Shapley" if res.exact else f"Shapley over {res.permutations} sampled lever orders"
        print(f"{res.metric}: {lo.name} -> {hi.name}, {how}, {res.n_replications} replications; mean [95 % CI]")
        share = "share" if "share" in table.columns else None
        _print_table(
            [[str(r["lever"]), _ci(r["shapley"], r["ci_low"], r["ci_high"]), f"{r[share]:.0%}" if share else ""]
             for r in table.to_dict(orient="records")],
            ["lever", res.metric, "share of gap"],
        )  # fmt: skip
        g = res.gap
        print(f"\ntotal gap {_ci(g.get('mean', math.nan), g.get('ci_low', math.nan), g.get('ci_high', math.nan))}")
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from simfunnel.experiment import optimize_budget

    sc = _scenario(args.file, args.set)
    res = optimize_budget(sc, objective=args.objective, n=args.replications, seed=args.seed, step=args.step,
                          **_executor_kwargs(args))  # fmt: skip
    if args.format == "json":
        _dump_json({"objective": res.objective, "best_shares": res.best_shares, "mean": res.mean,
                    "ci_low": res.ci_low, "ci_high": res.ci_high, "current_shares": res.current_shares,
                    "current_mean": res.current_mean, "evaluated": len(res.table)})  # fmt: skip
    elif args.format == "csv":
        res.table.to_csv(sys.stdout, index=False)
    else:
        print(f"best {res.objective} split of {sc.name} ({len(res.table)} splits x {res.n_replications} replications)")
        _print_table(
            [[k, f"{res.current_shares.get(k, 0):.2f}", f"{v:.2f}"] for k, v in res.best_shares.items()],
            ["item", "current", "best"],
        )
        print(f"\n{res.objective}: current {_fmt(res.current_mean)}, best {_ci(res.mean, res.ci_low, res.ci_high)}")
        print("(the best of many noisy splits is optimistic: confirm it with `simfunnel compare` and a new seed)")
    return 0


def cmd_validate_model(args: argparse.Namespace) -> int:
    from simfunnel.validation import run_checks

    table = run_checks(quick=args.quick, seed=args.seed)
    if args.format == "json":
        _dump_json(table.to_dict(orient="records"))
    elif args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        _print_table(
            [[str(r["check"]), _fmt(r["expected"]), _ci(r["simulated"], r["ci_low"], r["ci_high"]),
              "pass" if r["passed"] else "FAIL"] for r in table.to_dict(orient="records")],
            ["check", "expected", "simulated [95 % CI]", "result"],
        )  # fmt: skip
    return 0 if bool(table["passed"].all()) else 1


def cmd_report(args: argparse.Namespace) -> int:
    from simfunnel.report import build_report_info

    overrides = dict(parse_override(x) for x in args.set or ())
    try:
        info = build_report_info(
            list(args.files), args.output, n=args.replications, seed=args.seed, baseline=args.baseline,
            quick=args.quick, overrides=overrides, attribution=args.attribution, validation=not args.no_validation,
            title=args.title, question=args.question, cache=False if args.no_cache else True,
            **_executor_kwargs(args),
        )  # fmt: skip
    except ValueError as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise UserError(str(exc)) from None
    t = info.timings
    print(
        f"wrote {info.path} ({info.path.stat().st_size / 1e6:.1f} MB) in {info.seconds:.0f} s: {info.n} replications"
        + (f", attribution {info.attribution_n} replications" if info.attribution_n else "")
        + f" (compare {t.get('compare', 0):.0f} s, attribution {t.get('attribution', 0):.0f} s, "
        f"validation {t.get('validation', 0):.0f} s, figures {t.get('figures', 0):.0f} s)",
        file=sys.stderr,
    )
    if args.pdf is not None:
        from simfunnel.report import html_to_pdf

        pdf = Path(args.pdf) if args.pdf else info.path.with_suffix(".pdf")
        try:
            html_to_pdf(info.path, pdf)
        except RuntimeError as exc:
            raise UserError(f"{exc} (the HTML report {info.path} was written)") from None
        print(f"wrote {pdf}", file=sys.stderr)
    return 0


def cmd_slides(args: argparse.Namespace) -> int:
    from simfunnel.slides import SlidesError, build_slides

    try:
        out = build_slides(
            args.notebook, args.output, reveal=args.reveal, show_input=args.show_input, theme=args.theme,
            split=args.split,
        )  # fmt: skip
    except SlidesError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB; self-contained, works offline)", file=sys.stderr)
    return 0


def _report_errors(errors: pd.DataFrame | None) -> None:
    if errors is not None and len(errors):
        print(f"\n{len(errors)} point(s) failed:", file=sys.stderr)
        print(errors.to_string(index=False), file=sys.stderr)


# ------------------------------------------------------------------------------------------- parser
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="simfunnel", description="What-if laboratory for the marketing-sales interface.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser, replications: int | None, *, fmt: bool = True, n_help: str = "") -> None:
        sp.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
        sp.add_argument("-n", "--replications", type=_positive_int, default=replications, help=n_help or None)
        sp.add_argument("--set", action="append", metavar="FIELD=VALUE", help="override a field, e.g. sales.reps=12")
        if fmt:
            sp.add_argument("--format", choices=("table", "json", "csv"), default="table")
        sp.add_argument("--executor", choices=("serial", "processes", "dask"), default="processes")
        sp.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: cores)")
        sp.add_argument("--address", default=None, help="Dask scheduler address tcp://host:port")
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    sp = sub.add_parser("validate", help="check scenario files without simulating")
    sp.add_argument("files", nargs="+")
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("run", help="simulate one scenario")
    sp.add_argument("file")
    common(sp, 1)
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("compare", help="paired comparison of scenarios (common random numbers)")
    sp.add_argument("files", nargs="+")
    sp.add_argument("--baseline", default=None, help="scenario name (or file stem) to difference against")
    common(sp, 10)
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser("sweep", help="grid over scenario fields")
    sp.add_argument("file")
    sp.add_argument("--grid", action="append", metavar="FIELD=START:STOP:COUNT", help="or FIELD=v1,v2,...")
    sp.add_argument("-o", "--output", default=None, help="write the summary (.parquet or .csv)")
    sp.add_argument("--checkpoint", default=None, help="save each finished point; a rerun resumes")
    sp.add_argument("--metric", default="profit", help="KPI shown in the table")
    common(sp, 5)
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser("attribute", help="which alignment lever pays (Shapley values)")
    sp.add_argument("siloed")
    sp.add_argument("aligned")
    sp.add_argument("--metric", default="profit")
    common(sp, 5)
    sp.set_defaults(func=cmd_attribute)

    sp = sub.add_parser("optimize", help="search the budget split")
    sp.add_argument("file")
    sp.add_argument("--objective", default="profit", help="profit, revenue, mqls or any KPI")
    sp.add_argument("--step", type=float, default=0.1, help="coarse grid step of the shares")
    common(sp, 5)
    sp.set_defaults(func=cmd_optimize)

    sp = sub.add_parser("validate-model", help="the model against theory and published figures")
    sp.add_argument("--quick", action="store_true")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--format", choices=("table", "json", "csv"), default="table")
    sp.set_defaults(func=cmd_validate_model)

    sp = sub.add_parser("report", help="self-contained HTML report for a client (optional PDF)")
    sp.add_argument("files", nargs="+", help="scenario TOML files; the first is the baseline unless --baseline")
    sp.add_argument("-o", "--output", default="report.html", help="HTML file to write (default report.html)")
    sp.add_argument("--baseline", default=None, help="scenario name (or file stem) to compare against")
    sp.add_argument("--quick", action="store_true", help="few replications (~20 s): a preview, not for decisions")
    sp.add_argument(
        "--attribution",
        choices=("grouped", "levers", "off"),
        default="grouped",
        help="Shapley attribution over four lever groups (default), each lever (sampled), or none",
    )
    sp.add_argument("--no-validation", action="store_true", help="leave out the model checks")
    sp.add_argument("--no-cache", action="store_true", help="simulate everything (do not use ~/.cache/simfunnel)")
    sp.add_argument("--title", default=None)
    sp.add_argument("--question", default=None, help="the client's question, shown at the top")
    sp.add_argument(
        "--pdf",
        nargs="?",
        const="",
        default=None,
        metavar="PDF",
        help="also print a PDF with headless Chromium (default: next to the HTML)",
    )
    common(sp, None, fmt=False, n_help="default 20 (--quick: 5)")
    sp.set_defaults(func=cmd_report)

    sp = sub.add_parser("slides", help="notebook -> offline reveal.js slide deck (code hidden)")
    sp.add_argument("notebook")
    sp.add_argument("-o", "--output", default=None, help="deck HTML (default: NOTEBOOK.slides.html)")
    sp.add_argument("--reveal", default=None, help="reveal.js folder or npm tarball (default: cached, else npm pack)")
    sp.add_argument("--show-input", action="store_true", help="keep code cells (except those tagged remove_input)")
    sp.add_argument("--theme", default="white", help="reveal.js theme (white, simple, black, ...)")
    sp.add_argument(
        "--split",
        choices=("auto", "metadata", "headings"),
        default="auto",
        help="slide breaks: notebook slideshow metadata, markdown headings, or auto (metadata if any)",
    )
    sp.set_defaults(func=cmd_slides)
    return p


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `simfunnel` console script."""
    if os.environ.get("CI") and "TQDM_DISABLE" not in os.environ:
        os.environ["TQDM_DISABLE"] = "1"
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, UserError) as exc:
        print(f"simfunnel: error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("simfunnel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
