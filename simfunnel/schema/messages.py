"""Validation messages: turn pydantic's errors into one line naming the file, the dotted field, what is allowed and
the closest valid name ("did you mean"). Kept apart from `simfunnel.scenario`, which defines the schema."""

from __future__ import annotations

import difflib
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from simfunnel.distributions import DISTRIBUTION_KINDS, Exponential, Fixed, Gamma, LogNormal, Uniform
from simfunnel.errors import FieldValueError, ScenarioError

__all__ = ["allowed_keys", "as_scenario_error", "did_you_mean", "walk"]

_DISTRIBUTIONS_BY_KIND: dict[str, type[BaseModel]] = {
    "fixed": Fixed,
    "exponential": Exponential,
    "lognormal": LogNormal,
    "gamma": Gamma,
    "uniform": Uniform,
}


def as_scenario_error(exc: ValidationError, source: str, root: type[BaseModel]) -> ScenarioError:
    """Turn pydantic's first error into one message: file, dotted field, what is allowed (+ 'did you mean')."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    if err["type"] == "missing":
        # A misspelt key shows up as 'missing' + 'extra': blame the misspelling, which gets a 'did you mean'.
        parent = err["loc"][:-1]
        err = next((e for e in errors if e["type"] == "extra_forbidden" and e["loc"][:-1] == parent), err)
    raw_loc = list(err["loc"])
    error = (err.get("ctx") or {}).get("error")
    blamed = error.field.split(".") if isinstance(error, FieldValueError) else []
    if err["type"] == "extra_forbidden":
        loc, model, info = walk(raw_loc[:-1], root)
        loc.append(str(raw_loc[-1]))
    else:
        loc, model, info = walk(raw_loc + blamed, root)
    field = ".".join(loc)
    msg = err["msg"]
    value = err.get("input")
    if isinstance(error, FieldValueError):
        msg = error.message
    elif err["type"] == "extra_forbidden":
        allowed = allowed_keys(model, top=not loc[:-1])
        hint = did_you_mean(loc[-1], allowed)
        msg = f"unknown field {loc[-1]!r}" + (f"; did you mean {hint!r}?" if hint else "")
        if allowed:
            msg += f" Allowed: {', '.join(sorted(allowed))}"
    elif err["type"] == "missing":
        msg = "required field is missing"
        if info is not None and info.description:
            msg += f" ({info.description})"
    elif err["type"] == "union_tag_invalid":
        msg = f"unknown distribution kind {_show(err.get('ctx', {}).get('tag'))}; allowed: {', '.join(DISTRIBUTION_KINDS)}"
    elif err["type"] == "union_tag_not_found":
        msg = f"a distribution needs kind = one of {', '.join(DISTRIBUTION_KINDS)}"
    elif err["type"] in ("list_type", "tuple_type"):
        msg = f"must be a list such as [0, 1, 2], got {_show(value)}"
    elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        msg = f"must be a table (e.g. {{ key = value }} or a [section]), got {_show(value)}"
    elif "[key]" in raw_loc:
        msg = f"keys must be strings: {msg}"
    else:
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if isinstance(value, (dict, BaseModel)):
            msg += ", got a table"
        elif "got" not in msg:
            msg += f", got {_show(value)}"
    more = exc.error_count() - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(source, field, msg)


def did_you_mean(key: str, allowed: list[str]) -> str | None:
    """The allowed name closest to a misspelt key (case-insensitive), if any is close."""
    by_lower = {a.lower(): a for a in allowed}
    hint = difflib.get_close_matches(key.lower(), list(by_lower), n=1)
    return by_lower[hint[0]] if hint else None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def walk(loc: list[Any], root: type[BaseModel]) -> tuple[list[str], Any, FieldInfo | None]:
    """Follow a pydantic error location through the schema.

    Returns the user-facing dotted parts (discriminated-union tags such as 'lognormal' dropped, dict keys such as
    channel names kept), the model found at the end (for 'did you mean') and the last field's info."""
    model: Any = root
    info: FieldInfo | None = None
    in_dict = False
    parts: list[str] = []
    for part in loc:
        if part == "[key]":
            continue
        if in_dict:  # a dict key, e.g. a channel name: the value model stays
            parts.append(str(part))
            in_dict = False
            continue
        if model is None and isinstance(part, str) and part in _DISTRIBUTIONS_BY_KIND:
            model = _DISTRIBUTIONS_BY_KIND[part]  # the tag of a distribution union
            continue
        parts.append(str(part))
        info = field_of(model, part)
        if info is None:
            model = None
            continue
        ann = info.annotation
        if get_origin(ann) is dict:
            in_dict = True
            ann = get_args(ann)[1]
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return parts, model, info


def field_of(model: Any, name: Any) -> FieldInfo | None:
    fields = getattr(model, "model_fields", None) or {}
    for field_name, info in fields.items():
        if name in (field_name, info.alias):
            return info
    return None


def allowed_keys(model: Any, top: bool = False) -> list[str]:
    """Field names allowed in a model, for the 'did you mean' hint."""
    fields = getattr(model, "model_fields", None) or {}
    keys = [f.alias or name for name, f in fields.items()]
    if top:
        keys.append("extends")
    return keys
