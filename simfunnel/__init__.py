"""simfunnel: a what-if laboratory for the marketing-sales interface (SimPy model of buyer journeys).

Public API: `load_scenario`, `Scenario.with_overrides`, `simulate` -> `RunResult`, and the experiments
`replicate`, `compare`, `sweep`, `attribute`, `optimize_budget`, `best_splits` (package `simfunnel.experiments`;
how they run: `RunOptions`, serial by default; parameter uncertainty from a calibration: `ParameterDraws`).
"""

from simfunnel.errors import ConservationError, ExperimentError, ScenarioError

__version__ = "0.1.0"

__all__ = [
    "LEVERS",
    "ConservationError",
    "ExperimentError",
    "ParameterDraws",
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

# --- lazy top-level names (PEP 562) -------------------------------------------------------------------------------
# `import simfunnel` (and so `simfunnel --help`, `simfunnel validate`) must not pay for pandas, SimPy and matplotlib:
# the names below are imported on first use. `from simfunnel import compare` works as before.
import importlib as _importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the same names for type checkers and the API docs (griffe reads these imports)
    from simfunnel.experiments import (
        ParameterDraws,
        RunOptions,
        attribute,
        best_splits,
        compare,
        optimize_budget,
        replicate,
        sweep,
    )
    from simfunnel.scenario import LEVERS, Scenario, load_scenario, parse_override
    from simfunnel.simulate import RunResult, simulate

_LAZY = {
    **dict.fromkeys(("ParameterDraws", "RunOptions", "attribute", "best_splits", "compare", "optimize_budget", "replicate", "sweep"),
                    "simfunnel.experiments"),
    **dict.fromkeys(("LEVERS", "Scenario", "load_scenario", "parse_override"), "simfunnel.scenario"),
    **dict.fromkeys(("RunResult", "simulate"), "simfunnel.simulate"),
}  # fmt: skip


def __getattr__(name: str) -> object:
    """Import a public name on first use and keep it."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(_types.ModuleType):
    """Keeps `simfunnel.simulate` the function: importing the submodule of the same name must not replace it
    (the import system sets the submodule as an attribute of the package)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
# --- end of lazy top-level names -----------------------------------------------------------------------------------
