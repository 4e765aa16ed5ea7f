"""Rate limits counted in this process's memory (one worker, no Redis)."""

from __future__ import annotations

import threading
import time

import pytest

from survey_app.web.ratelimit import CountersInMemory, Limit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_refuses_past_its_limit_and_opens_again_when_it_ends() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    hits = [limiter.hit(Limit("client:a", 3)) for _ in range(4)]
    assert hits[:3] == [None, None, None]
    refused = hits[3]
    assert refused is not None and refused.name == "client:a"
    assert refused.retry_after_seconds == 60
    clock.now += 45
    refused = limiter.hit(Limit("client:a", 3))
    assert refused is not None and refused.retry_after_seconds == 15
    # Another counter is not touched by this one.
    assert limiter.hit(Limit("client:b", 3)) is None
    clock.now += 15
    assert limiter.hit(Limit("client:a", 3)) is None


def test_counting_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # limits' own memory store started a timer thread for nearly every hit.
    limiter = RateLimiter(clock=Clock())
    started: list[threading.Thread] = []
    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread)
        original(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    for number in range(5):
        limiter.hit(Limit(f"client:{number}", 5), Limit("link:x", 1000))
        time.sleep(0.02)
    assert started == []


def test_expired_counters_are_dropped_from_memory() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    counters = limiter.storage
    assert isinstance(counters, CountersInMemory)
    for number in range(20):
        limiter.hit(Limit(f"client:{number}", 5))
    assert len(counters.storage) == 20
    clock.now += CountersInMemory.SWEEP_SECONDS + 1
    limiter.hit(Limit("client:late", 5))
    assert len(counters.storage) == 1 and len(counters.expirations) == 1
