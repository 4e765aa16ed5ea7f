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
from survey_app.definitions import QuestionType, Survey
from survey_app.responses import ResponseMeta, store_response


def fake_answers(
    survey: Survey, rng: random.Random, *, skip: float = 0.08, decline: float = 0.04
) -> dict[str, Any]:
    """Answers to every question, with some skipped and some "prefer not to say"."""
    answers: dict[str, Any] = {}
    for question in survey.questions():
        kind = question.type
        if kind is QuestionType.NOTE:
            continue
        if kind is QuestionType.CONSENT:
            answers[question.id] = "yes"
            continue
        draw = rng.random()
        if draw < skip:
            continue
        if draw < skip + decline and question.prefer_not_to_say:
            answers[question.id] = "_pnts"
            continue
        values = question.choice_values()
        if kind is QuestionType.RATING:
            answers[question.id] = int(rng.choice(values))
        elif kind in (QuestionType.SINGLE, QuestionType.YESNO):
            answers[question.id] = rng.choice(values)
        elif kind is QuestionType.MULTIPLE:
            chosen = set(rng.sample(values, rng.randint(1, min(3, len(values)))))
            answers[question.id] = [value for value in values if value in chosen]
            if question.other_id and "other" in chosen:
                answers[question.other_id] = "call me on +44 20 7946 0958"
        elif kind is QuestionType.INTEGER:
            answers[question.id] = rng.randint(18, 60)
        elif kind is QuestionType.DECIMAL:
            answers[question.id] = round(rng.uniform(0, 10), 1)
        elif kind is QuestionType.DATE:
            answers[question.id] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        else:
            answers[question.id] = "Marie helped me a lot, write to marie@example.org"
    return answers


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
