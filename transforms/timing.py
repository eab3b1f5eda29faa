"""Wall time of the run's phases, logged to the `recon` logger (`recon run --verbose`).

A listener (`listening(fn)`, used by the command line's progress display) is also told
when each phase starts and ends: `fn("start", phase, 0.0)` and `fn("end", phase, seconds)`.
Phases may run on several threads at once (ingest); a listener must be thread-safe and
must not raise (what it raises is ignored).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager

log = logging.getLogger("recon")


class Phase:
    """What `phase()` yields: its name, and a note the caller may set (e.g. "1,234 rows")."""

    __slots__ = ("what", "note")

    def __init__(self, what: str):
        self.what = what
        self.note: str | None = None


Listener = Callable[[str, Phase, float], None]
_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener):
    """Tell `listener` about every phase that starts or ends while inside this block."""
    _listeners.append(listener)
    try:
        yield listener
    finally:
        _listeners.remove(listener)


def _notify(event: str, p: Phase, seconds: float) -> None:
    for listener in list(_listeners):
        try:
            listener(event, p, seconds)
        except Exception:  # a display must never break the run
            log.debug("phase listener failed", exc_info=True)


@contextmanager
def phase(what: str):
    p = Phase(what)
    _notify("start", p, 0.0)
    start = time.perf_counter()
    try:
        yield p
    finally:
        seconds = time.perf_counter() - start
        if p.note:
            log.info("%-60s %8.2f s  %s", what, seconds, p.note)
        else:
            log.info("%-60s %8.2f s", what, seconds)
        _notify("end", p, seconds)
