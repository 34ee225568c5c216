"""Distributions: sample moments against theory, parameter validation, readable reprs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from simfunnel.distributions import (
    DISTRIBUTION_KINDS,
    Distribution,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Uniform,
)

N = 200_000
Z = 5.0  # tolerance in standard errors

CASES = [
    Fixed(value=0.5),
    Fixed(value=0.0),
    Exponential(mean=21.0),
    Exponential(mean=0.25),
    LogNormal(mean=150.0, sd=75.0),
    LogNormal(mean=18_000.0, sd=9_000.0),
    LogNormal(mean=1.0, sd=1.0),
    Gamma(mean=4.0, sd=1.5),
    Gamma(mean=2.0, sd=3.0),  # shape < 1
    Uniform(low=2.0, high=5.0),
    Uniform(low=0.0, high=0.0),
]


def theory(d) -> tuple[float, float, float]:
    """Mean, sd and kurtosis (4th standardised moment, 3 for a normal; NaN when sd = 0) of a distribution."""
    if isinstance(d, Fixed):
        return d.value, 0.0, math.nan
    if isinstance(d, Exponential):
        return d.mean, d.mean, 9.0
    if isinstance(d, LogNormal):
        s2 = math.log1p((d.sd / d.mean) ** 2)
        excess = math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 6
        return d.mean, d.sd, 3 + excess
    if isinstance(d, Gamma):
        shape = (d.mean / d.sd) ** 2
        return d.mean, d.sd, 3 + 6 / shape
    if isinstance(d, Uniform):
        sd = (d.high - d.low) / math.sqrt(12)
        return (d.low + d.high) / 2, sd, 1.8 if sd > 0 else math.nan
    raise AssertionError(f"no theory for {d!r}")


def test_cases_cover_every_kind():
    assert {d.kind for d in CASES} == set(DISTRIBUTION_KINDS)


@pytest.mark.parametrize("dist", CASES, ids=repr)
def test_sample_moments_match_theory(dist):
    mean, sd, kurtosis = theory(dist)
    assert dist.mean == pytest.approx(mean)
    x = dist.sample(np.random.default_rng(20240601), N)
    assert x.shape == (N,) and x.dtype == float
    assert np.all(np.isfinite(x)) and np.all(x >= 0)
    if sd == 0:
        assert np.all(x == mean)
        return
    se_mean = sd / math.sqrt(N)
    assert abs(x.mean() - mean) < Z * se_mean, (x.mean(), mean, se_mean)
    # large-sample standard error of the sample sd: sd * sqrt((kurtosis - 1) / (4 N))
    se_sd = sd * math.sqrt((kurtosis - 1) / (4 * N))
    assert abs(x.std(ddof=1) - sd) < Z * se_sd, (x.std(ddof=1), sd, se_sd)


@pytest.mark.parametrize("dist", CASES, ids=repr)
def test_sampling_is_reproducible(dist):
    a = dist.sample(np.random.default_rng(7), 100)
    b = dist.sample(np.random.default_rng(7), 100)
    assert np.array_equal(a, b)
    assert dist.sample(np.random.default_rng(7), 0).shape == (0,)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: Fixed(value=-1), "value"),
        (lambda: Exponential(mean=0), "mean"),
        (lambda: Exponential(mean=-3), "mean"),
        (lambda: LogNormal(mean=-1, sd=1), "mean"),
        (lambda: LogNormal(mean=1, sd=0), "sd"),
        (lambda: Gamma(mean=1, sd=-2), "sd"),
        (lambda: Gamma(mean=0, sd=1), "mean"),
        (lambda: Uniform(low=-1, high=1), "low"),
        (lambda: Uniform(low=2, high=1), "high"),
        (lambda: Exponential(mean=math.nan), "mean"),
        (lambda: Exponential(mean=math.inf), "mean"),
        (lambda: Fixed(value=math.inf), "value"),
        (lambda: LogNormal(mean=1, sd=math.nan), "sd"),
        (lambda: Exponential(mean="5"), "mean"),
        (lambda: Exponential(mean=True), "mean"),
        (lambda: Fixed(value=1, sd=2), "sd"),
        (lambda: LogNormal(mean=1), "sd"),
    ],
)
def test_bad_parameters_refused(make, field):
    with pytest.raises(ValidationError) as info:
        make()
    text = str(info.value)
    assert field in text


def test_uniform_order_message():
    with pytest.raises(ValidationError, match=r"must be >= low \(2\), got 1"):
        Uniform(low=2, high=1)


def test_distribution_union_by_kind():
    adapter = TypeAdapter(Distribution)
    assert adapter.validate_python({"kind": "gamma", "mean": 4, "sd": 1.5}) == Gamma(mean=4, sd=1.5)
    assert adapter.validate_python({"kind": "fixed", "value": 2}) == Fixed(value=2)
    for bad in ({"kind": "weibull", "mean": 1}, {"mean": 1}, {"kind": "exponential", "mean": 1, "sd": 1}, 5):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_frozen_hashable_comparable():
    a, b = LogNormal(mean=150, sd=75), LogNormal(mean=150.0, sd=75.0)
    assert a == b and hash(a) == hash(b)
    assert a != Gamma(mean=150, sd=75)
    assert len({a, b, Exponential(mean=1)}) == 2
    with pytest.raises(ValidationError):
        a.sd = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "dist, text",
    [
        (Fixed(value=0.5), "Fixed(0.5)"),
        (Exponential(mean=21), "Exponential(mean=21)"),
        (LogNormal(mean=150, sd=75), "LogNormal(mean=150, sd=75)"),
        (Gamma(mean=4, sd=1.5), "Gamma(mean=4, sd=1.5)"),
        (Uniform(low=2, high=5), "Uniform(2, 5)"),
        (LogNormal(mean=18000, sd=9000), "LogNormal(mean=18000, sd=9000)"),
    ],
)
def test_repr_readable(dist, text):
    assert repr(dist) == text
