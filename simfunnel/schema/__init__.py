"""Scenario schema sections that live outside `simfunnel.scenario` (which holds the model's own sections).

- `simfunnel.schema.uncertainty`: the ``[uncertainty]`` table, ranges and distributions of uncertain inputs
  read only by `simfunnel.analysis.explore` (never by the model).
"""
