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
