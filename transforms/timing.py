"""Wall time of the run's phases, logged to the `recon` logger (`recon run --verbose`)."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

log = logging.getLogger("recon")


@contextmanager
def phase(what: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        log.info("%-60s %8.2f s", what, time.perf_counter() - start)
