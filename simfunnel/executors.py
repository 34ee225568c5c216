"""Deprecated: use `simfunnel.experiments.executors` (this module forwards to it, including old private names)."""

from simfunnel.compat import forward

__getattr__, __dir__ = forward(
    "simfunnel.experiments.executors",
    {
        "_simulate_summary": "simulate_summary",
        "_fresh": "fresh_seed",
        "fresh_seed": "simfunnel.experiments.seeds:fresh_seed",
    },
)
