"""Presentation layer: what turns simulation results into figures and documents for people, on top of
`simfunnel.vocabulary` and `simfunnel.formatting`: figures by family (funnel, timing, capacity, comparison,
money, validation) with their style, the client report (`present.report`), slides and the what-if explorer.
`simfunnel.plots` and `simfunnel.report` forward to them under their old names (deprecated)."""
