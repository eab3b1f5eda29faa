"""A per-token rate limit: a token bucket of `burst` requests, refilled at `per_minute`.

`RateLimiter` keeps the buckets in the process; `SharedRateLimiter` in a small file mapped
into every worker process of `recon web --workers N`, under a file lock, so a token's limit
is one limit whichever worker answers it."""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
from contextlib import contextmanager


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, clock=time.monotonic):
        self.per_second = per_minute / 60
        self.burst = burst if burst is not None else max(1, per_minute // 4)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, at)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def take(self, name: str) -> int | None:
        """None when the request may go ahead, else the whole seconds until it may."""
        if not self.enabled:
            return None
        now = self.clock()
        with self._locked():
            tokens, at = self._get(name) or (float(self.burst), now)
            tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._put(name, tokens - 1, now)
                return None
            self._put(name, tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))

    def _locked(self):
        return self._lock

    def _get(self, name: str) -> tuple[float, float] | None:
        return self._buckets.get(name)

    def _put(self, name: str, tokens: float, at: float) -> None:
        self._buckets[name] = (tokens, at)


SLOT = struct.Struct("<8sdd")  # name digest, tokens, at (CLOCK_MONOTONIC: one clock per boot)
SLOTS = 4096


class SharedRateLimiter(RateLimiter):
    """The buckets in `path` (made by `create`), shared by the processes that open it. Names
    are kept by an 8-byte digest in an open-addressed table of SLOTS buckets; past that many
    tokens in use, the oldest bucket of the probe is reused (its token starts full again)."""

    def __init__(self, path, per_minute: int, burst: int | None = None, clock=time.monotonic):
        super().__init__(per_minute, burst, clock)
        self._fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        self._map = mmap.mmap(self._fd, SLOT.size * SLOTS)

    @staticmethod
    def create(path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.ftruncate(fd, SLOT.size * SLOTS)
        finally:
            os.close(fd)

    @contextmanager
    def _locked(self):
        with self._lock:  # threads of this process, then the other processes
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _slot(self, name: str) -> tuple[int, bytes, bool]:
        """The slot of `name`, its digest, and whether the slot holds it (else a free or the
        stalest one of the probe)."""
        digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
        start = int.from_bytes(digest, "little") % SLOTS
        stalest, stalest_at = start, math.inf
        for probe in range(16):
            i = (start + probe) % SLOTS
            held, _, at = SLOT.unpack_from(self._map, i * SLOT.size)
            if held == digest:
                return i, digest, True
            if held == bytes(8):
                return i, digest, False
            if at < stalest_at:
                stalest, stalest_at = i, at
        return stalest, digest, False

    def _get(self, name: str) -> tuple[float, float] | None:
        i, _, found = self._slot(name)
        if not found:
            return None
        _, tokens, at = SLOT.unpack_from(self._map, i * SLOT.size)
        return tokens, at

    def _put(self, name: str, tokens: float, at: float) -> None:
        i, digest, _ = self._slot(name)
        SLOT.pack_into(self._map, i * SLOT.size, digest, tokens, at)
