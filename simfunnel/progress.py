"""Deprecated: use `simfunnel.experiments.progress` (this module forwards to it, including ``_NoBar``)."""

from simfunnel.compat import forward

__getattr__, __dir__ = forward("simfunnel.experiments.progress", {"_NoBar": "NoBar"})
