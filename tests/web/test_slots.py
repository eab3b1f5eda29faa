"""Concurrent lookups wait their turn in the order they came."""

from __future__ import annotations

import threading
import time

from transforms.web.slots import Slots


def test_a_freed_slot_goes_to_the_longest_waiter():
    slots = Slots(1)
    order: list[int] = []
    started: list[threading.Thread] = []

    def lookup(i: int):
        with slots:
            order.append(i)
            time.sleep(0.01)

    with slots:  # hold the slot while five lookups queue, one after another
        for i in range(5):
            t = threading.Thread(target=lookup, args=(i,))
            t.start()
            started.append(t)
            while len(slots._waiting) < i + 1:
                time.sleep(0.001)
    for t in started:
        t.join(10)
    assert order == [0, 1, 2, 3, 4]


def test_n_slots_let_n_in_at_once():
    slots = Slots(2)
    inside, most = [0], [0]
    lock = threading.Lock()

    def lookup():
        with slots:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=lookup) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 2 and slots._free == 2
