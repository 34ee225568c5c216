"""Deprecated: use `simfunnel.experiments.cache` (this module forwards to it).

Tests that replace module globals (``_PACKAGE``) must patch `simfunnel.experiments.cache` itself."""

from simfunnel.compat import forward

__getattr__, __dir__ = forward(
    "simfunnel.experiments.cache",
    {"_invalidate_fingerprint": "invalidate_fingerprint", "LABEL_FIELDS": "simfunnel.experiments.cache:LABEL_FIELDS"},
)
