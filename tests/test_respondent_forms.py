"""A respondent's forms carry a token bound to their own cookie: what a page on another site,
or someone holding another browser's token, can and cannot send (survey_app.web.respondent_forms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app.models import Draft
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.web import Respondent, csrf_token


def drafts(app: Flask) -> int:
    with app_state(app).database.session() as session:
        return session.scalar(select(func.count()).select_from(Draft)) or 0


def own_token(client: FlaskClient, token: str) -> str:
    return csrf_token(client.get(f"/s/{token}").get_data(as_text=True))


def flipped(text: str) -> str:
    return ("B" if text[0] == "A" else "A") + text[1:]


# Each: what the request sends, given the victim's browser, the attacker's and the link.
Forgery = Callable[[FlaskClient, FlaskClient, str], dict[str, Any]]
FORGERIES: dict[str, Forgery] = {
    "no token": lambda victim, attacker, token: {},
    "an empty token": lambda victim, attacker, token: {"csrf_token": ""},
    # The attacker's own page has a valid token, for the attacker's cookie.
    "the attacker's own token": lambda victim, attacker, token: {
        "csrf_token": own_token(attacker, token)
    },
    "the victim's token changed": lambda victim, attacker, token: {
        "csrf_token": flipped(own_token(victim, token))
    },
    # A staff page's token (Flask-WTF's, from the session) is not a respondent's.
    "a staff form's token": lambda victim, attacker, token: {
        "csrf_token": csrf_token(victim.get("/staff/sign-in").get_data(as_text=True))
    },
}


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
def test_a_form_without_this_browsers_token_is_refused_and_opens_nothing(
    app: Flask, deployment: Deployment, forgery: str
) -> None:
    token = deployment.links["minimal"]
    victim, attacker = app.test_client(), app.test_client()
    own_token(victim, token)  # the victim has the cookie
    data = FORGERIES[forgery](victim, attacker, token)
    reply = victim.post(f"/s/{token}", data={"lang": "en", **data})
    assert reply.status_code == 400
    assert "This form has expired or was sent from somewhere else" in reply.get_data(as_text=True)
    assert drafts(app) == 0


def test_a_token_without_its_cookie_is_refused(app: Flask, deployment: Deployment) -> None:
    token = deployment.links["minimal"]
    browser = app.test_client()
    form_token = own_token(browser, token)
    browser.delete_cookie("f")  # cookies cleared, the page still open
    reply = browser.post(f"/s/{token}", data={"lang": "en", "csrf_token": form_token})
    assert reply.status_code == 400 and drafts(app) == 0
    # A cookie of the attacker's own making is no better.
    browser.set_cookie("f", "A" * 43)
    reply = browser.post(f"/s/{token}", data={"lang": "en", "csrf_token": form_token})
    assert reply.status_code == 400 and drafts(app) == 0


def test_a_page_in_progress_needs_the_token_too(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    tab = Respondent(client, deployment.links["minimal"])
    tab.start()
    form = tab.form({"consent": "yes"})
    reply = app.test_client().post(tab.url, data=form)  # the draft field, but another browser
    assert reply.status_code == 400
    assert tab.submit(1, {"consent": "yes"}).status_code == 200 and tab.page == 2


def test_two_tabs_and_a_double_tap_share_the_browsers_token(
    client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    first, second = Respondent(client, token), Respondent(client, token)
    assert first.start().status_code == 200 and second.start().status_code == 200
    assert csrf_token(first.html) == csrf_token(second.html)
    sent = first.form({"consent": "yes"})
    assert client.post(first.url, data=sent).status_code == 200
    # The same page sent again: the token passes, and the draft field decides (start again).
    assert client.post(first.url, data=sent).status_code == 410


def test_a_token_made_under_a_replaced_secret_key_is_refused(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    old = own_token(client, token)
    app.config["SECRET_KEY"] = "another secret key of enough length for the test"
    reply = client.post(f"/s/{token}", data={"lang": "en", "csrf_token": old})
    assert reply.status_code == 400 and drafts(app) == 0
    # The page loaded again has a token under the new key, for the same cookie.
    fresh = own_token(client, token)
    assert fresh != old
    assert client.post(f"/s/{token}", data={"lang": "en", "csrf_token": fresh}).status_code == 200


def test_a_token_with_characters_outside_ascii_is_refused_not_an_error(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    own_token(client, token)
    reply = client.post(f"/s/{token}", data={"lang": "en", "csrf_token": "é" * 43})
    assert reply.status_code == 400 and drafts(app) == 0


@pytest.mark.parametrize("beacon", [False, True], ids=["button", "shortcut"])
def test_quick_exit_deletes_the_cookie_even_without_clear_site_data(
    client: FlaskClient, deployment: Deployment, beacon: bool
) -> None:
    tab = Respondent(client, deployment.links["minimal"])
    tab.start()
    assert client.get_cookie("f") is not None
    reply = client.post("/exit", data={"draft": tab.draft, **({"beacon": "1"} if beacon else {})})
    (deleted,) = [c for c in reply.headers.getlist("Set-Cookie") if c.startswith("f=")]
    assert "Max-Age=0" in deleted and "Path=/" in deleted
    assert client.get_cookie("f") is None
