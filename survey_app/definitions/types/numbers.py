"""Numbers: whole (`integer`) or with decimals (`decimal`), within an optional min and max."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from survey_app.definitions.answers import NotANumber, OutOfRange
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

# Longer than any real number; keeps int() away from pathological input.
MAX_NUMBER_LENGTH = 30
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# Arabic decimal separator and the comma used in French and many other languages.
_DECIMAL_SEPARATORS = str.maketrans({"\u066b": ".", ",": "."})


class _Number(QuestionKind):
    keys = BASE_KEYS + ANSWERED_KEYS + ("min", "max")
    layout = Layout.FIELD
    offline_input = "number"
    tally = Tally.NUMBER
    export = Export.AS_GIVEN
    widest_answer = 24  # the longest JSON number an answer can be
    whole: ClassVar[bool]

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        return {
            "min": reader.number(table, "min", where, whole=self.whole),
            "max": reader.number(table, "max", where, whole=self.whole),
        }

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        text = one_value(question, values).replace(" ", "").replace("\u00a0", "")
        number: int | float
        if self.whole:
            if len(text) > MAX_NUMBER_LENGTH or _INTEGER.fullmatch(text) is None:
                raise NotANumber(question.id, "Please enter a whole number, using digits.")
            number = int(text)
        else:
            text = text.translate(_DECIMAL_SEPARATORS)
            if len(text) > MAX_NUMBER_LENGTH or _DECIMAL.fullmatch(text) is None:
                raise NotANumber(question.id)
            number = float(text)
        _check_range(question, number)
        return number


def _check_range(question: Question, number: int | float) -> None:
    low, high = question.min, question.max
    too_low = isinstance(low, int | float) and number < low
    too_high = isinstance(high, int | float) and number > high
    if not (too_low or too_high):
        return
    if low is not None and high is not None:
        raise OutOfRange(question.id, min=low, max=high)
    if low is not None:
        raise OutOfRange(question.id, "Please enter a number of at least %(min)s.", min=low)
    raise OutOfRange(question.id, "Please enter a number no larger than %(max)s.", max=high)


@register
class Integer(_Number):
    name = "integer"
    browser_reading = "i"
    template = "questions/integer.html"
    xlsform_types = ("integer", "int")
    whole = True

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        low = question.min if isinstance(question.min, int) else 18
        high = question.max if isinstance(question.max, int) else max(low, 60)
        return {question.id: rng.randint(low, high)}


@register
class Decimal(_Number):
    name = "decimal"
    browser_reading = "f"
    template = "questions/decimal.html"
    xlsform_types = ("decimal",)
    whole = False

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        low = question.min if isinstance(question.min, int | float) else 0
        high = question.max if isinstance(question.max, int | float) else low + 10
        return {question.id: round(rng.uniform(low, high), 1)}
