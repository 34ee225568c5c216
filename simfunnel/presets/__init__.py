"""The preset scenarios shipped inside the package, so they work from an installed wheel.

`load_scenario("preset:aligned")` reads `aligned.toml` from this folder; `list_presets()` names them. The
repository's `scenarios/` folder holds identical, editable copies (a test keeps the two in step).
"""

from __future__ import annotations

import difflib
import tomllib
from importlib import resources
from pathlib import Path

from simfunnel.errors import ScenarioError

PREFIX = "preset:"
"""Prefix that makes `load_scenario` read a shipped preset instead of a file path."""

__all__ = ["PREFIX", "is_preset", "list_presets", "preset_description", "preset_dir", "preset_path", "resolve"]


def preset_dir() -> Path:
    """The folder that holds the shipped preset TOML files."""
    return Path(str(resources.files(__name__)))


def list_presets() -> list[str]:
    """Names of the shipped presets, sorted (use them as ``preset:NAME``)."""
    return sorted(p.stem for p in preset_dir().glob("*.toml"))


def is_preset(spec: str | Path) -> bool:
    """True when ``spec`` names a shipped preset (``preset:NAME``) rather than a file."""
    return str(spec).startswith(PREFIX)


def preset_path(spec: str) -> Path:
    """The file of a preset given as ``preset:NAME`` or ``NAME``; a clear error (with a suggestion) otherwise."""
    name = spec[len(PREFIX) :] if spec.startswith(PREFIX) else spec
    names = list_presets()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean 'preset:{close[0]}'?" if close else ""
        raise ScenarioError(spec, "", f"no such preset; the presets are: {', '.join(names)}{hint}")
    return preset_dir() / f"{name}.toml"


def preset_description(name: str) -> str:
    """The one-line `description` a preset declares (its own file, not what it extends)."""
    with preset_path(name).open("rb") as fh:
        return str(tomllib.load(fh).get("description", ""))


def resolve(spec: str | Path, relative_to: Path | None = None) -> Path:
    """The file a scenario reference names: ``preset:NAME`` -> the shipped preset; anything else a path (taken
    relative to the folder ``relative_to`` when given, as `extends` is)."""
    if is_preset(spec):
        return preset_path(str(spec))
    return Path(spec) if relative_to is None else relative_to / spec
