"""How an experiment runs - executor, workers, progress, cache - in one object: `RunOptions`.

Every experiment function takes ``options: RunOptions | None = None``. The keyword arguments of earlier versions
(``executor=``, ``workers=``, ``address=``, ``client=``, ``progress=``, ``cache=``) keep working; they are
merged into a `RunOptions` by `resolve_options`. Passing both is an error.

The default executor is ``"serial"``: it works in a script without an ``if __name__ == "__main__":`` guard, in a
notebook and in a REPL alike. Ask for ``executor="processes"`` (or an open `ProcessExecutor`) to use every core;
the CLI passes its own default explicitly.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypedDict

from simfunnel.experiments.cache import CacheLike
from simfunnel.experiments.executors import ExecutorName, Runner, TaskExecutor, executor_scope

__all__ = ["ExecutionKwargs", "RunOptions", "resolve_options"]


@dataclass(frozen=True)
class RunOptions:
    """Where and how the runs of an experiment execute (results never depend on it, only the speed).

    ``executor``: ``"serial"``, ``"processes"``, ``"dask"``, an open `TaskExecutor` (borrowed, left open), or
    None (serial; Dask when ``address``/``client`` is given). ``workers``: processes (default: usable CPUs).
    ``address``/``client``: a Dask scheduler. ``progress``: True (bar), False (silent), None (auto, see
    `simfunnel.experiments.progress`). ``cache``: see `simfunnel.experiments.cache`.
    ``runner``: a testing hook replacing the model's ``simulate`` (``f(scenario, seed)`` at module level, or
    ``"module:function"``); not part of the stable API, and it bypasses the cache.
    """

    executor: ExecutorName | TaskExecutor | None = None
    workers: int | None = None
    address: str | None = None
    client: Any = field(default=None, compare=False)
    progress: bool | None = None
    cache: CacheLike = None
    runner: Runner = field(default=None, repr=False)

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @contextmanager
    def scope(self) -> Iterator[TaskExecutor]:
        """The executor for the length of a ``with`` block (opened and closed here unless one was passed in)."""
        with executor_scope(
            self.executor,
            workers=self.workers,
            address=self.address,
            client=self.client,
            progress=self.progress,
            runner=self.runner,
        ) as ex:
            yield ex


class ExecutionKwargs(TypedDict, total=False):
    """The execution keywords every experiment still accepts (the fields of `RunOptions`; ``_runner`` is the
    testing hook)."""

    executor: ExecutorName | TaskExecutor | None
    workers: int | None
    address: str | None
    client: Any
    progress: bool | None
    cache: CacheLike
    _runner: Runner


_OPTION_FIELDS = tuple(f.name for f in fields(RunOptions))
_KEYWORDS = {name: name for name in _OPTION_FIELDS if name != "runner"} | {"_runner": "runner"}


def resolve_options(options: RunOptions | None, execution: Mapping[str, Any], caller: str) -> RunOptions:
    """``options``, or a `RunOptions` built from the execution keywords (``executor=``, ...); not both.

    Raises TypeError for an unknown keyword (with a did-you-mean), for both kinds given, or for an ``options``
    that is not a RunOptions."""
    unknown = [k for k in execution if k not in _KEYWORDS]
    if unknown:
        hint = difflib.get_close_matches(unknown[0], [*_KEYWORDS, "options"], n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}{extra}")
    if options is not None:
        if not isinstance(options, RunOptions):
            raise TypeError(f"{caller}(): options must be a RunOptions, got {type(options).__name__}")
        if execution:
            given = ", ".join(f"{k}=" for k in execution)
            raise TypeError(f"{caller}(): pass either options=RunOptions(...) or {given}, not both")
        return options
    return RunOptions(**{_KEYWORDS[k]: v for k, v in execution.items()})
