"""Writes that go together (survey_app.db.Database.together) are kept all or none, and a
failure caught inside them cannot pass for writes kept."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from survey_app.db import WritesNotKept
from survey_app.models import Draft
from survey_app.state import app_state
from tests.support.databases import TEST_DB

pytestmark = pytest.mark.skipif(
    TEST_DB != "postgresql", reason="on SQLite the request is one transaction already"
)


def _drafts(app: Flask) -> int:
    with app_state(app).database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Draft)) or 0)


def test_a_failure_caught_inside_keeps_none_of_the_writes(app: Flask) -> None:
    database = app_state(app).database
    row = {"id": "d1", "ciphertext": b"x", "expires_at": datetime.now(UTC)}
    with pytest.raises(WritesNotKept), database.connection() as db, database.together(db):
        db.execute(insert(Draft).values(**row))
        with contextlib.suppress(SQLAlchemyError):
            db.execute(text("SELECT * FROM no_such_table"))
    assert _drafts(app) == 0


def test_writes_together_are_kept_together(app: Flask) -> None:
    database = app_state(app).database
    with database.connection() as db, database.together(db):
        for name in ("d1", "d2"):
            db.execute(insert(Draft).values(id=name, ciphertext=b"x", expires_at=datetime.now(UTC)))
    assert _drafts(app) == 2
