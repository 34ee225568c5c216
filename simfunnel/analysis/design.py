"""Sampled worlds: a design over the uncertain inputs (Latin hypercube, Sobol/Saltelli, Morris) or a sample file.

Every design is drawn in the unit hypercube by SALib and mapped to values through each input's inverse CDF
(`UncertainInput.ppf`), so the SALib analyses see the unit design they expect whatever the distributions are.
Morris levels are moved to the middle of their quantile bins (4 levels: quantiles 1/8, 3/8, 5/8, 7/8), so an
unbounded input never lands on an infinite quantile. The design's random numbers come from their own child of
the experiment's root seed (`DESIGN_KEY`), disjoint from the replication children 0, 1, 2, ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from simfunnel.experiments.seeds import child_seed
from simfunnel.schema.uncertainty import UncertainInput, field_of_path, is_integer_field

__all__ = ["DESIGNS", "DESIGN_KEY", "MORRIS_LEVELS", "DesignName", "WorldDesign", "design_worlds", "read_sample_file"]

DesignName = Literal["lhs", "sobol", "morris"]
DESIGNS: tuple[str, ...] = ("lhs", "sobol", "morris")
DESIGN_KEY = 2**31 - 2
"""Child key of the design's random stream: ``child_seed(root, DESIGN_KEY)`` (the Shapley stream is 2**31 - 1)."""
MORRIS_LEVELS = 4


@dataclass(frozen=True)
class WorldDesign:
    """The worlds of an exploration: one row of ``values`` per world, one column per dotted input path.

    ``design``: "lhs", "sobol", "morris" or "file"; ``unit``: the design in the unit cube (None for a sample
    file); ``samples``: the N asked for (Sobol: N * (k + 2) worlds, Morris: N * (k + 1), LHS and files: N)."""

    design: str
    inputs: tuple[str, ...]
    values: pd.DataFrame
    unit: np.ndarray | None
    samples: int

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem of the unit design."""
        return {"num_vars": len(self.inputs), "names": list(self.inputs), "bounds": [[0.0, 1.0]] * len(self.inputs)}

    def __len__(self) -> int:
        return len(self.values)


def design_worlds(
    inputs: Mapping[str, UncertainInput],
    samples: int,
    design: str,
    root: np.random.SeedSequence,
    integer: Mapping[str, bool] | None = None,
) -> WorldDesign:
    """The worlds of a ``design`` with ``samples`` base samples; ``integer`` marks whole-number fields."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
    if not inputs:
        raise ValueError("no uncertain inputs: give the scenario an [uncertainty] table or pass uncertainty=")
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 2:
        raise ValueError(f"samples must be an integer >= 2, got {samples!r}")
    names = tuple(inputs)
    seed = int(child_seed(root, DESIGN_KEY).generate_state(1)[0])
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    unit = _unit_design(problem, int(samples), design, seed)
    u = unit
    if design == "morris":  # levels 0, 1/3, 2/3, 1 -> the middle of 4 equal-probability bins
        u = (unit * (MORRIS_LEVELS - 1) + 0.5) / MORRIS_LEVELS
    integer = integer or {}
    cols = {name: inputs[name].ppf(u[:, j], integer=integer.get(name, False)) for j, name in enumerate(names)}
    values = pd.DataFrame(cols)
    for name in names:
        if integer.get(name, False):
            values[name] = values[name].astype(np.int64)
    return WorldDesign(design, names, values, unit, int(samples))


def _unit_design(problem: dict[str, Any], samples: int, design: str, seed: int) -> np.ndarray:
    try:
        from SALib.sample import latin, morris, sobol
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("explore needs SALib: pip install 'simfunnel[robustness]'") from exc
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Convergence properties of the Sobol' sequence.*")
        if design == "sobol":
            return sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
        if design == "morris":
            return morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    return latin.sample(problem, samples, seed=seed)


def read_sample_file(path: str | os.PathLike) -> pd.DataFrame:
    """A parameter-sample file (CSV or Parquet): one column per dotted field, one row per draw."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"parameter-sample file not found: {p}")
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(p)
    elif suffix == ".csv":
        frame = pd.read_csv(p)
    else:
        raise ValueError(f"a parameter-sample file must end in .csv or .parquet, got {p.name!r}")
    return frame


def sample_design(frame: pd.DataFrame, scenario: Any, samples: int | None = None) -> WorldDesign:
    """The worlds of a parameter sample (one column per dotted field, one row per draw; a ``world`` or
    ``draw`` column is an index and ignored). Every column must be a numeric field of ``scenario``."""
    frame = frame.drop(columns=[c for c in ("world", "draw") if c in frame.columns]).reset_index(drop=True)
    if frame.empty or not len(frame.columns):
        raise ValueError("the parameter sample has no rows or no field columns")
    for col in frame.columns:
        value, info = field_of_path(scenario, str(col))
        if not pd.api.types.is_numeric_dtype(frame[col]) or frame[col].isna().any():
            raise ValueError(f"parameter sample column {col!r}: every value must be a number")
        if is_integer_field(value, info):
            frame[col] = frame[col].astype(np.int64)
    if samples is not None:
        frame = frame.iloc[:samples].reset_index(drop=True)
    return WorldDesign("file", tuple(str(c) for c in frame.columns), frame, None, len(frame))
