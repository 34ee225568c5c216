"""Scenario section classes that live outside `simfunnel.scenario` (one module per topic); `Scenario` holds
them as fields. Imports nothing from `simfunnel.scenario` (which imports these)."""
