"""Baseline safety: headers, cookies, CSRF, and logs that hold no address and no answer."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from survey_app import create_app, migrate
from survey_app.models import Programme
from survey_app.state import app_state
from survey_app.web.access import rule
from tests.support.apps import Deployment, deploy, make_settings
from tests.support.web import Respondent, csrf_token

TEMPLATES = Path(__file__).resolve().parent.parent / "survey_app" / "templates"


def assert_baseline_headers(headers: object) -> None:
    csp = headers["Content-Security-Policy"]  # type: ignore[index]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["Referrer-Policy"] == "no-referrer"  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]


@pytest.mark.parametrize("path", ["/s/{token}", "/s/no-such-link", "/exit", "/static/site.css"])
def test_every_response_carries_the_safety_headers(
    client: FlaskClient, deployment: Deployment, path: str
) -> None:
    reply = client.get(path.format(token=deployment.links["minimal"]))
    reply.close()
    assert_baseline_headers(reply.headers)


def test_respondent_pages_are_never_cached(client: FlaskClient, deployment: Deployment) -> None:
    reply = client.get(f"/s/{deployment.links['minimal']}")
    assert "no-store" in reply.headers["Cache-Control"]


def test_a_respondent_gets_one_cookie_once_and_no_session(
    client: FlaskClient, deployment: Deployment
) -> None:
    respondent = Respondent(client, deployment.links["minimal"])
    landing = client.get(respondent.url)
    assert [c.split("=")[0] for c in landing.headers.getlist("Set-Cookie")] == ["f"]
    replies = [respondent.start(), respondent.submit(1, {"consent": "yes"})]
    replies.append(respondent.submit(2, {"felt_safe": "yes"}))
    assert "Thank you" in replies[-1].get_data(as_text=True)
    assert [reply.headers.get("Set-Cookie") for reply in replies] == [None, None, None]
    assert client.get_cookie("s") is None  # no session: the form cookie is all there is


@pytest.mark.parametrize("path", ["/s/{token}/results", "/s/no-such-link", "/s/{token}/x"])
def test_a_respondents_page_without_a_survey_form_sets_no_cookie(
    app: Flask, client: FlaskClient, deployment: Deployment, path: str
) -> None:
    with app_state(app).database.session() as session:
        session.execute(update(Programme).values(results_page_published=True))
    reply = client.get(path.format(token=deployment.links["minimal"]))
    assert reply.status_code in (200, 404)
    assert reply.headers.getlist("Set-Cookie") == []


@pytest.mark.parametrize("path", ["/s/{token}", "/staff/sign-in", "/static/site.css"])
def test_each_safety_header_is_sent_once(
    client: FlaskClient, deployment: Deployment, path: str
) -> None:
    reply = client.get(path.format(token=deployment.links["minimal"]))
    reply.close()
    names = [name.lower() for name, _value in reply.headers]
    assert "content-security-policy" in names and "x-frame-options" in names
    assert len(names) == len(set(names)), names


def test_templates_have_no_inline_script_or_style() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{template.name}: inline script"
        assert " style=" not in text, f"{template.name}: inline style attribute"
        assert "<style" not in text, f"{template.name}: inline style element"
        assert not re.search(r"\son[a-z]+=", text), f"{template.name}: inline event handler"


def test_no_third_party_assets() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for url in re.findall(r'(?:src|href)="(https?:)?//', text):
            pytest.fail(f"{template.name} loads from another site: {url}")


def test_cookies_are_httponly_samesite_and_secure_in_production(
    tmp_path: Path, database_url: str
) -> None:
    app = create_app(
        make_settings(
            tmp_path,
            database_url,
            environment="production",
            server={"public_url": "https://feedback.example.org"},
        )
    )
    migrate.upgrade(app_state(app).database)

    deployment = deploy(app)
    client = app.test_client()
    token = deployment.links["minimal"]
    landing = client.get(f"/s/{token}", base_url="https://localhost")
    reply = client.post(
        f"/s/{token}",
        base_url="https://localhost",
        data={"lang": "en", "csrf_token": csrf_token(landing.get_data(as_text=True))},
    )
    # The only cookie a respondent gets is the one their form token is made from (CSRF).
    (cookie,) = landing.headers.getlist("Set-Cookie")
    assert cookie.startswith("f=") and "Path=/" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie  # gone with the browser session
    assert reply.status_code == 200 and "Set-Cookie" not in reply.headers
    signing_in = client.get("/staff/sign-in", base_url="https://localhost")
    (session,) = signing_in.headers.getlist("Set-Cookie")
    assert session.startswith("s=") and "HttpOnly" in session and "Secure" in session
    assert "SameSite=Lax" in session
    assert "Strict-Transport-Security" in reply.headers
    app_state(app).database.dispose()


def test_quick_exit_clears_the_site_and_leaves(client: FlaskClient, deployment: Deployment) -> None:
    reply = client.get("/exit")
    assert reply.status_code == 303
    assert reply.headers["Location"] == "https://www.wikipedia.org/"
    assert reply.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


def test_logs_hold_no_address_and_no_answer(
    app: Flask, client: FlaskClient, deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = deployment.links["minimal"]
    environ = {"REMOTE_ADDR": "203.0.113.77", "HTTP_USER_AGENT": "SentinelBrowser/9.9"}
    landing = client.get(f"/s/{token}?tracking=sentinel-query", environ_base=environ)
    tab = Respondent(client, token)
    tab.html = landing.get_data(as_text=True)
    tab.client.environ_base.update(environ)
    tab.post({"lang": "en", "csrf_token": csrf_token(tab.html)})
    tab.submit(1, {"consent": "yes"})
    tab.submit(2, {"comment": "SENTINEL-ANSWER-42"})
    access = [r.getMessage() for r in caplog.records if r.name == "survey_app.access"]
    # Respondent requests are counted, never logged one by one.
    assert not any("/s/" in line for line in access)
    _day, counts = app_state(app).traffic.current()
    assert counts[("POST /s/<token>", 200)] == 3  # the start and both pages: one route
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("203.0.113.77", "SentinelBrowser", "SENTINEL-ANSWER-42", "sentinel-query"):
        assert secret not in everything


def test_unexpected_error_logs_no_message_and_shows_no_traceback(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    from flask import request

    @app.post("/boom")
    @rule(public=True)
    def boom() -> str:
        raise ValueError("invalid literal: " + request.form["answer"])

    app.config["WTF_CSRF_ENABLED"] = False
    caplog.set_level(logging.DEBUG)
    reply = client.post("/boom", data={"answer": "SENTINEL-ANSWER-99"})
    assert reply.status_code == 500
    body = reply.get_data(as_text=True)
    assert "Traceback" not in body and "SENTINEL" not in body
    assert "Something went wrong on our side" in body
    assert "Nothing" not in body  # the error may come after something was stored
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged and "SENTINEL-ANSWER-99" not in logged


def test_oversized_post_is_refused_with_413(client: FlaskClient, deployment: Deployment) -> None:
    reply = client.post(f"/s/{deployment.links['minimal']}", data={"lang": "x" * 70000})
    assert reply.status_code == 413
    assert "too large" in reply.get_data(as_text=True)


def test_a_route_without_an_access_rule_is_refused(app: Flask, client: FlaskClient) -> None:
    @app.get("/undeclared")
    def undeclared() -> str:
        return "should not be seen"

    reply = client.get("/undeclared")
    assert reply.status_code == 403
    assert "should not be seen" not in reply.get_data(as_text=True)


def test_respondent_forms_ask_the_browser_not_to_remember_answers(
    client: FlaskClient, deployment: Deployment
) -> None:

    token = deployment.links["minimal"]
    assert 'autocomplete="off"' in client.get(f"/s/{token}").get_data(as_text=True)
    tab = Respondent(client, token)
    tab.start()
    page = tab.html
    assert re.search(r'<form [^>]*autocomplete="off"', page)


def test_a_session_cookie_signed_with_a_replaced_secret_key_is_not_read(
    app: Flask, deployment: Deployment
) -> None:
    client = app.test_client()
    url = "/staff/sign-in"
    assert client.get(url).headers.get("Set-Cookie", "").startswith("s=")
    # The same cookie again: read, and nothing to write back.
    assert "Set-Cookie" not in client.get(url).headers
    app.config["SECRET_KEY"] = "another secret key of enough length for the test"
    # Signed with the old key: not read, so the page starts a new session.
    assert client.get(url).headers.get("Set-Cookie", "").startswith("s=")
    assert "Set-Cookie" not in client.get(url).headers
