"""On-disk cache of run results: an identical run request is served from disk instead of simulated again.

A run is identified by everything that decides its result:

- the scenario: a canonical JSON of `Scenario.to_dict()` (keys sorted, floats as ``repr``, ``inf`` as
  ``"inf"``), without ``name`` and ``description`` - labels that the model never reads, so the aligned
  scenario and "siloed with every lever switched" (a Shapley coalition) share their runs;
- the seed: the `numpy.random.SeedSequence` entropy and spawn key of the replication (its child seed);
- the code: ``simfunnel.__version__`` and a SHA-256 of the model's source files (`MODEL_SOURCES`: the
  ``simfunnel/model`` package, ``ledger.py``, ``metrics.py``, ``simulate.py`` and ``distributions.py``), so an
  edit of the model invalidates every entry without anybody bumping a version.

The key is the SHA-256 of these parts; an entry is one JSON file ``<dir>/<key[:2]>/<key>.json`` holding the
run's flattened KPI summary (``{"kpi": float}``; NaN and inf as JSON's ``NaN``/``Infinity``, floats exact).
Other per-run tables (the explorer's weekly time series) are stored under the same key with a ``kind``
suffix. Files are written to a temporary name in the same folder and renamed with `os.replace`, so a reader
never sees half a file and concurrent writers of the same key simply leave one complete copy. An unreadable
entry counts as a miss.

Where: ``cache=True`` uses `default_cache_dir` (``$SIMFUNNEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/simfunnel``,
else ``~/.cache/simfunnel``); ``cache="path"`` a folder of your choice; ``cache=None``/``False`` no cache.
``SIMFUNNEL_CACHE=0`` (or ``false``/``no``/``off``) switches the cache off everywhere, whatever the argument.
Failed runs are never stored. Delete the folder (or call `ResultCache.clear`) to empty it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CacheLike",
    "MODEL_SOURCES",
    "ResultCache",
    "cache_enabled",
    "canonical_json",
    "default_cache_dir",
    "invalidate_fingerprint",
    "model_fingerprint",
    "resolve_cache",
]

_PACKAGE = Path(__file__).resolve().parent.parent  # the simfunnel package: MODEL_SOURCES are relative to it
MODEL_SOURCES = ("model/*.py", "ledger.py", "metrics.py", "simulate.py", "distributions.py")
"""Source files (globs relative to the package) whose content is part of every key."""

LABEL_FIELDS = ("name", "description")
"""Top-level scenario fields left out of the key: labels, never read by the model."""

_OFF = {"0", "false", "no", "off"}


# ----------------------------------------------------------------------------------------------- settings
def cache_enabled() -> bool:
    """False when the environment variable ``SIMFUNNEL_CACHE`` is ``0``/``false``/``no``/``off``."""
    return os.environ.get("SIMFUNNEL_CACHE", "").strip().lower() not in _OFF


def default_cache_dir() -> Path:
    """``$SIMFUNNEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/simfunnel``, else ``~/.cache/simfunnel``."""
    explicit = os.environ.get("SIMFUNNEL_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "simfunnel"


def resolve_cache(cache: CacheLike) -> ResultCache | None:
    """The `ResultCache` a ``cache=`` argument asks for, or None (off, or ``SIMFUNNEL_CACHE=0``)."""
    if cache is None or cache is False or not cache_enabled():
        return None
    if isinstance(cache, ResultCache):
        return cache
    if cache is True:
        return ResultCache()
    if isinstance(cache, str | os.PathLike):
        return ResultCache(cache)
    raise TypeError(f"cache must be None, a bool, a folder path or a ResultCache, got {type(cache).__name__}")


# ----------------------------------------------------------------------------------------------- keys
def _canonical(value: Any) -> Any:
    """Plain JSON data with floats as ``repr`` strings (exact; ``inf``/``-inf``/``nan`` spelled out)."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return "nan" if math.isnan(v) else repr(v)
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def canonical_json(value: Any) -> str:
    """Canonical JSON text of ``value`` (sorted keys, no spaces, floats as ``repr`` strings, inf as "inf")."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _scenario_data(scenario: Any) -> dict[str, Any]:
    data = scenario.to_dict() if hasattr(scenario, "to_dict") else dict(scenario)
    return {k: v for k, v in data.items() if k not in LABEL_FIELDS}


def _seed_parts(seed: Any) -> dict[str, Any]:
    if isinstance(seed, np.random.SeedSequence):
        entropy = seed.entropy
        entropy = [int(e) for e in entropy] if isinstance(entropy, list | tuple | np.ndarray) else int(entropy)
        return {"entropy": entropy, "spawn_key": [int(k) for k in seed.spawn_key], "pool_size": int(seed.pool_size)}
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        return {"int_seed": int(seed)}
    raise TypeError(f"a cached run needs a fixed seed (an int or a SeedSequence), got {seed!r}")


@functools.lru_cache(maxsize=1)
def _source_hash() -> str:
    h = hashlib.sha256()
    files = sorted({p for pattern in MODEL_SOURCES for p in _PACKAGE.glob(pattern) if p.is_file()})
    for path in files:
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def model_fingerprint() -> str:
    """``"<simfunnel version>+<first 16 hex of the model sources' SHA-256>"``: part of every key."""
    from simfunnel import __version__

    return f"{__version__}+{_source_hash()[:16]}"


def invalidate_fingerprint() -> None:
    """Forget the memoised source hash (for tests that edit or fake the sources)."""
    _source_hash.cache_clear()


# ----------------------------------------------------------------------------------------------- the cache
class ResultCache:
    """Run results on disk, keyed by (scenario, seed, model version + source hash). See the module docstring.

    ``hits``/``misses``/``writes`` count this object's lookups and stores."""

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0
        self.writes = 0

    def __repr__(self) -> str:
        return f"ResultCache({str(self.directory)!r}, hits={self.hits}, misses={self.misses}, writes={self.writes})"

    # -- keys
    def key(self, scenario: Any, seed: Any, kind: str = "summary", *, fingerprint: str | None = None) -> str:
        """SHA-256 (hex) of the scenario, the seed, the kind of record and the model fingerprint."""
        parts = {
            "scenario": _scenario_data(scenario),
            "seed": _seed_parts(seed),
            "kind": kind,
            "model": fingerprint if fingerprint is not None else model_fingerprint(),
        }
        return hashlib.sha256(canonical_json(parts).encode()).hexdigest()

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    # -- records
    def get(self, scenario: Any, seed: Any, kind: str = "summary") -> Any | None:
        """The stored record of this run, or None (a miss; also for an unreadable file)."""
        path = self.path_for(self.key(scenario, seed, kind))
        try:
            with path.open(encoding="utf-8") as fh:
                record = json.load(fh)
            data = record["data"]
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, scenario: Any, seed: Any, data: Any, kind: str = "summary") -> Path:
        """Store ``data`` (JSON-able; floats kept exact, NaN/inf allowed) atomically; returns the file."""
        fingerprint = model_fingerprint()
        key = self.key(scenario, seed, kind, fingerprint=fingerprint)
        record = {"key": key, "kind": kind, "model": fingerprint, "data": data}
        text = json.dumps(record, allow_nan=True, separators=(",", ":"))
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.writes += 1
        return path

    def get_summary(self, scenario: Any, seed: Any) -> dict[str, float] | None:
        data = self.get(scenario, seed, "summary")
        if not isinstance(data, dict):
            return None
        return {str(k): float(v) for k, v in data.items()}

    def put_summary(self, scenario: Any, seed: Any, summary: Mapping[str, float]) -> Path:
        return self.put(scenario, seed, {str(k): float(v) for k, v in summary.items()}, "summary")

    # -- housekeeping
    def entries(self) -> list[Path]:
        """Every stored record file."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("??/*.json"))

    def clear(self) -> int:
        """Delete every record (and stray temporary files); returns how many records were removed."""
        n = 0
        for path in self.entries():
            path.unlink(missing_ok=True)
            n += 1
        if self.directory.is_dir():
            for tmp in self.directory.glob("??/.*.tmp"):
                tmp.unlink(missing_ok=True)
        return n


CacheLike = bool | str | os.PathLike | ResultCache | None
"""What a ``cache=`` argument accepts: None/False (off), True (default folder), a folder, or a `ResultCache`."""
