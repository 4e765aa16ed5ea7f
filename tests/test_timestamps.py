"""Timestamps come back from either database as aware UTC datetimes, the moment unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import Flask

from survey_app.models import User
from survey_app.state import app_state
from tests.support.staff import make_account

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def test_a_moment_written_in_any_zone_reads_back_in_utc(app: Flask) -> None:
    account = make_account(app, "casey")
    nairobi = timezone(timedelta(hours=3))
    with app_state(app).database.session() as db:
        user = db.get(User, account.id)
        assert user is not None
        user.locked_until = datetime(2026, 11, 30, 12, 0, tzinfo=nairobi)
    with app_state(app).database.session() as db:
        user = db.get(User, account.id)
        assert user is not None and user.locked_until is not None
        assert user.locked_until.tzinfo is UTC
        assert user.locked_until == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
        assert user.locked_until.hour == 9
