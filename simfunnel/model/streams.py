"""Independent random streams, one per mechanism, spawned from the run's SeedSequence."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import chain

import numpy as np

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


def uint32_words(n: int) -> np.ndarray:
    """A non-negative int as the uint32 words SeedSequence turns it into (least significant first)."""
    return np.array([(n >> (32 * i)) & 0xFFFFFFFF for i in range(max(1, (n.bit_length() + 31) // 32))], np.uint32)


class _KnownState(np.random.bit_generator.ISeedSequence):
    """A SeedSequence's PCG64 seed words, worked out before: PCG64 built on it equals PCG64 on the SeedSequence."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        if n_words != 4 or dtype is not np.uint64:  # only what PCG64 asks for
            raise ValueError("a known state serves PCG64 seeding only")
        return self.words


def keyed_generator(root: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """The Generator of ``SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *key))`` on PCG64, identical
    numbers. Building a SeedSequence and hashing it into PCG64's seed costs ~15 us; a run builds one per customer,
    and replications that share a seed (the scenarios of a comparison, coalitions, sweep points) need the same
    ones again, so the seed words are remembered per (entropy, spawn key)."""
    entropy, spawn_key = root.entropy, (*root.spawn_key, *key)
    memo_key = (entropy if isinstance(entropy, int) else tuple(np.ravel(entropy).tolist()), spawn_key)
    words = _states.get(memo_key)
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
