"""Two real servers on one database and one Redis, as the README's "Running several servers".

Server A is gunicorn with two worker processes, server B is waitress; both sit behind a pretend
proxy (one trusted hop: the test sets X-Forwarded-For as nginx would). Every respondent's
requests alternate between A and B, so each step reads what the other server wrote: the session
cookie (one secret key), the draft (one database), the rate-limit counters (one Redis).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from survey_app import create_app, migrate
from survey_app.models import InboxResponse
from survey_app.state import app_state
from tests.support import redis_store
from tests.support.apps import SERVED_SURVEYS, deploy, make_settings
from tests.support.redis_store import REDIS_URL
from tests.support.web import DRAFT_FIELD, page_number

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PER_CLIENT = 4
# The installed command, as an operator runs it.
SURVEY_APP = str(Path(sys.executable).parent / "survey-app")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def hidden_fields(page: str) -> dict[str, str]:
    """The form token, draft and page fields of a survey page's form."""
    csrf, draft = CSRF.search(page), DRAFT_FIELD.search(page)
    assert csrf is not None and draft is not None
    return {"csrf_token": csrf.group(1), "draft": draft.group(1), "page": str(page_number(page))}


class Browser:
    """One respondent's browser; every request goes to the server `base` the caller names."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(
        self, base: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, Any]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            base + path, data=data, headers={"X-Forwarded-For": self.address}
        )
        try:
            with self.opener.open(request, timeout=30) as reply:
                return reply.status, reply.read().decode(), reply.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers

    def token(self, base: str, path: str) -> str:
        status, body, _headers = self.request(base, path)
        assert status == 200, (base, path, status)
        match = CSRF.search(body)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


def start_server(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [SURVEY_APP, "serve", *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server on port {port} exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"server on port {port} did not start")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = redis_store.redis_prefix()
    yield prefix
    redis_store.delete_prefixed(prefix)


def test_two_servers_share_sessions_drafts_and_rate_limits(
    tmp_path: Path, database_url: str, redis_prefix: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    token = deploy(app).links["minimal"]
    app_state(app).database.dispose()
    key_file = tmp_path / "secret_key"
    key_file.write_text("shared-" + os.urandom(24).hex())
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SURVEY_APP_")},
        "SURVEY_APP_DATABASE_URL": database_url,
        "SURVEY_APP_SURVEYS_DIR": str(SERVED_SURVEYS),
        "SURVEY_APP_ENVIRONMENT": "testing",
        "SURVEY_APP_LOG_LEVEL": "WARNING",
        "SURVEY_APP_SECURITY_SECRET_KEY_FILE": str(key_file),
        "SURVEY_APP_RATE_LIMITS_STORAGE_URL": REDIS_URL,
        "SURVEY_APP_RATE_LIMITS_KEY_PREFIX": redis_prefix,
        "SURVEY_APP_SERVER_TRUSTED_PROXIES": "1",
        "SURVEY_APP_RESPONDENT_SUBMISSIONS_PER_CLIENT_PER_MINUTE": str(PER_CLIENT),
    }
    ports = [free_port(), free_port()]
    servers: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for name, port, extra in (("a", ports[0], ["--workers", "2"]), ("b", ports[1], [])):
            env = {**base_env, "SURVEY_APP_INSTANCE_PATH": str(tmp_path / f"instance-{name}")}
            logs.append(tmp_path / f"server-{name}.log")
            servers.append(start_server(env, logs[-1], "--port", str(port), *extra))
        for process, port, log in zip(servers, ports, logs, strict=True):
            wait_until_listening(process, port, log)
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        completed = 0
        for n in range(6):
            browser = Browser(f"203.0.113.{n + 1}")
            first, second = bases[n % 2], bases[(n + 1) % 2]
            status, body, headers = browser.request(
                second,
                f"/s/{token}",
                {"lang": "en", "csrf_token": browser.token(first, f"/s/{token}")},
            )
            assert status == 200 and page_number(body) == 1, status
            assert not headers.get("Server"), "the server software is named"
            # Every page is a form sent to the survey's one address, to either server.
            status, body, headers = browser.request(
                first, f"/s/{token}", {**hidden_fields(body), "consent": "yes", "action": "next"}
            )
            assert status == 200 and page_number(body) == 2, status
            status, body, headers = browser.request(
                second, f"/s/{token}", {**hidden_fields(body), "felt_safe": "yes", "action": "next"}
            )
            assert status == 200 and "Thank you" in body and page_number(body) is None, status
            completed += 1

        # One address, starts spread over both servers: the limit is one budget, not two.
        hammer = Browser("198.51.100.200")
        statuses = []
        for attempt in range(PER_CLIENT + 1):
            base = bases[attempt % 2]
            status, _body, headers = hammer.request(
                base,
                f"/s/{token}",
                {"lang": "en", "csrf_token": hammer.token(base, f"/s/{token}")},
            )
            statuses.append(status)
        assert statuses == [200] * PER_CLIENT + [429]
        assert 1 <= int(headers["Retry-After"]) <= 60

        # A third server with another secret key refuses to start, saying why.
        stranger_key = tmp_path / "other_key"
        stranger_key.write_text("other-" + os.urandom(24).hex())
        stranger = subprocess.run(
            [SURVEY_APP, "serve", "--port", str(free_port())],
            env={
                **base_env,
                "SURVEY_APP_SECURITY_SECRET_KEY_FILE": str(stranger_key),
                "SURVEY_APP_INSTANCE_PATH": str(tmp_path / "instance-c"),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert stranger.returncode == 1
        assert "differs from the one the other servers on this database use" in stranger.stderr
        assert "Traceback" not in stranger.stderr
    finally:
        for process in servers:
            process.terminate()
        for process in servers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    check = create_app(settings)
    with app_state(check).database.session() as session:
        assert len(session.scalars(select(InboxResponse)).all()) == completed == 6
    app_state(check).database.dispose()
