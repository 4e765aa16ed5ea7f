"""Answers sealed on a device are checked again when a report opens them: counted and flagged
when they break the survey's rules, never dropped silently."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app import create_app
from survey_app.definitions import load_directory
from survey_app.intake import answer_checks
from survey_app.intake.responses import OpenedResponse, UnreadableResponse
from survey_app.models import Role
from survey_app.operations.sample_data import fake_answers
from survey_app.state import app_state
from tests.support.apps import FIXTURES, ROOT, Deployment, deploy, make_settings, read_back
from tests.support.staff import make_account, open_session
from tests.test_offline_upload import current_public, outcomes, sealed_item, upload

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

GOOD: dict[str, Any] = {"consent": "yes", "felt_safe": "partly", "age": 34, "comment": "Fine"}
BROKEN: list[tuple[dict[str, Any], str]] = [
    ({**GOOD, "age": 7}, "age: OutOfRange"),
    ({**GOOD, "felt_safe": "maybe"}, "felt_safe: UnknownChoice"),
    ({**GOOD, "invented": "x"}, "do not apply or do not exist: invented"),
    ({"felt_safe": "yes"}, "consent: consent not given"),
]


def test_a_report_counts_and_flags_uploaded_answers_that_break_the_rules(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    open_session(app, client, account.id)
    public = current_public(app, deployment)
    past = "2026-W30"
    items = [sealed_item(app, public, answers=GOOD, period=past) for _ in range(3)]
    items += [sealed_item(app, public, answers=a, period=past) for a, _reason in BROKEN]
    ids = {json.dumps(a): item["id"] for (a, _r), item in zip(BROKEN, items[3:], strict=True)}
    assert outcomes(upload(client, items)) == ["stored"] * 7  # the server cannot look inside

    # What every report reads (tables, free text, microdata): unreadable ones with a reason.
    found = read_back(app, deployment.programme_id, "minimal")
    opened = [item for item in found if isinstance(item, OpenedResponse)]
    flagged = [item for item in found if isinstance(item, UnreadableResponse)]
    assert len(opened) == 3 and all(item.answers == GOOD for item in opened)
    assert len(flagged) == len(BROKEN)
    for answers, reason in BROKEN:
        (item,) = [f for f in flagged if f.response_id == ids[json.dumps(answers)]]
        assert item.reason.startswith("BrokenRules") and reason in item.reason, item.reason


def test_answers_the_servers_pages_accept_pass_the_check() -> None:
    """No false alarms: 300 generated responses per example survey, made with the server's
    rules (skip logic, ranges, constraints), all pass."""
    for survey in load_directory(ROOT / "surveys").surveys.values():
        rng = random.Random(survey.id)
        for _ in range(300):
            answers = fake_answers(survey, rng)
            assert answer_checks.problems(survey, answers) == [], answers


def test_an_answer_to_a_question_skip_logic_hides_is_flagged() -> None:
    surveys = load_directory(ROOT / "surveys").surveys
    for survey in surveys.values():
        for page in survey.pages:
            for question in page.questions:
                if question.relevant is None or not question.has_answer:
                    continue
                rng = random.Random(1)
                for _ in range(50):
                    answers = fake_answers(survey, rng)
                    if question.id not in answers and not question.relevant.is_true(answers):
                        sneaked = {**answers, question.id: "anything"}
                        found = answer_checks.problems(survey, sneaked)
                        assert any("do not apply" in p for p in found), (question.id, found)
                        return
    pytest.fail("no example survey has a question that skip logic hides")


@pytest.fixture
def places(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """A survey whose choice_filter leaves the cities of the country answered."""
    settings = make_settings(tmp_path, database_url, surveys_dir=str(FIXTURES / "filtered"))
    application = create_app(settings)
    yield application
    app_state(application).database.dispose()


def test_an_uploaded_option_the_choice_filter_leaves_out_is_flagged_not_counted(
    places: Flask,
) -> None:
    deployment = deploy(places)
    client = places.test_client()
    account = make_account(
        places, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id
    )
    open_session(places, client, account.id)
    public = current_public(places, deployment)
    version = app_state(places).surveys["places"].version
    seal = partial(sealed_item, places, public, survey="places", version=version, period="2026-W30")
    good = seal(answers={"country": "ke", "city": "mombasa", "welcome": 4})
    other_country = seal(answers={"country": "ke", "city": "kampala", "welcome": 4})
    no_country = seal(answers={"city": "nairobi", "welcome": 2})
    unknown = seal(answers={"country": "ug", "city": "paris"})
    sent = [good, other_country, no_country, unknown]
    assert outcomes(upload(client, sent)) == ["stored"] * 4  # the server cannot look inside

    found = {
        item.response_id: item for item in read_back(places, deployment.programme_id, "places")
    }
    assert isinstance(found[good["id"]], OpenedResponse)
    assert found[good["id"]].answers == {"country": "ke", "city": "mombasa", "welcome": 4}
    leaves_out = "city: an option its choice_filter leaves out"
    for item in (other_country, no_country):
        flagged = found[item["id"]]
        assert isinstance(flagged, UnreadableResponse), flagged
        assert flagged.reason.startswith("BrokenRules") and leaves_out in flagged.reason
    # Not one of the question's options at all: refused as any question refuses it.
    assert "city: UnknownChoice" in found[unknown["id"]].reason
