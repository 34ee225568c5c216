"""simfunnel: a what-if laboratory for the marketing-sales interface (SimPy model of buyer journeys).

Public API: `load_scenario`, `Scenario.with_overrides`, `simulate` -> `RunResult`, and the experiments
`replicate`, `compare`, `sweep`, `attribute`, `optimize_budget`, `best_splits` (package `simfunnel.experiments`;
how they run: `RunOptions`, serial by default).
"""

from simfunnel.errors import ConservationError, ExperimentError, ScenarioError
from simfunnel.experiments import RunOptions, attribute, best_splits, compare, optimize_budget, replicate, sweep
from simfunnel.scenario import LEVERS, Scenario, load_scenario, parse_override
from simfunnel.simulate import RunResult, simulate

__version__ = "0.1.0"

__all__ = [
    "LEVERS",
    "ConservationError",
    "ExperimentError",
    "RunOptions",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "attribute",
    "best_splits",
    "compare",
    "load_scenario",
    "optimize_budget",
    "parse_override",
    "replicate",
    "simulate",
    "sweep",
]
