"""A note: text shown between questions, with nothing to answer."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from survey_app.definitions.schema import Question
from survey_app.definitions.types.base import BASE_KEYS, Layout, QuestionKind, SurveyReader
from survey_app.definitions.types.registry import register


@register
class Note(QuestionKind):
    name = "note"
    keys = (*BASE_KEYS, "relevant")
    layout = Layout.NOTE
    template = "questions/note.html"
    tally = None
    export = None
    xlsform_types = ("note",)
    widest_answer = 0
    answered = False

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        return {}

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        return None  # never called: a note has no answer

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        return {}
