"""Progress of experiments: a tqdm bar in notebooks and terminals, a plain line every 30 s in logs and CI.

``progress=None`` (auto) picks one of three modes (`progress_mode`):

- ``"off"`` when the environment variable ``TQDM_DISABLE`` is set to a true value (``1``, ``true``, ``yes``);
- ``"bar"`` in a Jupyter kernel (``ipykernel`` loaded and an IPython kernel running; ``tqdm.auto`` draws a
  widget, or text when ipywidgets is missing) and when standard error is a terminal (and ``CI`` is not set);
- ``"log"`` otherwise (stderr redirected to a file or a pipe, CI services): a plain progress line on stderr
  about every `LOG_INTERVAL` seconds (``$SIMFUNNEL_PROGRESS_INTERVAL`` overrides it), nothing for short runs,
  so a long experiment never looks hung in a log.

``progress=True`` forces a bar, ``progress=False`` silences everything (the CLI's ``--quiet``). Nothing is shown
for a single task.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, Literal, TextIO

__all__ = ["LOG_INTERVAL", "LogBar", "NoBar", "in_jupyter_kernel", "make_bar", "progress_enabled", "progress_mode"]

ProgressMode = Literal["off", "bar", "log"]

LOG_INTERVAL = 30.0
"""Seconds between two progress lines in ``"log"`` mode."""

_FALSE = {"", "0", "false", "no", "off"}


def _env_true(name: str) -> bool:
    value = os.environ.get(name)
    return value is not None and value.strip().lower() not in _FALSE


def in_jupyter_kernel() -> bool:
    """True inside a running IPython kernel (Jupyter, VS Code notebooks, papermill)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel always brings IPython
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def progress_mode(progress: bool | None = None) -> ProgressMode:
    """Resolve ``progress`` (True / False / None = auto) into ``"bar"``, ``"log"`` or ``"off"``."""
    if progress is not None:
        return "bar" if progress else "off"
    if _env_true("TQDM_DISABLE"):
        return "off"
    if in_jupyter_kernel():
        return "bar"
    if _env_true("CI"):
        return "log"
    try:
        tty = sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced stderr
        return "off"
    return "bar" if tty else "log"


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether ``progress`` (True / False / None = auto) asks for a tqdm bar (`progress_mode` is ``"bar"``)."""
    return progress_mode(progress) == "bar"


class NoBar:
    """The parts of the tqdm interface the experiments use, doing nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LogBar:
    """Plain progress lines for logs: ``desc: 40/120 runs (33 %), 1m05s elapsed, ~2m10s left`` on ``file``
    whenever ``interval`` seconds have passed since the last line (none for runs shorter than that)."""

    def __init__(
        self,
        total: int,
        desc: str,
        interval: float | None = None,
        file: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.desc = desc
        self.interval = _log_interval() if interval is None else float(interval)
        self.file = file
        self.clock = clock
        self.done = 0
        self.start = self.last = clock()
        self.lines = 0
        self.shown = 0  # runs done at the last line

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._print(now)

    def _print(self, now: float) -> None:
        elapsed = now - self.start
        pct = 100 * self.done / self.total if self.total else 100.0
        text = f"{self.desc}: {self.done}/{self.total} runs ({pct:.0f} %), {_duration(elapsed)} elapsed"
        if 0 < self.done < self.total:
            text += f", ~{_duration(elapsed * (self.total - self.done) / self.done)} left"
        stream = self.file if self.file is not None else sys.stderr
        try:
            print(text, file=stream, flush=True)
        except (OSError, ValueError, AttributeError):  # a closed stream must not stop the experiment
            return
        self.lines += 1
        self.shown = self.done

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        """A final line when progress lines were printed and the last one is out of date (a short run stays
        quiet)."""
        if self.lines and self.shown != self.done:
            self._print(self.clock())

    def __enter__(self) -> LogBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _log_interval() -> float:
    try:
        value = float(os.environ.get("SIMFUNNEL_PROGRESS_INTERVAL", LOG_INTERVAL))
    except ValueError:
        return LOG_INTERVAL
    return value if value > 0 else LOG_INTERVAL


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


def make_bar(total: int, desc: str, progress: bool | None = None) -> Any:
    """A ``tqdm.auto`` bar, a `LogBar` or a silent `NoBar` (same methods) over ``total`` tasks, by `progress_mode`."""
    mode = progress_mode(progress)
    if total <= 1 or mode == "off":
        return NoBar()
    if mode == "log":
        return LogBar(total, desc)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", leave=False, dynamic_ncols=True, disable=False)
