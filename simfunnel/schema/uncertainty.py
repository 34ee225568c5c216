"""The ``[uncertainty]`` table: a range or a distribution for any numeric scenario field, read only by `explore`.

A scenario file writes one entry per dotted field path::

    [uncertainty."market.return_when_ready"]
    kind = "uniform"
    low = 0.5
    high = 0.95
    source = "HBR 2015 (IS): buyers contact suppliers themselves; assumption for the spread"

Kinds: ``uniform`` (low, high), ``triangular`` (low, mode, high), ``normal`` (mean, sd; optional low/high
truncate), ``lognormal`` (mean and sd of the value itself, as `simfunnel.distributions.LogNormal`; optional
low/high truncate) and ``discrete`` (choices, optional weights). Every path is checked against the scenario
(unknown fields refused by name with a did-you-mean) and every support against the field's own bounds. The
model never reads this table: simulation results do not depend on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, Field, model_validator

from simfunnel.distributions import FrozenModel
from simfunnel.errors import FieldValueError, ScenarioError

if TYPE_CHECKING:
    from simfunnel.scenario import Scenario

__all__ = ["UNCERTAINTY_KINDS", "UncertainInput", "check_uncertainty", "field_of_path", "is_integer_field"]

UNCERTAINTY_KINDS = ("uniform", "triangular", "normal", "lognormal", "discrete")
_PARAMS = {
    "uniform": ({"low", "high"}, set()),
    "triangular": ({"low", "mode", "high"}, set()),
    "normal": ({"mean", "sd"}, {"low", "high"}),
    "lognormal": ({"mean", "sd"}, {"low", "high"}),
    "discrete": ({"choices"}, {"weights"}),
}
_NUMERIC = ("low", "high", "mode", "mean", "sd")
_EDGE = 1e-12  # unit draws are kept inside (0, 1) so that unbounded inverse CDFs stay finite


class UncertainInput(FrozenModel):
    """One uncertain input: how its value varies across the sampled worlds of `explore`."""

    kind: Literal["uniform", "triangular", "normal", "lognormal", "discrete"] = Field(
        description="Distribution of the field's value across worlds: " + ", ".join(UNCERTAINTY_KINDS) + "."
    )
    low: float | None = Field(None, description="Lowest value (uniform, triangular; truncates normal/lognormal).")
    high: float | None = Field(None, description="Highest value (uniform, triangular; truncates normal/lognormal).")
    mode: float | None = Field(None, description="Most likely value (triangular).")
    mean: float | None = Field(None, description="Mean of the value (normal, lognormal).")
    sd: float | None = Field(None, description="Standard deviation of the value (normal, lognormal).")
    choices: tuple[float, ...] | None = Field(None, description="Possible values (discrete).")
    weights: tuple[float, ...] | None = Field(None, description="Relative weights of the choices (discrete).")
    source: str = Field("", description="Where the range comes from: a reference, or 'assumption' and why.")

    @model_validator(mode="before")
    @classmethod
    def _numbers_only(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in (*_NUMERIC, "choices", "weights"):
                values = data.get(key)
                items = values if isinstance(values, list | tuple) else [values]
                if any(isinstance(v, bool | str) for v in items):
                    raise FieldValueError(key, f"must be a number (or a list of numbers), got {values!r}")
        return data

    @model_validator(mode="after")
    def _parameters_fit_kind(self) -> UncertainInput:
        required, optional = _PARAMS[self.kind]
        given = {k for k in (*_NUMERIC, "choices", "weights") if getattr(self, k) is not None}
        missing = sorted(required - given)
        if missing:
            raise FieldValueError(missing[0], f"a {self.kind} input needs {', '.join(sorted(required))}")
        extra = sorted(given - required - optional)
        if extra:
            allowed = ", ".join(sorted(required | optional))
            raise FieldValueError(extra[0], f"is not a parameter of a {self.kind} input (allowed: {allowed})")
        self._check_values()
        return self

    def _check_values(self) -> None:
        if self.sd is not None and not self.sd > 0:
            raise FieldValueError("sd", f"must be > 0, got {self.sd:g}")
        if self.kind == "lognormal" and not self.mean > 0:  # type: ignore[operator]
            raise FieldValueError("mean", f"a lognormal value is positive: mean must be > 0, got {self.mean:g}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise FieldValueError("high", f"must be > low ({self.low:g}), got {self.high:g}")
        if self.kind == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise FieldValueError("mode", f"must lie in [low, high] = [{self.low:g}, {self.high:g}], got {self.mode:g}")
        if self.kind in ("normal", "lognormal"):
            lo, hi = self._truncation()
            if not _cdf(self, hi) - _cdf(self, lo) > 1e-9:
                raise FieldValueError("low", f"the truncation [{lo:g}, {hi:g}] leaves no probability")
        if self.kind == "discrete":
            if not self.choices:
                raise FieldValueError("choices", "give at least one value")
            if self.weights is not None:
                if len(self.weights) != len(self.choices):
                    raise FieldValueError(
                        "weights", f"one weight per choice: {len(self.choices)} choices, {len(self.weights)} weights"
                    )
                if any(w < 0 for w in self.weights) or not sum(self.weights) > 0:
                    raise FieldValueError("weights", f"must be >= 0 with a positive sum, got {list(self.weights)}")

    def _truncation(self) -> tuple[float, float]:
        lo = self.low if self.low is not None else (0.0 if self.kind == "lognormal" else -math.inf)
        return lo, self.high if self.high is not None else math.inf

    def support(self) -> tuple[float, float, bool]:
        """(lowest, highest, lowest excluded): the values a draw can take; e.g. (0, inf, True) for a lognormal."""
        if self.kind == "discrete":
            return min(self.choices), max(self.choices), False  # type: ignore[arg-type]
        if self.kind in ("uniform", "triangular"):
            return self.low, self.high, False  # type: ignore[return-value]
        lo, hi = self._truncation()
        return lo, hi, self.kind == "lognormal" and self.low is None

    def ppf(self, u: np.ndarray, integer: bool = False) -> np.ndarray:
        """Values for unit draws ``u`` in [0, 1] (the inverse CDF), so designs are built in the unit cube.

        ``integer``: the field is a whole number; a uniform input then takes low..high with equal chances."""
        u = np.clip(np.asarray(u, dtype=float), _EDGE, 1 - _EDGE)
        if self.kind == "discrete":
            w = np.ones(len(self.choices)) if self.weights is None else np.asarray(self.weights, float)  # type: ignore[arg-type]
            cum = np.cumsum(w) / w.sum()
            idx = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
            return np.asarray(self.choices, dtype=float)[idx]
        if self.kind == "uniform":
            if integer:
                lo, hi = math.ceil(self.low), math.floor(self.high)  # type: ignore[arg-type]
                return np.minimum(np.floor(lo + u * (hi - lo + 1)), hi)
            return self.low + u * (self.high - self.low)  # type: ignore[operator]
        if self.kind == "triangular":
            a, c, b = self.low, self.mode, self.high
            fc = (c - a) / (b - a)  # type: ignore[operator]
            left = a + np.sqrt(u * (b - a) * (c - a))  # type: ignore[operator]
            right = b - np.sqrt((1 - u) * (b - a) * (b - c))  # type: ignore[operator]
            return np.where(u < fc, left, right)
        lo, hi = self._truncation()
        p = _cdf(self, lo) + u * (_cdf(self, hi) - _cdf(self, lo))
        z = np.array([_STD.inv_cdf(float(min(max(q, _EDGE), 1 - _EDGE))) for q in np.ravel(p)]).reshape(p.shape)
        if self.kind == "normal":
            return np.clip(self.mean + self.sd * z, lo, hi)  # type: ignore[operator]
        mu, sigma = _log_params(self)
        return np.clip(np.exp(mu + sigma * z), lo, hi)


_STD = NormalDist()


def _log_params(inp: UncertainInput) -> tuple[float, float]:
    sigma2 = math.log1p((inp.sd / inp.mean) ** 2)  # type: ignore[operator]
    return math.log(inp.mean) - sigma2 / 2, math.sqrt(sigma2)  # type: ignore[arg-type]


def _cdf(inp: UncertainInput, x: float) -> float:
    """CDF of the untruncated normal/lognormal at ``x``."""
    if math.isinf(x):
        return 0.0 if x < 0 else 1.0
    if inp.kind == "normal":
        return _STD.cdf((x - inp.mean) / inp.sd)  # type: ignore[operator]
    if x <= 0:
        return 0.0
    mu, sigma = _log_params(inp)
    return _STD.cdf((math.log(x) - mu) / sigma)


# ----------------------------------------------------------------------------------------------- paths
def field_of_path(scenario: Scenario, path: str) -> tuple[Any, Any]:
    """(current value, pydantic FieldInfo or None for a table entry) of a dotted field path of ``scenario``.

    Raises `FieldValueError` blaming ``uncertainty`` for a path that does not exist (with a did-you-mean over
    the names allowed at the step that failed) or that does not end at a number."""
    from simfunnel.schema.messages import did_you_mean

    node: Any = scenario
    info = None
    done: list[str] = []
    for part in path.split("."):
        if isinstance(node, BaseModel):
            fields = {(f.alias or name): name for name, f in type(node).model_fields.items()}
            names = list(fields)
        elif isinstance(node, Mapping):
            fields, names = {k: k for k in node}, [str(k) for k in node]
        else:
            raise FieldValueError("uncertainty", f"{path!r}: {'.'.join(done)} is a number, not a table")
        if part not in fields:
            where = ".".join(done) or "a scenario"
            hint = did_you_mean(part, names)
            hint_text = f"; did you mean {'.'.join([*done, hint])!r}?" if hint else ""
            raise FieldValueError(
                "uncertainty", f"unknown field path {path!r}: {part!r} is not a field of {where}{hint_text}"
            )
        if isinstance(node, BaseModel):
            info = type(node).model_fields[fields[part]]
            node = getattr(node, fields[part])
        else:
            info, node = None, node[part]
        done.append(part)
    if isinstance(node, BaseModel | Mapping):
        keys = (
            [f.alias or k for k, f in type(node).model_fields.items() if k != "kind"]
            if isinstance(node, BaseModel)
            else list(node)
        )
        raise FieldValueError(
            "uncertainty", f"{path!r} is a table, not a number; give one of its fields, e.g. '{path}.{keys[0]}'"
        )
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise FieldValueError("uncertainty", f"{path!r} is {node!r}, not a number; only numeric fields can vary")
    return node, info


def is_integer_field(value: Any, info: Any) -> bool:
    """Whether a field holds whole numbers (its annotation is int)."""
    return (info is not None and info.annotation is int) or (info is None and isinstance(value, int))


def _bound_problem(inp: UncertainInput, info: Any) -> str | None:
    lo, hi, lo_open = inp.support()
    for m in getattr(info, "metadata", ()):
        if isinstance(m, Ge) and lo < m.ge:
            return f"can go down to {lo:g} but the field must be >= {m.ge:g}"
        if isinstance(m, Gt) and (lo < m.gt or (lo == m.gt and not lo_open)):
            return f"can go down to {lo:g} but the field must be > {m.gt:g}"
        if isinstance(m, Le) and hi > m.le:
            return f"can go up to {hi:g} but the field must be <= {m.le:g}"
        if isinstance(m, Lt) and hi >= m.lt:
            return f"can go up to {hi:g} but the field must be < {m.lt:g}"
    return None


def check_uncertainty(scenario: Scenario, source: str | None = None) -> None:
    """Every ``[uncertainty]`` path names a numeric field of ``scenario`` and every support fits its bounds.

    A problem raises `FieldValueError`, or, given the ``source`` (a file, "uncertainty"), a `ScenarioError` naming it.
    """
    try:
        _check_entries(scenario)
    except FieldValueError as exc:
        if source is None:
            raise
        raise ScenarioError(source, exc.field, exc.message) from None


def _check_entries(scenario: Scenario) -> None:
    for path, inp in scenario.uncertainty.items():
        value, info = field_of_path(scenario, path)
        problem = _bound_problem(inp, info)
        if problem:
            hint = " (give low/high to truncate it)" if inp.kind in ("normal", "lognormal") else ""
            raise FieldValueError("uncertainty", f"{path!r}: the {inp.kind} input {problem}{hint}")
        if is_integer_field(value, info):
            whole = inp.kind == "discrete" and all(float(c).is_integer() for c in inp.choices)  # type: ignore[union-attr]
            whole = whole or (inp.kind == "uniform" and math.floor(inp.high) >= math.ceil(inp.low))  # type: ignore[arg-type]
            if not whole:
                raise FieldValueError(
                    "uncertainty",
                    f"{path!r} is a whole number: use kind = 'uniform' (whole numbers low..high) or 'discrete' "
                    "with whole-number choices",
                )
