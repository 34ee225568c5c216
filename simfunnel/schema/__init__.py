"""Scenario section classes that live outside `simfunnel.scenario` (one module per topic); `Scenario` holds
them as fields. Imports nothing from `simfunnel.scenario` (which imports these). `simfunnel.schema.uncertainty`
is the ``[uncertainty]`` table, read only by `simfunnel.analysis.explore` (never by the model)."""
