"""Names of KPIs checked before any simulation: a misspelt ``metric=``/``objective=`` fails at once, with a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from simfunnel.errors import ScenarioError
from simfunnel.metrics import SUMMARY_KEYS

__all__ = ["check_kpi", "check_kpis"]


def check_kpi(name: str, argument: str, caller: str, *, custom_runner: bool = False) -> str:
    """``name`` if it is a KPI of the model (`simfunnel.metrics.SUMMARY_KEYS`), else a `ScenarioError` naming the
    ``argument`` of ``caller`` with a did-you-mean. A custom runner defines its own KPIs: not checked then."""
    if custom_runner or name in SUMMARY_KEYS:
        return name
    if not isinstance(name, str):
        raise ScenarioError(caller, argument, f"must be a KPI name (a string), got {name!r}")
    hint = difflib.get_close_matches(name, SUMMARY_KEYS, n=1) or difflib.get_close_matches(
        name.lower(), SUMMARY_KEYS, n=1, cutoff=0.5
    )
    msg = f"{name!r} is not a KPI" + (f"; did you mean {hint[0]!r}?" if hint else "")
    raise ScenarioError(caller, argument, f"{msg} KPIs: {', '.join(SUMMARY_KEYS)}")


def check_kpis(names: Iterable[str], argument: str, caller: str, *, custom_runner: bool = False) -> tuple[str, ...]:
    """`check_kpi` for each of ``names``."""
    return tuple(check_kpi(n, argument, caller, custom_runner=custom_runner) for n in names)
