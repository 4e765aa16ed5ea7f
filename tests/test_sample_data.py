"""The demo's generated responses are ones a respondent could have sent.

Each generated response is replayed page by page through the server's own reading of a form
(skip logic, parsing, ranges, constraints, required answers), so a response that answers a
question that does not apply, or breaks a constraint, fails here as it would on the server.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from survey_app.definitions import Survey, load_directory
from survey_app.operations.sample_data import fake_answers
from survey_app.state import app_state
from survey_app.web import answering
from tests.support.apps import ROOT

EXAMPLES = load_directory(ROOT / "surveys")
RESPONSES = 300


def replay(app: Flask, survey: Survey, response: dict[str, Any]) -> dict[str, Any]:
    """Send `response` one page at a time as a respondent would; return what the server keeps."""
    max_text = app_state(app).settings.respondent.max_text_length
    kept: dict[str, Any] = {}
    sent: set[str] = set()
    number: int | None = answering.next_page(survey, 0, kept)
    while number is not None:
        page = survey.pages[number - 1]
        form = MultiDict(
            [
                (key, value)
                for key, values in answering.form_values(page, response).items()
                for value in values
            ]
        )
        submission = answering.read_page(survey, page, form, kept, max_text)
        assert submission.errors == {}, (page.id, response)
        page_keys = {key for question in page.questions for key in question.answer_keys()}
        expected = {key: value for key, value in response.items() if key in page_keys}
        assert submission.values == expected, f"page {page.id}: an answer that does not apply"
        answering.merge(survey, page, kept, submission.values)
        sent |= page_keys
        number = answering.next_page(survey, number, kept)
    assert set(response) <= sent, f"answers on pages a respondent never sees: {response}"
    return answering.final_answers(survey, kept)


@pytest.mark.parametrize("survey_id", sorted(EXAMPLES.surveys))
def test_generated_responses_follow_skip_logic_and_constraints(app: Flask, survey_id: str) -> None:
    survey = EXAMPLES.surveys[survey_id]
    rng = random.Random(survey_id)
    responses = [fake_answers(survey, rng) for _ in range(RESPONSES)]
    with app.test_request_context():
        for response in responses:
            assert replay(app, survey, response) == response
    # Not vacuous: each conditional question is answered by some and left out by others.
    for question in survey.questions():
        if question.relevant is None or not question.has_answer:
            continue
        answered = sum(question.id in response for response in responses)
        assert 0 < answered < RESPONSES, question.id


def test_only_those_who_received_legal_support_rate_it() -> None:
    survey = EXAMPLES.surveys["service-feedback"]
    rng = random.Random(7)
    responses = [fake_answers(survey, rng) for _ in range(RESPONSES)]
    received = sum("legal" in response.get("services", []) for response in responses)
    rated = sum("useful_legal" in response for response in responses)
    assert 0 < rated <= received < RESPONSES
