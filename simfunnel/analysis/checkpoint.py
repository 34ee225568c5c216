"""Exploration checkpoints: every finished (world, policy) on disk, so an interrupted `explore` resumes.

One row per (world, policy, replication, metric) with the fingerprint of the world's full scenario
(`simfunnel.experiments.checkpoint.point_key`) and the root seed. Finished points are buffered and written at
most every `FLUSH_SECONDS` (and when the exploration ends or is interrupted), each time to a temporary file
that is then renamed: the file is never half-written; a kill loses at most the last few seconds of runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from glob import escape as glob_escape
from pathlib import Path

import numpy as np
import pandas as pd

from simfunnel.experiments.checkpoint import pid_alive
from simfunnel.experiments.seeds import seed_from_parts

__all__ = ["FLUSH_SECONDS", "ExploreCheckpoint"]

FLUSH_SECONDS = 1.0
"""Shortest time between two rewrites of the checkpoint file."""


class ExploreCheckpoint:
    """Finished exploration points on disk (Parquet or CSV), rewritten atomically."""

    COLUMNS = ("point_key", "entropy", "spawn_key", "world", "policy", "replication", "metric", "value")

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".parquet", ".pq", ".csv"):
            raise ValueError(f"checkpoint must end in .parquet or .csv, got {self.path.name!r}")
        self.fmt = "csv" if suffix == ".csv" else "parquet"
        self._remove_stale_temporaries()
        self.frame = self._read()
        self._pending: list[pd.DataFrame] = []
        self._last_write = time.monotonic()

    def _tmp(self) -> Path:
        return self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")

    def _remove_stale_temporaries(self) -> None:
        prefix = f".{self.path.name}."
        for tmp in self.path.parent.glob(f"{glob_escape(prefix)}*.tmp"):
            pid = tmp.name[len(prefix) : -len(".tmp")]
            if pid.isdigit() and not pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)

    def _read(self) -> pd.DataFrame:
        if not self.path.exists():
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in self.COLUMNS})
        if self.fmt == "csv":
            exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
            text = {c: str for c in ("point_key", "entropy", "spawn_key", "policy", "metric")}
            frame = pd.read_csv(self.path, dtype=text, keep_default_na=False, na_values={"value": ["", "nan"]}, **exact)
        else:
            frame = pd.read_parquet(self.path)
        missing = set(self.COLUMNS) - set(frame.columns)
        if missing:
            raise ValueError(f"{self.path}: not a simfunnel explore checkpoint (missing columns {sorted(missing)})")
        return frame

    def stored_seed(self) -> np.random.SeedSequence | None:
        """The root seed of the stored runs (None when empty); a mix of seeds is an error."""
        if self.frame.empty:
            return None
        seeds = self.frame[["entropy", "spawn_key"]].drop_duplicates()
        if len(seeds) > 1:
            raise ValueError(f"{self.path} holds runs of {len(seeds)} different seeds; pass seed= explicitly")
        entropy, spawn_key = seeds.iloc[0]
        return seed_from_parts(json.loads(entropy), json.loads(spawn_key))

    @staticmethod
    def seed_id(root: np.random.SeedSequence) -> tuple[str, str]:
        """(entropy, spawn key) of a root seed as the JSON text stored in the file."""
        entropy = root.entropy if isinstance(root.entropy, int) else [int(e) for e in root.entropy]
        return json.dumps(entropy), json.dumps([int(k) for k in root.spawn_key])

    def load_runs(self, root: np.random.SeedSequence) -> dict[tuple[str, int], dict[str, float]]:
        """The stored KPIs of this root seed by (point key, replication)."""
        entropy, spawn_key = self.seed_id(root)
        f = self.frame
        f = f[(f["entropy"].astype(str) == entropy) & (f["spawn_key"].astype(str) == spawn_key)]
        runs: dict[tuple[str, int], dict[str, float]] = {}
        for key, rep, metric, value in zip(f["point_key"], f["replication"], f["metric"], f["value"], strict=True):
            runs.setdefault((str(key), int(rep)), {})[str(metric)] = float(value)
        return runs

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp()
        try:
            if self.fmt == "csv":
                self.frame.to_csv(tmp, index=False)
            else:
                self.frame.to_parquet(tmp, index=False)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
        self._last_write = time.monotonic()
