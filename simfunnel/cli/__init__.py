"""`simfunnel run|compare|sweep|attribute|optimize|warmup|validate|presets|validate-model|report|slides`: the command
line on the public API.

A user mistake (missing file, bad field, bad value, bad option, unknown KPI, bad grid) exits with status 2 and one
message on stderr, never a traceback, and before any simulation. Plausibility warnings are one ``warning:`` line
each on stderr. `--help` and `validate` import neither pandas, SimPy nor matplotlib.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from simfunnel.cli.common import USER_ERROR, UserError
from simfunnel.errors import ScenarioError

__all__ = ["USER_ERROR", "UserError", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `simfunnel` console script; returns the exit status."""
    from simfunnel.cli.parser import build_parser
    from simfunnel.vocabulary import UnknownNameError

    if os.environ.get("CI") and "TQDM_DISABLE" not in os.environ:
        os.environ["TQDM_DISABLE"] = "1"
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, UserError, UnknownNameError) as exc:
        print(f"simfunnel: error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("simfunnel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
