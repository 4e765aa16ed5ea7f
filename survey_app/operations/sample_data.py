"""Generated responses: plausible answers, sealed straight into the database.

Used by the tests and benchmarks of reports, and by `survey-app demo` so that a new instance has
a report to look at. Never use it on a real programme's database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from survey_app.db import Database
from survey_app.definitions import Question, QuestionType, Survey
from survey_app.definitions import answers as rules
from survey_app.definitions.answers import PREFER_NOT_TO_SAY
from survey_app.definitions.schema import OTHER
from survey_app.intake.responses import ResponseMeta, store_response

# Generated answers are checked with the rules the server applies to a respondent's answers;
# a value that breaks them is drawn again a few times, then the question is left unanswered.
_ATTEMPTS = 5
_TEXT_LIMIT = 2000


def fake_answers(
    survey: Survey, rng: random.Random, *, skip: float = 0.08, decline: float = 0.04
) -> dict[str, Any]:
    """Answers a respondent could have sent: some skipped, some "prefer not to say", none to a
    question that does not apply (skip logic), and every constraint and range respected."""
    answers: dict[str, Any] = {}
    for question in survey.questions():
        if not question.has_answer:
            continue
        if question.type is QuestionType.CONSENT:
            # Made-up respondents never decline consent: the rest of the survey is asked.
            answers.update(question.kind.sample(question, rng, ()))
            continue
        draw = rng.random()
        if draw < skip and not question.required:
            continue
        if draw < skip + decline and question.prefer_not_to_say:
            answers[question.id] = PREFER_NOT_TO_SAY
            continue
        for _ in range(_ATTEMPTS):
            drawn = _fake_answer(question, rng, answers)
            if _acceptable(question, drawn, answers):
                answers.update(drawn)
                break
    # The same pass the server makes before storing: answers to what did not apply are dropped.
    return rules.applicable_answers(survey.pages, answers)


def _fake_answer(question: Question, rng: random.Random, answers: dict[str, Any]) -> dict[str, Any]:
    """A value for the question, made by its type, from the options its choice_filter offers."""
    values: Sequence[str] = question.choice_values()
    if question.choice_filter is not None:
        shown = {choice.value for choice in rules.visible_choices(question, answers)}
        values = [value for value in values if value in shown or value == OTHER]
    return question.kind.sample(question, rng, values)


def _acceptable(question: Question, drawn: dict[str, Any], answers: dict[str, Any]) -> bool:
    value = drawn[question.id]
    sent = [str(item) for item in value] if isinstance(value, list) else [str(value)]
    try:
        if rules.parse_answer(question, sent, _TEXT_LIMIT) != value:
            return False
        rules.check_constraint(question, value, {**answers, **drawn})
    except rules.InvalidAnswer:
        return False
    return True


def store_generated(
    database: Database,
    survey: Survey,
    count: int,
    *,
    seed: int = 7,
    sites: Sequence[str] = ("North", "South", "East"),
    days: Sequence[date] = (date(2026, 2, 10), date(2026, 5, 12), date(2026, 8, 18)),
    channels: Sequence[str] = ("self", "assisted"),
    period: str = "week",
) -> None:
    """Seal ``count`` generated responses to the survey's programme key."""
    rng = random.Random(seed)  # noqa: S311 - made-up answers, not secrets
    with database.session() as session:
        for _ in range(count):
            day = rng.choice(days) + timedelta(days=rng.randrange(3))
            meta = ResponseMeta(
                site=rng.choice(sites),
                channel=rng.choice(channels),  # type: ignore[arg-type]
                language=survey.default_language,
                day=day,
            )
            store_response(
                session,
                survey_id=survey.id,
                survey_version=survey.version,
                definition=survey.canonical_json,
                answers=fake_answers(survey, rng),
                meta=meta,
                period_granularity=period,
            )
