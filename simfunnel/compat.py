"""Deprecated module paths, kept working: `forward` gives an old module the PEP 562 hooks that look its names up
in the modules that now hold them, so a shim is a few lines instead of a copy of their import lists.

A shim writes ``__getattr__, __dir__ = forward(["simfunnel.experiments", ...], {"_old": "runs:new"})``. The
targets are imported on first use (importing a shim stays cheap) and ``shim.__all__`` is the targets' public
names, so ``from simfunnel.experiment import replicate`` and ``import *`` keep working.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["forward"]


def forward(
    modules: str | Sequence[str], aliases: Mapping[str, str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``(__getattr__, __dir__)`` of a deprecated module whose names now live in ``modules``.

    A name resolves to the public name (in ``__all__``) of the first target that has it; an alias (old name ->
    new name, or ``"module:name"`` for a module outside the targets) to what its new name resolves to.
    ``__all__`` is every target's ``__all__`` plus the public aliases.
    """
    targets = [modules] if isinstance(modules, str) else list(modules)
    renames = dict(aliases or {})

    def public() -> list[str]:
        names = {n for m in targets for n in importlib.import_module(m).__all__}
        return sorted(names | {n for n in renames if not n.startswith("_")})

    def __getattr__(name: str) -> Any:
        if name == "__all__":
            return public()
        if name in renames:
            module, _, new = renames[name].rpartition(":")
            return getattr(importlib.import_module(module), new) if module else __getattr__(new)
        for target in targets:
            module = importlib.import_module(target)
            if name in module.__all__:
                return getattr(module, name)
        raise AttributeError(f"module {targets[0]!r} (and its deprecated path) has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(public()) | set(renames))

    return __getattr__, __dir__
