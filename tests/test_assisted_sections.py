"""Assisted entry section by section: what is left, going back, the review, and no trail.

Answers in progress live in a draft whose key is only in the page on screen (as for
respondents): nothing is kept under the caseworker's account or in their cookie, and a form
re-sent from Back, history or another tab opens nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app import create_app, migrate
from survey_app.db import Base
from survey_app.intake.drafts import FINISHED
from survey_app.models import Draft, InboxResponse, Role
from survey_app.state import app_state
from tests.support.apps import Deployment, deploy, make_settings, read_back
from tests.support.assisted import Interview
from tests.support.served import Browser, at_once, served
from tests.support.staff import PASSWORD, make_account, open_session
from tests.support.web import Respondent

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SECRET = "Sentinel Quayside 5512"

SECTIONS_SURVEY = """
format = 1

[survey]
id = "sections"
title = { en = "Sections" }
default_language = "en"
languages = ["en"]

[[pages]]
id = "start"
title = { en = "Agreement" }

[[pages.questions]]
id = "consent"
type = "consent"
label = { en = "Do you agree?" }

[[pages]]
id = "help"
title = { en = "Help received" }

[[pages.questions]]
id = "helped"
type = "yesno"
label = { en = "Were you helped?" }
required = true

[[pages.questions]]
id = "story"
type = "longtext"
label = { en = "Tell us more" }

[[pages]]
id = "kinds"
title = { en = "Kinds of help" }
relevant = "${helped} = 'yes'"

[[pages.questions]]
id = "which"
type = "multiple"
label = { en = "Which help?" }
required = true
choices = [{ value = "food", label = { en = "Food" } }, { value = "bed", label = { en = "Bed" } }]

[[pages]]
id = "end"
title = { en = "Last words" }

[[pages.questions]]
id = "last"
type = "text"
label = { en = "Anything else?" }
"""


@pytest.fixture
def sections_app(tmp_path: Path, database_url: str) -> Iterator[tuple[Flask, Deployment]]:
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "sections.toml").write_text(SECTIONS_SURVEY, encoding="utf-8")
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    migrate.upgrade(app_state(app).database)
    yield app, deploy(app)
    app_state(app).database.dispose()


@pytest.fixture
def caseworker(sections_app: tuple[Flask, Deployment]) -> FlaskClient:
    app, deployment = sections_app
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    client = app.test_client()
    open_session(app, client, account.id)
    return client


def sections_list(html: str) -> str:
    return html.split('id="sections"')[1].split("</nav>")[0]


def state_of(html: str, title: str) -> str:
    """The words beside a section's name in the list of sections."""
    match = re.search(
        rf">{re.escape(title)}</(?:button|span)>.*?<span class=\"section-state\">(.*?)</span>\s*</li>",
        sections_list(html),
        re.S,
    )
    assert match, f"{title} is not in the list"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def stored(app: Flask) -> int:
    with app_state(app).database.session() as db:
        return int(db.scalar(select(func.count()).select_from(InboxResponse)) or 0)


def test_each_section_says_what_is_left_with_the_required_questions_flagged(
    caseworker: FlaskClient,
) -> None:
    tab = Interview(caseworker, "sections")
    tab.start()
    assert tab.section == "1"
    assert "Section 1 of 3" in tab.html  # "Kinds of help" does not apply until "yes"
    assert "Sections left: 3. Required questions left: 2." in tab.html
    assert state_of(tab.html, "Help received") == "Not asked yet · Questions: 2 · Required: 1"
    assert 'class="required-left">Required: 1<' in sections_list(tab.html)
    assert state_of(tab.html, "Kinds of help") == "Does not apply"
    tab.answer(1, {"consent": "yes"})
    tab.answer(2, {"helped": "yes"})
    # "yes" opened a section: it is counted, and its required question flagged.
    assert tab.section == "3" and "Section 3 of 4" in tab.html
    assert state_of(tab.html, "Agreement") == "Done"
    assert state_of(tab.html, "Help received") == "Done · Not answered: 1"
    assert state_of(tab.html, "Kinds of help") == "Not asked yet · Questions: 1 · Required: 1"
    assert 'aria-current="step"' in sections_list(tab.html)
    reply = tab.answer(3, {})
    assert reply.status_code == 422 and 'href="#q-which"' in tab.html


def test_going_back_to_an_earlier_section_and_reviewing_before_saving(
    sections_app: tuple[Flask, Deployment], caseworker: FlaskClient
) -> None:
    app, deployment = sections_app
    tab = Interview(caseworker, "sections")
    tab.start()
    tab.answer(1, {"consent": "yes"})
    tab.answer(2, {"helped": "no", "story": SECRET})
    assert tab.section == "4"  # "Kinds of help" skipped
    tab.answer(4, {"last": "Thanks"})
    assert tab.section == "review"
    assert SECRET in tab.html and "Were you helped?" in tab.html and "Thanks" in tab.html
    assert "Which help?" not in tab.html  # a section that does not apply is not reviewed
    # Back to "Help received" from the review: its answers are there to change.
    tab.send(action="section-2")
    assert tab.section == "2" and SECRET in tab.html
    tab.answer(2, {"helped": "yes", "story": SECRET}, action="section-1")
    assert tab.section == "1"
    # "Kinds of help" now applies and was never asked: it is next, required answer flagged.
    assert "Sections left: 1. Required questions left: 1." in tab.html
    assert 'value="section-3"' in sections_list(tab.html)
    assert 'value="review"' not in tab.html
    # Saving before it is answered leads there instead.
    tab.send({"consent": "yes"}, action="section-4")
    assert tab.section == "4"
    tab.answer(4, {"last": "Thanks"})
    assert tab.section == "3"
    tab.answer(3, {"which": ["food", "bed"]})
    assert tab.section == "4"
    tab.answer(4, {"last": "Thanks"})
    assert tab.section == "review"
    assert re.search(r">Food</span>; <span[^>]*>Bed<", tab.html)
    reply = tab.send(action="save")
    assert reply.status_code == 303 and "outcome=saved" in reply.headers["Location"]
    (response,) = read_back(app, deployment.programme_id, "sections")
    assert response.answers == {
        "consent": "yes",
        "helped": "yes",
        "story": SECRET,
        "which": ["food", "bed"],
        "last": "Thanks",
    }
    assert response.meta.channel == "assisted"


def test_a_change_that_turns_a_section_off_drops_its_answers(
    sections_app: tuple[Flask, Deployment], caseworker: FlaskClient
) -> None:
    app, deployment = sections_app
    tab = Interview(caseworker, "sections")
    tab.enter({"consent": "yes"}, {"helped": "yes"}, {"which": ["bed"]}, {})
    tab = Interview(caseworker, "sections")
    tab.start()
    tab.answer(1, {"consent": "yes"})
    tab.answer(2, {"helped": "yes"})
    tab.answer(3, {"which": ["food"]})
    tab.answer(4, {})
    tab.send(action="section-2")
    tab.answer(2, {"helped": "no"})
    assert tab.section == "4"
    tab.answer(4, {})
    assert tab.section == "review" and "Food" not in tab.html
    tab.send(action="save")
    answers = [r.answers for r in read_back(app, deployment.programme_id, "sections")]
    assert {"consent": "yes", "helped": "no"} in answers and len(answers) == 2


def test_a_section_cannot_be_skipped_or_forced_open(caseworker: FlaskClient) -> None:
    tab = Interview(caseworker, "sections")
    tab.start()
    tab.send({"consent": "yes"}, action="section-4")  # not asked yet, not the next one
    assert tab.section == "1"
    tab.answer(1, {"consent": "yes"})
    for forged in ("section-3", "section-99", "section-0", "section-x", "section--2"):
        reply = tab.send({"helped": "no"}, action=forged)
        assert reply.status_code == 200 and tab.section == "2", forged
    # Saving, or asking for the review, while a section is left leads to that section.
    for early in ("save", "review"):
        tab = Interview(caseworker, "sections")
        tab.start()
        tab.answer(1, {"consent": "yes"})
        reply = tab.send({"helped": "no"}, action=early)
        assert reply.status_code == 200 and tab.section == "4", early


def test_declining_consent_stores_nothing_and_forgets_the_draft(
    sections_app: tuple[Flask, Deployment], caseworker: FlaskClient
) -> None:
    app, _deployment = sections_app
    tab = Interview(caseworker, "sections")
    tab.start()
    reply = tab.answer(1, {"consent": "no"})
    assert reply.status_code == 303 and "outcome=declined" in reply.headers["Location"]
    assert stored(app) == 0 and drafts(app) == 0


def drafts(app: Flask) -> int:
    """Drafts that still hold answers (a finished one keeps only the fact that it finished)."""
    with app_state(app).database.session() as db:
        return len(db.scalars(select(Draft).where(Draft.ciphertext != FINISHED)).all())


def half_done(client: FlaskClient) -> Interview:
    tab = Interview(client, "sections")
    tab.start()
    tab.answer(1, {"consent": "yes"})
    tab.answer(2, {"helped": "yes", "story": SECRET})
    tab.send(action="back")
    assert tab.section == "2" and SECRET in tab.html  # shown again in the tab while it is open
    return tab


def replay_everything(tab: Interview) -> list[Any]:
    """Every form the tab posted, re-sent with the same cookie (Back, history, another tab),
    and the interview's address opened afresh: none of them shows an answer."""
    replies = [tab.client.post(tab.url, data=sent) for sent in tab.sent if "draft" in sent]
    replies += [tab.client.get(tab.url), tab.client.get("/staff/assist/sections")]
    for reply in replies:
        body = reply.get_data(as_text=True)
        assert SECRET not in body and 'name="draft"' not in body
        assert not re.search(r'name="(?:consent|helped)"[^>]*checked', body)
    return replies


def test_back_history_and_another_tab_open_nothing(
    sections_app: tuple[Flask, Deployment], caseworker: FlaskClient
) -> None:
    app, _deployment = sections_app
    tab = half_done(caseworker)
    # Every earlier page's key was replaced: only the page on screen opens the draft.
    replies = replay_everything(tab)
    assert {r.status_code for r in replies[:-2]} == {410}
    assert "These answers can no longer be opened" in replies[0].get_data(as_text=True)
    # The tab itself still goes on.
    tab.answer(2, {"helped": "no", "story": SECRET})
    assert tab.section == "4" and drafts(app) == 1


def test_after_saving_or_leaving_no_old_page_opens(
    sections_app: tuple[Flask, Deployment], caseworker: FlaskClient
) -> None:
    app, _deployment = sections_app
    tab = half_done(caseworker)
    tab.answer(2, {"helped": "no", "story": SECRET})
    tab.answer(4, {})
    last = tab.form({}, "save")
    reply = tab.send(action="save")
    assert reply.status_code == 303 and stored(app) == 1 and drafts(app) == 0
    # The Save form sent again (a double tap, or re-sent from history) stores nothing more.
    again = caseworker.post(tab.url, data=last)
    assert again.status_code == 303 and "outcome=saved" in again.headers["Location"]
    assert stored(app) == 1
    replay_everything(tab)
    # The quick exit takes the draft with it.
    other = half_done(caseworker)
    draft = other.draft
    assert drafts(app) == 1 and draft is not None
    caseworker.post("/exit", data={"draft": draft})
    assert drafts(app) == 0
    replay_everything(other)


def test_nothing_is_kept_under_the_caseworkers_account_or_in_their_cookie(
    sections_app: tuple[Flask, Deployment], caseworker: FlaskClient
) -> None:
    app, _deployment = sections_app
    tab = Interview(caseworker, "sections")
    tab.start()
    before = snapshot(app)
    tab.answer(1, {"consent": "yes"})
    tab.answer(2, {"helped": "yes", "story": SECRET})
    after = snapshot(app)
    # The only change is the draft: a random id, ciphertext and a coarse expiry.
    assert [t for t in before if before[t] != after[t]] == ["drafts"]
    with app_state(app).database.session() as db:
        (draft,) = db.scalars(select(Draft)).all()
        assert SECRET.encode() not in draft.ciphertext and b"casey" not in draft.ciphertext
    assert [c.name for c in Draft.__table__.columns] == ["id", "ciphertext", "expires_at"]
    key = tab.draft
    assert key is not None
    cookie = caseworker.get_cookie("s")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    content = json.dumps(serializer.loads(cookie.value))
    assert SECRET not in content and "helped" not in content and "story" not in content
    assert key.split(".")[0] not in content and key.split(".")[1] not in content


def snapshot(app: Flask) -> dict[str, list[str]]:
    with app_state(app).database.session() as db:
        return {
            table.name: sorted(repr(tuple(row)) for row in db.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def test_a_respondents_draft_and_an_interviews_draft_do_not_open_each_other(
    sections_app: tuple[Flask, Deployment], caseworker: FlaskClient
) -> None:
    app, deployment = sections_app
    survivor = Respondent(app.test_client(), deployment.links["sections"])
    survivor.start()
    survivor.submit(1, {"consent": "yes"})
    tab = half_done(caseworker)
    # The interview's key sent to the survey's public address, and the other way round.
    crossed = survivor.client.post(survivor.url, data={**survivor.form({}), "draft": tab.draft})
    assert crossed.status_code == 410
    reply = tab.post({**tab.form({}), "draft": survivor.draft, "page": "2"})
    assert reply.status_code == 410 and SECRET not in tab.html


HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|draft|page)" value="([^"]*)">')


def test_save_sent_six_times_at_once_stores_one_response(
    sections_app: tuple[Flask, Deployment],
) -> None:
    """A double tap on Save, against the app served for real: one response, and every copy
    is told the answers were saved."""
    app, deployment = sections_app
    make_account(app, "carla", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    with served(app) as address:
        browser = Browser(address)
        sign_in = browser.get("/auth/sign-in").csrf()
        signed = browser.post(
            "/auth/sign-in", {"username": "carla", "password": PASSWORD, "csrf_token": sign_in}
        )
        assert signed.status == 303
        url = "/staff/assist/sections/entry"
        setup = browser.get("/staff/assist/sections").csrf()
        page = browser.post(url, {"site": "North", "lang": "en", "csrf_token": setup})
        for answers in ({"consent": "yes"}, {"helped": "no"}, {}):
            page = browser.post(url, {**dict(HIDDEN.findall(page.text)), **answers})
            assert page.status == 200
        assert 'name="page" value="review"' in page.text
        form = {**dict(HIDDEN.findall(page.text)), "action": "save"}
        replies = at_once([partial(browser.copy().post, url, form) for _ in range(6)])
    assert [(r.status, "outcome=saved" in r.location) for r in replies] == [(303, True)] * 6
    assert stored(app) == 1 and drafts(app) == 0
