"""What every command shares: the user-error type, loading scenarios (printing plausibility warnings), early
checks of KPI names, and the executor options. Light imports only: `simfunnel --help` must stay fast."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simfunnel.experiments.draws import ParameterDraws
    from simfunnel.scenario import Scenario

USER_ERROR = 2
"""Exit status of a user mistake (bad file, field, value or option), as argparse uses for usage errors."""

FAILED = 1
"""Exit status when the work itself failed (every sweep point failed, a model check failed)."""


class UserError(Exception):
    """A mistake on the command line, reported as one message with exit status 2."""


EXTRAS = {"robustness": ("SALib",), "calibrate": ("scipy", "lifelines")}
"""The optional extras a command may need, by the modules they provide (see pyproject.toml)."""


def require_extra(extra: str, what: str) -> None:
    """A `UserError` before any work when `what` (a command or option) needs the optional `extra` and one of its
    modules is not installed."""
    from importlib.util import find_spec

    missing = [m for m in EXTRAS[extra] if find_spec(m) is None]
    if missing:
        raise UserError(f"{what} needs {', '.join(missing)} (the '{extra}' extra): pip install 'simfunnel[{extra}]'")


def warn(message: str) -> None:
    """One warning line on stderr: 'warning: MESSAGE'."""
    print(f"warning: {message}", file=sys.stderr)


@contextmanager
def plausibility_lines() -> Iterator[None]:
    """Print each `PlausibilityWarning` raised inside as one 'warning: ...' line (other warnings as usual)."""
    from simfunnel.plausibility import PlausibilityWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlausibilityWarning)
        try:
            yield
        finally:
            seen: set[str] = set()
            for w in caught:
                if not issubclass(w.category, PlausibilityWarning):
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
                elif str(w.message) not in seen:
                    seen.add(str(w.message))
                    warn(str(w.message))


def load(path: str, sets: Sequence[str] | None = None) -> Scenario:
    """A scenario file or ``preset:NAME`` with ``--set`` overrides; plausibility warnings printed one per line."""
    from simfunnel.errors import ScenarioError
    from simfunnel.scenario import load_scenario, parse_override

    overrides = dict(parse_override(s) for s in sets or ())
    with plausibility_lines():
        try:
            return load_scenario(path, overrides)
        except ScenarioError as exc:
            if not overrides:
                raise
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                load_scenario(path)  # the file alone is fine: the mistake is in a --set
            where = f"{exc.field}: " if exc.field else ""
            raise UserError(f"--set {' '.join(sets or ())}: {where}{exc.message}") from None


def load_parameters(path: str | None) -> ParameterDraws | None:
    """The ``--parameters FILE`` draws (None without the option); a missing file is a `UserError`, a bad column a
    `ScenarioError` naming the file and the column (both exit 2)."""
    if path is None:
        return None
    from simfunnel.experiments.draws import read_draws

    try:
        return read_draws(path)
    except FileNotFoundError as exc:
        raise UserError(f"--parameters: {exc}") from None


def parameters_line(draws: ParameterDraws | None, what: str = "scenario") -> str:
    """'' without draws; else the line every command prints saying the intervals include parameter uncertainty
    (``what``: the things that share each replication's draw, "scenario" or "grid point")."""
    if draws is None:
        return ""
    return f"parameter uncertainty included: {draws.describe()} (one per replication, the same for every {what})"


def check_kpi_option(option: str, name: str) -> str:
    """``name`` if it is a KPI; else a `UserError` naming the option, with "did you mean"."""
    from simfunnel.vocabulary import UnknownNameError, check_kpi

    try:
        return check_kpi(name)
    except UnknownNameError as exc:
        raise UserError(f"{option} {exc}") from None


def executor_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The executor options of a command as keyword arguments of the experiment functions."""
    progress = False if args.quiet else None
    return {"executor": args.executor, "workers": args.workers, "address": args.address, "progress": progress}


def horizon_text(days: float | Sequence[float], n: int, seed: int | None, warmup: float | Sequence[float] = 0.0) -> str:
    """'over 730 days (2.0 years), 10 replications, seed 1' (several horizons: each named); with a warm-up
    'over 730 days (2.0 years) after a 182-day warm-up, ...' (the KPIs cover the horizon only)."""
    spans = sorted(set(days)) if isinstance(days, Sequence) else [days]
    span = " / ".join(f"{d:,.0f} days ({d / 365:.1f} years)" for d in spans)
    warmups = sorted(set(warmup)) if isinstance(warmup, Sequence) else [warmup]
    if any(w > 0 for w in warmups):
        span += " after a " + " / ".join(f"{w:,.0f}-day" for w in warmups) + " warm-up"
    seed_text = f", seed {seed}" if seed is not None else ""
    return f"over {span}, {n} replication{'s' if n != 1 else ''}{seed_text}"
