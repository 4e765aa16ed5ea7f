"""The staff side under attack: redirects after sign-in, a programme administrator reaching
into other programmes, guessable passwords, a copied session cookie after the quick exit."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from survey_app.models import AuditEvent, Membership, Programme, Role
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.cli import run
from tests.support.staff import (
    PASSWORD,
    Account,
    Clock,
    freeze,
    make_account,
    open_session,
    post,
    send_code,
)
from tests.support.web import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

OFF_SITE = [
    "//evil.example/",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "https://evil.example/staff/",
    "/%0d%0aSet-Cookie:%20x=1",
    "/staff/%2e%2e//evil.example",
    "javascript:alert(1)",
]


def text(reply: TestResponse) -> str:
    return reply.get_data(as_text=True)


def sign_in_with_next(client: FlaskClient, username: str, target: str) -> TestResponse:
    page = client.get("/auth/sign-in")
    return client.post(
        f"/auth/sign-in?next={target}",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(text(page))},
    )


@pytest.fixture
def clock(app: Flask) -> Clock:
    return freeze(app)


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_off_the_site(
    app: Flask, deployment: Deployment, clock: Clock, target: str
) -> None:
    make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    reply = sign_in_with_next(app.test_client(), "casey", target)
    assert reply.status_code in {303, 400}, reply.status_code
    if reply.status_code == 303:
        assert reply.headers["Location"] == "/staff/"


def test_next_leads_to_a_page_of_the_site_even_through_two_step_sign_in(
    app: Flask, deployment: Deployment, clock: Clock
) -> None:
    make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    reply = sign_in_with_next(app.test_client(), "casey", "/staff/assist?x=1")
    assert reply.headers["Location"] == "/staff/assist?x=1"
    analyst = make_account(
        app, "anna", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
    )
    client = app.test_client()
    first = sign_in_with_next(client, "anna", "/%2F%2Fevil.example")
    assert first.headers["Location"].endswith("/auth/sign-in/code")
    reply = send_code(client, analyst.code(clock.moment))
    assert reply.headers["Location"] == "/staff/"


# ------------------------------------------------------------------ programme administrators


def other_programme(app: Flask) -> int:
    with app_state(app).database.session() as db:
        clinic = Programme(
            slug="clinic", name="Clinic", public_title="F", retention_days=30, help_contacts={}
        )
        db.add(clinic)
        db.flush()
        return clinic.id


@pytest.fixture
def programme_admin(app: Flask, client: FlaskClient, deployment: Deployment) -> Account:
    adam = make_account(
        app, "adam", role=Role.ADMIN, programme_id=deployment.programme_id, totp=True
    )
    open_session(app, client, adam.id)
    return adam


def add_member(client: FlaskClient, programme_id: int, username: str) -> TestResponse:
    page = f"/admin/programmes/{programme_id}"
    return post(client, f"{page}/members", {"username": username, "role": "viewer"}, page_url=page)


def memberships(app: Flask) -> set[tuple[str, int]]:
    with app_state(app).database.session() as db:
        return {(m.user.username, m.programme_id) for m in db.scalars(select(Membership))}


def test_a_programme_admin_cannot_add_people_from_elsewhere_and_learns_nothing(
    app: Flask, client: FlaskClient, deployment: Deployment, programme_admin: Account
) -> None:
    clinic = other_programme(app)
    make_account(app, "olga", role=Role.ANALYST, programme_id=clinic, totp=True)
    make_account(app, "root", superadmin=True, totp=True)
    make_account(app, "nomad")  # an account in no programme yet
    before = memberships(app)
    answers = []
    for name in ("olga", "root", "nomad", "ghost-who-does-not-exist"):
        reply = add_member(client, deployment.programme_id, name)
        assert reply.status_code == 303
        answers.append(text(client.get(reply.headers["Location"])))
    assert memberships(app) == before
    # The same words whether the account exists, belongs elsewhere, or is the deployment's.
    said = [a[a.index('class="notice') : a.index("</", a.index('class="notice'))] for a in answers]
    assert len(set(said)) == 1 and "passed to a deployment administrator" in said[0]
    for answer in answers:
        assert "olga" not in answer and "Clinic" not in answer and "no user called" not in answer
    with app_state(app).database.session() as db:
        requests = db.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "role.request")
            .order_by(AuditEvent.id)
        ).all()
    assert len(requests) == 4 and "'olga' viewer of shelter" in requests[0]


def test_a_programme_admin_adds_accounts_of_their_own_programmes(
    app: Flask, client: FlaskClient, deployment: Deployment, programme_admin: Account
) -> None:
    second = other_programme(app)
    with app_state(app).database.session() as db:
        db.add(Membership(user_id=programme_admin.id, programme_id=second, role=Role.ADMIN))
    open_session(app, client, programme_admin.id)
    make_account(app, "bea", role=Role.VIEWER, programme_id=second)
    reply = add_member(client, deployment.programme_id, "bea")
    assert "bea added." in text(client.get(reply.headers["Location"]))
    assert ("bea", deployment.programme_id) in memberships(app)


def test_the_accounts_list_shows_nothing_of_other_programmes(
    app: Flask, client: FlaskClient, deployment: Deployment, programme_admin: Account
) -> None:
    clinic = other_programme(app)
    shared = make_account(app, "sam", role=Role.VIEWER, programme_id=deployment.programme_id)
    with app_state(app).database.session() as db:
        db.add(Membership(user_id=shared.id, programme_id=clinic, role=Role.ANALYST))
    make_account(app, "olga", role=Role.ANALYST, programme_id=clinic)
    page = text(client.get("/admin/users"))
    assert "sam" in page and "shelter: viewer" in page
    assert "olga" not in page and "clinic" not in page and "analyst" not in page
    # Sam belongs to another programme too: not theirs to manage, nor to read.
    assert client.get(f"/admin/users/{shared.id}").status_code == 403


# ------------------------------------------------------------------ passwords


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "password1234", "qwertyuiop123"])
def test_common_passwords_are_refused_on_the_web(
    app: Flask, client: FlaskClient, deployment: Deployment, weak: str
) -> None:
    casey = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    open_session(app, client, casey.id)
    data: dict[str, Any] = {"current": PASSWORD, "new": weak, "repeat": weak}
    reply = post(client, "/auth/password", data, page_url="/auth/password")
    assert reply.status_code == 422
    assert "too easy to guess" in text(reply)
    good = "seven ravens under the bridge"
    data = {"current": PASSWORD, "new": good, "repeat": good}
    assert post(client, "/auth/password", data, page_url="/auth/password").status_code == 303


def test_common_passwords_are_refused_at_the_terminal(app: Flask, settings: Any) -> None:
    refused = run(settings, "users", "create-admin", "root", input="password1234\npassword1234\n")
    assert refused.exit_code != 0 and "too easy to guess" in refused.output
    good = "seven ravens under the bridge"
    taken = run(settings, "users", "create-admin", "root", input=f"{good}\n{good}\n")
    assert taken.exit_code == 0, taken.output


# ------------------------------------------------------------------ quick exit


def sign_in_casey(app: Flask, client: FlaskClient, deployment: Deployment) -> str:
    """A caseworker signed in in `client`; the value of their session cookie."""
    casey = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    open_session(app, client, casey.id)
    cookie = client.get_cookie("s")
    assert cookie is not None
    return cookie.value


def holding(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding a copy of the session cookie."""
    copy = app.test_client()
    copy.set_cookie("s", cookie)
    return copy


def test_the_staff_quick_exit_ends_the_session_on_the_server(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    cookie = sign_in_casey(app, client, deployment)
    copied = holding(app, cookie)
    assert copied.get("/staff/").status_code == 200
    page = client.get("/staff/")
    # A GET of /exit changes nothing on the server: the copy still works.
    holding(app, cookie).get("/exit")
    assert copied.get("/staff/").status_code == 200
    reply = client.post("/exit", data={"csrf_token": csrf_token(text(page))})
    assert reply.status_code in {204, 303}
    assert copied.get("/staff/").status_code == 302
    with app_state(app).database.session() as db:
        detail = db.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "auth.sign-out")
        ).all()
    assert detail == ["quick exit"]


def test_leaving_a_survey_page_ends_the_staff_session_on_the_server_too(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    """A caseworker who opened a survey link in the browser they work in, and leaves from it:
    that page's exit carries the respondent form token, which counts as well."""
    cookie = sign_in_casey(app, client, deployment)
    copied = holding(app, cookie)
    survey_page = client.get(f"/s/{deployment.links['minimal']}")
    exit_form = text(survey_page).split('class="exit-form"', 1)[1]
    assert client.post("/exit", data={"csrf_token": csrf_token(exit_form)}).status_code == 303
    assert copied.get("/staff/").status_code == 302


@pytest.mark.parametrize("exit_path", ["/exit", "/staff/assist/offline/exit"])
def test_the_staff_quick_exit_leaves_even_when_the_database_cannot_answer(
    app: Flask,
    client: FlaskClient,
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    exit_path: str,
) -> None:
    from sqlalchemy.exc import OperationalError

    sign_in_casey(app, client, deployment)
    token = csrf_token(text(client.get("/staff/")))

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(app_state(app).database, "session", down)
    monkeypatch.setattr(app_state(app).database, "connection", down)
    reply = client.post(exit_path, data={"csrf_token": token})
    assert reply.status_code in {204, 303}
    assert "cookies" in reply.headers["Clear-Site-Data"]


@pytest.mark.parametrize("exit_path", ["/exit", "/staff/assist/offline/exit"])
def test_a_quick_exit_without_the_form_token_ends_no_session_on_the_server(
    app: Flask, client: FlaskClient, deployment: Deployment, exit_path: str
) -> None:
    """A quick exit forged on another site (a form that posts to /exit, as any site can):
    the browser that sends it forgets its session, but the server ends none, so nobody can be
    signed out of every device by a page they visit."""
    cookie = sign_in_casey(app, client, deployment)
    copied = holding(app, cookie)
    reply = client.post(exit_path, data={"csrf_token": "forged", "beacon": "1"})
    assert reply.status_code == 204
    assert client.get("/staff/").status_code == 302  # this browser's session is gone
    assert copied.get("/staff/").status_code == 200  # the server's is not
    with app_state(app).database.session() as db:
        signed_out = db.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign-out"))
        assert signed_out.all() == []
    # With the token, the offline page's exit ends it everywhere, as the staff pages' does.
    token = copied.get("/staff/assist/offline/token").get_json()["csrf"]
    assert copied.post(exit_path, data={"csrf_token": token}).status_code in {204, 303}
    assert holding(app, cookie).get("/staff/").status_code == 302
