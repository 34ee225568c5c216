"""Duration and size distributions as small validated objects with `sample(rng, size)` and `mean`.

Scenario files write them as inline tables, e.g. ``process_days = { kind = "lognormal", mean = 180, sd = 40 }``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simfunnel.errors import FieldValueError


def _freeze(value: Any) -> Any:
    """A hashable, order-independent stand-in for nested models, dicts and lists (for ``__hash__``)."""
    if isinstance(value, BaseModel):
        return (type(value).__name__, tuple((k, _freeze(v)) for k, v in value.__dict__.items()))
    if isinstance(value, dict):
        return tuple(sorted(((str(k), _freeze(v)) for k, v in value.items()), key=lambda kv: kv[0]))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _scalar_problem(expected: Any, value: Any) -> str | None:
    """Why `value` must not be coerced to the scalar type `expected` (pydantic's lax mode would accept it)."""
    if expected in (int, float):
        if isinstance(value, bool):
            return f"must be a number, not true/false (got {str(value).lower()})"
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return f"must be a number, not a string (got {value!r})"
            return f"must be a number, not a string: write {value.strip()}, not {value!r}"
    elif expected is bool:
        if isinstance(value, str):
            return f"must be true or false, not a string (got {value!r})"
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            return f"must be true or false, not a number (got {value!r})"
    return None


class FrozenModel(BaseModel):
    """Immutable, hashable model refusing unknown keys, NaN/inf (unless a field allows inf) and silent coercion
    of booleans or strings to numbers and of numbers or strings to booleans."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_scalar_coercion(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, info in cls.model_fields.items():
            for key in {info.alias or name, name}:
                if key not in data:
                    continue
                ann, value = info.annotation, data[key]
                origin, args = get_origin(ann), get_args(ann)
                if origin is dict and isinstance(value, dict) and len(args) == 2:
                    items = [(f"{key}.{k}", v, args[1]) for k, v in value.items()]
                elif origin is tuple and isinstance(value, (list, tuple)) and args:
                    items = [(f"{key}.{i}", v, args[0]) for i, v in enumerate(value)]
                else:
                    items = [(key, value, ann)]
                for where, v, expected in items:
                    problem = _scalar_problem(expected, v)
                    if problem:
                        raise FieldValueError(where, problem)
        return data

    def __hash__(self) -> int:
        return hash(_freeze(self))


class _Dist(FrozenModel):
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value (a deterministic duration)."""

    kind: Literal["fixed"] = "fixed"
    value: float = Field(ge=0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value, dtype=float)

    @property
    def mean(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"Fixed({self.value:g})"


class Exponential(_Dist):
    """Memoryless positive value with the given mean (the M in M/M/c)."""

    kind: Literal["exponential"] = "exponential"
    mean_: float = Field(gt=0, alias="mean")

    model_config = ConfigDict(populate_by_name=True)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)

    @property
    def mean(self) -> float:
        return self.mean_

    def __repr__(self) -> str:
        return f"Exponential(mean={self.mean_:g})"


class _MeanSd(_Dist):
    mean_: float = Field(gt=0, alias="mean")
    sd: float = Field(gt=0)

    model_config = ConfigDict(populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean_:g}, sd={self.sd:g})"


class LogNormal(_MeanSd):
    """Right-skewed positive value given by its own mean and sd (not the log's)."""

    kind: Literal["lognormal"] = "lognormal"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Gamma(_MeanSd):
    """Positive value with mean and sd; shape = (mean/sd)^2."""

    kind: Literal["gamma"] = "gamma"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = (self.mean_ / self.sd) ** 2
        return rng.gamma(shape, self.mean_ / shape, size)


class Uniform(_Dist):
    """Any value between low and high, equally likely."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise FieldValueError("high", f"must be >= low ({self.low:g}), got {self.high:g}")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def __repr__(self) -> str:
        return f"Uniform({self.low:g}, {self.high:g})"


Distribution = Annotated[Fixed | Exponential | LogNormal | Gamma | Uniform, Field(discriminator="kind")]
"""Any of the supported distributions, chosen by its ``kind`` key."""

DISTRIBUTION_KINDS = ("fixed", "exponential", "lognormal", "gamma", "uniform")
