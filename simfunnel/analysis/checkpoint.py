"""Exploration checkpoints: every finished (world, policy) on disk, so an interrupted `explore` resumes.

One row per (world, policy, replication, metric) with the fingerprint of the world's full scenario
(`simfunnel.experiments.checkpoint.point_key`) and the root seed. Finished points are buffered and written at
most every `FLUSH_SECONDS` (and when the exploration ends or is interrupted), each time to a temporary file
that is then renamed: the file is never half-written; a kill loses at most the last few seconds of runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from simfunnel.experiments.checkpoint import RunsFile

__all__ = ["FLUSH_SECONDS", "ExploreCheckpoint"]

FLUSH_SECONDS = 1.0
"""Shortest time between two rewrites of the checkpoint file."""


class ExploreCheckpoint(RunsFile):
    """Finished exploration points on disk (Parquet or CSV), rewritten atomically at most every `FLUSH_SECONDS`."""

    COLUMNS = ("point_key", "entropy", "spawn_key", "world", "policy", "replication", "metric", "value")
    TEXT = ("point_key", "entropy", "spawn_key", "policy", "metric")
    KIND = "explore"

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path)
        self._pending: list[pd.DataFrame] = []
        self._last_write = time.monotonic()

    def add_point(
        self,
        root: np.random.SeedSequence,
        key: str,
        world: int,
        policy: str,
        runs: Mapping[int, Mapping[str, float]],
    ) -> None:
        """Buffer the runs of one finished point; write the file if the last write is `FLUSH_SECONDS` old."""
        entropy, spawn_key = self.seed_id(root)
        rows = [
            (key, entropy, spawn_key, int(world), policy, int(r), str(m), float(v))
            for r in sorted(runs)
            for m, v in runs[r].items()
        ]
        self._pending.append(pd.DataFrame(rows, columns=list(self.COLUMNS)))
        if time.monotonic() - self._last_write >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write every buffered point now (atomically: temporary file, then rename)."""
        if not self._pending:
            return
        new = pd.concat([self.frame, *self._pending], ignore_index=True) if not self.frame.empty else None
        if new is None:
            new = pd.concat(self._pending, ignore_index=True)
        new = new.drop_duplicates(subset=["point_key", "entropy", "spawn_key", "replication", "metric"], keep="last")
        self.frame = new.astype({"world": np.int64, "replication": np.int64, "value": float}).reset_index(drop=True)
        self._pending = []
        self._write()
        self._last_write = time.monotonic()
