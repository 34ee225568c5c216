"""Independent random streams, one per mechanism, spawned from the run's SeedSequence."""

from __future__ import annotations

import numpy as np

MECHANISMS = ("market", "marketing", "handoff", "sales", "retention")


def root_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """The run's root SeedSequence: passed through, or built from an int (None draws fresh entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


def mechanism_streams(seed: int | np.random.SeedSequence | None) -> dict[str, np.random.Generator]:
    """One Generator per mechanism. Children are built from (entropy, spawn_key) rather than `spawn()`,
    so passing the same SeedSequence twice gives the same streams."""
    root = root_sequence(seed)
    return {
        name: np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i))))
        for i, name in enumerate(MECHANISMS)
    }


class Buffered:
    """Hands out floats drawn in bulk (per-event numpy scalar draws are slow and leak np.float64 clocks)."""

    __slots__ = ("_draw", "_buf", "_pos", "_size")

    def __init__(self, draw, size: int = 1024) -> None:  # noqa: ANN001 - draw(size) -> ndarray
        self._draw = draw
        self._size = size
        self._buf: list[float] = []
        self._pos = 0

    def __call__(self) -> float:
        if self._pos >= len(self._buf):
            self._buf = self._draw(self._size).tolist()
            self._pos = 0
        value = self._buf[self._pos]
        self._pos += 1
        return value
