"""`simfunnel explore`: how sure are we? Every policy in the same sampled worlds, then sensitivity (what drives
the KPI and the gap), robustness (regret, share of worlds won), scenario discovery (where the first alternative
does not pay) and the value of information (which input to measure next)."""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from simfunnel.cli.commands import scenario_names
from simfunnel.cli.common import UserError, check_kpi_option, executor_kwargs, horizon_text, load, require_extra
from simfunnel.cli.tables import dump_json, fmt_kpi, kpi_label, print_table, report_errors
from simfunnel.formatting import format_value


def cmd_explore(args: argparse.Namespace) -> int:
    """Explore the policies in ``--samples`` worlds; print the analyses (or write JSON/CSV)."""
    require_extra("robustness", "simfunnel explore")
    metric = check_kpi_option("--metric", args.metric)
    scenarios = [load(f, args.set) for f in args.files]
    names = scenario_names(args.files, scenarios)
    baseline = _baseline(args.baseline, names, args.files)
    from simfunnel.analysis import explore

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"explore: \d+ of", category=RuntimeWarning)
        exp = explore(dict(zip(names, scenarios, strict=True)), args.uncertainty, samples=args.samples,
                      design=args.design, n=args.replications, seed=args.seed, baseline=baseline,
                      checkpoint=args.checkpoint, **executor_kwargs(args))  # fmt: skip
    seconds = time.perf_counter() - started
    if args.output:
        _write(exp.results, Path(args.output))
    if args.format == "csv":
        exp.results.to_csv(sys.stdout, index=False)
        return 0
    analyses = _analyses(exp, metric, args.threshold)
    if args.format == "json":
        dump_json(_as_json(exp, analyses, seconds))
    else:
        _print(exp, analyses, metric, seconds, scenarios[0].simulation.horizon_days, args.seed)
    report_errors(exp.errors, total=len(exp.worlds) * len(names), what="(world, policy) pair")
    return 0


def _baseline(baseline: str | None, names: list[str], files: list[str]) -> str:
    if baseline is None or baseline in names:
        return baseline or names[0]
    stems = {Path(f.removeprefix("preset:")).stem: n for f, n in zip(files, names, strict=True)}
    if baseline in stems:
        return stems[baseline]
    raise UserError(f"--baseline {baseline!r} is not one of the scenarios: {', '.join(names)}")


def _write(frame: Any, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    print(f"wrote {len(frame)} rows to {out}", file=sys.stderr)


def _analyses(exp: Any, metric: str, threshold: float | None) -> dict[str, Any]:
    """Every analysis the command shows; one that cannot run (e.g. failed worlds for Sobol) is reported."""
    out: dict[str, Any] = {"robustness": exp.robustness(metric, threshold=threshold)}
    others = [p for p in exp.policies if p != exp.baseline]
    for label, call in (
        ("gap", lambda: exp.sensitivity(metric, others[0], exp.baseline) if others else None),
        ("drivers", lambda: {p: exp.sensitivity(metric, p) for p in exp.policies}),
        ("box", lambda: exp.discover(metric) if others else None),
        ("evppi", lambda: exp.evppi(metric) if others else None),
    ):
        try:
            out[label] = call()
        except ValueError as exc:
            out[label] = None
            print(f"warning: {label}: {exc}", file=sys.stderr)
    return out


def _index_text(row: Any, key: str) -> str:
    return f"{getattr(row, key):.2f} [{getattr(row, key + '_low'):.2f}, {getattr(row, key + '_high'):.2f}]"


def _sensitivity_rows(table: Any, metric: str) -> tuple[list[list[str]], list[str]]:
    if "ST" in table.columns:
        rows = [[r.input, _index_text(r, "S1"), _index_text(r, "ST")] for r in table.itertuples()]
        return rows, ["input", "first order S1 [95 % CI]", "total order ST [95 % CI]"]
    if "mu_star" in table.columns:
        rows = [[r.input, f"{fmt_kpi(metric, r.mu_star)} [{fmt_kpi(metric, r.mu_star_low)}, "
                 f"{fmt_kpi(metric, r.mu_star_high)}]", fmt_kpi(metric, r.sigma)] for r in table.itertuples()]  # fmt: skip
        return rows, ["input", "mu* (effect over the range) [95 % CI]", "sigma"]
    return [[r.input, _index_text(r, "S1")] for r in table.itertuples()], ["input", "first order S1 [95 % CI]"]


def _print(exp: Any, a: dict[str, Any], metric: str, seconds: float, horizon: float, seed: int) -> None:
    d = exp.design
    size = f"{d.samples} base samples, " if d.design in ("sobol", "morris") else ""
    print(f"explore {', '.join(exp.policies)} in {len(d):,} worlds ({d.design} design, {size}{len(d.inputs)} inputs) "
          f"{horizon_text(horizon, exp.n_replications, seed)}; {len(exp.results):,} runs in {seconds / 60:.1f} min")  # fmt: skip
    rob = a["robustness"]
    print(f"\nrobustness of {kpi_label(metric)} over {rob.n_worlds:,} worlds; robust choice ({rob.rule}): {rob.choice}")
    rows = [[r.policy, fmt_kpi(metric, r.mean), f"{fmt_kpi(metric, r.p10)} .. {fmt_kpi(metric, r.p90)}",
             "-" if math.isnan(r.share_beats_baseline) else format_value(r.share_beats_baseline, "share"),
             fmt_kpi(metric, r.regret_mean), fmt_kpi(metric, r.regret_p90), fmt_kpi(metric, r.regret_max)]
            + ([] if rob.threshold is None else [format_value(r.share_satisficing, "share")])
            for r in rob.table.itertuples()]  # fmt: skip
    head = ["policy", "mean", "10-90 % of worlds", f"beats {exp.baseline}", "mean regret", "p90 regret", "max regret"]
    print_table(rows, head + ([] if rob.threshold is None else ["meets threshold"]))
    if a.get("gap") is not None:
        print(f"\nwhat drives the gap {a['gap'].attrs['what']} ({d.design}):")
        print_table(*_sensitivity_rows(a["gap"], metric))
    for policy, table in (a.get("drivers") or {}).items():
        top = ", ".join(table["input"].head(3))
        print(f"{metric} of {policy} depends most on: {top}")
    box = a.get("box")
    if box is not None:
        print(f"\nscenario discovery (PRIM), {box.cases}: {box.n_cases} of {box.n_worlds} worlds")
        if box.n_cases:
            print(f"  box: {box.describe()}")
    voi = a.get("evppi")
    if voi is not None:
        evpi = voi.attrs["evpi"]
        print(f"\nvalue of information for the choice (now: {voi.attrs['choice']}); EVPI {fmt_kpi(metric, evpi)}")
        rows = [[r.input, fmt_kpi(metric, r.evppi_adjusted), fmt_kpi(metric, r.noise_floor),
                 "-" if math.isnan(r.share_of_evpi) else format_value(r.share_of_evpi, "share")]
                for r in voi.itertuples()]  # fmt: skip
        print_table(rows, ["input", "EVPPI (noise floor removed)", "noise floor", "share of EVPI"])


def _as_json(exp: Any, a: dict[str, Any], seconds: float) -> dict[str, Any]:
    rob = a["robustness"]
    box = a.get("box")
    records = {k: (None if a.get(k) is None else a[k].to_dict(orient="records")) for k in ("gap", "evppi")}
    return {
        "policies": list(exp.policies), "baseline": exp.baseline, "design": exp.design.design,
        "worlds": len(exp.worlds), "inputs": list(exp.inputs), "replications": exp.n_replications,
        "seconds": seconds, "robust_choice": rob.choice, "rule": rob.rule,
        "robustness": rob.table.to_dict(orient="records"), "gap_sensitivity": records["gap"],
        "drivers": {p: t.to_dict(orient="records") for p, t in (a.get("drivers") or {}).items()},
        "prim": None if box is None else {"cases": box.cases, "n_cases": box.n_cases, "coverage": box.coverage,
                                          "density": box.density, "mass": box.mass,
                                          "limits": box.restricted.to_dict(orient="records")},
        "evppi": records["evppi"], "evpi": None if a.get("evppi") is None else a["evppi"].attrs["evpi"],
    }  # fmt: skip
