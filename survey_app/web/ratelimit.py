"""Submission rate limits that keep no address anywhere but in memory, and only hashed.

Each client is counted under an HMAC of its address with a random key made when the process
starts and never stored, so the counters cannot be turned back into addresses, and they vanish
with the process. Windows are one minute long.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def client_key(self, address: str | None) -> str:
        digest = hmac.new(self._key, (address or "").encode(), hashlib.sha256).hexdigest()
        return f"client:{digest[:32]}"

    def allow(self, key: str, limit: int) -> bool:
        """Count one hit for `key`; False when it already had `limit` hits in the last minute."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:
                self._forget_idle(now)
            return True

    def _forget_idle(self, now: float) -> None:
        for key in [
            k for k, hits in self._hits.items() if not hits or now - hits[-1] >= WINDOW_SECONDS
        ]:
            del self._hits[key]
