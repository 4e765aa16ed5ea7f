""" "What you told us": an analyst gives results back to the people who answered.

The analyst picks results from the published reports and writes what the programme is doing
about each; the people who answered read them at their link, in their language, with the
respondent pages' safety. Only what a published report shows ever reaches the page.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from survey_app.config import Settings
from survey_app.models import AuditEvent, Programme, ResultsPageItem, Role
from survey_app.operations.sample_data import store_generated
from survey_app.reports import snapshot
from survey_app.reports.results_page import MAX_ACTION_LENGTH, ResultRef, findings
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, make_settings
from tests.support.staff import make_account, open_session, post
from tests.support.web import Respondent

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SURVEY = "service-feedback"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys"))


def client_as(app: Flask, deployment: Deployment, role: Role, name: str = "") -> FlaskClient:
    account = make_account(
        app, name or role.value, role=role, programme_id=deployment.programme_id, totp=True
    )
    client = app.test_client()
    open_session(app, client, account.id)
    return client


@pytest.fixture
def analyst(app: Flask, deployment: Deployment) -> FlaskClient:
    """An analyst of a programme whose service-feedback report is published (300 responses)."""
    state = app_state(app)
    store_generated(state.database, state.surveys[SURVEY], 300, sites=("North", "South"))
    client = client_as(app, deployment, Role.ANALYST)
    page = f"/reports/{SURVEY}/refresh"
    reply = post(client, page, {"passphrase": PASSPHRASE}, page_url=page)
    assert reply.status_code == 303, reply.get_data(as_text=True)
    return client


def edit_url(deployment: Deployment) -> str:
    return f"/reports/programmes/{deployment.programme_id}/results-page"


def public_url(deployment: Deployment) -> str:
    return f"/s/{deployment.links[SURVEY]}/results"


def published(app: Flask) -> list[Any]:
    """The results the newest published report shows, as the page offers them."""
    with app_state(app).database.session() as db:
        document = snapshot.latest(db, SURVEY)
    assert document is not None
    return findings(document)


def report_rows(app: Flask) -> dict[tuple[str, str], Any]:
    """Every (variable, row) of the published report's table for everyone, with the percentage
    (or estimate) it shows: a number, the suppressed marker or None."""
    with app_state(app).database.session() as db:
        document = snapshot.latest(db, SURVEY)
    assert document is not None
    view = snapshot.view_by_id(document, "all")
    assert view is not None
    found: dict[tuple[str, str], Any] = {}
    for variable_id, tables in view["tables"].items():
        frequency = tables["frequency"]
        for row in frequency["rows"]:
            found[(variable_id, row["key"])] = row["percents"][0] if row["percents"] else None
        estimates = frequency.get("estimates") or [None]
        if isinstance(estimates[0], dict):
            found[(variable_id, "")] = round(100 * estimates[0]["value"], 1)
    return found


def pick(app: Flask, count: int) -> list[Any]:
    """`count` results of different questions, answers first, then an indicator."""
    offered = published(app)
    answers = [f for f in offered if f.ref.row_key]
    chosen, questions = [], set()
    for finding in answers:
        if finding.ref.variable_id not in questions:
            chosen.append(finding)
            questions.add(finding.ref.variable_id)
    indicators = [f for f in offered if not f.ref.row_key]
    return (indicators[:1] + chosen)[:count]


def form_for(chosen: list[Any], publish: bool = True, **actions: str) -> dict[str, str]:
    data = {"publish": "y"} if publish else {}
    for slot, finding in enumerate(chosen, start=1):
        data[f"result-{slot}"] = finding.ref.token()
        data[f"action-{slot}-en"] = actions.get("en", f"We are acting on result {slot}.")
        if "fr" in actions and slot == 1:
            data[f"action-{slot}-fr"] = actions["fr"]
    return data


def save(client: FlaskClient, deployment: Deployment, data: dict[str, str]) -> Any:
    url = edit_url(deployment)
    return post(client, url, data, page_url=url)


def items(app: Flask) -> list[tuple[str, str, str]]:
    with app_state(app).database.session() as db:
        rows = db.scalars(select(ResultsPageItem).order_by(ResultsPageItem.position)).all()
        return [(r.survey_id, r.variable_id, r.row_key) for r in rows]


def audit_actions(app: Flask) -> list[str]:
    with app_state(app).database.session() as db:
        return [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_results_chosen_by_the_analyst_are_read_at_the_link_with_the_published_figures(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    client = app.test_client()
    assert client.get(public_url(deployment)).status_code == 404, "not public before publishing"
    landing = client.get(f"/s/{deployment.links[SURVEY]}").get_data(as_text=True)
    assert "/results" not in landing

    page = analyst.get(edit_url(deployment)).get_data(as_text=True)
    offered = published(app)
    assert len(offered) >= 10
    for finding in offered[:10]:
        assert f'value="{escape_attr(finding.ref.token())}"' in page
    # A row whose percentage the report does not show is never offered.
    hidden = [key for key, percent in report_rows(app).items() if percent in (None, "suppressed")]
    hidden = [key for key in hidden if not key[1].startswith("_")]
    assert hidden
    for variable_id, row_key in hidden:
        token = ResultRef(SURVEY, variable_id, row_key).token()
        assert f'value="{escape_attr(token)}"' not in page
    chosen = pick(app, 3)
    reply = save(
        analyst, deployment, form_for(chosen, fr="Nous ouvrons le bureau le samedi matin.")
    )
    assert reply.status_code == 303, reply.get_data(as_text=True)
    assert items(app) == [(f.ref.survey_id, f.ref.variable_id, f.ref.row_key) for f in chosen]
    assert audit_actions(app)[-1] == "results-page.change"

    reply = client.get(public_url(deployment))
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    shares = re.findall(r'<p class="share">(.*?)</p>', html, re.S)
    assert len(shares) == 3
    rows = report_rows(app)
    for finding, share in zip(chosen, shares, strict=True):
        # The percentage the published report shows, to the tenth.
        percent = rows[(finding.ref.variable_id, finding.ref.row_key)]
        assert isinstance(percent, int | float)
        shown = f"{percent:.1f}".removesuffix(".0")
        assert f"{shown}%" in share, (shown, share)
    assert "We are acting on result 2." in html
    assert "This is not yet translated into your language." not in html

    french = client.get(public_url(deployment), query_string={"lang": "fr"})
    text = french.get_data(as_text=True)
    assert '<html lang="fr"' in text
    assert 'lang="fr" dir="ltr">Nous ouvrons le bureau le samedi matin.</p>' in text
    # Results with no French text show the English one, marked as such, in English.
    assert 'lang="en" dir="ltr">We are acting on result 2.</p>' in text
    assert text.count("Ce n'est pas encore traduit dans votre langue.") == 2

    landing = client.get(f"/s/{deployment.links[SURVEY]}").get_data(as_text=True)
    assert public_url(deployment) in landing


def test_the_page_has_the_respondent_pages_safety(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    assert save(analyst, deployment, form_for(pick(app, 4))).status_code == 303
    client = app.test_client()
    reply = client.get(public_url(deployment))
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "no-store" in reply.headers["Cache-Control"]
    with client.session_transaction() as kept:
        # As on the landing page: only the quick exit form's CSRF token.
        assert set(kept) <= {"csrf_token"}, "reading the page leaves nothing else behind"
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
    assert "<title>Feedback</title>" in html, "the programme's neutral title"
    assert 'class="exit-bar"' in html and "If you need help" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing from elsewhere"
    assert "<script>" not in html and " on" + "click=" not in html
    assert len(gzip.compress(reply.get_data())) <= 20 * 1024
    # Nothing about the programme's staff or its reports' other tables.
    assert "shelter programme" not in html and "Refresh" not in html


def test_the_thank_you_page_links_to_the_results_once_they_are_public(
    app: Flask, deployment: Deployment
) -> None:
    token = deployment.links["reintegration-checkin"]

    def thank_you_page() -> str:
        tab = Respondent(app.test_client(), token)
        reply = tab.start("fr")
        assert reply.status_code == 200
        # Consent, then every later page sent as it is (nothing required is left unanswered
        # on the way to the end, or the page comes back with the error).
        data: dict[str, Any] = {"consent": "yes"}
        for _ in range(30):
            if tab.draft is None:
                break
            tab.submit(tab.page or 0, data)
            data = _required_answers(tab.html)
        assert tab.draft is None, tab.html
        return tab.html

    assert "/results" not in thank_you_page()
    with app_state(app).database.session() as db:
        db.execute(update(Programme).values(results_page_published=True))
    page = thank_you_page()
    assert f"/s/{token}/results?lang=fr" in page


def _required_answers(html: str) -> dict[str, str]:
    """The first option of every radio group on the page (enough for any required question)."""
    answers: dict[str, str] = {}
    for name, value in re.findall(r'type="radio" name="([^"]+)" value="([^"]*)"', html):
        answers.setdefault(name, value)
    return answers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("two", "Choose at least 3 results to publish the page"),
        ("twice", "The same result is chosen twice"),
        ("forged", "A chosen result is not shown by the newest published report"),
        ("not shown", "A chosen result is not shown by the newest published report"),
        ("garbage", "A chosen result is not shown by the newest published report"),
        ("no action", "Say what the programme is doing about"),
        ("too long", f"keep it under {MAX_ACTION_LENGTH} characters"),
    ],
)
def test_a_page_that_cannot_be_saved_says_why_and_keeps_what_was_there(
    app: Flask, deployment: Deployment, analyst: FlaskClient, change: str, message: str
) -> None:
    first = pick(app, 3)
    assert save(analyst, deployment, form_for(first)).status_code == 303
    before, events = items(app), audit_actions(app)
    chosen = pick(app, 6)
    data = form_for(chosen[:3])
    if change == "two":
        data = form_for(chosen[:2])
    elif change == "twice":
        data["result-2"] = data["result-1"]
    elif change == "forged":
        data["result-2"] = ResultRef(SURVEY, chosen[1].ref.variable_id, "not-an-answer").token()
    elif change == "not shown":
        rows = report_rows(app)
        variable_id, row_key = next(
            key
            for key, p in rows.items()
            if p in (None, "suppressed") and key[1] and key[1][0] != "_"
        )
        data["result-2"] = ResultRef(SURVEY, variable_id, row_key).token()
    elif change == "garbage":
        data["result-2"] = '["a", {"b": 1}'
    elif change == "no action":
        data["action-2-en"] = "   "
    elif change == "too long":
        data["action-3-en"] = "x" * (MAX_ACTION_LENGTH + 1)
    reply = save(analyst, deployment, data)
    assert reply.status_code == 422, (change, reply.status_code)
    assert message in reply.get_data(as_text=True)
    assert items(app) == before and audit_actions(app) == events


def test_the_page_shows_only_what_the_newest_report_still_shows(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    chosen = pick(app, 3)
    assert save(analyst, deployment, form_for(chosen)).status_code == 303
    # A result the newest report no longer shows (a refresh after the choice): it drops off.
    with app_state(app).database.session() as db:
        db.execute(
            update(ResultsPageItem)
            .where(ResultsPageItem.position == 2)
            .values(row_key="not-a-published-row")
        )
    html = app.test_client().get(public_url(deployment)).get_data(as_text=True)
    assert len(re.findall(r'<p class="share">', html)) == 2
    assert "We are acting on result 2." not in html


def test_withdrawing_the_page_removes_it_and_its_links(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    chosen = pick(app, 3)
    assert save(analyst, deployment, form_for(chosen)).status_code == 303
    assert app.test_client().get(public_url(deployment)).status_code == 200
    assert save(analyst, deployment, form_for(chosen, publish=False)).status_code == 303
    assert app.test_client().get(public_url(deployment)).status_code == 404
    landing = app.test_client().get(f"/s/{deployment.links[SURVEY]}").get_data(as_text=True)
    assert "/results" not in landing
    with app_state(app).database.session() as db:
        detail = db.scalars(select(AuditEvent.detail).order_by(AuditEvent.id.desc())).first()
    assert detail is not None and detail.startswith("not published")


def test_a_viewer_cannot_choose_the_results(
    app: Flask, deployment: Deployment, analyst: FlaskClient
) -> None:
    viewer = client_as(app, deployment, Role.VIEWER)
    assert viewer.get(edit_url(deployment)).status_code == 403


def escape_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&#34;").replace("<", "&lt;")


def test_a_result_token_reads_back_and_rejects_anything_else() -> None:
    ref = ResultRef(SURVEY, "felt_safe", "yes")
    assert ResultRef.from_token(ref.token()) == ref
    for bad in ("", "x", "[1,2,3]", json.dumps(["a", "b"]), json.dumps(["a", "b", "c" * 201])):
        assert ResultRef.from_token(bad) is None
