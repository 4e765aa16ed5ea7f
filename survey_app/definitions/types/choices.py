"""Choosing from the survey's options: one (`single`) or any number (`multiple`)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from survey_app.definitions.answers import PREFER_NOT_TO_SAY, UnknownChoice
from survey_app.definitions.schema import OTHER, Question
from survey_app.definitions.types.base import (
    ANSWERED_KEYS,
    BASE_KEYS,
    CHOICE_KEYS,
    Export,
    Layout,
    PickOne,
    QuestionKind,
    SurveyReader,
    Tally,
)
from survey_app.definitions.types.registry import register

# Free text the sample data puts in "Other": it has to be redacted before anyone reads it.
SAMPLE_OTHER_TEXT = "call me on +44 20 7946 0958"


class _Choosing(QuestionKind):
    keys = BASE_KEYS + ANSWERED_KEYS + CHOICE_KEYS
    required_keys = ("id", "type", "label", "choices")
    layout = Layout.OPTIONS
    export = Export.LISTED
    widest_answer = 0
    xlsform_types = ()  # select_one and select_multiple are settled by the importer
    breakdown = True

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        found = reader.question_choices(table, where)
        if found is None:
            return None
        choices, list_name = found
        return {
            "choices": choices,
            "choice_list": list_name,
            "choice_filter": reader.expression(table, "choice_filter", where, bare_names=True),
            "other": reader.flag(table, "other", where),
        }

    def choice_values(self, question: Question) -> tuple[str, ...]:
        values = tuple(choice.value for choice in question.choices)
        return (*values, OTHER) if question.other else values


@register
class Single(_Choosing, PickOne):
    name = "single"
    browser_reading = "c"
    template = "questions/single.html"
    tally = Tally.CHOICE


@register
class Multiple(_Choosing):
    name = "multiple"
    browser_reading = "m"
    template = "questions/multiple.html"
    tally = Tally.MULTIPLE
    many = True

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        allowed = self.choice_values(question)
        if set(values) - set(allowed):
            raise UnknownChoice(question.id)
        chosen = set(values)
        # Stored in the order of the options, so equal answers are stored equally.
        return [value for value in allowed if value in chosen]

    def padding_width(self, question: Question) -> int:
        # Every option at once, the longest list a respondent can send.
        return len(
            json.dumps(
                [*self.choice_values(question), PREFER_NOT_TO_SAY],
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
        )

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        chosen = set(rng.sample(options, rng.randint(1, min(3, len(options)))))
        drawn: dict[str, Any] = {question.id: [value for value in options if value in chosen]}
        if question.other_id and OTHER in chosen:
            drawn[question.other_id] = SAMPLE_OTHER_TEXT
        return drawn
