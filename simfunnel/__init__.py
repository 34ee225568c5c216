"""simfunnel: a what-if laboratory for the marketing-sales interface (SimPy model of buyer journeys)."""

from simfunnel.errors import ConservationError, ScenarioError
from simfunnel.scenario import LEVERS, Scenario, load_scenario, parse_override

__version__ = "0.1.0"

__all__ = ["LEVERS", "ConservationError", "Scenario", "ScenarioError", "load_scenario", "parse_override", "__version__"]
