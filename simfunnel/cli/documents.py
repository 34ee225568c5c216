"""`simfunnel validate-model`, `report` and `slides`: the model checks, the client report and slide decks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simfunnel.cli.common import (
    FAILED,
    UserError,
    executor_kwargs,
    load_parameters,
    parameters_line,
    plausibility_lines,
    require_extra,
)
from simfunnel.cli.tables import dump_json, print_table
from simfunnel.errors import ScenarioError
from simfunnel.formatting import format_ci, format_value


def cmd_validate_model(args: argparse.Namespace) -> int:
    """The model against queueing theory and published figures; exit 1 if a check fails."""
    from simfunnel.validation import run_checks

    table = run_checks(quick=args.quick, seed=args.seed)
    if args.format == "json":
        dump_json(table.to_dict(orient="records"))
    elif args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        print_table(
            [[str(r["check"]), format_value(r["expected"], "count"),
              format_ci(r["simulated"], r["ci_low"], r["ci_high"], "count"), "pass" if r["passed"] else "FAIL"]
             for r in table.to_dict(orient="records")],
            ["check", "expected", "simulated [95 % CI]", "result"],
        )  # fmt: skip
    return 0 if bool(table["passed"].all()) else FAILED


def cmd_report(args: argparse.Namespace) -> int:
    """Self-contained HTML report (and optionally a PDF) comparing the given scenarios."""
    from simfunnel.present.report import build_report_info
    from simfunnel.scenario import parse_override

    if args.robustness:
        require_extra("robustness", "simfunnel report --robustness")
    overrides = dict(parse_override(x) for x in args.set or ())
    if args.samples is not None and not args.robustness:
        raise UserError("--samples sets the worlds of the robustness section: add --robustness")
    draws = load_parameters(args.parameters)
    try:
        with plausibility_lines():
            info = build_report_info(
                list(args.files), args.output, n=args.replications, seed=args.seed, baseline=args.baseline,
                quick=args.quick, overrides=overrides, attribution=args.attribution,
                validation=not args.no_validation, title=args.title, question=args.question,
                cache=False if args.no_cache else True, parameters=draws, robustness=args.robustness,
                robustness_samples=args.samples, **executor_kwargs(args),
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
        f"figures {t.get('figures', 0):.0f} s"
        + (
            f", robustness {info.robustness_worlds} worlds {t.get('robustness', 0):.0f} s"
            if info.robustness_worlds
            else ""
        )
        + f"; the model checks ran alongside, done after {t.get('validation', 0):.0f} s)",
        file=sys.stderr,
    )
    if draws is not None:
        print(parameters_line(draws), file=sys.stderr)
    if args.pdf is not None:
        from simfunnel.present.report import html_to_pdf

        pdf = Path(args.pdf) if args.pdf else info.path.with_suffix(".pdf")
        try:
            html_to_pdf(info.path, pdf)
        except RuntimeError as exc:
            raise UserError(f"{exc} (the HTML report {info.path} was written)") from None
        print(f"wrote {pdf}", file=sys.stderr)
    return 0


def cmd_slides(args: argparse.Namespace) -> int:
    """A notebook as an offline reveal.js slide deck."""
    from simfunnel.present.slides import SlidesError, build_slides

    try:
        out = build_slides(
            args.notebook, args.output, reveal=args.reveal, show_input=args.show_input, theme=args.theme,
            split=args.split,
        )  # fmt: skip
    except SlidesError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB; self-contained, works offline)", file=sys.stderr)
    return 0
