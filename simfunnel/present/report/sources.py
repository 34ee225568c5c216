"""Where a scenario's parameters come from and how they differ: the comments of the TOML files that set them
(``# ... (HBR 2015, IS)``) and the parameters that differ from the baseline scenario.

The report's assumptions section cites these comments next to every parameter that differs, so a client sees the
value and its source side by side.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simfunnel.formatting import format_value
from simfunnel.scenario import Scenario, extends_chain
from simfunnel.vocabulary import LEVERS

__all__ = [
    "FieldComment",
    "comment_for",
    "describe_field",
    "field_sources",
    "field_title",
    "format_setting",
    "parameter_differences",
    "same_value",
    "team_text",
    "toml_field_comments",
]


# ============================================================================================== TOML sources
@dataclass(frozen=True)
class FieldComment:
    """Where a field is set in a TOML file and the comment on or directly above that line."""

    file: str
    line: int
    comment: str
    inherited: bool = False  # True: the comment is the one above the field's [table] header


def _split_comment(text: str) -> tuple[str, str]:
    """(code, comment) of one TOML line: the first ``#`` outside a string starts the comment."""
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return text[:i].rstrip(), text[i + 1 :].strip()
        i += 1
    return text.rstrip(), ""


def _key_parts(text: str) -> list[str]:
    """A TOML (dotted, possibly quoted) key as its parts: ``a."b.c".d`` -> ``["a", "b.c", "d"]``."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text)
    return [a or b or c for a, b, c in parts]


def _inline_keys(value: str) -> list[list[str]]:
    """Keys (dotted) of an inline table ``{ a = 1, b = { c = 2 } }`` written on one line."""
    value = value.strip()
    if not (value.startswith("{") and value.endswith("}")):
        return []
    out: list[list[str]] = []
    body = value[1:-1]
    depth, start, quote = 0, 0, None
    items = []
    for i, ch in enumerate(body):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    for item in items:
        if "=" not in item:
            continue
        k, v = item.split("=", 1)
        key = _key_parts(k)
        out.append(key)
        out += [key + sub for sub in _inline_keys(v)]
    return out


def toml_field_comments(path: str | os.PathLike) -> dict[str, FieldComment]:
    """The comment of every field set in one TOML file, by dotted path (``organisation.mql_threshold``).

    A field's comment is its inline comment and the comment lines directly above it (no blank line between);
    a field without one inherits the comment above its ``[table]`` header (marked ``inherited``). Fields of an
    inline table (``reach = { max_effect = 0.35, ... }``) get the comment of their line. Unreadable files give {}.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    out: dict[str, FieldComment] = {}
    table: list[str] = []
    table_comment = ""
    pending: list[str] = []
    depth = 0  # open brackets of a multi-line array
    for number, raw in enumerate(lines, start=1):
        code, comment = _split_comment(raw)
        stripped = code.strip()
        if depth > 0:
            depth += stripped.count("[") - stripped.count("]")
            continue
        if not stripped:
            if comment:
                pending.append(comment)
            else:
                pending = []
            continue
        if stripped.startswith("["):
            header = stripped.strip("[]").strip()
            table = _key_parts(header)
            table_comment = " ".join([*pending, comment]).strip()
            if table_comment:
                out[".".join(table)] = FieldComment(str(path), number, table_comment)
            pending = []
            continue
        if "=" not in stripped:
            pending = []
            continue
        key_text, value = stripped.split("=", 1)
        key = table + _key_parts(key_text)
        own = " ".join([*pending, comment]).strip()
        note = FieldComment(str(path), number, own) if own else FieldComment(str(path), number, table_comment, True)
        dotted = ".".join(key)
        out[dotted] = note
        for sub in _inline_keys(value):
            out[".".join(key + sub)] = note
        depth = value.count("[") - value.count("]")
        depth = max(depth, 0)
        pending = []
    return out


def field_sources(path: str | os.PathLike) -> dict[str, FieldComment]:
    """`toml_field_comments` of a scenario file merged over the files it ``extends`` (the file that sets a
    field last wins)."""
    merged: dict[str, FieldComment] = {}
    for p in reversed(extends_chain(path, strict=False)):
        merged.update(toml_field_comments(p))
    return merged


def comment_for(sources: Mapping[str, FieldComment], dotted: str) -> FieldComment | None:
    """The comment of the line that sets ``dotted`` (or the enclosing inline table or [table] header *of the same
    file*); None when the field is set without a comment or not set in the files at all."""
    parts = dotted.split(".")
    setter = None
    for i in range(len(parts), 0, -1):
        hit = sources.get(".".join(parts[:i]))
        if hit is None:
            continue
        if setter is None:
            setter = hit
        if hit.file == setter.file and hit.comment:
            return hit
    return None


# ============================================================================================== differences
def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


_MISSING = object()


def parameter_differences(scenarios: Mapping[str, Scenario], baseline: str | None = None) -> pd.DataFrame:
    """Every parameter (dotted path into `Scenario.to_dict`) whose value differs between the baseline (default:
    the first) and any other scenario; ``name`` and ``description`` are left out. Columns: ``field`` and one
    column per scenario (the value, or None where the field does not exist, e.g. after a distribution kind
    change). A distribution whose ``kind`` differs is shown whole (``market.value``), not key by key."""
    names = list(scenarios)
    if not names:
        return pd.DataFrame(columns=["field"])
    baseline = names[0] if baseline is None else baseline
    flat = {n: _flatten({k: v for k, v in s.to_dict().items() if k not in ("name", "description")})
            for n, s in scenarios.items()}  # fmt: skip
    kinds = {n: {k[: -len(".kind")] for k in f if k.endswith(".kind")} for n, f in flat.items()}
    rows = []
    seen: set[str] = set()
    order = list(dict.fromkeys(k for n in [baseline, *names] for k in flat[n]))
    for key in order:
        # a distribution whose kind differs: compare the table whole
        dist = next((d for d in kinds[baseline] | set().union(*kinds.values()) if key.startswith(d + ".")), None)
        if dist is not None:
            kind_values = {n: flat[n].get(dist + ".kind", _MISSING) for n in names}
            if len({str(v) for v in kind_values.values()}) > 1:
                if dist in seen:
                    continue
                seen.add(dist)
                vals = {n: {k[len(dist) + 1 :]: v for k, v in flat[n].items() if k.startswith(dist + ".")} or None
                        for n in names}  # fmt: skip
                rows.append({"field": dist, **vals})
                continue
        values = {n: flat[n].get(key, _MISSING) for n in names}
        base_v = values[baseline]
        if all(same_value(v, base_v) for v in values.values()):
            continue
        rows.append({"field": key, **{n: (None if v is _MISSING else v) for n, v in values.items()}})
    return pd.DataFrame(rows, columns=["field", *names])


def same_value(a: Any, b: Any) -> bool:
    """Equal parameter values (NaN equals NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def describe_field(dotted: str) -> str:
    """The schema's description of a dotted field: the most specific described field on its path."""
    from typing import get_args, get_origin

    from pydantic import BaseModel

    model: Any = Scenario
    best = ""
    parts = dotted.split(".")
    i = 0
    while i < len(parts) and model is not None:
        info = getattr(model, "model_fields", {}).get(parts[i])
        if info is None:
            break
        if info.description:
            best = info.description
        ann = info.annotation
        i += 1
        if get_origin(ann) is dict:
            i += 1  # the dict key: a channel name or a budget item
            ann = get_args(ann)[1]
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return best


def format_setting(v: Any, dotted: str = "") -> str:
    """A parameter's value as the assumptions tables show it: 'yes', '25 %' (a budget share), '12,000', 'none (∞)'."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, Mapping):
        if "kind" in v:
            params = ", ".join(f"{k} {format_setting(x)}" for k, x in v.items() if k != "kind")
            return f"{v['kind']} ({params})" if params else str(v["kind"])
        return ", ".join(f"{k} {format_setting(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(format_setting(x) for x in v)
    if isinstance(v, float):
        if math.isinf(v):
            return "none (∞)" if "sla" in dotted or "stop" in dotted else ("∞" if v > 0 else "−∞")
        if "shares" in dotted:
            return f"{100 * v:.0f} %"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


_FIELD_LABELS = {
    "organisation.batch_interval_days": "Handoff batch interval (days)",
    "sales.reps": "Sales reps (headcount)",
    "sales.roles.sdr.reps": "SDRs (headcount)",
    "sales.roles.ae.reps": "Account executives (headcount)",
    "sales.rep_cost_per_year": "Cost per rep (currency/year)",
    "marketing.budget_per_year": "Marketing budget (currency/year)",
    "market.buyers_per_year": "In-market buyers (per year)",
    "simulation.horizon_days": "Horizon (days)",
}


def field_title(dotted: str) -> str:
    """A readable name of a dotted scenario field: a lever's description from the vocabulary, else a label."""
    parts = dotted.split(".")
    if parts[0] == "organisation" and len(parts) == 2 and parts[1] in LEVERS:
        return LEVERS[parts[1]].description
    if dotted in _FIELD_LABELS:
        return _FIELD_LABELS[dotted]
    if dotted.startswith("marketing.shares."):
        return f"Budget share: {parts[-1]}"
    words = [p.replace("_", " ") for p in parts[1:]] or [parts[0].replace("_", " ")]
    text = " · ".join(words)
    return text[0].upper() + text[1:]


def team_text(scenario: Scenario) -> str:
    """The sales team in words: '8 sales reps at 90.0k per year each', or with `sales.roles` each role's
    headcount and cost ('3 SDRs at 60.0k per year each, 5 account executives at 140k per year each')."""

    def team(reps: int, word: str, cost: float) -> str:
        return f"{format_value(reps, 'count')} {word}{'' if reps == 1 else 's'} at {format_value(cost, 'money')} per year each"

    sales = scenario.sales
    if sales.roles is None:
        return team(sales.reps, "sales rep", sales.rep_cost_per_year)
    sdr, ae = sales.roles.sdr, sales.roles.ae
    return f"{team(sdr.reps, 'SDR', sdr.rep_cost_per_year)}, {team(ae.reps, 'account executive', ae.rep_cost_per_year)}"
