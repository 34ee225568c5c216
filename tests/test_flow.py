"""The light processes of the hot path (issue 11) are pure speed-ups: a `Flow` runs a generator in the order a
SimPy Process would, the handoff `Walker` runs its entries where their timeouts would have run, and
`keyed_generator` gives the numbers of the SeedSequence it stands for."""

from __future__ import annotations

import numpy as np
import simpy

from simfunnel.model.flow import Flow, Walker, reserve_id
from simfunnel.model.streams import keyed_generator


def _worker(env: simpy.Environment, log: list, name: str, delays: list[float], gate: simpy.Event, timeout: bool):
    for k, d in enumerate(delays):
        yield env.timeout(d) if timeout else d
        log.append((env.now, name, k))
        if k == 1:
            value = yield gate
            log.append((env.now, name, "gate", value))


def _run(use_flow: bool) -> list:
    env = simpy.Environment()
    log: list = []
    gate = env.event()
    specs = [("a", [1.0, 1.0, 2.0]), ("b", [2.0, 0.5, 0.5]), ("c", [1.0, 1.0, 1.0])]  # ties at 1.0, 2.0, 3.0
    for name, delays in specs:
        gen = _worker(env, log, name, delays, gate, timeout=not use_flow)
        if use_flow:
            Flow(env, gen)
        else:
            env.process(gen)
    env.timeout(2.5).callbacks.append(lambda _ev: gate.succeed("open"))
    env.run(until=10)
    return log


def test_a_flow_runs_like_a_process_ties_included():
    assert _run(use_flow=True) == _run(use_flow=False)


def _walker_order(use_walker: bool) -> list:
    env = simpy.Environment()
    log: list = []
    walker = Walker(env)
    times = [3.0, 1.0, 2.0, 1.0, 3.0, 0.5]  # ties among entries and with the plain timeouts below
    for j, t in enumerate(times):
        if use_walker:
            walker.push(t, reserve_id(env), lambda j=j: log.append((env.now, "entry", j)))
        else:
            env.timeout(t).callbacks.append(lambda _ev, j=j: log.append((env.now, "entry", j)))
        env.timeout(t).callbacks.append(lambda _ev, j=j: log.append((env.now, "other", j)))
    env.run(until=5)
    return log


def test_the_walker_runs_entries_where_their_timeouts_would_run():
    assert _walker_order(use_walker=True) == _walker_order(use_walker=False)


def test_keyed_generator_gives_the_seed_sequences_numbers():
    root = np.random.SeedSequence(12345, spawn_key=(3,))
    want = np.random.Generator(np.random.PCG64(np.random.SeedSequence(12345, spawn_key=(3, 7, 1 << 40)))).uniform(
        size=5
    )
    for _ in range(2):  # computed, then remembered
        assert (keyed_generator(root, 7, 1 << 40).uniform(size=5) == want).all()
    assert not (keyed_generator(root, 7, 1).uniform(size=5) == want).any()


def test_keyed_generator_reads_a_large_entropy_as_seed_sequence_does():
    for entropy in (0, 1, 2**32, 2**127 + 12345):
        root = np.random.SeedSequence(entropy)
        want = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(5,)))).uniform(size=3)
        assert (keyed_generator(root, 5).uniform(size=3) == want).all()
