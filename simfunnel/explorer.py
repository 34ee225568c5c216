"""Deprecated: use `simfunnel.present.explorer` (the what-if explorer). Re-exports its public names."""

from simfunnel.present.explorer import (
    ALIGNED_LEVERS,
    BASE,
    HEADLINE_KPIS,
    SILOED_LEVERS,
    WHAT_IF,
    ExplorerUI,
    WhatIf,
    explorer_widgets,
    lever_value,
    normalise_shares,
    what_if,
)

__all__ = [
    "ALIGNED_LEVERS",
    "BASE",
    "HEADLINE_KPIS",
    "SILOED_LEVERS",
    "WHAT_IF",
    "ExplorerUI",
    "WhatIf",
    "explorer_widgets",
    "lever_value",
    "normalise_shares",
    "what_if",
]
