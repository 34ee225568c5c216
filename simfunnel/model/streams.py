"""Independent random streams, one per mechanism, spawned from the run's SeedSequence."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from itertools import chain

import numpy as np

from simfunnel.model.seed_words import KeyedSeeds, uint32_words

MECHANISMS = ("market", "marketing", "handoff", "sales", "retention")


def root_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """The run's root SeedSequence: passed through, or built from an int (None draws fresh entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


STATE_MEMO_SIZE = 100_000
"""Keyed stream seeds remembered per process (about 0.25 KB each, 25 MB at most); the memo starts afresh when full."""
_states: dict[tuple, np.ndarray] = {}
_entropy_words: dict[int, np.ndarray] = {}


class _KnownState(np.random.bit_generator.ISeedSequence):
    """A SeedSequence's PCG64 seed words, worked out before: PCG64 built on it equals PCG64 on the SeedSequence."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        if n_words != 4 or dtype is not np.uint64:  # only what PCG64 asks for
            raise ValueError("a known state serves PCG64 seeding only")
        return self.words


class SeedStore:
    """A run's seed words of the keyed streams ``(root, *prefix, k)``, worked out in bulk: the keys announced with
    `expect` (those that may need a stream) are hashed together, vectorised (`seed_words.KeyedSeeds`), when the
    first of them is asked for. Words never asked for die with the run, out of the process-wide memo."""

    __slots__ = ("root", "prefix", "_seeds", "_pending", "_rows", "_table")

    def __init__(self, root: np.random.SeedSequence, *prefix: int) -> None:
        self.root, self.prefix = root, prefix
        self._seeds: KeyedSeeds | None = None
        self._pending: set[int] = set()
        self._rows: dict[int, int] = {}
        """Key -> its row of `_table` (one table, not an array per key: ~70 bytes a key not asked for, not ~180)."""
        self._table = np.zeros((0, 4), np.uint64)

    def expect(self, keys: Iterable[int]) -> None:
        """Keys that may ask for their stream later in the run."""
        self._pending.update(keys)

    def take(self, key: tuple[int, ...]) -> np.ndarray | None:
        """The seed words of spawn key ``(*root.spawn_key, *key)`` if announced here (then forgotten), else None."""
        if key[:-1] != self.prefix:
            return None
        row = self._rows.pop(key[-1], None)
        if row is None and key[-1] in self._pending:
            if self._seeds is None:
                self._seeds = KeyedSeeds(self.root, self.prefix)
            keys, start = list(self._pending), len(self._table)
            self._pending.clear()
            self._table = np.concatenate([self._table, self._seeds(keys)])
            self._rows.update(zip(keys, range(start, start + len(keys)), strict=True))
            row = self._rows.pop(key[-1])
        # copied out of the table, so that the process memo keeps 32 bytes alive, not the table
        return None if row is None else self._table[row].copy()


def keyed_generator(root: np.random.SeedSequence, *key: int, store: SeedStore | None = None) -> np.random.Generator:
    """The Generator of ``SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *key))`` on PCG64, identical
    numbers. Building a SeedSequence and hashing it into PCG64's seed costs ~9 us; a run builds one per customer,
    and replications that share a seed (the scenarios of a comparison, coalitions, sweep points) need the same
    ones again, so the seed words are remembered per (entropy, spawn key). A `store` of the same root may have
    them worked out in bulk already."""
    entropy, spawn_key = root.entropy, (*root.spawn_key, *key)
    memo_key = (entropy if isinstance(entropy, int) else tuple(np.ravel(entropy).tolist()), spawn_key)
    words = _states.get(memo_key)
    if words is None:
        words = store.take(key) if store is not None and store.root is root else None
        if words is None:
            # the entropy as SeedSequence reads an int (32-bit words, least significant first), converted once
            if isinstance(entropy, int) and entropy >= 0:
                entropy = _entropy_words.get(entropy)
                if entropy is None:
                    entropy = _entropy_words[root.entropy] = uint32_words(root.entropy)
            words = np.random.SeedSequence(entropy, spawn_key=spawn_key).generate_state(4, np.uint64)
        if len(_states) >= STATE_MEMO_SIZE:
            _states.clear()
            _entropy_words.clear()
        _states[memo_key] = words
    return np.random.Generator(np.random.PCG64(_KnownState(words)))


def mechanism_streams(seed: int | np.random.SeedSequence | None) -> dict[str, np.random.Generator]:
    """One Generator per mechanism. Children are built from (entropy, spawn_key) rather than `spawn()`,
    so passing the same SeedSequence twice gives the same streams."""
    root = root_sequence(seed)
    return {
        name: np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i))))
        for i, name in enumerate(MECHANISMS)
    }


def buffered(draw: Callable[[int], np.ndarray], size: int = 1024) -> Callable[[], float]:
    """A callable handing out the floats of ``draw(size)``, drawn in bulk when the last batch is used up
    (per-event numpy scalar draws are slow and leak np.float64 clocks). Built from C-level iterators, so a call
    runs no Python code but the refill: ``next`` over the chained batches that ``iter(refill, None)`` draws."""
    batches = iter(lambda: draw(size).tolist(), None)  # the sentinel never comes: an endless stream of batches
    return partial(next, chain.from_iterable(batches))
