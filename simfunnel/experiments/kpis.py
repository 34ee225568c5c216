"""Names of KPIs checked before any simulation: a misspelt ``metric=``/``objective=`` fails at once, with a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from simfunnel.metrics import SUMMARY_KEYS
from simfunnel.vocabulary import UnknownNameError

__all__ = ["UnknownNameError", "check_kpi", "check_kpis"]


def check_kpi(name: str, argument: str, caller: str, *, custom_runner: bool = False) -> str:
    """``name`` if a run reports it (`simfunnel.metrics.SUMMARY_KEYS`), else `simfunnel.vocabulary.UnknownNameError`
    (a ValueError and a KeyError) naming ``caller`` and ``argument``, with a did-you-mean. A custom runner
    defines its own KPIs: not checked then."""
    if custom_runner or name in SUMMARY_KEYS:
        return name
    close = difflib.get_close_matches(str(name), SUMMARY_KEYS, n=1) or difflib.get_close_matches(
        str(name).lower(), SUMMARY_KEYS, n=1, cutoff=0.5
    )
    hint = f"; did you mean {close[0]!r}?" if close else "."
    raise UnknownNameError(f"{caller}: {argument}: {name!r} is not a KPI{hint} The KPIs are: {', '.join(SUMMARY_KEYS)}")


def check_kpis(names: Iterable[str], argument: str, caller: str, *, custom_runner: bool = False) -> tuple[str, ...]:
    """`check_kpi` for each of ``names``."""
    return tuple(check_kpi(n, argument, caller, custom_runner=custom_runner) for n in names)
