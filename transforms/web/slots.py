"""A first-come, first-served limit on concurrent lookups."""

from __future__ import annotations

import threading
from collections import deque


class Slots:
    """At most `n` holders at a time, the others served in the order they came.

    `threading.Semaphore` lets a thread arriving just as a slot frees take it before the
    ones already waiting, so under a steady queue some lookups wait many turns: the tail
    latency of a busy service is that unfairness. Here a freed slot is handed to the longest
    waiter directly."""

    def __init__(self, n: int):
        if n < 1:
            raise ValueError(f"slots: expected at least 1, found {n}")
        self._free = n
        self._waiting: deque[threading.Lock] = deque()
        self._lock = threading.Lock()

    def __enter__(self) -> Slots:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder that hands its slot over
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1
