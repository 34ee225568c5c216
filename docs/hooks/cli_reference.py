"""MkDocs hook: the command-line reference generated from the `simfunnel` argument parser at build time.

A page asks for it with ``<!-- simfunnel:cli -->`` on a line of its own: every command of
`simfunnel.cli.parser.build_parser` with its help, usage and a table of its arguments (flags, value, default,
meaning), so the page lists exactly the options the code accepts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # document the checkout being built, not whatever simfunnel is installed

MARKER = "<!-- simfunnel:cli -->"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _default(action: argparse.Action) -> str:
    if action.default in (None, argparse.SUPPRESS) or isinstance(action, argparse._HelpAction):
        return ""
    if action.default is False:
        return "off"
    return f"`{action.default}`"


def _value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices:
        return " | ".join(f"`{c}`" for c in action.choices)
    return f"`{action.metavar or action.dest.upper()}`"


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | value | default | meaning |", "|---|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.metavar or action.dest}`"
        meaning = (action.help or "") % {"default": action.default, "prog": parser.prog}
        rows.append(f"| {name} | {_cell(_value(action))} | {_cell(_default(action))} | {_cell(meaning)} |")
    return rows


def cli_reference() -> str:
    """Markdown: one section per `simfunnel` command, in the order of ``simfunnel --help``."""
    from simfunnel.cli.parser import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out: list[str] = ["*Generated at build time from `simfunnel.cli.parser.build_parser`.*", ""]
    for name, command in sub.choices.items():
        usage = command.format_usage().removeprefix("usage: ").strip()
        out += [f"## `simfunnel {name}`", "", _cell(command.description or ""), "", "```text", usage, "```", ""]
        out += [*_arguments(command), ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace the ``<!-- simfunnel:cli -->`` line by the generated reference."""
    return markdown.replace(MARKER, cli_reference()) if MARKER in markdown else markdown
