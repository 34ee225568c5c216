"""`--grid` of `simfunnel sweep`: parse ``field=start:stop:count`` or ``field=v1,v2,...``. The fields are checked
against the scenario before any simulation (`simfunnel.experiments.sweep.check_grid_fields`, the check `sweep`
itself makes), so a typo is one message with "did you mean", never a failed sweep."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from simfunnel.cli.common import UserError

_NUMBER = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*(?:-|–|\.\.|to)\s*({_NUMBER})\s*$")
_SYNTAX = "expected FIELD=START:STOP:COUNT (evenly spaced) or FIELD=V1,V2,..."


def _suggest(key: str, a: str, b: str) -> str:
    """'did you mean sales.reps=4:12:9?' for a range typed as 4-12 or 4:12."""
    lo, hi = float(a), float(b)
    count = int(hi - lo) + 1 if lo.is_integer() and hi.is_integer() and 0 < hi - lo <= 20 else 5
    return f"did you mean --grid {key}={a}:{b}:{count}?"


def _linspace(spec: str, a: str, b: str, c: str) -> list[Any]:
    try:
        start, stop, count = float(a), float(b), int(c)
    except ValueError:
        raise UserError(
            f"--grid {spec!r}: start and stop must be numbers and count a whole number; {_SYNTAX}"
        ) from None
    if count < 1:
        raise UserError(f"--grid {spec!r}: count must be >= 1")
    values = [start + (stop - start) * i / (count - 1) for i in range(count)] if count > 1 else [start]
    if all(float(x).is_integer() for x in (a, b)) and all(v.is_integer() for v in values):
        return [int(v) for v in values]
    return [round(v, 10) for v in values]


def parse_grid(specs: Sequence[str]) -> dict[str, list[Any]]:
    """``field=start:stop:count`` (evenly spaced, integers kept integral) or ``field=v1,v2,...`` (values read as
    TOML); a range written ``4-12`` or ``4:12`` is refused with the START:STOP:COUNT form to use instead."""
    from simfunnel.scenario import parse_override

    grid: dict[str, list[Any]] = {}
    for spec in specs:
        key, sep, raw = spec.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise UserError(f"--grid {spec!r}: {_SYNTAX}")
        parts = raw.split(":")
        if len(parts) == 3:
            values = _linspace(spec, *parts)
        elif len(parts) == 2:
            hint = _suggest(key, *parts) if all(re.fullmatch(_NUMBER, p.strip()) for p in parts) else ""
            raise UserError(f"--grid {spec!r}: {_SYNTAX}" + (f"; {hint}" if hint else ""))
        elif len(parts) > 3:
            raise UserError(f"--grid {spec!r}: {_SYNTAX}")
        else:
            items = [v.strip() for v in raw.split(",") if v.strip()]
            for item in items:
                m = _RANGE.match(item)
                if m:
                    raise UserError(
                        f"--grid {spec!r}: {item!r} is not a value; {_SYNTAX}; {_suggest(key, *m.groups())}"
                    )
            values = [parse_override(f"{key}={v}")[1] for v in items]
        if not values:
            raise UserError(f"--grid {spec!r}: no values; {_SYNTAX}")
        if key in grid:
            raise UserError(f"--grid {key}: given twice; give each field once")
        grid[key] = values
    return grid
