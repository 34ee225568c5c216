"""Worker processes and scripts without an ``if __name__ == "__main__":`` guard (issue 10.1).

Under the ``spawn`` and ``forkserver`` start methods every worker process re-imports the main script. A script
that calls an experiment at import time (no guard) then runs the experiment again inside each worker, which
tries to start workers of its own while still bootstrapping, and dies. Two helpers make that failure say so:

- `check_not_reimported_main` (in the worker): an experiment called from the top-level code of the re-imported
  script (``__mp_main__``) stops at once with `UNGUARDED_MAIN`, instead of first simulating whatever the script
  runs before (or serially) and then dying anyway;
- `main_reimport_fails` (in the parent, after a pool broke before running any task): starts one probe process
  that does nothing; if even that dies, the cause is the main script, not the tasks.
"""

from __future__ import annotations

import inspect
import sys
from multiprocessing.context import BaseContext

from simfunnel.errors import ExperimentError

__all__ = ["UNGUARDED_MAIN", "check_not_reimported_main", "main_reimport_fails", "main_script", "unguarded_message"]

UNGUARDED_MAIN = (
    "worker processes died while re-importing the main script {script} before running any task: it starts an "
    "experiment when imported. Guard the script's entry point with if __name__ == '__main__': or use "
    "executor='serial'"
)
"""The error of every run whose workers could not start because of an unguarded main script."""

PROBE_TIMEOUT = 600.0
"""Seconds to wait for the probe process (it re-runs whatever the script does before its first experiment)."""


def main_script() -> str | None:
    """The file of the ``__main__`` module when it is a script or ``python -m`` module (None in a REPL/notebook)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return str(path) if path else None


def unguarded_message(script: str | None = None) -> str:
    """`UNGUARDED_MAIN` naming the script."""
    return UNGUARDED_MAIN.format(script=script or main_script() or "__main__")


def _reimported_script() -> str | None:
    """The script whose top-level code is running on the caller's stack as ``__mp_main__`` - a spawn/forkserver
    worker re-importing the main script, where a guard would have skipped this code - or None."""
    if "__mp_main__" not in sys.modules:  # set only in spawn/forkserver workers
        return None
    frame = inspect.currentframe()
    try:
        while frame is not None:
            if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__mp_main__":
                return str(frame.f_globals.get("__file__") or "__main__")
            frame = frame.f_back
        return None
    finally:
        del frame


def check_not_reimported_main() -> None:
    """Raise `ExperimentError` when an experiment is started by the re-import of an unguarded main script inside a
    worker process (the worker then dies at once, and the parent names the cause); otherwise do nothing."""
    script = _reimported_script()
    if script is not None:
        raise ExperimentError(
            f"this worker process re-imports the main script {script}, which starts an experiment when imported. "
            "Guard the script's entry point with if __name__ == '__main__': or use executor='serial'"
        )


def _probe() -> None:
    """The probe's task: nothing (it only has to survive importing the main script)."""


def main_reimport_fails(context: BaseContext) -> bool:
    """True when a process of ``context`` cannot even start because re-importing the main script fails.

    Only meaningful for ``spawn``/``forkserver`` and a file-based ``__main__``; False otherwise, and when the
    probe cannot be started or does not finish within `PROBE_TIMEOUT`."""
    if context.get_start_method() not in ("spawn", "forkserver") or main_script() is None:
        return False
    try:
        proc = context.Process(target=_probe, name="simfunnel-probe", daemon=True)
        proc.start()
        proc.join(PROBE_TIMEOUT)
    except Exception:  # noqa: BLE001 - cannot tell: fall back to the ordinary diagnosis
        return False
    if proc.exitcode is None:
        proc.terminate()
        proc.join(5)
        return False
    return proc.exitcode != 0
