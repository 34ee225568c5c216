"""Progress bars for experiments: tqdm (auto) in notebooks and terminals, quiet in CI.

``progress=None`` (auto) shows a bar only when somebody can see it:

- never when the environment variable ``TQDM_DISABLE`` is set to a true value (``1``, ``true``, ``yes``) or
  ``CI`` is set to anything but ``""``/``0``/``false`` (GitHub Actions, GitLab and most CI services set it);
- in a Jupyter kernel (``ipykernel`` loaded and an IPython kernel running): yes, ``tqdm.auto`` draws a widget
  there (or falls back to text when ipywidgets is missing);
- otherwise only when standard error is a terminal.

``progress=True`` forces a bar, ``progress=False`` silences it. A bar is only drawn for more than one task.
"""

from __future__ import annotations

import os
import sys
from typing import Any

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


def progress_enabled(progress: bool | None = None) -> bool:
    """Resolve ``progress`` (True / False / None = auto) into whether to draw a bar."""
    if progress is not None:
        return bool(progress)
    if _env_true("TQDM_DISABLE") or _env_true("CI"):
        return False
    if in_jupyter_kernel():
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced stderr
        return False


class _NoBar:
    """The parts of the tqdm interface the experiments use, doing nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_bar(total: int, desc: str, progress: bool | None = None) -> Any:
    """A ``tqdm.auto`` bar over ``total`` tasks, or a silent stand-in (same methods) when not wanted."""
    if total <= 1 or not progress_enabled(progress):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", leave=False, dynamic_ncols=True, disable=False)
