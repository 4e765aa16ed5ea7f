"""NUL bytes, other control characters and out-of-range ids: a 4xx naming the problem, on
both databases (PostgreSQL cannot even compare a text containing NUL)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from survey_app.models import Role
from tests.support.apps import Deployment
from tests.support.staff import make_account, open_session
from tests.support.web import Respondent, csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def text(reply: TestResponse) -> str:
    return reply.get_data(as_text=True)


def test_nul_in_an_address_is_refused(client: FlaskClient, deployment: Deployment) -> None:
    for url in ("/s/abc%00def", "/s/abc%00def/done/en", "/auth/sign-in?next=/%00", "/%00"):
        reply = client.get(url)
        assert reply.status_code == 400, url
        assert "character that cannot be used" in text(reply)
    assert client.get("/s/abc%1bdef").status_code == 400


def test_nul_in_a_user_name_is_refused(client: FlaskClient, deployment: Deployment) -> None:
    page = client.get("/auth/sign-in")
    reply = client.post(
        "/auth/sign-in",
        data={
            "username": "adam\x00",
            "password": "whatever it is",
            "csrf_token": csrf_token(text(page)),
        },
    )
    assert reply.status_code == 400
    assert "control character" in text(reply)


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\n"])
@pytest.mark.parametrize("header", ["HTTP_ACCEPT_LANGUAGE", "CONTENT_TYPE", "HTTP_X_ANYTHING"])
def test_control_characters_in_a_header_are_refused(
    client: FlaskClient, header: str, character: str
) -> None:
    # As the server hands the header on (a test client would refuse to send a line break).
    reply = client.get("/auth/sign-in", environ_overrides={header: f"en{character}x"})
    assert reply.status_code == 400
    assert "The request contains a character that cannot be used" in text(reply)


def test_a_tab_in_a_header_is_taken(client: FlaskClient) -> None:
    reply = client.get("/auth/sign-in", headers={"Accept-Language": "fr,\ten;q=0.5"})
    assert reply.status_code == 200


def test_answers_may_hold_line_breaks_but_not_nul(
    client: FlaskClient, deployment: Deployment
) -> None:
    respondent = Respondent(client, deployment.links["minimal"])
    respondent.start()
    assert respondent.submit(1, {"consent": "yes"}).status_code == 200
    page_two = respondent.html
    refused = respondent.submit(2, {"felt_safe": "yes", "comment": "two\x00lines"})
    assert refused.status_code == 400
    respondent.html = page_two  # refused before it reached the survey: that page still works
    taken = respondent.submit(2, {"felt_safe": "yes", "comment": "two\r\nlines\tand a tab"})
    assert taken.status_code == 200 and "Thank you" in taken.get_data(as_text=True)


def test_an_id_too_large_for_the_database_is_not_found(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    admin = make_account(
        app, "adam", role=Role.ADMIN, programme_id=deployment.programme_id, totp=True
    )
    root = make_account(app, "root", superadmin=True, totp=True)
    for account in (admin, root):
        open_session(app, client, account.id)
        for url in (
            "/admin/programmes/99999999999999999999",
            "/admin/programmes/2147483648",
            "/admin/users/99999999999999999999",
        ):
            assert client.get(url).status_code == 404, url
