"""The Redis the tests of several workers and servers share rate limits through.

Outside CI a missing Redis skips those tests, saying so; in CI (`CI=true`) it fails them: the
multi-server promise must not pass by being skipped.
"""

from __future__ import annotations

import os
import secrets

import pytest
import redis

REDIS_URL = os.environ.get("SURVEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_prefix() -> str:
    """A key prefix of this test's own, once Redis answers (else skip, or fail in CI)."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        reason = f"Redis not reachable at {REDIS_URL} ({type(error).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the tests of several servers")
        pytest.skip(reason)
    return f"survey-app-test-{secrets.token_hex(6)}"


def delete_prefixed(prefix: str) -> None:
    """Remove this test's keys only: never a flush of a Redis others may use."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
