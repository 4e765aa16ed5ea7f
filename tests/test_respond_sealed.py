"""A survivor answers on a phone; the answers are sealed and read back only with the key."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.drafts import FINISHED
from survey_app.models import Draft, InboxResponse
from survey_app.state import app_state
from tests.support.apps import Deployment, read_back
from tests.support.web import Respondent, csrf_token


def start(client: FlaskClient, token: str, lang: str = "en") -> None:
    reply = Respondent(client, token).start(lang)
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(f"/s/{token}/p/1")


def answer_page(client: FlaskClient, token: str, number: int, data: dict[str, object]) -> Any:
    return Respondent(client, token).submit(number, data)


def test_full_survey_is_sealed_and_readable_with_the_key(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    start(client, token)
    reply = answer_page(client, token, 1, {"consent": "yes"})
    assert reply.headers["Location"].endswith(f"/s/{token}/p/2")
    reply = answer_page(
        client, token, 2, {"felt_safe": "partly", "age": "34", "comment": "More evening hours"}
    )
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(f"/s/{token}/done/en")
    assert "Thank you" in client.get(reply.headers["Location"]).get_data(as_text=True)

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


def test_declining_consent_stores_nothing_and_shows_help(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    start(client, token)
    reply = answer_page(client, token, 1, {"consent": "no"})
    assert reply.status_code == 200
    body = reply.get_data(as_text=True)
    assert "Nothing has been saved" in body and "+1 555 0100" in body
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []
        assert session.scalars(select(Draft)).all() == []


def test_back_keeps_answers(client: FlaskClient, deployment: Deployment) -> None:
    token = deployment.links["minimal"]
    start(client, token)
    answer_page(client, token, 1, {"consent": "yes"})
    page = client.get(f"/s/{token}/p/2")
    reply = client.post(
        f"/s/{token}/p/2",
        data={
            "felt_safe": "no",
            "age": "40",
            "action": "back",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert reply.headers["Location"].endswith(f"/s/{token}/p/1")
    again = client.get(f"/s/{token}/p/2").get_data(as_text=True)
    assert 'value="no" checked' in again and 'value="40"' in again


def test_bad_answers_get_4xx_messages_and_are_kept(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    start(client, token)
    answer_page(client, token, 1, {"consent": "yes"})
    reply = answer_page(
        client, token, 2, {"felt_safe": "maybe", "age": "12x", "comment": "kept text"}
    )
    assert reply.status_code == 422
    body = reply.get_data(as_text=True)
    assert "Please choose one of the options shown." in body
    assert "Please enter a whole number, using digits." in body
    assert "kept text" in body and 'href="#q-felt_safe"' in body
    reply = answer_page(client, token, 2, {"age": "500"})
    assert reply.status_code == 422
    too_long = answer_page(client, token, 2, {"comment": "x" * 2001})
    assert too_long.status_code == 422
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []


def test_arabic_page_is_right_to_left(client: FlaskClient, deployment: Deployment) -> None:
    token = deployment.links["minimal"]
    start(client, token, lang="ar")
    body = client.get(f"/s/{token}/p/1").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in body
    assert "هل توافق على الإجابة؟" in body


def test_missing_csrf_is_refused_with_a_message(
    client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    reply = client.post(f"/s/{token}/start", data={"lang": "en"})
    assert reply.status_code == 400
    assert "This form has expired" in reply.get_data(as_text=True)


def test_unknown_link_and_language(client: FlaskClient, deployment: Deployment) -> None:
    assert client.get("/s/no-such-link").status_code == 404
    token = deployment.links["minimal"]
    landing = client.get(f"/s/{token}")
    reply = client.post(
        f"/s/{token}/start",
        data={"lang": "xx", "csrf_token": csrf_token(landing.get_data(as_text=True))},
    )
    assert reply.status_code == 400


def test_pages_without_a_draft_go_back_to_the_start(
    client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    reply = client.get(f"/s/{token}/p/2")
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"/s/{token}")


def test_payload_is_canonical_json() -> None:
    from datetime import date

    from survey_app.responses import ResponseMeta, encode_payload

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
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    from datetime import UTC, datetime, timedelta

    token = deployment.links["minimal"]
    start(client, token)
    answer_page(client, token, 1, {"consent": "yes"})
    with app_state(app).database.session() as session:
        for draft in session.scalars(select(Draft)):
            draft.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    reply = client.get(f"/s/{token}/p/2")
    assert reply.status_code == 410
    assert "Please start again" in reply.get_data(as_text=True)
    # Starting again purges what expired.
    start(client, token)
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(Draft)).all()) == 1


def test_the_cookie_never_holds_an_answer(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    start(client, token)
    answer_page(client, token, 1, {"consent": "yes"})
    page = client.get(f"/s/{token}/p/2")
    client.post(
        f"/s/{token}/p/2",
        data={
            "comment": "SENTINEL-IN-PROGRESS",
            "action": "back",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    cookie = client.get_cookie("s")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    content = json.dumps(serializer.loads(cookie.value))
    assert "SENTINEL" not in content and "comment" not in content
    with app_state(app).database.session() as session:
        (draft,) = session.scalars(select(Draft)).all()
        assert b"SENTINEL" not in draft.ciphertext
    # Leaving (the exit button's POST) removes the draft on the server and the cookie in the
    # browser; a GET of /exit only asks the browser to forget the site.
    form = csrf_token(client.get(f"/s/{token}/p/2").get_data(as_text=True))
    copy = app.test_client()
    copy.set_cookie("s", cookie.value)
    assert copy.get("/exit").headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(Draft)).all()) == 1
    reply = client.post("/exit", data={"csrf_token": form})
    assert reply.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    with app_state(app).database.session() as session:
        assert session.scalars(select(Draft)).all() == []


def test_skipping_consent_is_not_agreeing(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    start(client, token)
    reply = answer_page(client, token, 1, {})
    assert reply.status_code == 422
    assert "Please answer this question." in reply.get_data(as_text=True)
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []


def test_later_pages_cannot_be_reached_by_their_address(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    start(client, token)
    reply = client.get(f"/s/{token}/p/2")
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"/s/{token}/p/1")
    page = client.get(f"/s/{token}/p/1")
    reply = client.post(
        f"/s/{token}/p/2",
        data={
            "felt_safe": "yes",
            "action": "next",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"/s/{token}/p/1")
    with app_state(app).database.session() as session:
        assert session.scalars(select(InboxResponse)).all() == []


def test_a_draft_keeps_only_a_quarter_hour_of_activity_time(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    from datetime import UTC, datetime, timedelta

    token = deployment.links["minimal"]
    before = datetime.now(UTC)
    start(client, token)
    answer_page(client, token, 1, {"consent": "yes"})
    idle = timedelta(minutes=app_state(app).settings.respondent.draft_idle_minutes)
    with app_state(app).database.session() as session:
        (draft,) = session.scalars(select(Draft)).all()
        expires = draft.expires_at.replace(tzinfo=UTC)
    # A multiple of 15 minutes, never earlier than the idle time allows, at most 15 minutes later.
    assert expires.timestamp() % (15 * 60) == 0 and expires.microsecond == 0
    assert before + idle <= expires <= datetime.now(UTC) + idle + timedelta(minutes=15)
