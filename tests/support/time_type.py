"""A question type that is not built in: a time of day ("14:30"), added in this one module and
its template (tests/fixtures/question_types/questions/time.html), nowhere else.

tests/test_question_types.py registers it and finds it served, checked, reported and exported.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from survey_app.definitions.answers import InvalidAnswer, OutOfRange
from survey_app.definitions.schema import Question
from survey_app.definitions.types import Export, Layout, QuestionKind, Tally
from survey_app.definitions.types.base import ANSWERED_KEYS, BASE_KEYS, SurveyReader, one_value
from tests.support.apps import FIXTURES

TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class InvalidTime(InvalidAnswer):
    template = "Please enter a time like %(example)s."


class TimeOfDay(QuestionKind):
    name = "time"
    keys = BASE_KEYS + ANSWERED_KEYS + ("min", "max")
    layout = Layout.FIELD
    offline_input = "time"
    template = "questions/time.html"
    template_folder = FIXTURES / "question_types"
    tally = Tally.DATE  # how many answered, never a row per minute
    export = Export.AS_GIVEN
    xlsform_types = ("time",)
    widest_answer = 7  # "23:59" with its quotes

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        bounds: dict[str, Any] = {}
        for key in ("min", "max"):
            raw = reader.string(table, key, where)
            if raw is not None and TIME.fullmatch(raw) is None:
                reader.report(where, f'{key} must be a time like "14:30", not "{raw}"')
                raw = None
            bounds[key] = raw
        return bounds

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        value = one_value(question, values)
        if TIME.fullmatch(value) is None:
            raise InvalidTime(question.id, example="14:30")
        low, high = question.min, question.max
        if (isinstance(low, str) and value < low) or (isinstance(high, str) and value > high):
            raise OutOfRange(
                question.id, "Please enter a time from %(min)s to %(max)s.", min=low, max=high
            )
        return value

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        return {question.id: f"{rng.randint(8, 19):02d}:{rng.choice((0, 15, 30, 45)):02d}"}
