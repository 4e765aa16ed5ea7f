"""A sealed blob's length does not tell a site, a channel or a closed answer apart."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from survey_app.intake.distribution import create_link
from survey_app.intake.responses import ResponseMeta, encode_payload, store_response
from survey_app.models import InboxResponse, Programme
from survey_app.state import app_state
from tests.support.apps import Deployment, read_back
from tests.support.web import Respondent

LONG_SITE = "Eastern regional drop-in centre, Building 4"


def lengths(app: Flask) -> list[int]:
    with app_state(app).database.session() as session:
        return [len(blob) for blob in session.scalars(select(InboxResponse.sealed))]


def answer(app: Flask, token: str, number: int, **views: Any) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number}"
    reply = Respondent(client, token).complete({"consent": "yes"}, views)
    assert reply.status_code == 200 and "Thank you" in reply.get_data(as_text=True), (
        reply.status_code
    )


def long_site_link(app: Flask, deployment: Deployment) -> str:
    with app_state(app).database.session() as session:
        programme = session.get(Programme, deployment.programme_id)
        assert programme is not None
        return create_link(session, programme, "minimal", LONG_SITE).token


def test_sites_and_closed_answers_give_one_length(app: Flask, deployment: Deployment) -> None:
    short = deployment.links["minimal"]
    long = long_site_link(app, deployment)
    answer(app, short, 1, felt_safe="no")
    answer(app, long, 2, felt_safe="partly", age="100")
    answer(app, short, 3, felt_safe="_pnts", age="10")
    answer(app, long, 4)
    answer(app, short, 5, felt_safe="yes", age="55", lang="ar")
    assert len(set(lengths(app))) == 1, lengths(app)
    opened = read_back(app, deployment.programme_id, "minimal")
    assert {r.meta.site for r in opened} == {"North", LONG_SITE}


def test_free_text_shows_only_its_power_of_two(app: Flask, deployment: Deployment) -> None:
    token = deployment.links["minimal"]
    answer(app, token, 1, felt_safe="no", comment="a" * 70)
    answer(app, token, 2, felt_safe="partly", age="40", comment="b" * 100)
    answer(app, token, 3, felt_safe="yes", comment="c" * 140)
    first, second, third = sorted(lengths(app))
    assert first == second < third  # 72 and 102 bytes of JSON: 128; 142: 256


def test_channels_give_one_length_and_storage_stays_within_twice(
    app: Flask, deployment: Deployment
) -> None:
    state = app_state(app)
    survey = state.surveys["minimal"]
    answers = {"consent": "yes", "felt_safe": "yes", "age": 30}
    metas = [
        ResponseMeta("North", "self", "en", date(2026, 3, 4)),
        ResponseMeta("North", "assisted", "ar", date(2026, 3, 4)),
    ]
    with state.database.session() as session:
        for meta in metas:
            store_response(
                session,
                survey_id="minimal",
                survey_version=survey.version,
                definition=survey.canonical_json,
                answers=answers,
                meta=meta,
                period_granularity="week",
            )
    padded = lengths(app)
    assert len(set(padded)) == 1
    unpadded = max(len(encode_payload(answers, meta)) + 69 for meta in metas)
    assert padded[0] <= 2 * unpadded, (padded[0], unpadded)
