"""A survivor answers on a phone; the answers are sealed and read back only with the key."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.intake.drafts import FINISHED
from survey_app.models import Draft, InboxResponse
from survey_app.state import app_state
from tests.support.apps import Deployment, read_back
from tests.support.web import Respondent, csrf_token


def start(client: FlaskClient, token: str, lang: str = "en") -> Respondent:
    tab = Respondent(client, token)
    reply = tab.start(lang)
    assert reply.status_code == 200 and tab.page == 1
    return tab


def test_full_survey_is_sealed_and_readable_with_the_key(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    reply = tab.submit(1, {"consent": "yes"})
    assert reply.status_code == 200 and tab.page == 2
    reply = tab.submit(2, {"felt_safe": "partly", "age": "34", "comment": "More evening hours"})
    assert reply.status_code == 200
    assert "Thank you" in tab.html and tab.draft is None

    with app_state(app).database.session() as session:
        rows = session.scalars(select(InboxResponse)).all()
        assert len(rows) == 1
        row = rows[0]
        assert len(row.id) == 32 and row.key_id == deployment.key_id
        assert row.period.count("-W") == 1  # ISO week, never the exact time
        assert b"More evening hours" not in row.sealed and b"partly" not in row.sealed
        # Nothing of the draft's answers left: only the mark that it was finished.
        assert session.scalars(select(Draft.ciphertext)).all() == [FINISHED]

    (opened,) = read_back(app, deployment.programme_id, "minimal")
    assert opened.answers == {
        "consent": "yes",
        "felt_safe": "partly",
        "age": 34,
        "comment": "More evening hours",
    }
    assert (
        opened.meta.site == "North"
        and opened.meta.channel == "self"
        and opened.meta.language == "en"
    )


def test_every_page_has_the_one_address_of_the_survey(
    client: FlaskClient, deployment: Deployment
) -> None:
    """Browser history keeps one address: the landing page's; every page is a POST to it."""
    token = deployment.links["minimal"]
    tab = start(client, token)
    tab.submit(1, {"consent": "yes"})
    actions = re.findall(r'<form [^>]*action="([^"]+)"', tab.html)
    assert set(actions) == {f"/s/{token}", "/exit"}
    assert client.get(f"/s/{token}/p/2").status_code == 404  # no page has an address of its own


def test_declining_consent_stores_nothing_and_shows_help(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    reply = tab.submit(1, {"consent": "no"})
    assert reply.status_code == 200
    assert "Nothing has been saved" in tab.html and "+1 555 0100" in tab.html
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []
        assert session.scalars(select(Draft)).all() == []


def test_back_keeps_answers(client: FlaskClient, deployment: Deployment) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    tab.submit(1, {"consent": "yes"})
    tab.submit(2, {"felt_safe": "no", "age": "40"}, action="back")
    assert tab.page == 1 and 'value="yes" checked' in tab.html
    tab.submit(1, {"consent": "yes"})
    assert 'value="no" checked' in tab.html and 'value="40"' in tab.html


def test_bad_answers_get_4xx_messages_and_are_kept(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    tab.submit(1, {"consent": "yes"})
    reply = tab.submit(2, {"felt_safe": "maybe", "age": "12x", "comment": "kept text"})
    assert reply.status_code == 422
    body = tab.html
    assert "Please choose one of the options shown." in body
    assert "Please enter a whole number, using digits." in body
    assert "kept text" in body and 'href="#q-felt_safe"' in body
    assert 'id="error-summary" autofocus' in body  # focus moves there, with or without JS
    reply = tab.submit(2, {"age": "500"})
    assert reply.status_code == 422
    too_long = tab.submit(2, {"comment": "x" * 2001})
    assert too_long.status_code == 422
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []


def test_arabic_page_is_right_to_left(client: FlaskClient, deployment: Deployment) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token, lang="ar")
    assert '<html lang="ar" dir="rtl">' in tab.html
    assert "هل توافق على الإجابة؟" in tab.html


def test_the_language_can_be_changed_on_any_page(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    tab.submit(1, {"consent": "yes"})
    reply = tab.switch_language("ar", {"felt_safe": "partly"})
    assert reply.status_code == 200 and tab.page == 2
    assert '<html lang="ar" dir="rtl">' in tab.html and "هل شعرت بالأمان؟" in tab.html
    assert 'value="partly" checked' in tab.html  # what was ticked is kept
    tab.submit(2, {"felt_safe": "partly"})
    (opened,) = read_back(app, deployment.programme_id, "minimal")
    assert opened.meta.language == "ar"


def test_missing_csrf_is_refused_with_a_message(
    client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    reply = client.post(f"/s/{token}", data={"lang": "en"})
    assert reply.status_code == 400
    assert "This form has expired" in reply.get_data(as_text=True)


def test_unknown_link_and_language(client: FlaskClient, deployment: Deployment) -> None:
    reply = client.get("/s/no-such-link")
    assert reply.status_code == 404 and "+1 555 0100" not in reply.get_data(as_text=True)
    token = deployment.links["minimal"]
    landing = client.get(f"/s/{token}")
    reply = client.post(
        f"/s/{token}",
        data={"lang": "xx", "csrf_token": csrf_token(landing.get_data(as_text=True))},
    )
    assert reply.status_code == 400
    assert "+1 555 0100" in reply.get_data(as_text=True)  # help on error pages too


def test_a_made_up_draft_field_starts_again(client: FlaskClient, deployment: Deployment) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    for forged in ("nonsense", "0" * 32 + "." + "0" * 64, ""):
        reply = client.post(f"/s/{token}", data=tab.form({"consent": "yes"}, draft=forged))
        assert reply.status_code == 410
        assert "Please start again" in reply.get_data(as_text=True)


def test_payload_is_canonical_json() -> None:
    from datetime import date

    from survey_app.intake.responses import ResponseMeta, encode_payload

    raw = encode_payload(
        {"b": 1, "a": "é"}, ResponseMeta("North", "self", "fr", date(2026, 11, 28))
    )
    assert (
        raw
        == json.dumps(
            {
                "answers": {"a": "é", "b": 1},
                "format": 1,
                "meta": {"channel": "self", "day": "2026-11-28", "language": "fr", "site": "North"},
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    )


def test_idle_draft_is_forgotten_and_the_respondent_starts_again(
    app: Flask, client: FlaskClient, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from survey_app.intake import drafts

    token = deployment.links["minimal"]
    tab = start(client, token)
    tab.submit(1, {"consent": "yes"})
    start(client, token)  # another respondent: a draft of their own, and no purge (just done)
    idle = timedelta(minutes=app_state(app).settings.respondent.draft_idle_minutes)
    later = drafts.now() + idle + drafts.EXPIRY_STEP
    monkeypatch.setattr(drafts, "now", lambda: later)
    reply = tab.submit(2, {"felt_safe": "yes"})
    assert reply.status_code == 410
    assert "Please start again" in tab.html
    # Starting again purges what expired: both earlier drafts.
    start(client, token)
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(Draft)).all()) == 1


def test_the_cookie_never_holds_an_answer_nor_the_draft_key(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    tab.submit(1, {"consent": "yes"})
    tab.submit(2, {"comment": "SENTINEL-IN-PROGRESS"}, action="back")
    key = tab.draft
    assert key is not None
    # The one cookie is the random value the form token is made from: 32 bytes, nothing else.
    assert client.get_cookie("s") is None
    cookie = client.get_cookie("f")
    assert cookie is not None
    content = cookie.value
    assert len(base64.urlsafe_b64decode(content + "=")) == 32
    assert "SENTINEL" not in content and "comment" not in content
    assert key.split(".")[1] not in content and key.split(".")[0] not in content
    with app_state(app).database.session() as session:
        (draft,) = session.scalars(select(Draft)).all()
        assert b"SENTINEL" not in draft.ciphertext
    # Leaving with the page's form removes the draft on the server and the cookie in the browser.
    reply = client.post("/exit", data={"draft": key})
    assert reply.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    with app_state(app).database.session() as session:
        assert session.scalars(select(Draft)).all() == []


def test_skipping_consent_is_not_agreeing(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    reply = tab.submit(1, {})
    assert reply.status_code == 422
    assert "Please answer this question." in tab.html
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []


def test_later_pages_cannot_be_reached_by_changing_the_page_field(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    tab = start(client, token)
    reply = tab.post(tab.form({"felt_safe": "yes", "action": "next"}, page="2"))
    assert reply.status_code == 200 and tab.page == 1  # still on the consent page
    reply = tab.post(tab.form({"action": "retry"}))  # "finish now" without having answered
    assert tab.page == 1
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []


def test_a_draft_keeps_only_a_quarter_hour_of_activity_time(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    from datetime import UTC, datetime, timedelta

    token = deployment.links["minimal"]
    before = datetime.now(UTC)
    start(client, token).submit(1, {"consent": "yes"})
    idle = timedelta(minutes=app_state(app).settings.respondent.draft_idle_minutes)
    with app_state(app).database.session() as session:
        (draft,) = session.scalars(select(Draft)).all()
        expires = draft.expires_at.replace(tzinfo=UTC)
    # A multiple of 15 minutes, never earlier than the idle time allows, at most 15 minutes later.
    assert expires.timestamp() % (15 * 60) == 0 and expires.microsecond == 0
    assert before + idle <= expires <= datetime.now(UTC) + idle + timedelta(minutes=15)


def test_after_a_purge_no_draft_expires_before_the_next_quarter_hour() -> None:
    """Why one purge per quarter hour finds everything: every expiry a draft can have is a
    quarter hour later than the moment it was set, so none falls in the step of a purge."""
    from datetime import UTC, datetime, timedelta

    from survey_app.intake.drafts import coarse_expiry, expiry_step

    quarter = datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
    for purged_at in (quarter, quarter + timedelta(seconds=1), quarter + timedelta(minutes=14)):
        saved_after = purged_at + timedelta(microseconds=1)
        assert expiry_step(coarse_expiry(saved_after)) > expiry_step(purged_at)
        assert expiry_step(purged_at) == expiry_step(quarter)


def test_a_clock_set_back_does_not_stop_the_purge(
    app: Flask, client: FlaskClient, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from survey_app.intake import drafts

    token = deployment.links["minimal"]
    real = drafts.now()
    clock = {"now": real + timedelta(hours=2)}  # ahead, then corrected
    monkeypatch.setattr(drafts, "now", lambda: clock["now"])
    start(client, token)  # purges, in a step two hours ahead
    clock["now"] = real
    start(client, token)  # another step number: purges again (nothing has expired)
    idle = timedelta(minutes=app_state(app).settings.respondent.draft_idle_minutes)
    clock["now"] = real + idle + drafts.EXPIRY_STEP  # the second draft has expired
    start(client, token)
    with app_state(app).database.session() as session:
        expiries = list(session.scalars(select(Draft.expires_at)))
    assert all(expiry > clock["now"] for expiry in expiries), expiries


def test_a_response_that_fails_to_store_leaves_the_answers_to_send_again(
    app: Flask, client: FlaskClient, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The draft is marked finished and the response stored together, or neither: when storing
    fails after the draft was marked, the same page sent again stores the answers once."""
    from survey_app.intake import responses
    from survey_app.intake.responses import SealedResponse
    from survey_app.web import respond

    sealing = responses.seal_response

    def sealed_to_no_such_key(*args: Any, **kwargs: Any) -> SealedResponse:
        # A row the database refuses (its key is not in programme_keys), after the draft's row
        # was marked finished in the same transaction or statement.
        sealed = sealing(*args, **kwargs)
        return SealedResponse({**sealed.row, "key_id": "no-such-key"})

    tab = start(client, deployment.links["minimal"])
    tab.submit(1, {"consent": "yes"})
    last_page = tab.form({"felt_safe": "yes"}, action="next")
    with monkeypatch.context() as patch:
        patch.setattr(respond, "seal_response", sealed_to_no_such_key)
        failed = client.post(tab.url, data=last_page)
    assert failed.status_code >= 500
    assert "Thank you" not in failed.get_data(as_text=True)
    assert read_back(app, deployment.programme_id, "minimal") == []
    sent_again = client.post(tab.url, data=last_page)
    assert sent_again.status_code == 200 and "Thank you" in sent_again.get_data(as_text=True)
    assert len(read_back(app, deployment.programme_id, "minimal")) == 1
