"""A per-token rate limit: a token bucket of `burst` requests, refilled at `per_minute`."""

from __future__ import annotations

import math
import threading
import time


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
        with self._lock:
            tokens, at = self._buckets.get(name, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[name] = (tokens - 1, now)
                return None
            self._buckets[name] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))
