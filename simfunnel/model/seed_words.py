"""NumPy's SeedSequence hashing (numpy/random/bit_generator.pyx, after O'Neill's seed_seq) vectorised over many
spawn keys: the PCG64 seed words of ``SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *prefix, k))`` for a
whole array of keys ``k`` at once, the same numbers as ``generate_state(4, np.uint64)`` at a fraction of the cost
of building one SeedSequence per key (~9 us each)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

POOL_SIZE = 4
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = 16
MASK32 = 0xFFFFFFFF


def uint32_words(n: int) -> np.ndarray:
    """A non-negative int as the uint32 words SeedSequence turns it into (least significant first; 0 is one word)."""
    if n < 0:
        raise ValueError("expected a non-negative integer")
    return np.array([(n >> (32 * i)) & MASK32 for i in range(max(1, (n.bit_length() + 31) // 32))], np.uint32)


def entropy_words(entropy: int | Sequence[int] | np.ndarray) -> np.ndarray:
    """The uint32 words of a SeedSequence's entropy: an int split into words, a sequence of ints each split."""
    if isinstance(entropy, (int, np.integer)):
        return uint32_words(int(entropy))
    parts = [uint32_words(int(v)) for v in entropy]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint32)


def _consts(init: int, mult: int, n: int) -> np.ndarray:
    """The hash constant before each of n steps and after the last: init, init * mult, ... (mod 2**32)."""
    out = [init]
    for _ in range(n):
        out.append(out[-1] * mult & MASK32)
    return np.array(out, np.uint32)


def _hashmix(value: np.ndarray, consts: np.ndarray, step: np.ndarray | int) -> np.ndarray:
    """``hashmix`` at hash step(s) `step` (the multiplier has been advanced `step` times); uint32 wraps."""
    value = (value ^ consts[step]) * consts[np.add(step, 1)]
    return value ^ (value >> XSHIFT)


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``mix``: a pool word with a hashed word (uint32 wraps)."""
    result = x * np.uint32(MIX_MULT_L) - y * np.uint32(MIX_MULT_R)
    return result ^ (result >> XSHIFT)


def _start_pool(run_words: np.ndarray, consts: np.ndarray) -> np.ndarray:
    """The pool after its first POOL_SIZE words and the all-pairs mixing (hash steps 0 .. 15), shape (1, POOL_SIZE)."""
    pool = _hashmix(run_words[None, :POOL_SIZE], consts, np.arange(POOL_SIZE))
    step = POOL_SIZE
    for src in range(POOL_SIZE):
        for dst in range(POOL_SIZE):
            if src != dst:  # one word at a time: later pairs read the words mixed before
                pool[:, dst] = _mix(pool[:, dst], _hashmix(pool[:, src], consts, step))
                step += 1
    return pool


def _absorb(pool: np.ndarray, word: np.ndarray, consts: np.ndarray, step: int) -> np.ndarray:
    """Mix one more entropy word per row into pools of shape (n, POOL_SIZE): each pool word with the word hashed
    at its own step (hash steps `step` .. `step` + POOL_SIZE - 1)."""
    return _mix(pool, _hashmix(word[:, None], consts, np.arange(step, step + POOL_SIZE)))


def _state_words(pool: np.ndarray) -> np.ndarray:
    """``generate_state(4, np.uint64)`` of pools of shape (n, POOL_SIZE): 8 uint32 words, paired little-endian."""
    consts = _consts(INIT_B, MULT_B, 8)
    data = _hashmix(pool[:, np.arange(8) % POOL_SIZE], consts, np.arange(8))
    return np.ascontiguousarray(data).view("<u8").astype(np.uint64)


class KeyedSeeds:
    """The seed words of the keyed children of one (root, prefix): the hashing of the entropy and spawn key words
    they share is done once, at construction; each call hashes only the keys' own words, vectorised."""

    __slots__ = ("_consts", "_pool", "_step")

    def __init__(self, root: np.random.SeedSequence, prefix: Sequence[int] = ()) -> None:
        run = entropy_words(root.entropy)
        if len(run) < POOL_SIZE:  # with a spawn key, SeedSequence pads the run entropy with zeros to the pool size
            run = np.concatenate([run, np.zeros(POOL_SIZE - len(run), np.uint32)])
        common = np.concatenate([run, entropy_words((*root.spawn_key, *prefix))])
        self._consts = _consts(INIT_A, MULT_A, POOL_SIZE * (len(common) + 2))  # room for two key words
        pool = _start_pool(common, self._consts)
        step = POOL_SIZE * POOL_SIZE
        for word in common[POOL_SIZE:]:
            pool = _absorb(pool, word[None], self._consts, step)
            step += POOL_SIZE
        self._pool, self._step = pool, step

    def __call__(self, keys: Iterable[int] | np.ndarray) -> np.ndarray:
        """Seed words of the keys (ints in [0, 2**64)), shape (len(keys), 4) uint64, one row per key."""
        keys = np.asarray(keys if isinstance(keys, np.ndarray) else list(keys), dtype=np.uint64).reshape(-1)
        lo, hi = (keys & np.uint64(MASK32)).astype(np.uint32), (keys >> np.uint64(32)).astype(np.uint32)
        out = np.empty((len(keys), 4), np.uint64)
        step = self._step
        for two in (False, True):  # a key below 2**32 is one uint32 word, a larger one two (low word first)
            rows = np.flatnonzero((hi != 0) == two)
            if len(rows):
                pools = _absorb(np.repeat(self._pool, len(rows), axis=0), lo[rows], self._consts, step)
                if two:
                    pools = _absorb(pools, hi[rows], self._consts, step + POOL_SIZE)
                out[rows] = _state_words(pools)
        return out


def seed_words(root: np.random.SeedSequence, prefix: Sequence[int], keys: Iterable[int] | np.ndarray) -> np.ndarray:
    """PCG64 seed words, shape (len(keys), 4) uint64: row r equals ``SeedSequence(root.entropy, spawn_key=(
    *root.spawn_key, *prefix, keys[r])).generate_state(4, np.uint64)``."""
    return KeyedSeeds(root, prefix)(keys)
