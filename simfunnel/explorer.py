"""Deprecated: use `simfunnel.present.explorer` (the what-if explorer). Forwards its public names."""

from simfunnel.compat import forward

__getattr__, __dir__ = forward(
    "simfunnel.present.explorer",
    {name: f"simfunnel.present.explorer:{name}" for name in ("BASE", "WHAT_IF", "HEADLINE_KPIS")},
)
