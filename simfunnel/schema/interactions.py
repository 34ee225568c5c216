"""Lever combinations that silently do nothing: `load_scenario` warns about them (an `InteractionWarning`, a
`PlausibilityWarning`, so the CLI prints it as a ``warning:`` line). They are accepted, not refused, because an
attribution or the explorer switches levers one at a time and must be able to build every coalition: the lever
then correctly contributes nothing. The full list of no-ops is in docs/pages/scenario-reference.md."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from simfunnel.plausibility import PlausibilityWarning

if TYPE_CHECKING:
    from simfunnel.scenario import Scenario


class InteractionWarning(PlausibilityWarning):
    """A valid lever setting that has no effect given another field (documented fallback)."""


def silent_no_ops(scenario: Scenario) -> list[str]:
    """Messages for each lever setting of ``scenario`` that falls back to another behaviour, bit for bit."""
    org, found = scenario.organisation, []
    if org.queue_policy == "deadline" and not org.pass_context:
        found.append(
            'organisation.queue_policy = "deadline" without organisation.pass_context: reps do not know the '
            'deadlines and work the queue in arrival order (identical to "fifo")'
        )
    elif org.queue_policy == "deadline" and scenario.context.stated_share == 0:
        found.append(
            'organisation.queue_policy = "deadline" with context.stated_share = 0: no buyer states a timeline, '
            'so reps work the queue in arrival order (identical to "fifo")'
        )
    return found


def check_interactions(scenario: Scenario, source: str, stacklevel: int = 2) -> list[str]:
    """Warn (`InteractionWarning`) about each silent no-op of a scenario read from ``source``."""
    found = silent_no_ops(scenario)
    for message in found:
        warnings.warn(f"{source}: {message}", InteractionWarning, stacklevel=stacklevel + 1)
    return found


__all__ = ["InteractionWarning", "check_interactions", "silent_no_ops"]
