"""The argument parser of `simfunnel`: every subcommand, and every option's help showing its default."""

from __future__ import annotations

import argparse

from simfunnel.cli import calibrate, commands, crm, documents, studies, warmup
from simfunnel.cli import explore as explore_cmd

FORMATS = ("table", "json", "csv")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends '(default: ...)' to every option's help unless the help already says what the default is."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            shown = "off" if action.default is False else "%(default)s"
            return f"{text} (default: {shown})".strip()
        return text


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _common(sp: argparse.ArgumentParser, replications: int | None, *, fmt: bool = True, n_help: str = "") -> None:
    sp.add_argument("--seed", type=int, default=1, help="root seed of the random numbers")
    sp.add_argument("-n", "--replications", type=positive_int, default=replications,
                    help=n_help or "independent replications (runs with different random numbers)")  # fmt: skip
    sp.add_argument("--set", action="append", metavar="FIELD=VALUE",
                    help="override a field, e.g. sales.reps=12 (repeatable; default: none)")  # fmt: skip
    if fmt:
        sp.add_argument("--format", choices=FORMATS, default="table",
                        help="table for people; json and csv keep raw keys and numbers")  # fmt: skip
    sp.add_argument("--executor", choices=("serial", "processes", "dask"), default="processes",
                    help="where the replications run")  # fmt: skip
    sp.add_argument("--workers", type=positive_int, default=None, help="worker processes (default: all cores)")
    sp.add_argument("--address", default=None, help="Dask scheduler address tcp://host:port (default: a local one)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


PARAMETERS_HELP = (
    "parameter-sample file, .csv or .parquet (e.g. the <stem>.samples.csv of `simfunnel calibrate`): replication r "
    "of every scenario runs with the same draw, so the intervals include parameter uncertainty (default: none)"
)


def _parameters(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--parameters", default=None, metavar="FILE", help=PARAMETERS_HELP)


def _sub(sub: argparse._SubParsersAction, name: str, help: str, func: object) -> argparse.ArgumentParser:
    sp = sub.add_parser(name, help=help, description=help, formatter_class=HelpFormatter)
    sp.set_defaults(func=func)
    return sp


FILE_HELP = "scenario TOML file, or preset:NAME (see `simfunnel presets`)"


def _scenario_commands(sub: argparse._SubParsersAction) -> None:
    sp = _sub(sub, "validate", "check scenario files without simulating (errors and plausibility warnings)",
              commands.cmd_validate)  # fmt: skip
    sp.add_argument("files", nargs="+", help=FILE_HELP)

    sp = _sub(sub, "presets", "list the shipped preset scenarios (use them as preset:NAME)", commands.cmd_presets)
    sp.add_argument("--format", choices=("table", "json"), default="table", help="output format")

    sp = _sub(sub, "run", "simulate one scenario", commands.cmd_run)
    sp.add_argument("file", help=FILE_HELP)
    _parameters(sp)
    _common(sp, 1)

    sp = _sub(sub, "compare", "paired comparison of scenarios (common random numbers)", commands.cmd_compare)
    sp.add_argument("files", nargs="+", help=FILE_HELP)
    sp.add_argument("--baseline", default=None,
                    help="scenario name (or file stem) to difference against (default: the first)")  # fmt: skip
    _parameters(sp)
    _common(sp, 10)


def _study_commands(sub: argparse._SubParsersAction) -> None:
    sp = _sub(sub, "sweep", "grid over scenario fields", studies.cmd_sweep)
    sp.add_argument("file", help=FILE_HELP)
    sp.add_argument("--grid", action="append", metavar="FIELD=START:STOP:COUNT",
                    help="evenly spaced values, or FIELD=V1,V2,... (repeatable: the full product; default: none)")  # fmt: skip
    sp.add_argument("-o", "--output", default=None, help="write the summary, .parquet or .csv (default: no file)")
    sp.add_argument("--checkpoint", default=None,
                    help="save each finished point; a rerun resumes (default: no checkpoint)")  # fmt: skip
    sp.add_argument("--metric", default="profit", help="KPI shown in the table")
    _parameters(sp)
    _common(sp, 5)

    sp = _sub(sub, "attribute", "which alignment lever pays (Shapley values)", studies.cmd_attribute)
    sp.add_argument("siloed", help="the scenario without the levers: " + FILE_HELP)
    sp.add_argument("aligned", help="the scenario with the levers: " + FILE_HELP)
    sp.add_argument("--metric", default="profit", help="KPI whose gap is attributed")
    _common(sp, 5)

    sp = _sub(sub, "optimize", "search the budget split", studies.cmd_optimize)
    sp.add_argument("file", help=FILE_HELP)
    sp.add_argument("--objective", default="profit", help="KPI to maximise: profit, revenue, mqls or any KPI")
    sp.add_argument("--step", type=float, default=0.1, help="coarse grid step of the shares")
    _common(sp, 5)
    _explore_command(sub)


def _explore_command(sub: argparse._SubParsersAction) -> None:
    sp = _sub(sub, "explore", "how sure are we? the policies in sampled worlds: sensitivity, regret, PRIM, EVPPI",
              explore_cmd.cmd_explore)  # fmt: skip
    sp.add_argument("files", nargs="+", help="the policies (the first is the baseline): " + FILE_HELP)
    sp.add_argument("--samples", type=positive_int, default=64,
                    help="base samples N: sobol runs N*(k+2) worlds, morris N*(k+1), lhs N (k = inputs)")  # fmt: skip
    sp.add_argument("--design", choices=("sobol", "morris", "lhs"), default="sobol",
                    help="sobol: S1/ST indices; morris: elementary effects; lhs: a Latin hypercube")  # fmt: skip
    sp.add_argument("--uncertainty", default=None, metavar="FILE",
                    help="a TOML file with an [uncertainty] table, or a parameter sample .csv/.parquet "
                    "(default: the first scenario's [uncertainty] table)")  # fmt: skip
    sp.add_argument("--baseline", default=None, help="policy name (or file stem) to compare against "
                    "(default: the first)")  # fmt: skip
    sp.add_argument("--metric", default="profit", help="KPI analysed")
    sp.add_argument("--threshold", type=float, default=None,
                    help="satisficing threshold of the KPI; the robust choice then maximises the share of worlds "
                    "meeting it (default: minimax regret)")  # fmt: skip
    sp.add_argument("--checkpoint", default=None,
                    help="save each finished (world, policy), .parquet or .csv; a rerun resumes (default: none)")  # fmt: skip
    sp.add_argument("-o", "--output", default=None, help="write the tidy results, .parquet or .csv (default: no file)")
    _common(sp, 1)


def _document_commands(sub: argparse._SubParsersAction) -> None:
    sp = _sub(sub, "validate-model", "the model against theory and published figures", documents.cmd_validate_model)
    sp.add_argument("--quick", action="store_true", help="fewer replications: a smoke test")
    sp.add_argument("--seed", type=int, default=0, help="root seed of the random numbers")
    sp.add_argument("--format", choices=FORMATS, default="table", help="output format")

    sp = _sub(sub, "report", "self-contained HTML report for a client (optional PDF)", documents.cmd_report)
    sp.add_argument("files", nargs="+", help="scenario TOML files or preset:NAME; the first is the baseline")
    sp.add_argument("-o", "--output", default="report.html", help="HTML file to write")
    sp.add_argument("--baseline", default=None, help="scenario name (or file stem) to compare against "
                    "(default: the first)")  # fmt: skip
    sp.add_argument("--quick", action="store_true", help="few replications (~20 s): a preview, not for decisions")
    sp.add_argument("--attribution", choices=("grouped", "levers", "off"), default="grouped",
                    help="Shapley attribution over four lever groups, each lever (sampled), or none")  # fmt: skip
    sp.add_argument("--no-validation", action="store_true", help="leave out the model checks")
    sp.add_argument("--no-cache", action="store_true", help="simulate everything (do not use ~/.cache/simfunnel)")
    sp.add_argument("--title", default=None, help="report title (default: from the scenarios)")
    sp.add_argument("--question", default=None, help="the client's question, shown at the top (default: none)")
    sp.add_argument("--pdf", nargs="?", const="", default=None, metavar="PDF",
                    help="also print a PDF with headless Chromium (default: no PDF; without a name: next to "
                    "the HTML)")  # fmt: skip
    sp.add_argument("--robustness", action="store_true",
                    help="add the 'How sure are we?' section: the scenarios in sampled worlds of their [uncertainty] "
                    "table (or the --parameters draws), with drivers of the gap, regret, PRIM box and EVPPI; "
                    "one run per world and scenario: the default 32 worlds x 2 base-sized scenarios add 15-30 s on "
                    "2 cores (measured; longer horizons and bigger markets cost more)")  # fmt: skip
    sp.add_argument("--samples", type=positive_int, default=None, metavar="N",
                    help="worlds of the robustness section (default: 32; --quick: 12)")  # fmt: skip
    _parameters(sp)
    _common(sp, None, fmt=False, n_help="replications (default: 20; --quick: 5)")

    sp = _sub(sub, "slides", "notebook -> offline reveal.js slide deck (code hidden)", documents.cmd_slides)
    sp.add_argument("notebook", help="the .ipynb notebook")
    sp.add_argument("-o", "--output", default=None, help="deck HTML (default: NOTEBOOK.slides.html)")
    sp.add_argument("--reveal", default=None, help="reveal.js folder or npm tarball (default: cached, else npm pack)")
    sp.add_argument("--show-input", action="store_true", help="keep code cells (except those tagged remove_input)")
    sp.add_argument("--theme", default="white", help="reveal.js theme (white, simple, black, ...)")
    sp.add_argument("--split", choices=("auto", "metadata", "headings"), default="auto",
                    help="slide breaks: notebook slideshow metadata, markdown headings, or auto (metadata if any)")  # fmt: skip


def _sim_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("file", help=FILE_HELP)
    sp.add_argument("--seed", type=int, default=1, help="seed of the run")
    sp.add_argument("--set", action="append", metavar="FIELD=VALUE",
                    help="override a field, e.g. sales.reps=12 (repeatable; default: none)")  # fmt: skip
    sp.add_argument(
        "--start-date",
        default="2025-01-01",
        help="calendar date of the CRM's first day: model day 0, or the end of the warm-up",
    )


def _data_commands(sub: argparse._SubParsersAction) -> None:
    sp = _sub(sub, "export-crm", "simulate once and write the leads, deals and activities a CRM would hold",
              crm.cmd_export_crm)  # fmt: skip
    _sim_options(sp)
    sp.add_argument("-o", "--output", required=True, help="directory to write leads/deals/activities into")
    sp.add_argument(
        "--export-day",
        type=float,
        default=None,
        help="day of the export, counted from the end of the warm-up (default: the horizon)",
    )
    sp.add_argument("--messy", default=None, metavar="KIND=SHARE,...",
                    help="mess of real exports: missing-channel, duplicate-ids, close-before-open, missing-lead, "
                    "short-years (default: none)")  # fmt: skip
    sp.add_argument("--date-format", choices=("iso", "dayfirst", "monthfirst"), default="iso", help="date format")
    sp.add_argument("--headers", choices=("canonical", "salesforce", "hubspot", "pipedrive"), default="canonical",
                    help="column headers in the style of a CRM")  # fmt: skip
    sp.add_argument("--file-format", choices=("csv", "parquet"), default="csv", help="file format")

    sp = _sub(sub, "export-log", "simulate once and write the buyer journeys as an event log (CSV, XES, OCEL 2.0)",
              crm.cmd_export_log)  # fmt: skip
    _sim_options(sp)
    sp.add_argument("-o", "--output", required=True, help="log file: .csv, .xes or .jsonocel (XES/OCEL need pm4py)")

    sp = _sub(sub, "check-crm", "read a CRM export and print its data-quality summary", crm.cmd_check_crm)
    sp.add_argument("leads", help="leads file (CSV, Parquet or Excel)")
    sp.add_argument("deals", nargs="?", default=None, help="deals (opportunities) file (default: none)")
    sp.add_argument("--activities", default=None, help="activities file (default: none)")
    sp.add_argument("--mapping", default=None, help="TOML mapping file naming the columns (default: recognise)")
    sp.add_argument("--export-date", default=None, help="date of the export (default: the latest date found)")
    sp.add_argument("--format", choices=("table", "csv"), default="table", help="output format")


def build_parser() -> argparse.ArgumentParser:
    """The `simfunnel` parser with every subcommand."""
    p = argparse.ArgumentParser(
        prog="simfunnel",
        description="What-if laboratory for the marketing-sales interface. Scenario arguments take a TOML file "
        "or a shipped preset:NAME (`simfunnel presets` lists them).",
        formatter_class=HelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _scenario_commands(sub)
    _study_commands(sub)
    warmup.add_parser(sub, _sub)
    _document_commands(sub)
    _data_commands(sub)
    calibrate.add_parser(sub, _sub)
    return p
