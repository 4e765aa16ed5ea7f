"""Uploading responses sealed on a caseworker's device: checks, idempotency, the same inbox."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from survey_app import create_app
from survey_app.intake.release import release_all
from survey_app.intake.responses import OpenedResponse, ResponseMeta, coarse_period, encode_payload
from survey_app.keys import sealing
from survey_app.models import InboxResponse, KeyStatus, ProgrammeKey, Response, Role
from survey_app.state import app_state
from tests.support.apps import FAST_KDF, PASSPHRASE, Deployment, deploy, make_settings, read_back
from tests.support.served import Browser, at_once, served
from tests.support.staff import PASSWORD, make_account, open_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

UPLOAD = "/staff/assist/offline/upload"
TOKEN = "/staff/assist/offline/token"
SURVEY = "minimal"


@pytest.fixture
def caseworker(app: Flask, client: FlaskClient, deployment: Deployment) -> FlaskClient:
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    open_session(app, client, account.id)
    return client


def current_public(app: Flask, deployment: Deployment) -> sealing.PublicKey:
    with app_state(app).database.session() as db:
        key = db.scalars(
            select(ProgrammeKey).where(
                ProgrammeKey.programme_id == deployment.programme_id,
                ProgrammeKey.status == KeyStatus.CURRENT,
            )
        ).one()
        return sealing.PublicKey(key.key_id, key.public_key)


def sealed_item(
    app: Flask,
    public: sealing.PublicKey,
    *,
    answers: dict[str, Any] | None = None,
    response_id: str | None = None,
    survey: str = SURVEY,
    version: str | None = None,
    period: str | None = None,
) -> dict[str, str]:
    """What the device sends for one response (sealed here as seal.js seals it)."""
    version = version or app_state(app).surveys[SURVEY].version
    response_id = response_id or secrets.token_hex(16)
    today = datetime.now(UTC).date()
    payload = encode_payload(
        answers if answers is not None else {"consent": "yes"},
        ResponseMeta(site="North", channel="assisted", language="en", day=today),
    )
    blob = sealing.seal(
        public, sealing.ResponseBinding(response_id, survey, version), payload, padded_length=512
    )
    return {
        "id": response_id,
        "survey": survey,
        "version": version,
        "period": period or coarse_period(today, app_state(app).settings.privacy.period),
        "sealed": base64.b64encode(blob).decode("ascii"),
    }


def csrf(client: FlaskClient) -> str:
    reply = client.get(TOKEN)
    assert reply.status_code == 200
    return str(reply.get_json()["csrf"])


def upload(client: FlaskClient, items: list[Any], **headers: str) -> Any:
    sent = {"X-CSRFToken": csrf(client), "Sec-Fetch-Site": "same-origin", **headers}
    return client.post(
        UPLOAD, data=json.dumps({"responses": items}), headers=sent, content_type="application/json"
    )


def outcomes(reply: Any) -> list[str]:
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return [result["outcome"] for result in reply.get_json()["results"]]


def count(app: Flask, table: Any) -> int:
    with app_state(app).database.session() as db:
        return int(db.scalar(select(func.count()).select_from(table)) or 0)


def test_an_upload_lands_in_the_inbox_once_and_opens_in_a_report(
    app: Flask, caseworker: FlaskClient, deployment: Deployment
) -> None:
    item = sealed_item(app, current_public(app, deployment))
    assert outcomes(upload(caseworker, [item])) == ["stored"]
    assert outcomes(upload(caseworker, [item, item])) == ["already-stored", "already-stored"]
    assert count(app, InboxResponse) == 1
    (opened,) = read_back(app, deployment.programme_id, SURVEY)
    assert isinstance(opened, OpenedResponse)
    assert opened.response_id == item["id"] and opened.meta.channel == "assisted"


def test_a_retry_after_the_release_is_not_stored_again(
    app: Flask, caseworker: FlaskClient, deployment: Deployment
) -> None:
    item = sealed_item(app, current_public(app, deployment))
    assert outcomes(upload(caseworker, [item])) == ["stored"]
    with app_state(app).database.session() as db:
        release_all(db)
    assert outcomes(upload(caseworker, [item])) == ["already-stored"]
    assert (count(app, InboxResponse), count(app, Response)) == (0, 1)


def test_the_upload_needs_the_csrf_token_and_the_same_origin(
    app: Flask, caseworker: FlaskClient, deployment: Deployment
) -> None:
    body = json.dumps({"responses": [sealed_item(app, current_public(app, deployment))]})
    no_token = caseworker.post(UPLOAD, data=body, content_type="application/json")
    assert no_token.status_code == 400
    for headers in ({"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"}):
        reply = upload(caseworker, json.loads(body)["responses"], **headers)
        assert reply.status_code == 403
        assert "offline page" in reply.get_json()["error"]
    assert count(app, InboxResponse) == 0


def test_only_signed_in_caseworkers_of_the_programme_upload(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    item = sealed_item(app, current_public(app, deployment))
    signed_out = client.get(TOKEN)
    assert signed_out.status_code == 302 and "/auth/sign-in" in signed_out.headers["Location"]
    blind = client.post(
        UPLOAD, data=json.dumps({"responses": [item]}), content_type="application/json"
    )
    assert blind.status_code == 400  # no CSRF token without a session
    viewer = make_account(app, "vera", role=Role.VIEWER, programme_id=deployment.programme_id)
    open_session(app, client, viewer.id)
    assert client.get(TOKEN).status_code == 403
    assert count(app, InboxResponse) == 0


def test_a_caseworker_of_another_programme_is_refused_per_response(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    from survey_app.models import Programme

    with app_state(app).database.session() as db:
        other = Programme(slug="other", name="Other", public_title="Feedback")
        db.add(other)
        db.flush()
        other_id = other.id
    account = make_account(app, "olga", role=Role.CASEWORKER, programme_id=other_id)
    open_session(app, client, account.id)
    reply = upload(client, [sealed_item(app, current_public(app, deployment))])
    assert outcomes(reply) == ["refused"]
    assert "not a survey you may enter" in reply.get_json()["results"][0]["reason"]
    assert count(app, InboxResponse) == 0


def test_a_revoked_account_is_told_to_sign_in_again(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    open_session(app, client, account.id)
    token = csrf(client)
    from survey_app.models import User

    with app_state(app).database.session() as db:
        db.execute(update(User).where(User.id == account.id).values(active=False))
    reply = client.post(
        UPLOAD,
        data=json.dumps({"responses": [sealed_item(app, current_public(app, deployment))]}),
        headers={"X-CSRFToken": token},
        content_type="application/json",
    )
    assert reply.status_code in {302, 403}
    assert count(app, InboxResponse) == 0


def rotate(app: Flask, deployment: Deployment, *, retired_days_ago: float) -> sealing.PublicKey:
    """Make a new current key; the old one retired `retired_days_ago` days ago."""
    old = current_public(app, deployment)
    new = sealing.generate_key(PASSPHRASE, kdf=FAST_KDF)
    when = datetime.now(UTC) - timedelta(days=retired_days_ago)
    with app_state(app).database.session() as db:
        db.execute(
            update(ProgrammeKey)
            .where(ProgrammeKey.key_id == old.key_id)
            .values(status=KeyStatus.RETIRED, created_at=when - timedelta(days=400))
        )
        db.add(
            ProgrammeKey(
                key_id=new.key_id,
                programme_id=deployment.programme_id,
                public_key=new.public_raw,
                wrapped_private_key=new.wrapped_private,
                status=KeyStatus.CURRENT,
                created_at=when,
            )
        )
    return old


def test_a_key_retired_recently_is_accepted_and_one_retired_long_ago_is_not(
    app: Flask, caseworker: FlaskClient, deployment: Deployment
) -> None:
    old = rotate(app, deployment, retired_days_ago=3)
    assert outcomes(upload(caseworker, [sealed_item(app, old)])) == ["stored"]
    older = rotate(app, deployment, retired_days_ago=120)
    reply = upload(caseworker, [sealed_item(app, older)])
    assert outcomes(reply) == ["refused"]
    assert "retired more than 90 days ago" in reply.get_json()["results"][0]["reason"]


def test_how_long_a_retired_key_is_accepted_is_a_setting(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, offline={"retired_key_grace_days": 10})
    app = create_app(settings)
    try:
        deployment = deploy(app)
        client = app.test_client()
        account = make_account(
            app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id
        )
        open_session(app, client, account.id)
        old = rotate(app, deployment, retired_days_ago=3)
        assert outcomes(upload(client, [sealed_item(app, old)])) == ["stored"]
        older = rotate(app, deployment, retired_days_ago=30)  # within the default 90 days
        reply = upload(client, [sealed_item(app, older)])
        assert outcomes(reply) == ["refused"]
        assert "retired more than 10 days ago" in reply.get_json()["results"][0]["reason"]
    finally:
        app_state(app).database.dispose()


def test_a_blob_sealed_to_a_key_of_no_programme_is_refused(
    app: Flask, caseworker: FlaskClient
) -> None:
    stranger = sealing.generate_key(PASSPHRASE, kdf=FAST_KDF).public
    reply = upload(caseworker, [sealed_item(app, stranger)])
    assert outcomes(reply) == ["refused"]
    assert "not a key of this programme" in reply.get_json()["results"][0]["reason"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"version": "000000000000"}, "unknown to this server"),
        ({"survey": "no-such-survey"}, "not a survey you may enter"),
        ({"id": "NOT-HEX"}, "32 lowercase hexadecimal"),
        ({"sealed": "%%%"}, "not base64"),
        ({"sealed": base64.b64encode(b"\x02" + b"\x00" * 20).decode()}, "truncated"),
        ({"period": "last week"}, "is not a week"),
        ({"period": "2999-W01"}, "in the future"),
        ({"survey": None}, "has no 'survey' text"),
    ],
)
def test_bad_responses_are_refused_with_the_reason(
    app: Flask,
    caseworker: FlaskClient,
    deployment: Deployment,
    change: dict[str, Any],
    reason: str,
) -> None:
    good = sealed_item(app, current_public(app, deployment))
    reply = upload(caseworker, [{**good, **change}, good])
    assert outcomes(reply) == ["refused", "stored"]
    assert reason in reply.get_json()["results"][0]["reason"]
    assert count(app, InboxResponse) == 1


def test_a_version_1_envelope_is_refused(
    app: Flask, caseworker: FlaskClient, deployment: Deployment
) -> None:
    item = sealed_item(app, current_public(app, deployment))
    blob = bytearray(base64.b64decode(item["sealed"]))
    blob[0] = 1
    reply = upload(caseworker, [{**item, "sealed": base64.b64encode(bytes(blob)).decode()}])
    assert outcomes(reply) == ["refused"]
    assert "envelope format 2" in reply.get_json()["results"][0]["reason"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps([]),
        json.dumps({"responses": []}),
        json.dumps({"responses": [{}] * 101}),
    ],
)
def test_a_request_that_is_not_a_batch_is_a_400(caseworker: FlaskClient, body: str) -> None:
    reply = caseworker.post(
        UPLOAD,
        data=body,
        headers={"X-CSRFToken": csrf(caseworker)},
        content_type="application/json",
    )
    assert reply.status_code == 400
    assert reply.get_json()["error"]


def test_the_same_response_sent_from_eight_tabs_at_once_is_stored_once(
    app: Flask, deployment: Deployment
) -> None:
    make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    item = sealed_item(app, current_public(app, deployment), answers={"q": "x"})
    body = json.dumps({"responses": [item]})
    with served(app) as address:
        browser = Browser(address)
        page = browser.get("/auth/sign-in")
        signed = browser.post(
            "/auth/sign-in",
            {"username": "casey", "password": PASSWORD, "csrf_token": page.csrf()},
        )
        assert signed.status == 303
        token = json.loads(browser.get(TOKEN).text)["csrf"]

        def send(tab: Browser) -> Any:
            return tab.request(
                "POST",
                UPLOAD,
                headers={"X-CSRFToken": token, "Content-Type": "application/json"},
                body=body,
            )

        replies = at_once([partial(send, browser.copy()) for _ in range(8)])
    results = sorted(json.loads(reply.text)["results"][0]["outcome"] for reply in replies)
    assert results == ["already-stored"] * 7 + ["stored"]
    assert count(app, InboxResponse) == 1
