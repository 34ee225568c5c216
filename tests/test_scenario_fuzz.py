"""Fuzz the scenario loader with random mutations of the presets.

Whatever the mutation, the loader either returns a valid Scenario or raises a ScenarioError naming a field or
giving a message -- never another exception -- and a Scenario it accepts holds no NaN and no inf outside the two
fields where inf is documented."""

from __future__ import annotations

import copy
import math
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simfunnel import Scenario, ScenarioError, load_scenario
from simfunnel.scenario import _read_with_extends, _validate

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "scenarios").glob("*.toml"))
RESOLVED = {p.name: _read_with_extends(p, chain=()) for p in PRESETS}  # `extends` already followed
INF_ALLOWED = {("marketing", "acquisition_stop_day"), ("organisation", "response_sla_hours")}


# ----------------------------------------------------------------------------------------------- tiny TOML writer
def _toml_key(key: str) -> str:
    return _toml_string(key)


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(doc: dict[str, Any]) -> str:
    """One line per top-level key, nested tables written inline (valid TOML 1.0)."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in doc.items())


@pytest.mark.parametrize("name", sorted(RESOLVED))
def test_toml_writer_round_trips_presets(name):
    doc = RESOLVED[name]
    assert tomllib.loads(to_toml(doc)) == doc


# ----------------------------------------------------------------------------------------------- mutations
TOML_INT = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
SCALARS = st.one_of(
    st.integers(min_value=-5, max_value=20),
    TOML_INT,
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),  # negative float
    st.floats(min_value=1e12, allow_nan=False, allow_infinity=False),  # huge float
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([math.inf, -math.inf, math.nan, 0, 0.0, 1, 1.0, 0.5, -1]),
    TEXT,
    st.sampled_from(["fifo", "realtime", "lognormal", "", "inf", "12"]),
    st.booleans(),
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["kind", "mean", "sd", "value", "low", "high", "x", "reps"]), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
# Values only a Python caller can pass (with_overrides): beyond TOML's 64-bit integers, None, tuples.
PY_VALUES = st.one_of(
    TOML_VALUES,
    st.none(),
    st.integers(min_value=2**63, max_value=2**1100),
    st.tuples(st.integers(), st.integers()),
)

OPS = ("delete", "replace", "typo", "wrap")


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key (and list index) path into a nested document."""
    out = []
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return out
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _typo(data: st.DataObject, key: str) -> str:
    how = data.draw(st.sampled_from(["drop", "double", "swap", "replace", "case"]))
    i = data.draw(st.integers(0, max(len(key) - 1, 0)))
    if not key:
        return "x"
    if how == "drop":
        return key[:i] + key[i + 1 :] or "x"
    if how == "double":
        return key[: i + 1] + key[i:]
    if how == "swap" and len(key) > 1:
        i = min(i, len(key) - 2)
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    if how == "case":
        return key.upper()
    return key[:i] + data.draw(st.sampled_from(string.ascii_lowercase + "_")) + key[i + 1 :]


def mutate(data: st.DataObject, values: st.SearchStrategy) -> dict[str, Any]:
    doc = copy.deepcopy(RESOLVED[data.draw(st.sampled_from(sorted(RESOLVED)), label="preset")])
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        op = data.draw(st.sampled_from(OPS), label="op")
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if op == "delete":
            if isinstance(parent, dict):
                del parent[last]
            else:
                parent.pop(last)
        elif op == "replace":
            parent[last] = data.draw(values, label="value")
        elif op == "typo" and isinstance(parent, dict):
            new = _typo(data, str(last))
            parent[new] = parent.pop(last)
        elif op == "wrap":
            parent[last] = {"value": parent[last]}
    return doc


# ----------------------------------------------------------------------------------------------- invariants
def _check_accepted(scenario: Scenario) -> None:
    assert isinstance(scenario, Scenario)
    hash(scenario)

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, str(k)))
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v, path)
        elif isinstance(node, float):
            assert not math.isnan(node), f"NaN accepted at {'.'.join(path)}"
            if math.isinf(node):
                assert path in INF_ALLOWED, f"inf accepted at {'.'.join(path)}"

    walk(scenario.model_dump(by_alias=True), ())


def _check_refused(err: ScenarioError, source: str) -> None:
    assert err.source == source
    assert err.field or err.message
    assert err.message
    assert str(err).startswith(f"{source}: ")


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(data=st.data())
def test_mutated_preset_files(tmp_path: Path, data: st.DataObject):
    doc = mutate(data, TOML_VALUES)
    path = tmp_path / "mutated.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        _check_refused(err, str(path))
    else:
        _check_accepted(scenario)


@SETTINGS
@given(data=st.data())
def test_mutated_preset_dicts(data: st.DataObject):
    doc = mutate(data, PY_VALUES)
    try:
        scenario = _validate(doc, source="fuzz")
    except ScenarioError as err:
        _check_refused(err, "fuzz")
    else:
        _check_accepted(scenario)


@SETTINGS
@given(
    key=st.sampled_from(
        [
            ".".join(map(str, p))
            for p in _paths(RESOLVED["base.toml"])
            if all(isinstance(part, str) for part in p) and p[0] not in ("name", "description")
        ]
    ),
    value=PY_VALUES,
)
def test_random_overrides(key: str, value: Any):
    base = _validate(copy.deepcopy(RESOLVED["base.toml"]), source="base")
    try:
        scenario = base.with_overrides({key: value})
    except ScenarioError as err:
        _check_refused(err, "overrides")
    else:
        _check_accepted(scenario)
