"""A date, asked only as precisely as needed: a day, a month or a year."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from survey_app.definitions.answers import InvalidDate, OutOfRange
from survey_app.definitions.schema import DatePrecision, Question
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

_DATE_PATTERN = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_EXAMPLES = {
    DatePrecision.DAY: "2024-03-15",
    DatePrecision.MONTH: "2024-03",
    DatePrecision.YEAR: "2024",
}


@register
class Date(QuestionKind):
    name = "date"
    keys = BASE_KEYS + ANSWERED_KEYS + ("precision", "min", "max")
    layout = Layout.FIELD
    offline_input = "date"
    template = "questions/date.html"
    tally = Tally.DATE
    export = Export.AS_GIVEN
    xlsform_types = ("date",)
    widest_answer = 12  # "2026-11-30" with its quotes

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        precision = DatePrecision.DAY
        raw = table.get("precision")
        if raw is not None:
            try:
                precision = DatePrecision(raw)
            except ValueError:
                shown = f'"{raw}"' if isinstance(raw, str) else str(raw)
                reader.report(where, f'precision must be "day", "month" or "year", not {shown}')
        return {
            "precision": precision,
            "min": reader.iso_date(table, "min", where),
            "max": reader.iso_date(table, "max", where),
        }

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        value = one_value(question, values)
        precision = question.precision or DatePrecision.DAY
        match = _DATE_PATTERN.fullmatch(value)
        example = _EXAMPLES[precision]
        if match is None or len(value) < precision.iso_length:
            raise InvalidDate(question.id, example=example)
        year, month, day = (int(part) if part else 1 for part in match.groups())
        if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
            raise InvalidDate(question.id, example=example)
        # A more precise date than asked for is kept only as precise as asked: less to identify.
        answer = value[: precision.iso_length]
        low = question.min if isinstance(question.min, str) else None
        high = question.max if isinstance(question.max, str) else None
        too_low = low is not None and _before(answer, low)
        too_high = high is not None and _before(high, answer)
        if too_low or too_high:
            if low is not None and high is not None:
                raise OutOfRange(
                    question.id, "Please enter a date from %(min)s to %(max)s.", min=low, max=high
                )
            if low is not None:
                raise OutOfRange(question.id, "Please enter a date from %(min)s onwards.", min=low)
            raise OutOfRange(question.id, "Please enter a date up to %(max)s.", max=high)
        return answer

    def browser_field(self, question: Question) -> str | None:
        # "d" and the length of the ISO text kept: a date is cut to the precision asked.
        return f"d{(question.precision or DatePrecision.DAY).iso_length}"

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        precision = question.precision or DatePrecision.DAY
        return {question.id: day[: precision.iso_length]}


def _before(earlier: str, later: str) -> bool:
    """Whether ISO date `earlier` is before `later`, at the precision the two share."""
    shared = min(len(earlier), len(later))
    return earlier[:shared] < later[:shared]


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31
