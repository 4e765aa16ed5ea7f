"""Rate limits that keep no address anywhere, counted in this process or in a shared Redis.

Counters are fixed one-minute windows kept by the `limits` library: in this process's memory
when no store is configured (one worker only), or in Redis, so that every worker and every server
of a deployment counts with the same counters and a restart resets nothing.

A client is counted under an HMAC of its address. The HMAC key is random and lives only in
memory: this process's, or Redis's under a name that expires after two days (a documented
deployment runs Redis without persistence), so every process names a client alike and, once the
key is gone, nobody can turn a counter name back into an address.

Order matters: the client's own limit is checked first and a request it refuses never reaches
the link's counter, so one client hammering a link uses up only its own budget.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from ..messages import N_, DomainError

log = logging.getLogger(__name__)

ADDRESS_KEY_LIFETIME_SECONDS = 2 * 86400


class RateLimitStoreUnavailable(DomainError):
    def __init__(self, url: str, error: Exception) -> None:
        parts = urlsplit(url)  # never echo a password in the URL
        where = f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path
        super().__init__(
            N_(
                "rate_limits.storage_url: cannot reach Redis at %(where)s (%(error)s); "
                "start Redis or correct the setting"
            ),
            where=where,
            error=type(error).__name__,
        )


@dataclass(frozen=True)
class Limit:
    """At most `per_minute` hits under `name` in one minute."""

    name: str
    per_minute: int


@dataclass(frozen=True)
class Refused:
    """Which limit refused, and in how many seconds its window ends."""

    name: str
    retry_after_seconds: int


class CountersInMemory(MemoryStorage):
    """limits' memory store, less the timer thread it starts on every hit to expire counters.

    Starting a thread per hit cost more than the rest of a respondent's request; here an
    expired counter is dropped when it is next read, and all expired ones at most once a minute.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.timer.cancel()
        self._clock = clock
        self._lock = threading.Lock()
        self._next_sweep = clock() + self.SWEEP_SECONDS

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            self._drop_if_expired(key, now)
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = now + expiry
            return self.storage[key]

    def get(self, key: str) -> int:
        with self._lock:
            self._drop_if_expired(key, self._clock())
            return self.storage.get(key, 0)

    def get_expiry(self, key: str) -> float:
        return self.expirations.get(key, self._clock())

    def _drop_if_expired(self, key: str, now: float) -> None:
        if self.expirations.get(key, 0) <= now:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [key for key, at in self.expirations.items() if at <= now]:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
        self._next_sweep = now + self.SWEEP_SECONDS


class RateLimiter:
    def __init__(
        self,
        storage_url: str = "",
        key_prefix: str = "survey-app",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._prefix = key_prefix
        self.storage_url = storage_url
        self._local_key = secrets.token_bytes(32)
        self._shared_key: tuple[int, bytes] | None = None
        storage: Storage
        if storage_url:
            storage = RedisStorage(storage_url, key_prefix=key_prefix, wrap_exceptions=True)
            self._redis: redis.Redis | None = redis.Redis.from_url(storage_url)
        else:
            storage = CountersInMemory(clock)
            self._redis = None
        self.storage = storage
        self._strategy = FixedWindowRateLimiter(storage)

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def check_store(self) -> None:
        """Raise RateLimitStoreUnavailable unless the shared store answers."""
        if self._redis is None:
            return
        try:
            self._redis.ping()
        except redis.RedisError as error:
            raise RateLimitStoreUnavailable(self.storage_url, error) from None

    def client_key(self, address: str | None) -> str:
        digest = hmac.new(self._address_key(), (address or "").encode(), hashlib.sha256)
        return f"client:{digest.hexdigest()[:32]}"

    def hit(self, *limits: Limit) -> Refused | None:
        """Count one hit against each limit in turn; stop at (and return) the first refusal."""
        for limit in limits:
            item = RateLimitItemPerMinute(limit.per_minute)
            try:
                if self._strategy.hit(item, limit.name):
                    continue
                reset_at, _remaining = self._strategy.get_window_stats(item, limit.name)
            except StorageError as error:
                # Failing closed would strand every respondent while Redis is down; the
                # database still enforces what must hold (single-use codes, lockouts).
                log.warning("rate-limit store unavailable (%s); request let through", error)
                return None
            return Refused(limit.name, max(1, math.ceil(reset_at - self._clock())))
        return None

    def _address_key(self) -> bytes:
        if self._redis is None:
            return self._local_key
        day = int(self._clock() // 86400)
        if self._shared_key is not None and self._shared_key[0] == day:
            return self._shared_key[1]
        name = f"{self._prefix}:address-key:{day}"
        try:
            self._redis.set(name, secrets.token_hex(32), nx=True, ex=ADDRESS_KEY_LIFETIME_SECONDS)
            value = self._redis.get(name)
        except redis.RedisError as error:
            log.warning(
                "rate-limit store unavailable (%s); address key kept in this process", error
            )
            return self._local_key
        if not isinstance(value, bytes):  # expired between the two calls: try again next time
            return self._local_key
        self._shared_key = (day, value)
        return value
