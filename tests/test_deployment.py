"""Deployed as operators deploy it: behind a proxy, with shared rate limits, several servers.

The tests with real server processes are in test_servers.py; these drive the app in-process.
"""

from __future__ import annotations

import logging
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app import create_app, migrate
from survey_app.cli import main
from survey_app.config import ConfigError, load_settings
from survey_app.models import InboxResponse
from survey_app.operations.deployment import SecretKeyMismatch, check_secret_key
from survey_app.operations.server import WorkersNeedSharedStore, prepare
from survey_app.state import app_state
from tests.support.apps import FIXTURES, Deployment, deploy, make_settings
from tests.support.redis_store import REDIS_URL, delete_prefixed, redis_prefix
from tests.support.web import Respondent, csrf_token

PROXY = "10.0.0.2"


def start(app: Flask, token: str, address: str, forwarded_for: str | None = None) -> Any:
    """One respondent's start, from `address` (or through the proxy, forwarding for it)."""
    client = app.test_client()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    environ = {"REMOTE_ADDR": address}
    landing = client.get(f"/s/{token}", environ_base=environ, headers=headers)
    return client.post(
        f"/s/{token}",
        environ_base=environ,
        headers=headers,
        data={"lang": "en", "csrf_token": csrf_token(landing.get_data(as_text=True))},
    )


def served(tmp_path: Path, database_url: str, **overrides: Any) -> tuple[Flask, Deployment]:
    app = create_app(make_settings(tmp_path, database_url, **overrides))
    migrate.upgrade(app_state(app).database)
    return app, deploy(app)


@pytest.fixture
def shared_store() -> Iterator[dict[str, str]]:
    """A rate-limit store in the Redis at REDIS_URL, under a prefix of this test's own."""
    prefix = redis_prefix()
    yield {"storage_url": REDIS_URL, "key_prefix": prefix}
    delete_prefixed(prefix)


def test_refused_starts_count_against_the_address_not_the_link(
    tmp_path: Path, database_url: str
) -> None:
    app, deployment = served(
        tmp_path,
        database_url,
        respondent={"submissions_per_client_per_minute": 2, "submissions_per_minute": 5},
    )
    token = deployment.links["minimal"]
    hammering = [start(app, token, "198.51.100.1").status_code for _ in range(8)]
    assert hammering == [200, 200] + [429] * 6
    # Six refusals later the link still has 3 of its 5 starts for everyone else.
    others = [start(app, token, f"198.51.100.{n}").status_code for n in (2, 2, 3, 3)]
    assert others == [200, 200, 200, 429]
    refused = start(app, token, "198.51.100.4")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    app_state(app).database.dispose()


def test_page_views_do_not_count_and_a_group_on_one_address_can_answer(
    app: Flask, deployment: Deployment
) -> None:
    # Twenty people on one shelter's Wi-Fi start and finish within the same minute.
    token = deployment.links["minimal"]
    for _ in range(20):
        reply = Respondent(app.test_client(), token).complete(
            {"consent": "yes"}, {"felt_safe": "yes"}
        )
        assert reply.status_code == 200 and "Thank you" in reply.get_data(as_text=True)
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(InboxResponse)).all()) == 20


def test_one_address_can_never_use_up_a_links_budget(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="submissions_per_client_per_minute: must be below"):
        load_settings(
            environ={},
            overrides={
                "respondent": {
                    "submissions_per_minute": 10,
                    "submissions_per_client_per_minute": 10,
                }
            },
        )


def test_behind_a_proxy_each_client_has_its_own_budget(tmp_path: Path, database_url: str) -> None:
    limits = {"submissions_per_client_per_minute": 1, "submissions_per_minute": 50}
    app, deployment = served(
        tmp_path, database_url, respondent=limits, server={"trusted_proxies": 1}
    )
    token = deployment.links["minimal"]
    assert start(app, token, PROXY, "203.0.113.1").status_code == 200
    assert start(app, token, PROXY, "203.0.113.2").status_code == 200
    assert start(app, token, PROXY, "203.0.113.2").status_code == 429
    # What the client wrote in its own X-Forwarded-For is not trusted: only the proxy's entry.
    for forged in ("192.0.2.1", "192.0.2.2"):
        assert start(app, token, PROXY, f"{forged}, 203.0.113.2").status_code == 429
    app_state(app).database.dispose()


def test_without_the_proxy_setting_every_client_shares_the_proxys_budget(
    tmp_path: Path, database_url: str
) -> None:
    limits = {"submissions_per_client_per_minute": 1, "submissions_per_minute": 50}
    app, deployment = served(tmp_path, database_url, respondent=limits)
    token = deployment.links["minimal"]
    assert start(app, token, PROXY, "203.0.113.1").status_code == 200
    assert start(app, token, PROXY, "203.0.113.2").status_code == 429
    app_state(app).database.dispose()


def test_production_without_the_proxy_setting_warns_at_start(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="survey_app"):
        create_app(
            make_settings(
                tmp_path,
                database_url,
                environment="production",
                server={"public_url": "https://feedback.example.org"},
            )
        )
    assert "server.trusted_proxies is 0" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="survey_app"):
        create_app(
            make_settings(
                tmp_path,
                database_url,
                environment="production",
                server={"trusted_proxies": 1, "public_url": "https://feedback.example.org"},
            )
        )
    assert "trusted_proxies" not in caplog.text


def test_rate_limits_are_shared_through_redis_and_keep_no_address(
    tmp_path: Path, database_url: str, shared_store: dict[str, str]
) -> None:
    limits = {"submissions_per_client_per_minute": 2, "submissions_per_minute": 50}
    first, deployment = served(tmp_path, database_url, respondent=limits, rate_limits=shared_store)
    # A second process of the same deployment: same database and store, its own memory.
    second = create_app(
        make_settings(tmp_path, database_url, respondent=limits, rate_limits=shared_store)
    )
    token = deployment.links["minimal"]
    address = "198.51.100.77"
    assert start(first, token, address).status_code == 200
    assert start(second, token, address).status_code == 200
    assert start(first, token, address).status_code == 429
    assert start(second, token, address).status_code == 429
    assert start(second, token, "198.51.100.78").status_code == 200
    store = redis.Redis.from_url(REDIS_URL)
    keys = [key.decode() for key in store.scan_iter(match=f"{shared_store['key_prefix']}:*")]
    assert keys and not any("198.51.100" in key for key in keys)
    address_keys = [key for key in keys if ":address-key:" in key]
    assert len(address_keys) == 1  # one key for every process, and it expires
    assert 0 < cast(int, store.ttl(address_keys[0])) <= 2 * 86400
    for counter in (key for key in keys if "LIMITER" in key):
        assert 0 < cast(int, store.ttl(counter)) <= 60
    for app in (first, second):
        app_state(app).database.dispose()


def test_an_unreachable_store_stops_the_server_with_one_clear_line(
    tmp_path: Path, database_url: str, busy_port: int
) -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    settings = make_settings(
        tmp_path, database_url, rate_limits={"storage_url": f"redis://127.0.0.1:{port}/0"}
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    app_state(app).database.dispose()
    env = environment_of(settings, SURVEY_APP_RATE_LIMITS_STORAGE_URL=f"redis://127.0.0.1:{port}/0")
    result = CliRunner().invoke(main, ["serve", "--port", str(busy_port)], env=env)
    assert result.exit_code == 1
    assert f"cannot reach Redis at 127.0.0.1:{port} " in result.output


def test_several_workers_need_a_shared_store(tmp_path: Path, database_url: str) -> None:
    with pytest.raises(WorkersNeedSharedStore, match=r"rate_limits\.storage_url"):
        prepare(make_settings(tmp_path, database_url, server={"workers": 2}))


def same_browser(client: FlaskClient, other_server: Flask) -> FlaskClient:
    """A client of `other_server` holding `client`'s form cookie: one browser, two servers."""
    cookie = client.get_cookie("f")
    assert cookie is not None
    moved = other_server.test_client()
    moved.set_cookie("f", cookie.value)
    return moved


def test_a_draft_goes_on_with_its_version_on_a_server_with_another_file(
    tmp_path: Path, database_url: str
) -> None:
    """A rolling update: one server has the new survey file, the other still the old one."""
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir()
    new_dir.mkdir()
    shutil.copy(FIXTURES / "served" / "minimal.toml", old_dir / "minimal.toml")
    text = (old_dir / "minimal.toml").read_text(encoding="utf-8")
    (new_dir / "minimal.toml").write_text(
        text.replace("Did you feel safe?", "Did you feel safe here?"), encoding="utf-8"
    )
    old_server = create_app(make_settings(tmp_path, database_url, surveys_dir=str(old_dir)))
    migrate.upgrade(app_state(old_server).database)
    deployment = deploy(old_server)
    new_server = create_app(make_settings(tmp_path, database_url, surveys_dir=str(new_dir)))
    token = deployment.links["minimal"]
    old_version = app_state(old_server).surveys["minimal"].version
    assert app_state(new_server).surveys["minimal"].version != old_version

    # The same tab reaches the old server, then the new one, and back (one cookie jar).
    tab = Respondent(old_server.test_client(), token)
    assert tab.start().status_code == 200
    tab.client = same_browser(tab.client, new_server)
    assert tab.submit(1, {"consent": "yes"}).status_code == 200
    assert "Did you feel safe?" in tab.html  # the version the respondent began
    assert tab.submit(2, {"felt_safe": "no"}).status_code == 200 and tab.draft is None

    # Someone who starts on the new server can finish on the old one.
    fresh = Respondent(new_server.test_client(), token)
    assert fresh.start().status_code == 200
    fresh.client = same_browser(fresh.client, old_server)
    assert fresh.submit(1, {"consent": "yes"}).status_code == 200
    assert "Did you feel safe here?" in fresh.html
    assert fresh.submit(2, {"felt_safe": "yes"}).status_code == 200 and fresh.draft is None

    with app_state(new_server).database.session() as session:
        versions = sorted(r.survey_version for r in session.scalars(select(InboxResponse)))
    assert versions == sorted([old_version, app_state(new_server).surveys["minimal"].version])
    for app in (old_server, new_server):
        app_state(app).database.dispose()


def test_servers_with_different_secret_keys_are_refused(app: Flask) -> None:
    database = app_state(app).database
    check_secret_key(database, "k" * 40)
    check_secret_key(database, "k" * 40)  # the same key again: fine
    with pytest.raises(SecretKeyMismatch, match="secret-key forget"):
        check_secret_key(database, "j" * 40)


def environment_of(settings: Any, **more: str) -> dict[str, str]:
    return {
        "SURVEY_APP_INSTANCE_PATH": str(settings.instance_path),
        "SURVEY_APP_SURVEYS_DIR": str(settings.surveys_dir),
        "SURVEY_APP_DATABASE_URL": settings.database_url,
        "SURVEY_APP_ENVIRONMENT": "testing",
        **more,
    }


def test_a_shared_key_file_is_made_once_and_a_different_key_is_refused_at_start(
    app: Flask, settings: Any, tmp_path: Path, busy_port: int
) -> None:
    runner = CliRunner()
    key_file = tmp_path / "secret_key"
    made = runner.invoke(main, ["secret-key", "new", str(key_file)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = runner.invoke(main, ["secret-key", "new", str(key_file)])
    assert again.exit_code == 1 and "never overwritten" in again.output

    check_secret_key(app_state(app).database, key_file.read_text().strip())
    other = tmp_path / "other_key"
    other.write_text("x" * 48)
    env = environment_of(settings, SURVEY_APP_SECURITY_SECRET_KEY_FILE=str(other))
    refused = runner.invoke(main, ["serve", "--port", str(busy_port)], env=env)
    assert refused.exit_code == 1
    assert "differs from the one the other servers on this database use" in refused.output
    assert "Traceback" not in refused.output

    missing = environment_of(settings, SURVEY_APP_SECURITY_SECRET_KEY_FILE=str(tmp_path / "no"))
    result = runner.invoke(main, ["serve", "--port", str(busy_port)], env=missing)
    assert result.exit_code == 1 and "survey-app secret-key new" in result.output

    forgotten = runner.invoke(main, ["secret-key", "forget"], env=environment_of(settings))
    assert forgotten.exit_code == 0, forgotten.output
    check_secret_key(app_state(app).database, "x" * 48)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_serve_on_a_busy_port_says_so_in_one_line(
    app: Flask, settings: Any, busy_port: int
) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--port", str(busy_port)], env=environment_of(settings)
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"port {busy_port} on 127.0.0.1 is already in use" in lines[0]
    assert "--port" in lines[0]


def test_demo_on_a_busy_port_says_so_in_one_line(tmp_path: Path, busy_port: int) -> None:
    env = {
        "SURVEY_APP_INSTANCE_PATH": str(tmp_path / "demo"),
        "SURVEY_APP_SURVEYS_DIR": str(FIXTURES / "served"),
    }
    result = CliRunner().invoke(main, ["demo", "--port", str(busy_port)], env=env)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: port {busy_port} on 127.0.0.1 is already in use; choose another with "
        f"--port (for example --port {busy_port + 1}) or the setting server.port "
        "(SURVEY_APP_SERVER_PORT)"
    ]


def test_demo_takes_host_and_port(tmp_path: Path) -> None:
    env = {
        "SURVEY_APP_INSTANCE_PATH": str(tmp_path / "demo"),
        "SURVEY_APP_SURVEYS_DIR": str(FIXTURES / "served"),
    }
    result = CliRunner().invoke(
        main,
        ["demo", "--no-serve", "--sample-responses", "0", "--host", "127.0.0.2", "--port", "8123"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.2:8123/s/" in result.output
