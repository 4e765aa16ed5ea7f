"""The example surveys are served, page by page, in each of their languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app import create_app, migrate
from survey_app.definitions import QuestionType, load_directory
from survey_app.intake.responses import OpenedResponse, open_responses, wrapped_keys
from survey_app.keys import sealing
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, deploy, make_settings
from tests.support.web import Respondent

EXAMPLES = load_directory(ROOT / "surveys")
CASES = [
    (sid, lang)
    for sid, survey in sorted(EXAMPLES.surveys.items())
    for lang in survey.language_codes
]


@pytest.fixture
def example_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys")))
    migrate.upgrade(app_state(app).database)
    yield app
    app_state(app).database.dispose()


def test_examples_load_without_problems() -> None:
    assert EXAMPLES.problems == []
    assert set(EXAMPLES.surveys) >= {"service-feedback", "reintegration-checkin"}


@pytest.mark.parametrize(("survey_id", "lang"), CASES)
def test_example_answered_end_to_end_in_each_language(
    example_app: Flask, survey_id: str, lang: str
) -> None:
    """Walk every page, answering the first option of each choice question, and read it back."""
    deployment = deploy(example_app)
    survey = EXAMPLES.surveys[survey_id]
    direction = survey.language(lang).direction.value
    client: FlaskClient = example_app.test_client()
    token = deployment.links[survey_id]
    tab = Respondent(client, token)
    reply = tab.start(lang)
    pages_seen = 0
    while tab.page is not None:
        assert reply.status_code == 200, (tab.page, reply.status_code)
        html = tab.html
        assert f'<html lang="{lang}" dir="{direction}">' in html
        number = tab.page
        data: dict[str, str] = {}
        for question in survey.pages[number - 1].questions:
            if f'name="{question.id}"' not in html:
                continue
            if question.type is QuestionType.CONSENT or question.type is QuestionType.YESNO:
                data[question.id] = "yes"
            elif question.type in (QuestionType.SINGLE, QuestionType.RATING):
                first = re.search(rf'name="{question.id}" value="([^"]+)"', html)
                assert first, question.id
                data[question.id] = first.group(1)
        reply = tab.submit(number, data)
        pages_seen += 1
    assert reply.status_code == 200 and tab.draft is None, tab.html[:2000]
    assert pages_seen >= 3
    with (
        app_state(example_app).database.session() as session,
        sealing.UnlockedKeys.unlock(
            wrapped_keys(session, deployment.programme_id), PASSPHRASE
        ) as keys,
    ):
        (opened,) = list(open_responses(session, survey_id, keys))
    assert isinstance(opened, OpenedResponse)
    assert opened.meta.language == lang
    consent = survey.consent_question()
    assert consent is not None and opened.answers[consent.id] == "yes"
