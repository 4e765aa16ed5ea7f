"""A pooled database connection that died while it waited (the database restarted, something on
the way closed it) is replaced before a respondent's request uses it (survey_app.db)."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy import NullPool, create_engine, text

from survey_app import db
from survey_app.state import app_state
from tests.support.apps import Deployment, read_back
from tests.support.databases import POSTGRES_URL, TEST_DB
from tests.support.web import Respondent

pytestmark = pytest.mark.skipif(
    TEST_DB != "postgresql", reason="terminates a PostgreSQL server process"
)


def _kill_pooled_connection(app: Flask) -> None:
    with app_state(app).database.engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_killed_while_idle_is_replaced_unseen(
    app: Flask, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    Respondent(app.test_client(), token).complete({"consent": "yes"}, {"felt_safe": "yes"})
    _kill_pooled_connection(app)
    time.sleep(db.IDLE_BEFORE_PING_SECONDS + 0.1)
    reply = Respondent(app.test_client(), token).complete({"consent": "yes"}, {"felt_safe": "no"})
    assert reply.status_code == 200 and "Thank you" in reply.get_data(as_text=True)
    assert len(read_back(app, deployment.programme_id, "minimal")) == 2


def test_without_the_test_the_killed_connection_fails_a_request(
    app: Flask, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted fault: connections never tested. The test above must be what saves it."""
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 3600.0)
    token = deployment.links["minimal"]
    Respondent(app.test_client(), token).complete({"consent": "yes"}, {"felt_safe": "yes"})
    _kill_pooled_connection(app)
    time.sleep(0.2)
    assert app.test_client().get(f"/s/{token}").status_code >= 500


def test_the_quick_exit_leaves_even_when_the_database_cannot_answer(
    app: Flask, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection that died within the second it was last used is not tested: the request
    that gets it fails. The quick exit must still take the respondent away."""
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 3600.0)
    tab = Respondent(app.test_client(), deployment.links["minimal"])
    tab.start()
    _kill_pooled_connection(app)
    time.sleep(0.2)
    reply = app.test_client().post("/exit", data={"draft": tab.draft})
    assert reply.status_code == 303
    assert reply.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


def test_a_failed_test_replaces_every_older_connection(app: Flask, deployment: Deployment) -> None:
    """Two pooled connections die at once (a restart). The first out waited and fails its
    test; the second, returned just now, must not go out untested and fail a request."""
    token = deployment.links["minimal"]
    engine = app_state(app).database.engine
    first, second = engine.connect(), engine.connect()
    pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in (first, second)]
    first.close()  # handed out first: the pool is first in, first out
    time.sleep(db.IDLE_BEFORE_PING_SECONDS + 0.2)
    second.close()
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    with admin.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    time.sleep(0.05)
    client = app.test_client()
    assert [client.get(f"/s/{token}").status_code for _ in range(2)] == [200, 200]
