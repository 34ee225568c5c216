"""Duration and size distributions as small validated objects with `sample(rng, size)` and `mean`.

Scenario files write them as inline tables, e.g. ``process_days = { kind = "lognormal", mean = 180, sd = 40 }``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

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
            raise ValueError(f"high ({self.high:g}) must be >= low ({self.low:g})")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def __repr__(self) -> str:
        return f"Uniform({self.low:g}, {self.high:g})"


Distribution = Annotated[
    Union[Fixed, Exponential, LogNormal, Gamma, Uniform], Field(discriminator="kind")
]
"""Any of the supported distributions, chosen by its ``kind`` key."""

DISTRIBUTION_KINDS = ("fixed", "exponential", "lognormal", "gamma", "uniform")
