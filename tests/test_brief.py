"""The policy brief: key findings an analyst writes from the published report, quotes an analyst
approved from the redacted free text, read by viewers once published.

A quote is published content: only its redacted words and the question are kept, nothing that
leads back to a response; it can only come from the free-text page, and it can be withdrawn.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date
from pathlib import Path

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from survey_app.config import Settings
from survey_app.intake.responses import ResponseMeta, store_response
from survey_app.models import AuditEvent, Brief, BriefQuote, Role
from survey_app.operations.sample_data import store_generated
from survey_app.reports import brief
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, make_settings
from tests.support.staff import make_account, open_session, post

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SURVEY = "service-feedback"
DASHBOARD = f"/reports/{SURVEY}"
BRIEF = f"{DASHBOARD}/brief"
EDIT = f"{BRIEF}/edit"
QUOTES = f"{BRIEF}/quotes"
RAW = "Marie was kind, call +44 20 7946 0958"
REDACTED = "[name] was kind, call [phone]"
CHANGES = [RAW, "Open on Sundays", "More interpreters", "Shorter queue", "A quiet room"]
CHANGES += ["Bus fares paid"]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        surveys_dir=str(ROOT / "surveys"),
        reports={"redact_names": ["Marie"]},
    )


def client_as(app: Flask, deployment: Deployment, role: Role) -> FlaskClient:
    account = make_account(
        app, role.value, role=role, programme_id=deployment.programme_id, totp=True
    )
    client = app.test_client()
    open_session(app, client, account.id)
    return client


@pytest.fixture
def analyst(app: Flask, deployment: Deployment) -> FlaskClient:
    """An analyst of a programme whose service-feedback report is published, with six answers
    to "what should change" among the responses."""
    state = app_state(app)
    store_generated(state.database, state.surveys[SURVEY], 300, sites=("North", "South"))
    survey = state.surveys[SURVEY]
    with state.database.session() as db:
        for change in CHANGES:
            store_response(
                db,
                survey_id=SURVEY,
                survey_version=survey.version,
                definition=survey.canonical_json,
                answers={"consent": "yes", "what_should_change": change},
                meta=ResponseMeta(
                    site="North", channel="self", language="en", day=date(2026, 2, 10)
                ),
                period_granularity="week",
            )
    client = client_as(app, deployment, Role.ANALYST)
    page = f"{DASHBOARD}/refresh"
    reply = post(client, page, {"passphrase": PASSPHRASE}, page_url=page)
    assert reply.status_code == 303, reply.get_data(as_text=True)
    return client


def save(client: FlaskClient, findings: list[str], publish: bool) -> TestResponse:
    data = {f"finding-{n}": text for n, text in enumerate(findings, start=1)}
    if publish:
        data["publish"] = "y"
    return post(client, EDIT, data, page_url=EDIT)


def offered_quotes(analyst: FlaskClient) -> dict[str, str]:
    """The free-text page's answers that can be approved: {redacted words: token}."""
    page = f"{DASHBOARD}/free-text"
    reply = post(analyst, page, {"passphrase": PASSPHRASE}, page_url=page)
    text = reply.get_data(as_text=True)
    found = re.findall(
        r'<input type="checkbox" name="quote" value="([^"]+)"> <span dir="auto">([^<]*)</span>',
        text,
    )
    return {html.unescape(words): token for token, words in found}


def approve(
    client: FlaskClient, *tokens: str, page_url: str = EDIT, url: str = QUOTES
) -> TestResponse:
    return post(client, url, {"quote": list(tokens)}, page_url=page_url)


def actions(app: Flask) -> list[AuditEvent]:
    with app_state(app).database.session() as db:
        return list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def stored_quotes(app: Flask) -> list[tuple[str, str, str, str]]:
    with app_state(app).database.session() as db:
        rows = db.scalars(select(BriefQuote)).all()
        return [(r.id, r.survey_id, r.question_id, r.text) for r in rows]


def main_of(reply: TestResponse) -> str:
    return reply.get_data(as_text=True).split("<main", 1)[1]


def test_the_analyst_finishes_the_drafted_findings_and_a_viewer_reads_the_published_brief(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    viewer = client_as(app, deployment, Role.VIEWER)
    reply = viewer.get(BRIEF)
    assert reply.status_code == 404 and "not published yet" in reply.get_data(as_text=True)
    assert viewer.get(EDIT).status_code == 403

    # Drafted from the report: the indicators and the most common answers, with placeholders.
    page = main_of(analyst.get(EDIT))
    drafts = [html.unescape(t) for t in re.findall(r'rows="4" dir="auto">([^<]*)<', page)]
    assert len(drafts) == brief.MAX_FINDINGS and 3 <= len([d for d in drafts if d]) <= 4
    assert all(brief.PLACEHOLDER.search(d) for d in drafts if d)
    assert any("target" in d for d in drafts) and any(
        "% of those who answered" in d for d in drafts
    )
    assert "Draft: this brief is not published" in analyst.get(BRIEF).get_data(as_text=True)

    refused = save(analyst, [d for d in drafts if d], publish=True)
    assert refused.status_code == 422
    assert "Key finding 1 still has a placeholder" in refused.get_data(as_text=True)
    refused = save(analyst, ["One.", "Two."], publish=True)
    assert "Write at least 3 key findings" in refused.get_data(as_text=True)
    refused = save(analyst, ["x" * (brief.MAX_FINDING_LENGTH + 1)], publish=False)
    assert "Key finding 1 is too long" in refused.get_data(as_text=True)

    findings = [brief.PLACEHOLDER.sub("Services must follow.", d) for d in drafts if d]
    assert save(analyst, findings, publish=True).status_code == 303
    event = actions(app)[-1]
    assert event.action == "brief.change" and "published, " in event.detail

    reply = viewer.get(BRIEF)
    assert reply.status_code == 200
    shown = main_of(reply)
    listed = [html.unescape(t) for t in re.findall(r'<li dir="auto">([^<]*)</li>', shown)]
    assert listed == findings
    assert "Indicators against targets" in shown and "Method and protection" in shown
    assert "Draft" not in shown and "/brief/edit" not in shown
    assert "Policy brief" in viewer.get(DASHBOARD).get_data(as_text=True)

    # Saved without publishing: viewers no longer read it.
    assert save(analyst, findings, publish=False).status_code == 303
    assert viewer.get(BRIEF).status_code == 404
    with app_state(app).database.session() as db:
        (row,) = db.scalars(select(Brief)).all()
        assert row.findings == findings and not row.published and row.period


def test_an_approved_quote_is_redacted_unlinkable_published_and_withdrawable(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    offered = offered_quotes(analyst)
    assert REDACTED in offered and RAW not in offered
    assert approve(analyst, offered[REDACTED], offered["Open on Sundays"]).status_code == 303
    quotes = stored_quotes(app)
    assert sorted(q[3] for q in quotes) == ["Open on Sundays", REDACTED]
    assert {q[2] for q in quotes} == {"what_should_change"}
    # Nothing in the row leads to a response: only a random id, the survey, the question and
    # the words.
    assert set(BriefQuote.__table__.columns.keys()) == {"id", "survey_id", "question_id", "text"}
    assert all(re.fullmatch(r"[0-9a-f]{16}", q[0]) for q in quotes)
    approvals = [e for e in actions(app) if e.action == "brief.quote-approve"]
    assert len(approvals) == 2
    assert all("Sundays" not in e.detail and "kind" not in e.detail for e in approvals)

    save(analyst, ["First finding.", "Second finding.", "Third finding."], publish=True)
    viewer = client_as(app, deployment, Role.VIEWER)
    page = main_of(viewer.get(BRIEF))
    assert html.escape(REDACTED) in page or REDACTED in page
    assert "Open on Sundays" in page and "In their own words" in page
    assert "Marie" not in page and "7946" not in page

    # A quote of another survey of the programme is never shown in this one's brief.
    other = "reintegration-checkin"
    token = brief.quote_token(str(app.config["SECRET_KEY"]), other, "comments", "Elsewhere")
    assert approve(analyst, token, url=f"/reports/{other}/brief/quotes").status_code == 303
    assert ("reintegration-checkin", "Elsewhere") in {(q[1], q[3]) for q in stored_quotes(app)}
    assert "Elsewhere" not in main_of(viewer.get(BRIEF))

    # A viewer cannot approve nor withdraw, even with a token of the page.
    assert approve(viewer, offered["A quiet room"], page_url=BRIEF).status_code == 403
    sunday = next(q[0] for q in quotes if q[3] == "Open on Sundays")
    withdraw = f"{QUOTES}/{sunday}/withdraw"
    assert post(viewer, withdraw, {}, page_url=BRIEF).status_code == 403
    assert len(stored_quotes(app)) == 3

    assert post(analyst, withdraw, {}, page_url=EDIT).status_code == 303
    assert sorted(q[3] for q in stored_quotes(app)) == ["Elsewhere", REDACTED]
    assert "Open on Sundays" not in main_of(viewer.get(BRIEF))
    event = actions(app)[-1]
    assert event.action == "brief.quote-withdraw" and "Sundays" not in event.detail
    assert post(analyst, withdraw, {}, page_url=EDIT).status_code == 303
    assert "There is no such quote" in analyst.get(EDIT).get_data(as_text=True)


def test_a_quote_never_carries_words_the_free_text_page_did_not_show(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    secret = str(app.config["SECRET_KEY"])
    offered = offered_quotes(analyst)
    token = offered[REDACTED]
    forged = [
        # The raw answer, signed with another key.
        brief.quote_token("not the key", SURVEY, "what_should_change", RAW),
        # A real token, altered.
        token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        # A real token of this survey, used for another one's brief.
        brief.quote_token(secret, "reintegration-checkin", "what_should_change", "Fine"),
        "not a token",
    ]
    for bad in forged:
        reply = approve(analyst, bad)
        assert reply.status_code == 303
        assert "cannot be approved" in analyst.get(EDIT).get_data(as_text=True)
    assert stored_quotes(app) == []

    # Even words signed with the right key are redacted again before they are kept.
    raw = brief.quote_token(secret, SURVEY, "what_should_change", RAW)
    assert approve(analyst, raw).status_code == 303
    assert [q[3] for q in stored_quotes(app)] == [REDACTED]

    # A brief holds at most four quotes, so that it prints on two pages.
    more = [offered[w] for w in ("Open on Sundays", "More interpreters", "Shorter queue")]
    assert approve(analyst, *more).status_code == 303
    assert len(stored_quotes(app)) == brief.MAX_QUOTES
    approve(analyst, offered["A quiet room"])
    assert "at most 4 quotes" in analyst.get(EDIT).get_data(as_text=True)
    assert len(stored_quotes(app)) == brief.MAX_QUOTES
    approve(analyst)
    assert "Tick at least one answer" in analyst.get(EDIT).get_data(as_text=True)


def test_the_published_brief_downloads_as_a_word_document_with_the_same_words(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    viewer = client_as(app, deployment, Role.VIEWER)
    assert viewer.get(f"{BRIEF}.docx").status_code == 404, "not before it is published"
    offered = offered_quotes(analyst)
    approve(analyst, offered[REDACTED])
    findings = ["Fewer people felt safe.", "The office moved.", "Interpreters are missing."]
    assert save(analyst, findings, publish=True).status_code == 303

    reply = viewer.get(f"{BRIEF}.docx")
    assert reply.status_code == 200
    assert str(reply.mimetype).endswith("wordprocessingml.document")
    assert "attachment" in reply.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(reply.data))
    paragraphs = [p.text for p in document.paragraphs]
    numbered = [p.text for p in document.paragraphs if p.style and p.style.name == "List Number"]
    assert numbered == findings
    assert REDACTED in paragraphs and "Marie" not in " ".join(paragraphs)
    assert any(p.startswith("This brief is drawn from") for p in paragraphs)
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Indicator", "Latest", "Target", "In words"] and len(rows) >= 2
    assert any("target" in row[3] for row in rows[1:])
    assert actions(app)[-1].action == "brief.download"

    # In Arabic: the app's words translated, paragraphs right to left.
    reply = viewer.get(f"{BRIEF}.docx", headers={"Accept-Language": "ar"})
    document = docx.Document(io.BytesIO(reply.data))
    texts = [p.text for p in document.paragraphs]
    assert "موجز السياسات" in texts and "النتائج الرئيسية" in texts
    bidi = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}bidi"
    assert all(
        p._p.pPr is not None and p._p.pPr.find(bidi) is not None for p in document.paragraphs
    )
