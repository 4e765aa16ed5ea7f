"""Free text: one line (`text`) or several (`longtext`). Never counted by what it says."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from typing import Any

from survey_app.definitions.answers import TooLong
from survey_app.definitions.schema import Question
from survey_app.definitions.types.base import (
    ANSWERED_KEYS,
    BASE_KEYS,
    Export,
    Layout,
    QuestionKind,
    SurveyReader,
    Tally,
    one_value,
)
from survey_app.definitions.types.registry import register

MAX_TEXT_LENGTH = 100_000
# Free text the sample data writes: it has to be redacted before anyone reads it.
SAMPLE_TEXT = "Marie helped me a lot, write to marie@example.org"


def clean_text(text: str) -> str:
    """Text as stored: NFC, no control characters but line breaks and tabs, trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(
        char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc"
    ).strip()


class _FreeText(QuestionKind):
    keys = BASE_KEYS + ANSWERED_KEYS + ("max_length",)
    layout = Layout.FIELD
    tally = Tally.TEXT
    export = Export.FREE_TEXT
    widest_answer = 64  # not used: free text is padded by its own length (survey_app.keys.padding)
    one_line = True

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        return {"max_length": reader.whole(table, "max_length", where, 1, MAX_TEXT_LENGTH)}

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        text = clean_text(one_value(question, values))
        if self.one_line:
            text = " ".join(text.split())
        limit = max_text if question.max_length is None else min(question.max_length, max_text)
        if len(text) > limit:
            raise TooLong(question.id, limit=limit)
        return text or None

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        return {question.id: SAMPLE_TEXT}


@register
class Text(_FreeText):
    name = "text"
    browser_reading = "t"
    template = "questions/text.html"
    xlsform_types = ("text", "string")


@register
class LongText(_FreeText):
    name = "longtext"
    browser_reading = "l"
    offline_input = "textarea"
    template = "questions/longtext.html"
    xlsform_types = ()  # text with appearance `multiline`, settled by the importer
    one_line = False
