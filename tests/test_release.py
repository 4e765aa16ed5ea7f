"""Acknowledged responses wait in the inbox, then move in one random-ordered release."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from survey_app.models import InboxResponse, Release, Response
from survey_app.state import app_state
from tests.support.apps import Deployment, next_day, read_back
from tests.support.cli import run
from tests.support.web import Respondent


def answer(app: Flask, token: str, count: int) -> None:
    for number in range(count):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
        reply = Respondent(client, token).complete(
            {"consent": "yes"}, {"felt_safe": "yes", "comment": f"note {number}"}
        )
        assert reply.status_code == 200 and "Thank you" in reply.get_data(as_text=True)


def test_responses_wait_in_the_inbox_readable_and_move_in_one_release(
    app: Flask, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = deployment.links["minimal"]
    answer(app, token, 5)
    database = app_state(app).database
    with database.session() as session:
        assert len(session.scalars(select(InboxResponse)).all()) == 5
        assert session.scalars(select(Response)).all() == []
    # Every reader sees them while they wait.
    assert len(read_back(app, deployment.programme_id, "minimal")) == 5
    settings = app_state(app).settings
    # Nothing is released twice on one day: the first start of the day released (nothing).
    assert "0 responses released; 5 waiting" in run(settings, "release").output

    # The next day: the first respondent to start releases the whole inbox.
    next_day(monkeypatch)
    answer(app, token, 1)
    with database.session() as session:
        released = session.scalars(select(Response.id)).all()
        assert len(released) == 5
        assert len(session.scalars(select(InboxResponse)).all()) == 1
        # The table's own order (no ORDER BY) is the random ids' order, not arrival order.
        physical = list(session.scalars(text("SELECT id FROM responses")))
        assert physical == sorted(released)
        if database.is_sqlite:
            ddl = session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'responses'"))
            assert "WITHOUT ROWID" in str(ddl).upper()
        else:
            xmins = set(session.scalars(text("SELECT xmin::text FROM responses")))
            assert len(xmins) == 1
    assert len(read_back(app, deployment.programme_id, "minimal")) == 6
    # The command releases a day nobody started on.
    with database.session() as session:
        session.execute(update(Release).values(last_interval="2000-01-01"))
    assert "1 responses released; 0 waiting" in run(settings, "release").output


def test_release_says_how_many_responses_moved(app: Flask, deployment: Deployment) -> None:
    answer(app, deployment.links["minimal"], 3)
    settings = app_state(app).settings
    assert "3 responses released; 0 waiting" in run(settings, "release", "--now").output
    assert "0 responses released; 0 waiting" in run(settings, "release", "--now").output
    # The day's release (also run by `purge`) counts the same way.
    answer(app, deployment.links["minimal"], 2)
    with app_state(app).database.session() as session:
        session.execute(update(Release).values(last_interval="2000-01-01"))
    assert "2 responses released; 0 waiting" in run(settings, "release").output
