"""Nothing a survivor answered can be brought back after they leave (docs/respondent-safety.md).

A browser can re-send any form it posted: from Back and "Confirm form resubmission", from a
reopened tab, from its history. These tests re-send every form a tab posted, after each way of
leaving, with the same cookies, and check that no reply shows an answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from survey_app import create_app, migrate
from survey_app.intake.drafts import FINISHED
from survey_app.models import DistributionLink, Draft, InboxResponse
from survey_app.state import app_state
from tests.support.apps import ROOT, Deployment, deploy, make_settings
from tests.support.web import Respondent

SECRET = "Sentinel Harbourside 4471"


def answered_two_pages(client: FlaskClient, token: str) -> Respondent:
    tab = Respondent(client, token)
    tab.start()
    tab.submit(1, {"consent": "yes"})
    tab.submit(2, {"felt_safe": "partly", "comment": SECRET}, action="back")
    assert tab.page == 1
    tab.submit(1, {"consent": "yes"})
    assert SECRET in tab.html  # shown again in the tab while it is open
    return tab


def replay_everything(tab: Respondent) -> list[Any]:
    replies = [tab.client.post(tab.url, data=sent) for sent in tab.sent if "draft" in sent]
    replies.append(tab.client.get(tab.url))
    for reply in replies:
        body = reply.get_data(as_text=True)
        assert SECRET not in body and "checked" not in body and 'name="draft"' not in body
    return replies


def drafts(app: Flask) -> int:
    """Drafts that still hold answers (a finished one keeps only the fact that it finished)."""
    with app_state(app).database.session() as session:
        return len(session.scalars(select(Draft).where(Draft.ciphertext != FINISHED)).all())


def test_after_quick_exit_no_old_page_opens(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    tab = answered_two_pages(client, deployment.links["minimal"])
    reply = client.post("/exit", data={"draft": tab.draft})
    assert reply.status_code == 303 and drafts(app) == 0
    replies = replay_everything(tab)
    # Without the cleared cookie the old forms fail their CSRF check; with it, they are stale.
    assert all(r.status_code in (200, 400, 410) for r in replies)


def test_after_the_tab_is_closed_no_old_page_opens(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    """Closing a tab tells the server nothing; what the browser kept opens nothing all the same."""
    tab = answered_two_pages(client, deployment.links["minimal"])
    replay_everything(tab)  # the tab's last key was only ever in the page, never sent
    assert drafts(app) == 1  # unreadable, and purged after the idle time


def test_after_finishing_no_old_page_opens(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    tab = answered_two_pages(client, deployment.links["minimal"])
    tab.submit(2, {"felt_safe": "partly", "comment": SECRET})
    assert "Thank you" in tab.html and drafts(app) == 0
    replay_everything(tab)
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(InboxResponse)).all()) == 1  # a re-sent finish adds none


def test_a_page_sent_twice_moves_on_once(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    tab = Respondent(client, deployment.links["minimal"])
    tab.start()
    form = tab.form({"consent": "yes"}, action="next")
    first, second = client.post(tab.url, data=form), client.post(tab.url, data=form)
    assert first.status_code == 200 and 'name="page" value="2"' in first.get_data(as_text=True)
    assert second.status_code == 410 and "Please start again" in second.get_data(as_text=True)
    assert drafts(app) == 1


def test_quick_exit_works_without_the_form_token(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    """A session that expired must not stop someone leaving, nor keep their answers."""
    tab = answered_two_pages(client, deployment.links["minimal"])
    app.config["WTF_CSRF_ENABLED"] = True
    reply = app.test_client().post("/exit", data={"draft": tab.draft})  # no cookie, no token
    assert reply.status_code == 303 and drafts(app) == 0


@pytest.mark.parametrize("when", ["landing", "answering"])
def test_a_link_switched_off_says_the_survey_closed_with_help(
    app: Flask, client: FlaskClient, deployment: Deployment, when: str
) -> None:
    token = deployment.links["minimal"]
    tab = Respondent(client, token)
    if when == "answering":
        tab.start(lang="ar")
        tab.submit(1, {"consent": "yes"})
    with app_state(app).database.session() as session:
        session.execute(
            update(DistributionLink).where(DistributionLink.token == token).values(active=False)
        )
    if when == "landing":
        reply = client.get(tab.url)
        body = reply.get_data(as_text=True)
        assert "This survey has closed" in body
    else:
        reply = tab.submit(2, {"felt_safe": "yes"})
        body = reply.get_data(as_text=True)
        assert '<html lang="ar"' in body  # in the language they were answering in
        assert "لم تُرسل إجاباتك" in body  # "your answers were not sent"
        assert drafts(app) == 0
    assert reply.status_code == 410 and "+1 555 0100" in body


@pytest.fixture
def example_client(tmp_path: Path, database_url: str) -> Iterator[tuple[FlaskClient, str]]:
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys")))
    migrate.upgrade(app_state(app).database)
    yield app.test_client(), deploy(app).links["service-feedback"]
    app_state(app).database.dispose()


def test_progress_counts_only_the_pages_that_apply(example_client: tuple[FlaskClient, str]) -> None:
    client, token = example_client
    tab = Respondent(client, token)
    tab.start()
    assert "Page 1 of 6" in tab.html  # seven pages; "usefulness" asks about support not yet named
    tab.submit(1, {"consent": "yes"})
    tab.submit(2, {"services": "_pnts"})
    assert tab.page == 4 and "Page 3 of 6" in tab.html
    tab.submit(4, {}, action="back")
    tab.submit(2, {"services": "legal"})
    assert tab.page == 3 and "Page 3 of 7" in tab.html
