"""Benchmark helpers: a git worktree of another revision (``--against REV``) and child processes that run a
workload with ``PYTHONPATH`` pointing at a given source tree, so both trees run the same workload in one session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
"""The source tree this script belongs to."""


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """A detached git worktree of ``rev`` in a temporary folder, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="simfunnel-bench-"))
    path = tmp / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(path), rev], check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def child_env(tree: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child that imports simfunnel from ``tree`` (quiet, no plots on screen)."""
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(tree), "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"})
    env.update(extra or {})
    return env


def run_child(
    tree: Path, argv: Sequence[str], extra_env: Mapping[str, str] | None = None, timeout: float = 3600
) -> dict[str, Any]:
    """Run ``python argv...`` in ``tree`` (cwd and PYTHONPATH); the last stdout line is JSON, returned parsed.
    A failing child returns ``{"error": "..."}`` instead of raising (an old revision may lack an API)."""
    proc = subprocess.run(
        [sys.executable, *argv],
        cwd=tree,
        env=child_env(tree, extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}
    try:
        return json.loads(lines[-1])
    except ValueError:
        return {"error": f"no JSON result: {lines[-1][:200]}"}


def simulated_buyers(result: Any) -> float:
    """Every buyer a run simulated, warm-up included (its CPU time covers them all): the buyer table's length.
    ``summary["buyers"]`` counts the measured window only, so per-buyer costs of a warmed-up run would look
    up to 1.5x dearer than those of an older revision without a warm-up."""
    table = getattr(getattr(result, "ledger", None), "buyers", None)
    return float(table.n) if table is not None and hasattr(table, "n") else float(result.summary["buyers"])
