"""Presentation layer: figures (by family: funnel, timing, capacity, comparison, money, validation), their
style and colours, and the documents built from them. `simfunnel.plots` re-exports the figures."""
