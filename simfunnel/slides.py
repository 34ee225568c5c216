"""Deprecated: use `simfunnel.present.slides` (notebook -> offline reveal.js deck). Forwards its public names."""

from simfunnel.compat import forward

__getattr__, __dir__ = forward("simfunnel.present.slides", {"TEMPLATE": "simfunnel.present.slides:TEMPLATE"})
