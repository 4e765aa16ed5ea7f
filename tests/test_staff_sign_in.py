"""Staff sign-in: passwords, two-step codes, lockout, session renewal, timeouts and sign-out."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app import create_app
from survey_app.config import Settings
from survey_app.models import AuditEvent, Role, User
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.staff import (
    PASSWORD,
    Account,
    Clock,
    freeze,
    make_account,
    open_session,
    post,
    send_code,
    sign_in,
)
from tests.support.web import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def clock(app: Flask) -> Clock:
    return freeze(app)


@pytest.fixture
def caseworker(app: Flask, deployment: Deployment) -> Account:
    return make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)


@pytest.fixture
def analyst(app: Flask, deployment: Deployment) -> Account:
    return make_account(
        app, "anna", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
    )


def events(app: Flask) -> list[tuple[str, str, str]]:
    with app_state(app).database.session() as db:
        rows = db.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(row.actor, row.action, row.detail) for row in rows]


def text(reply: Any) -> str:
    return str(reply.get_data(as_text=True))


NO_MATCH = (
    "That user name and password do not match, or the account is locked for a while after too "
    "many attempts. Wait 15 minutes or ask an administrator."
)
ERROR_SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


def test_staff_pages_send_anonymous_visitors_to_sign_in(client: FlaskClient) -> None:
    reply = client.get("/staff/")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/auth/sign-in?next=/staff/"


def test_password_sign_in_renews_the_session(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    reply = sign_in(client, "casey", next_url="/staff/assist")
    assert reply.status_code == 303 and reply.headers["Location"] == "/staff/assist"
    with client.session_transaction() as session:
        assert "planted" not in session
        first_nonce = session["staff_nonce"]
    assert client.get("/staff/").status_code == 200
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(text(client.get("/staff/")))})
    sign_in(client, "casey")
    with client.session_transaction() as session:
        assert session["staff_nonce"] != first_nonce
    assert ("casey", "auth.sign-in", "with password") in events(app)


def test_wrong_password_and_unknown_user_get_the_same_answer(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    wrong = sign_in(client, "casey", "not the password at all")
    unknown = sign_in(client, "nobody", "Secret typed in the name box")
    for reply in (wrong, unknown):
        assert reply.status_code == 422
        assert NO_MATCH in text(reply)
    assert client.get("/staff/").status_code == 302
    recorded = events(app)
    assert ("casey", "auth.sign-in-failed", "wrong password") in recorded
    assert ("(unknown user name)", "auth.sign-in-failed", "no such user name") in recorded
    assert not any("Secret typed" in " ".join(row) for row in recorded)


def test_empty_sign_in_form_names_both_fields(client: FlaskClient) -> None:
    reply = sign_in(client, "", "")
    assert reply.status_code == 422
    assert "Enter your user name." in text(reply) and "Enter your password." in text(reply)


def test_five_failures_lock_the_account_for_fifteen_minutes(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    for _ in range(4):
        assert NO_MATCH in text(sign_in(client, "casey", "wrong password here"))
    fifth = sign_in(client, "casey", "wrong password here")
    assert NO_MATCH in text(fifth)
    refused = sign_in(client, "casey")  # the right password, while locked
    assert refused.status_code == 422 and NO_MATCH in text(refused)
    assert any(action == "auth.locked" for _, action, _ in events(app))
    assert client.get("/staff/").status_code == 302
    clock.advance(minutes=15, seconds=1)
    assert sign_in(client, "casey").status_code == 303


def test_a_locked_account_answers_like_an_unknown_user_name(
    app: Flask, clock: Clock, caseworker: Account
) -> None:
    for _ in range(5):
        sign_in(app.test_client(), "casey", "wrong password here")
    locked = sign_in(app.test_client(), "casey", "wrong password here")
    unknown = sign_in(app.test_client(), "nobody-here", "wrong password here")
    answers = [ERROR_SUMMARY.findall(text(reply)) for reply in (locked, unknown)]
    assert answers[0] == answers[1] and len(answers[0]) == 1
    assert "locked until" not in text(locked) and "UTC" not in text(locked)
    assert locked.status_code == unknown.status_code == 422
    with app_state(app).database.session() as db:  # the lockout itself is kept
        user = db.get(User, caseworker.id)
        assert user is not None and user.locked_until is not None


def test_the_sign_in_answer_is_translated(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    page = client.get("/auth/sign-in", headers={"Accept-Language": "fr"})
    reply = client.post(
        "/auth/sign-in",
        data={"username": "nobody", "password": "x", "csrf_token": csrf_token(text(page))},
        headers={"Accept-Language": "fr"},
    )
    assert "Attendez 15 minutes" in text(reply)


def test_sign_in_attempts_are_throttled_per_client(
    client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    replies = [sign_in(client, f"guess{n}", "wrong password here") for n in range(11)]
    assert [r.status_code for r in replies[:10]] == [422] * 10
    refused = replies[10]
    assert refused.status_code == 429
    # It says when to try again, to the browser and to the person.
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Please wait 1 minute, then try again." in text(refused)
    page = client.get("/auth/sign-in", headers={"Accept-Language": "fr"})
    again = client.post(
        "/auth/sign-in",
        data={"username": "x", "password": "y", "csrf_token": csrf_token(text(page))},
        headers={"Accept-Language": "fr"},
    )
    assert again.status_code == 429 and "Retry-After" in again.headers
    assert "Veuillez patienter 1 minute" in text(again)


def test_two_step_sign_in(app: Flask, client: FlaskClient, clock: Clock, analyst: Account) -> None:
    reply = sign_in(client, "anna")
    assert reply.status_code == 303 and reply.headers["Location"] == "/auth/sign-in/code"
    assert client.get("/staff/").status_code == 302  # not signed in before the code
    wrong = send_code(client, "000000" if analyst.code(clock()) != "000000" else "111111")
    assert wrong.status_code == 422 and "That code is not right" in text(wrong)
    right = send_code(client, analyst.code(clock()))
    assert right.status_code == 303 and right.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert ("anna", "auth.sign-in", "with password and two-step code") in events(app)


def test_a_code_works_once(app: Flask, clock: Clock, analyst: Account) -> None:
    code = analyst.code(clock())
    assert sign_in(app.test_client(), "anna", code=code).status_code == 303
    clock.advance(seconds=5)
    replay = sign_in(app.test_client(), "anna", code=code)
    assert replay.status_code == 422 and "already been used" in text(replay)


def test_codes_one_step_either_side_are_accepted_two_are_not(
    app: Flask, clock: Clock, analyst: Account
) -> None:
    behind = analyst.code(clock())
    clock.advance(seconds=30)  # the next 30-second step: a code read just before still works
    assert sign_in(app.test_client(), "anna", code=behind).status_code == 303
    clock.advance(minutes=5)
    ahead = analyst.code(clock.moment + timedelta(seconds=30))  # a phone clock running fast
    assert sign_in(app.test_client(), "anna", code=ahead).status_code == 303
    clock.advance(minutes=5)
    stale = analyst.code(clock())
    clock.advance(seconds=60)  # two steps later
    reply = sign_in(app.test_client(), "anna", code=stale)
    assert reply.status_code == 422 and "That code is not right" in text(reply)


def test_wrong_codes_count_towards_the_lockout(
    app: Flask, client: FlaskClient, clock: Clock, analyst: Account
) -> None:
    sign_in(client, "anna")
    replies = [send_code(client, "12345x") for _ in range(5)]
    assert "this account is locked for a while. Wait 15 minutes" in text(replies[-1])


def test_admin_without_two_step_must_enrol_before_anything_else(
    app: Flask, client: FlaskClient, clock: Clock, deployment: Deployment
) -> None:
    make_account(app, "adam", role=Role.ADMIN, programme_id=deployment.programme_id)
    assert sign_in(client, "adam").status_code == 303
    for url in ("/staff/", "/admin/", "/admin/users"):
        reply = client.get(url)
        assert reply.status_code == 302 and reply.headers["Location"] == "/auth/two-factor"
    page = client.get("/auth/two-factor")
    assert page.status_code == 200
    body = text(page)
    assert "otpauth://totp/" in body
    secret = body.split("secret=")[1].split("&")[0]
    shown = body.split('<p class="secret"><code>')[1].split("<")[0]
    assert shown.replace(" ", "") == secret and shown.split(" ")[0] == secret[:4]
    bad = client.post("/auth/two-factor", data={"code": "123456", "csrf_token": csrf_token(body)})
    assert bad.status_code == 422 and "That code is not right" in text(bad)
    good = Account(0, "adam", secret).code(clock())
    reply = client.post("/auth/two-factor", data={"code": good, "csrf_token": csrf_token(body)})
    assert reply.status_code == 303
    assert client.get("/admin/").status_code == 200
    with app_state(app).database.session() as db:
        stored = db.scalar(select(User.totp_secret).where(User.username == "adam"))
    # Sealed under the TOTP key, which is not in the database: a copy of it gives no codes.
    assert stored is not None and secret not in stored and stored.startswith("t1.")
    # From now on the code is asked at sign-in, and the enrolment code cannot be replayed.
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(text(client.get("/staff/")))})
    assert "already been used" in text(sign_in(client, "adam", code=good))


def test_temporary_password_must_be_changed_first(
    app: Flask, client: FlaskClient, clock: Clock, deployment: Deployment
) -> None:
    make_account(
        app,
        "vera",
        role=Role.VIEWER,
        programme_id=deployment.programme_id,
        must_change_password=True,
    )
    sign_in(client, "vera")
    reply = client.get("/staff/")
    assert reply.status_code == 302 and reply.headers["Location"] == "/auth/password"
    page = client.get("/auth/password")
    assert "temporary password" in text(page)
    cases = [
        ({"current": "wrong one entirely", "new": "x" * 14, "repeat": "x" * 14}, "not right"),
        ({"current": PASSWORD, "new": "short", "repeat": "short"}, "at least 12 characters"),
        ({"current": PASSWORD, "new": "y" * 14, "repeat": "z" * 14}, "not the same"),
        ({"current": PASSWORD, "new": PASSWORD, "repeat": PASSWORD}, "same as the current"),
        ({"current": PASSWORD, "new": "vera-is-my-name", "repeat": "vera-is-my-name"}, "user name"),
        ({"current": "", "new": "", "repeat": ""}, "Enter the password you use now."),
    ]
    for data, message in cases:
        reply = post(client, "/auth/password", data, page_url="/auth/password")
        assert reply.status_code == 422 and message in text(reply), message
    new = "correct horse battery"
    reply = post(
        client,
        "/auth/password",
        {"current": PASSWORD, "new": new, "repeat": new},
        page_url="/auth/password",
    )
    assert reply.status_code == 303
    assert client.get("/staff/").status_code == 200  # this session carries on
    assert sign_in(app.test_client(), "vera", new).status_code == 303


def test_idle_timeout(app: Flask, client: FlaskClient, clock: Clock, caseworker: Account) -> None:
    sign_in(client, "casey")
    clock.advance(minutes=29)
    assert client.get("/staff/").status_code == 200
    clock.advance(minutes=29)  # activity moved the deadline on
    assert client.get("/staff/").status_code == 200
    clock.advance(minutes=31)
    reply = client.get("/staff/")
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/auth/sign-in")
    assert "after 30 minutes without activity" in text(client.get("/auth/sign-in"))
    assert client.get("/staff/").status_code == 302


def test_absolute_timeout(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    sign_in(client, "casey")
    for _ in range(12 * 3 - 1):
        clock.advance(minutes=20)
        assert client.get("/staff/").status_code == 200
    clock.advance(minutes=20, seconds=1)
    assert client.get("/staff/").status_code == 302
    assert "reached 12 hours" in text(client.get("/auth/sign-in"))


def test_sign_out_ends_the_session_and_every_copy_of_it(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    sign_in(client, "casey")
    copy = app.test_client()
    with client.session_transaction() as original, copy.session_transaction() as duplicate:
        duplicate.update(dict(original))
    assert copy.get("/staff/").status_code == 200
    page = client.get("/staff/")
    reply = client.post("/auth/sign-out", data={"csrf_token": csrf_token(text(page))})
    assert reply.status_code == 303 and reply.headers["Location"] == "/auth/sign-in"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/staff/").status_code == 302
    assert copy.get("/staff/").status_code == 302
    assert ("casey", "auth.sign-out", "signed out") in events(app)


def test_password_reset_ends_the_users_sessions(
    app: Flask, client: FlaskClient, clock: Clock, deployment: Deployment, caseworker: Account
) -> None:
    admin = make_account(
        app, "adam", role=Role.ADMIN, programme_id=deployment.programme_id, totp=True
    )
    sign_in(client, "casey")
    assert client.get("/staff/").status_code == 200
    admin_client = app.test_client()
    open_session(app, admin_client, admin.id)
    page = f"/admin/users/{caseworker.id}"
    reply = post(admin_client, f"{page}/reset-password", {}, page_url=page)
    assert reply.status_code == 200 and "Temporary password" in text(reply)
    temporary = text(reply).split('<p class="secret"><code>')[1].split("<")[0]
    assert client.get("/staff/").status_code == 302
    sign_in(client, "casey", temporary)
    assert client.get("/staff/").headers["Location"] == "/auth/password"


def test_session_from_another_browser_is_dropped(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    sign_in(client, "casey")
    assert client.get("/staff/").status_code == 200
    reply = client.get("/staff/", headers={"User-Agent": "Some other browser"})
    assert reply.status_code == 302


def test_next_never_leads_off_the_site(
    client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    reply = sign_in(client, "casey", next_url="//evil.example/")
    assert reply.headers["Location"] == "/staff/"


def test_switched_off_account_cannot_sign_in(
    app: Flask, client: FlaskClient, clock: Clock, caseworker: Account
) -> None:
    with app_state(app).database.session() as db:
        user = db.get(User, caseworker.id)
        assert user is not None
        user.active = False
    reply = sign_in(client, "casey")
    assert reply.status_code == 422 and "switched off" in text(reply)


def test_totp_secrets_are_sealed_under_a_key_outside_the_database(
    app: Flask, clock: Clock, analyst: Account, deployment: Deployment
) -> None:
    assert analyst.totp_secret is not None
    with app_state(app).database.session() as db:
        stored = db.scalar(select(User.totp_secret).where(User.id == analyst.id))
    assert stored is not None and analyst.totp_secret not in stored
    key_file = app_state(app).settings.instance_path / "totp_key"
    assert key_file.read_text().strip() == app_state(app).totp_key
    assert key_file.stat().st_mode & 0o077 == 0
    # Copied onto another account, the sealed value does not open: it is bound to its user.
    other = make_account(
        app, "boris", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
    )
    with app_state(app).database.session() as db:
        target = db.get(User, other.id)
        assert target is not None
        target.totp_secret = stored
    reply = sign_in(app.test_client(), "boris", code=analyst.code(clock()))
    assert reply.status_code == 422 and "cannot be checked on this server" in text(reply)
    assert ("boris", "auth.sign-in-failed") in [event[:2] for event in events(app)]


def test_a_secret_stored_in_the_clear_still_works_and_is_sealed_at_its_use(
    app: Flask, clock: Clock, analyst: Account
) -> None:
    assert analyst.totp_secret is not None
    with app_state(app).database.session() as db:
        user = db.get(User, analyst.id)
        assert user is not None
        user.totp_secret = analyst.totp_secret  # as stored before secrets were sealed
    assert sign_in(app.test_client(), "anna", code=analyst.code(clock())).status_code == 303
    with app_state(app).database.session() as db:
        stored = db.scalar(select(User.totp_secret).where(User.id == analyst.id))
    assert stored is not None and stored.startswith("t1.") and analyst.totp_secret not in stored
    clock.advance(seconds=30)
    assert sign_in(app.test_client(), "anna", code=analyst.code(clock())).status_code == 303


def test_a_lost_totp_key_refuses_codes_with_a_message_not_an_error(
    settings: Settings, app: Flask, clock: Clock, analyst: Account
) -> None:
    moved = create_app(replace(settings, security=replace(settings.security, totp_key="x" * 48)))
    try:
        reply = sign_in(moved.test_client(), "anna", code=analyst.code(clock()))
    finally:
        app_state(moved).database.dispose()
    assert reply.status_code == 422 and "Ask an administrator to reset" in text(reply)


def test_the_language_chosen_on_the_sign_in_page_is_kept_through_both_steps(
    app: Flask, client: FlaskClient, clock: Clock, analyst: Account
) -> None:
    page = client.get("/auth/sign-in", headers={"Accept-Language": "en"})
    assert 'id="staff-lang"' in text(page), "the sign-in page offers the language switch"
    reply = client.post(
        "/auth/language",
        data={"lang": "fr", "next": "/auth/sign-in", "csrf_token": csrf_token(text(page))},
    )
    assert reply.status_code == 303 and reply.headers["Location"] == "/auth/sign-in"
    assert '<html lang="fr"' in text(client.get("/auth/sign-in"))
    reply = sign_in(client, "anna")
    assert reply.status_code == 303
    assert '<html lang="fr"' in text(client.get("/auth/sign-in/code"))
    reply = send_code(client, analyst.code(clock()))
    assert reply.status_code == 303, text(reply)
    home = client.get("/staff/", headers={"Accept-Language": "en"})
    assert '<html lang="fr"' in text(home), "still French once signed in"
    with client.session_transaction() as session:
        assert set(session) - {"lang"}, "a new session, with the language only carried over"
    # Signing out forgets it: the next person at this computer starts from their browser's.
    post(client, "/auth/sign-out", {}, page_url="/staff/")
    assert '<html lang="en"' in text(client.get("/auth/sign-in", headers={"Accept-Language": "en"}))


def test_an_unknown_language_is_refused_on_the_sign_in_page(client: FlaskClient) -> None:
    page = client.get("/auth/sign-in")
    reply = client.post("/auth/language", data={"lang": "xx", "csrf_token": csrf_token(text(page))})
    assert reply.status_code == 422
    assert "Please choose one of the languages offered." in text(reply)
