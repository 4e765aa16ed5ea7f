"""Helpers for the staff tests: accounts made directly, sessions opened, time frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from survey_app.keys import totp_secrets
from survey_app.models import Membership, Role, User
from survey_app.staff import accounts
from survey_app.state import app_state
from survey_app.web import sessions
from tests.support.web import csrf_token

PASSWORD = "a long enough password"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the app reads instead of the system's, moved by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def freeze(app: Flask, start: datetime = START) -> Clock:
    clock = Clock(start)
    app.extensions[sessions.CLOCK] = clock
    return clock


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    totp_secret: str | None

    def code(self, moment: datetime) -> str:
        assert self.totp_secret
        return str(pyotp.TOTP(self.totp_secret).at(moment))


def make_account(
    app: Flask,
    username: str,
    *,
    role: Role | None = None,
    programme_id: int | None = None,
    superadmin: bool = False,
    totp: bool = False,
    must_change_password: bool = False,
) -> Account:
    with app_state(app).database.session() as db:
        user = accounts.create_user(db, username, PASSWORD, superadmin=superadmin)
        user.must_change_password = must_change_password
        if role is not None and programme_id is not None:
            db.add(Membership(user=user, programme_id=programme_id, role=role))
        db.flush()
        secret = pyotp.random_base32() if totp else None
        if secret is not None:  # stored as enrolment stores it: sealed under the TOTP key
            user.totp_secret = totp_secrets.seal(app_state(app).totp_key, user.id, secret)
        return Account(user.id, user.username, secret)


def open_session(app: Flask, client: FlaskClient, user_id: int) -> None:
    """Sign `client` in as the user without the sign-in pages (for tests about other pages)."""
    with app_state(app).database.session() as db:
        user = db.get(User, user_id)
        assert user is not None
        with app.test_request_context(environ_base=client.environ_base):
            values = sessions.session_values(user, sessions.now())
    with client.session_transaction() as session:
        session.clear()
        session.update(values)


def sign_in(
    client: FlaskClient,
    username: str,
    password: str = PASSWORD,
    *,
    code: str | None = None,
    next_url: str | None = None,
) -> TestResponse:
    """Through the pages, as a person would; returns the last reply."""
    url = "/auth/sign-in" + (f"?next={next_url}" if next_url else "")
    page = client.get(url)
    reply = client.post(
        url,
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    if code is None or reply.status_code != 303:
        return reply
    assert reply.headers["Location"].endswith("/auth/sign-in/code")
    return send_code(client, code)


def send_code(client: FlaskClient, code: str) -> TestResponse:
    page = client.get("/auth/sign-in/code")
    return client.post(
        "/auth/sign-in/code",
        data={"code": code, "csrf_token": csrf_token(page.get_data(as_text=True))},
    )


def post(
    client: FlaskClient, url: str, data: Mapping[str, object], *, page_url: str
) -> TestResponse:
    """POST a form with the CSRF token of the page that shows it."""
    page = client.get(page_url)
    assert page.status_code == 200, f"{page_url}: {page.status_code}"
    return client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})
