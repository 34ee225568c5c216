"""Light SimPy processes for the model's hot path: a generator driven straight from event callbacks.

A `Flow` runs a generator like a `simpy.Process` does, with less machinery per step (issue 11): it starts at once
(no Initialize event) and ends without an event of its own (nothing waits for a lead or a customer to finish);
the generator yields either a SimPy event to wait for (a rep request) or a bare delay in days, which the flow
serves with one reusable event of its own instead of a new `Timeout` per wait (pushed on SimPy's queue as
`Environment.schedule` does, without the call); ``(delay, generator)`` also
starts `generator` as a flow right after the wait is scheduled (where a process started before it would start). The delay is scheduled exactly as
`env.timeout(delay)` would (time ``now + delay``, normal priority, the next event id), so the order of events, ties
included, is the one a `Process` yielding timeouts gives.

`Walker` holds the timed work scheduled far ahead (leads waiting for their handoff day) in a heap of its own and
keeps only the earliest of it in SimPy's event queue: each entry keeps the event id it would have had as a timeout,
so it runs exactly where that timeout would have run (`reserve_id`)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from heapq import heappush

import simpy
from simpy.events import NORMAL, Event


class Flow:
    """Drives `generator` by callbacks: started at once by the constructor (its first step runs now)."""

    __slots__ = ("env", "send", "wake", "started")

    def __init__(self, env: simpy.Environment, generator: Generator, started: list | None = None) -> None:
        self.env = env
        self.send = generator.send
        self.started = started
        wake = self.wake = Event(env)  # reused for every delay: triggered (ok, no value), rescheduled per wait
        wake._ok = True
        wake._value = None
        if started is not None:
            started.append(generator)  # closed by `simulate` at the end of the run (no cycle outlives it)
        self(START)

    def __call__(self, event: Event | _Start) -> None:
        """The callback of the event the generator waits for: run the generator, with the event's value, to its
        next wait and register for that."""
        send, value = self.send, event._value
        while True:
            try:
                target = send(value)
            except StopIteration:
                return
            cls = target.__class__
            if cls is float or cls is tuple or not isinstance(target, Event):
                wake = self.wake
                wake.callbacks = [self]
                env = self.env
                if cls is tuple:  # (delay, generator): wait, then start the generator
                    heappush(env._queue, (env._now + target[0], NORMAL, next(env._eid), wake))  # = env.schedule
                    Flow(env, target[1], self.started)
                    return
                heappush(env._queue, (env._now + target, NORMAL, next(env._eid), wake))  # = env.schedule
                return
            if target.callbacks is not None:
                target.callbacks.append(self)
                return
            value = target._value  # already processed: go on at once, as a Process does


class _Start:
    """What a flow starts with: no event, the value None (a generator's first send)."""

    _value = None


START = _Start()


def reserve_id(env: simpy.Environment) -> int:
    """Take the next event id from SimPy's counter, as creating an event there would (see `Walker`)."""
    return next(env._eid)  # type: ignore[attr-defined]


class Walker:
    """Timed work kept out of SimPy's queue until it is next: ``push(time, eid, action)`` runs ``action()`` at
    ``time`` in the place of event id ``eid`` (from `reserve_id` when the work was scheduled). Only the earliest
    entry has an event in SimPy's queue, so the queue stays small however far ahead the work is scheduled."""

    __slots__ = ("env", "heap", "pending", "_fire")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.heap: list[tuple[float, int, Callable[[], None]]] = []
        self.pending: set[tuple[float, int]] = set()  # keys with an event in SimPy's queue
        self._fire = self.fire

    def push(self, time: float, eid: int, action: Callable[[], None]) -> None:
        heap = self.heap
        heapq.heappush(heap, (time, eid, action))
        if heap[0][1] == eid:  # the new earliest entry: it needs its own event
            self._schedule(time, eid)

    def fire(self, event: Event) -> None:
        """Run the entry whose event this is, then make sure the next entry has an event."""
        key = event._value
        self.pending.discard(key)
        heap = self.heap
        if heap and heap[0][0] == key[0] and heap[0][1] == key[1]:
            heapq.heappop(heap)[2]()
        if heap:
            top = heap[0]
            if (top[0], top[1]) not in self.pending:
                self._schedule(top[0], top[1], event)

    def _schedule(self, time: float, eid: int, event: Event | None = None) -> None:
        """Put entry (time, eid) in SimPy's queue as an event (`event`, one that has been processed, is reused)."""
        if event is None:
            event = Event(self.env)
            event._ok = True
        event._value = (time, eid)
        event.callbacks = [self._fire]
        self.pending.add((time, eid))
        heapq.heappush(self.env._queue, (time, NORMAL, eid, event))  # type: ignore[attr-defined]

    def clear(self) -> None:
        """Drop the work still waiting (the end of the run)."""
        self.heap.clear()
        self.pending.clear()


__all__ = ["Flow", "Walker", "reserve_id"]
