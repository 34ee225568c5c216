"""The vectorised SeedSequence hashing (`simfunnel.model.seed_words`) and the run's `SeedStore` are pure speed-ups:
the seed words, and the Generators built on them, are NumPy's own for every entropy, spawn key, prefix and key."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simfunnel.model.seed_words import KeyedSeeds, seed_words
from simfunnel.model.streams import SeedStore, _KnownState, keyed_generator

BIG = 1 << 40
entropies = st.one_of(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**128 - 1),
    st.integers(2**128, 2**200),  # more run-entropy words than the pool holds
    st.just(0),
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=6),
)
spawn_keys = st.sampled_from([(), (3,), (1, 2)])
prefixes = st.sampled_from([(), (1_000_003,), (7, 2**33)])
keys = st.lists(
    st.one_of(
        st.sampled_from([0, 1, 2**32 - 1, 2**32, 2**64 - 1]),
        st.integers(0, 2**32 - 1),
        st.integers(0, 5000).map(lambda j: BIG + j),
        st.integers(0, 2**64 - 1),
    ),
    min_size=1,
    max_size=12,
)


def _numpy_words(entropy: object, spawn_key: tuple[int, ...]) -> np.ndarray:
    return np.random.SeedSequence(entropy, spawn_key=spawn_key).generate_state(4, np.uint64)


@settings(max_examples=300, deadline=None)
@given(entropies, spawn_keys, prefixes, keys)
def test_seed_words_are_seed_sequences_words(entropy, spawn_key, prefix, ks):
    root = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    got = seed_words(root, prefix, ks)
    assert got.dtype == np.uint64 and got.shape == (len(ks), 4)
    want = np.array([_numpy_words(entropy, (*spawn_key, *prefix, k)) for k in ks])
    assert (got == want).all()


@settings(max_examples=50, deadline=None)
@given(entropies, spawn_keys, keys)
def test_a_generator_on_the_words_draws_the_seed_sequences_numbers(entropy, spawn_key, ks):
    root = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    for k, words in zip(ks, KeyedSeeds(root, (1_000_003,))(np.array(ks, np.uint64)), strict=True):
        want = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(*spawn_key, 1_000_003, k)))
        )
        got = np.random.Generator(np.random.PCG64(_KnownState(words)))
        assert (got.uniform(size=4) == want.uniform(size=4)).all()
        assert (got.integers(0, 2**63, size=3) == want.integers(0, 2**63, size=3)).all()


def test_a_store_hashes_the_expected_keys_at_once_and_only_those():
    root = np.random.SeedSequence(2**127 + 99, spawn_key=(5,))
    store = SeedStore(root, 11)
    store.expect([3, BIG + 1])
    store.expect([3, 2**32])  # announced twice: hashed once
    assert store.take((11, 4)) is None  # never announced: the caller hashes it
    assert store.take((12, 3)) is None  # another prefix
    for k in (2**32, 3, BIG + 1):
        assert (store.take((11, k)) == _numpy_words(root.entropy, (5, 11, k))).all()
    assert store.take((11, 3)) is None  # handed out once, then forgotten
    want = np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(5, 11, 8))))
    store.expect([8])
    assert (keyed_generator(root, 11, 8, store=store).uniform(size=3) == want.uniform(size=3)).all()
