"""The one recipe for the seeds of an experiment: a root `numpy.random.SeedSequence` and one child per replication.

A root ``SeedSequence(seed)`` has one child per replication: replication ``i`` always gets
``SeedSequence(entropy=root.entropy, spawn_key=root.spawn_key + (i,))``, the same child ``root.spawn(n)[i]``
would give, so replication ``i`` is identical whether ``n`` is 10 or 30 and a precision run that adds
replications extends the same sequence. Every scenario of a comparison, every point of a sweep and every
coalition of an attribution gets the *same* child ``i`` in replication ``i``: common random numbers, so
differences are paired and tight. The model spawns its per-mechanism streams from that child.

Everything in the experiment layer that derives a seed goes through this module (docs/pages/experiments.md#seeds).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SeedLike = int | np.random.SeedSequence | None
"""What a ``seed=`` argument accepts: an int, a SeedSequence, or None (fresh OS entropy)."""

PERMUTATION_KEY = 2**31 - 1
"""Child key of the stream that draws Shapley permutations: ``child_seed(root, PERMUTATION_KEY)``, disjoint from
the replication children 0, 1, 2, ..."""

DRAWS_KEY = 2**31 - 3
"""Child key of the stream that assigns parameter draws to replications (`simfunnel.experiments.draws`):
``child_seed(root, DRAWS_KEY)``; the design stream of `simfunnel.analysis.design` is 2**31 - 2."""

__all__ = [
    "DRAWS_KEY",
    "PERMUTATION_KEY",
    "SeedLike",
    "child_seed",
    "draws_seed",
    "fresh_seed",
    "permutation_seed",
    "root_seed",
    "seed_from_parts",
]


def root_seed(seed: SeedLike) -> np.random.SeedSequence:
    """The root SeedSequence of an experiment (``seed=None``: fresh OS entropy, kept on the result)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, a numpy SeedSequence or None, got {type(seed).__name__}")
    return np.random.SeedSequence(None if seed is None else int(seed))


def child_seed(root: np.random.SeedSequence, replication: int) -> np.random.SeedSequence:
    """Replication ``i``'s seed: equal to ``root.spawn(n)[i]`` for any ``n > i`` (a fresh object each call)."""
    return np.random.SeedSequence(
        entropy=root.entropy, spawn_key=(*root.spawn_key, int(replication)), pool_size=root.pool_size
    )


def permutation_seed(root: np.random.SeedSequence) -> np.random.SeedSequence:
    """The seed of the Shapley permutation stream: child `PERMUTATION_KEY` of ``root``."""
    return child_seed(root, PERMUTATION_KEY)


def draws_seed(root: np.random.SeedSequence) -> np.random.SeedSequence:
    """The seed of the permutation that assigns parameter draws to replications: child `DRAWS_KEY` of ``root``."""
    return child_seed(root, DRAWS_KEY)


def seed_from_parts(entropy: int | Sequence[int], spawn_key: Sequence[int] = ()) -> np.random.SeedSequence:
    """The root stored on a result (``exp.seed``, ``exp.spawn_key``) or in a checkpoint, rebuilt."""
    return np.random.SeedSequence(entropy, spawn_key=tuple(int(k) for k in spawn_key))


def fresh_seed(seed: np.random.SeedSequence) -> np.random.SeedSequence:
    """A copy with no children spawned yet: a run that calls ``seed.spawn`` must not change the next run."""
    return np.random.SeedSequence(entropy=seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
