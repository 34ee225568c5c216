"""Sweep checkpoints: every finished point's runs on disk (Parquet or CSV), so an interrupted sweep resumes.

One row per (point, replication, metric) with the point's scenario fingerprint (`point_key`), the root seed and
the overrides; the file is rewritten to a temporary name and renamed, so it is never half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.experiments.seeds import seed_from_parts
from simfunnel.scenario import Scenario

__all__ = ["Checkpoint", "RunsFile", "pid_alive", "point_key"]


def point_key(scenario: Scenario) -> str:
    """Fingerprint of a point's full scenario (and the simfunnel version) for checkpoint reuse."""
    from simfunnel import __version__

    data = json.dumps([__version__, scenario.model_dump()], sort_keys=True, default=repr)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


class RunsFile:
    """Finished runs on disk (Parquet or CSV), one row per (point, replication, metric) with the root seed;
    rewritten atomically (temporary file, then rename). Subclasses name their `COLUMNS`, their `KIND` and the
    columns read as text."""

    COLUMNS: tuple[str, ...] = ("point_key", "entropy", "spawn_key", "replication", "metric", "value")
    TEXT: tuple[str, ...] = ("point_key", "entropy", "spawn_key", "metric")
    KIND = "runs"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".parquet", ".pq", ".csv"):
            raise ValueError(f"checkpoint must end in .parquet or .csv, got {self.path.name!r}")
        self.fmt = "csv" if suffix == ".csv" else "parquet"
        self._remove_stale_temporaries()
        self.frame = self._read()

    def _tmp(self, pid: int) -> Path:
        return self.path.with_name(f".{self.path.name}.{pid}.tmp")

    def _remove_stale_temporaries(self) -> None:
        """A run killed while writing leaves its temporary file (never the checkpoint) behind: remove it."""
        prefix = f".{self.path.name}."
        for tmp in self.path.parent.glob(f"{glob_escape(prefix)}*.tmp"):
            pid = tmp.name[len(prefix) : -len(".tmp")]
            if pid.isdigit() and not pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)

    def _read(self) -> pd.DataFrame:
        if not self.path.exists():
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in self.COLUMNS})
        if self.fmt == "csv":
            # pandas 3 parses floats round-trip exactly by default (and deprecates the option); pandas 2 needs it
            exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
            frame = pd.read_csv(
                self.path,
                dtype=dict.fromkeys(self.TEXT, str),
                keep_default_na=False,
                na_values={"value": ["", "nan", "NaN"]},
                **exact,
            )
        else:
            frame = pd.read_parquet(self.path)
        missing = set(self.COLUMNS) - set(frame.columns)
        if missing:
            raise ValueError(f"{self.path}: not a simfunnel {self.KIND} checkpoint (missing columns {sorted(missing)})")
        return frame

    def stored_seed(self) -> np.random.SeedSequence | None:
        """The root seed of the stored runs (None for an empty checkpoint); a mix of seeds is an error."""
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

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp(os.getpid())
        try:
            if self.fmt == "csv":
                self.frame.to_csv(tmp, index=False)
            else:
                self.frame.to_parquet(tmp, index=False)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()


class Checkpoint(RunsFile):
    """Finished sweep points on disk: one row per (point, replication, metric); rewritten atomically."""

    COLUMNS = ("point_key", "entropy", "spawn_key", "replication", "metric", "value", "overrides")
    TEXT = ("point_key", "entropy", "spawn_key", "metric", "overrides")
    KIND = "sweep"

    def save_point(
        self, root: np.random.SeedSequence, key: str, overrides: Mapping[str, Any], runs: Mapping[int, Mapping]
    ) -> None:
        """Store (or replace) the runs of one finished point and rewrite the file atomically."""
        entropy, spawn_key = self.seed_id(root)
        ov = json.dumps(dict(overrides), sort_keys=True, default=repr)
        rows = [
            (key, entropy, spawn_key, int(r), str(m), float(v), ov) for r in sorted(runs) for m, v in runs[r].items()
        ]
        new = pd.DataFrame(rows, columns=list(self.COLUMNS))
        old = self.frame
        if not old.empty:
            same = (
                (old["point_key"].astype(str) == key)
                & (old["entropy"].astype(str) == entropy)
                & (old["spawn_key"].astype(str) == spawn_key)
                & old["replication"].isin(list(runs))
            )
            old = old[~same]
            new = pd.concat([old, new], ignore_index=True)
        self.frame = new.astype({"replication": np.int64, "value": float})
        self._write()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may still exist (True when unsure: then its files are left alone)."""
    if pid == os.getpid() or os.name != "posix":  # on Windows os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: leave the file alone
    return True
