"""Respondent requests sent at the same moment, against the app served for real.

A double tap on the last page, or a survey version's first responses arriving together, must
each end with exactly one outcome in the database: one response per draft, one version row.
"""

from __future__ import annotations

from functools import partial

from flask import Flask
from sqlalchemy import func, select

from survey_app.intake.distribution import create_codes, create_link
from survey_app.intake.drafts import FINISHED
from survey_app.models import AccessCode, Draft, InboxResponse, Programme, SurveyVersion
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.served import Browser, Reply, at_once, served
from tests.support.web import DRAFT_FIELD, page_number

TIMES_SENT = 6


def count(app: Flask, model: type) -> int:
    with app_state(app).database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def on_last_page(browser: Browser, token: str, code: str | None = None) -> dict[str, str]:
    """Start and answer the first page; returns the hidden fields of the last page's form."""
    landing = browser.get(f"/s/{token}")
    data = {"lang": "en", "csrf_token": landing.csrf()}
    if code is not None:
        data["code"] = code
    first = browser.post(f"/s/{token}", data)
    assert first.status == 200 and page_number(first.text) == 1, first.status
    reply = browser.post(
        f"/s/{token}", {**hidden_fields(first), "consent": "yes", "action": "next"}
    )
    assert reply.status == 200 and page_number(reply.text) == 2, reply.status
    return hidden_fields(reply)


def link_with_one_code(app: Flask, deployment: Deployment) -> tuple[str, str]:
    """A link that needs an access code, and its one code."""
    with app_state(app).database.session() as session:
        programme = session.get(Programme, deployment.programme_id)
        assert programme is not None
        link = create_link(session, programme, "minimal", "Clinic", requires_code=True)
        _batch, (code,) = create_codes(session, link, 1, app_state(app).code_key)
        return link.token, code


def hidden_fields(page: Reply) -> dict[str, str]:
    draft = DRAFT_FIELD.search(page.text)
    assert draft is not None
    return {"csrf_token": page.csrf(), "draft": draft.group(1), "page": str(page_number(page.text))}


def send_last_page_at_once(browser: Browser, token: str, form: dict[str, str]) -> list[Reply]:
    data = {**form, "felt_safe": "yes", "action": "next"}
    tabs = [browser.copy() for _ in range(TIMES_SENT)]
    return at_once([partial(tab.post, f"/s/{token}", data) for tab in tabs])


def assert_told_received(replies: list[Reply], token: str) -> None:
    """Every request, the winner's and the losers', ends on the thank-you page."""
    for reply in replies:
        assert reply.status == 200, (reply.status, reply.text[:300])
        assert "Thank you" in reply.text and "Nothing was" not in reply.text


def test_a_last_page_sent_six_times_at_once_stores_one_response(
    app: Flask, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    with served(app) as address:
        respondents = [Browser(address, source=f"127.0.0.{20 + i}") for i in range(3)]
        for browser in respondents:
            form = on_last_page(browser, token)
            assert_told_received(send_last_page_at_once(browser, token, form), token)
    assert count(app, InboxResponse) == 3
    with app_state(app).database.session() as session:
        # What is left of each draft until it expires: the fact it was finished, no answers.
        assert session.scalars(select(Draft.ciphertext)).all() == [FINISHED] * 3


def test_a_coded_last_page_sent_at_once_spends_the_code_once_and_stores_once(
    app: Flask, deployment: Deployment
) -> None:
    token, code = link_with_one_code(app, deployment)
    with served(app) as address:
        browser = Browser(address)
        form = on_last_page(browser, token, code)
        replies = send_last_page_at_once(browser, token, form)
    assert_told_received(replies, token)
    assert count(app, InboxResponse) == 1
    with app_state(app).database.session() as session:
        assert session.scalars(select(AccessCode.spent)).all() == [True]


def test_a_coded_start_sent_at_once_lets_one_browser_in_every_time_and_no_other(
    app: Flask, deployment: Deployment
) -> None:
    """Starts with one code sent at the same moment: three from one browser (a double tap on
    a slow network) and three from another. One browser gets page 1 every time, the other is
    refused every time; the code is spent once, one draft exists, and exactly one of the pages
    shown holds its key (whichever the browser shows, starting again gives it the live one)."""
    token, code = link_with_one_code(app, deployment)
    with served(app) as address:
        browsers = [Browser(address, source="127.0.0.31"), Browser(address, source="127.0.0.32")]
        forms = [
            {"lang": "en", "code": code, "csrf_token": b.get(f"/s/{token}").csrf()}
            for b in browsers
        ]
        tabs = [(b.copy(), form) for b, form in zip(browsers, forms, strict=True) for _ in range(3)]
        replies = at_once([partial(tab.post, f"/s/{token}", form) for tab, form in tabs])
        statuses = [reply.status for reply in replies]
        assert statuses in ([200] * 3 + [403] * 3, [403] * 3 + [200] * 3), statuses
        admitted = [
            (tab, reply)
            for (tab, _form), reply in zip(tabs, replies, strict=True)
            if reply.status == 200
        ]
        assert all(page_number(reply.text) == 1 for _tab, reply in admitted)
        sent = [
            tab.post(f"/s/{token}", {**hidden_fields(reply), "consent": "yes", "action": "next"})
            for tab, reply in admitted
        ]
    assert sorted(reply.status for reply in sent) == [200, 410, 410]
    assert count(app, Draft) == 1
    with app_state(app).database.session() as session:
        assert session.scalars(select(AccessCode.spent)).all() == [True]


def test_eight_first_responses_to_a_new_version_at_once_make_one_version_row(
    app: Flask, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    assert count(app, SurveyVersion) == 0
    with served(app) as address:
        browsers = [Browser(address, source=f"127.0.0.{10 + i}") for i in range(8)]
        forms = [(browser, on_last_page(browser, token)) for browser in browsers]
        data = {"felt_safe": "no", "action": "next"}
        replies = at_once(
            [partial(browser.post, f"/s/{token}", {**data, **form}) for browser, form in forms]
        )
    assert_told_received(replies, token)
    assert count(app, InboxResponse) == 8
    assert count(app, SurveyVersion) == 1


def test_a_copy_of_the_last_page_sent_after_it_was_stored_is_told_it_was_received(
    app: Flask, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    with served(app) as address:
        browser = Browser(address)
        form = on_last_page(browser, token)
        late_tap = browser.copy()
        data = {**form, "felt_safe": "yes", "action": "next"}
        first = browser.post(f"/s/{token}", data)
        second = late_tap.post(f"/s/{token}", data)
    assert_told_received([first, second], token)
    assert count(app, InboxResponse) == 1
