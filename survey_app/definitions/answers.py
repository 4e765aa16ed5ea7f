"""Turning what a person typed or picked into stored answers, and the rules answers follow.

Pure functions shared by the web app (one page at a time) and the reports (many responses), so
both read answers exactly the same way. Stored value types are those of docs/survey-format.md.

Messages on InvalidAnswer are short, plain English meant for the person answering; `template`
and `params` let the app translate them (`gettext(error.template, **error.params)`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from survey_app.definitions.expressions import PREFER_NOT_TO_SAY
from survey_app.definitions.schema import (
    CHOICE_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    YES_NO_TYPES,
    Choice,
    DatePrecision,
    LocalisedText,
    Page,
    Question,
    QuestionType,
)

__all__ = [
    "PREFER_NOT_TO_SAY",
    "ConflictingAnswers",
    "ConstraintFailed",
    "InvalidAnswer",
    "InvalidDate",
    "NotANumber",
    "OutOfRange",
    "TooLong",
    "TooManyAnswers",
    "UnknownChoice",
    "applicable_answers",
    "check_constraint",
    "is_relevant",
    "parse_answer",
    "visible_choices",
]

# Longer than any real number; keeps int() away from pathological input.
MAX_NUMBER_LENGTH = 30
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# Arabic decimal separator and the comma used in French and many other languages.
_DECIMAL_SEPARATORS = str.maketrans({"\u066b": ".", ",": "."})
_DATE_PATTERN = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_DATE_EXAMPLES = {
    DatePrecision.DAY: "2024-03-15",
    DatePrecision.MONTH: "2024-03",
    DatePrecision.YEAR: "2024",
}


class InvalidAnswer(ValueError):
    """An answer that cannot be accepted as given; `message` tells the person why."""

    template: str = "Please check this answer."

    def __init__(self, question_id: str, message: str | None = None, **params: Any) -> None:
        self.question_id = question_id
        self.params = params
        if message is not None:
            self.template = message
        self.message = self.template % params if params else self.template
        super().__init__(f"{question_id}: {self.message}")


class UnknownChoice(InvalidAnswer):
    template = "Please choose one of the options shown."


class TooManyAnswers(InvalidAnswer):
    template = "Please choose only one answer."


class ConflictingAnswers(InvalidAnswer):
    template = "Please choose answers or “Prefer not to say”, not both."


class NotANumber(InvalidAnswer):
    template = "Please enter a number, using digits."


class OutOfRange(InvalidAnswer):
    template = "Please enter a number from %(min)s to %(max)s."


class TooLong(InvalidAnswer):
    template = "Please keep this answer under %(limit)s characters."


class InvalidDate(InvalidAnswer):
    template = "Please enter a date like %(example)s."


class ConstraintFailed(InvalidAnswer):
    template = "This answer is not possible for this question. Please check it."

    def __init__(self, question_id: str, custom_message: LocalisedText | None = None) -> None:
        super().__init__(question_id)
        # The survey's own wording (constraint_message), to show instead when it has one.
        self.custom_message = custom_message


def parse_answer(question: Question, raw: Sequence[str], max_text: int) -> object | None:
    """The stored value for what the form sent for `question`, or None when it was skipped.

    `raw` is every value the form sent under the question's id. Whether a skipped question
    was required is for the caller to decide: only it knows whether the question applied.
    """
    values = [value.strip() for value in raw if value.strip()]
    if not question.has_answer or not values:
        return None
    if PREFER_NOT_TO_SAY in values:
        if not question.prefer_not_to_say:
            raise UnknownChoice(question.id)
        if any(value != PREFER_NOT_TO_SAY for value in values):
            raise ConflictingAnswers(question.id)
        return PREFER_NOT_TO_SAY
    if question.type is QuestionType.MULTIPLE:
        return _parse_multiple(question, values)
    if len(values) > 1:
        raise TooManyAnswers(question.id)
    (value,) = values
    if question.type in CHOICE_TYPES or question.type in YES_NO_TYPES:
        if value not in question.choice_values():
            raise UnknownChoice(question.id)
        return value
    if question.type is QuestionType.RATING:
        if value not in question.choice_values():
            raise UnknownChoice(question.id)
        return int(value)
    if question.type in TEXT_TYPES:
        return _parse_text(question, value, max_text)
    if question.type in NUMBER_TYPES:
        return _parse_number(question, value)
    if question.type is QuestionType.DATE:
        return _parse_date(question, value)
    raise AssertionError(f"no parser for question type {question.type}")  # pragma: no cover


def is_relevant(item: Question | Page, answers: Mapping[str, object]) -> bool:
    """Whether a question or page applies, given the answers so far (its own `relevant` only;
    a question on a page that does not apply does not apply either)."""
    return item.relevant is None or item.relevant.is_true(answers)


def applicable_answers(pages: Sequence[Page], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only answers to questions that applied, given everything answered (in survey order)."""
    kept: dict[str, Any] = {}
    for page in pages:
        if page.relevant is not None and not page.relevant.is_true(kept):
            continue
        for question in page.questions:
            # Judged on what was kept so far: an answer to a question that no longer applies
            # cannot make a later one apply.
            if question.relevant is not None and not question.relevant.is_true(kept):
                continue
            for key in question.answer_keys():
                if key in answers:
                    kept[key] = answers[key]
    return kept


def check_constraint(question: Question, value: object, answers: Mapping[str, object]) -> None:
    """Raise ConstraintFailed when `value` breaks the question's constraint.

    Skipped and "prefer not to say" answers are never checked: declining is always allowed.
    """
    if question.constraint is None or value is None or value == PREFER_NOT_TO_SAY:
        return
    if answers.get(question.id) is not value:
        answers = {**answers, question.id: value}
    if not question.constraint.is_true(answers, current=value):
        raise ConstraintFailed(question.id, question.constraint_message)


def visible_choices(question: Question, answers: Mapping[str, object]) -> tuple[Choice, ...]:
    """The options to offer, after the question's choice_filter (without "Other" and
    "Prefer not to say", which the app adds when the question has them)."""
    choice_filter = question.choice_filter
    if choice_filter is None:
        return question.choices
    return tuple(
        choice
        for choice in question.choices
        if choice_filter.is_true(answers, names=choice.filter_names())
    )


def _parse_multiple(question: Question, values: list[str]) -> list[str]:
    allowed = question.choice_values()
    unknown = set(values) - set(allowed)
    if unknown:
        raise UnknownChoice(question.id)
    chosen = set(values)
    # Stored in the order of the options, so equal answers are stored equally.
    return [value for value in allowed if value in chosen]


def clean_text(text: str) -> str:
    """Text as stored: NFC, no control characters but line breaks and tabs, trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(
        char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc"
    ).strip()


def _parse_text(question: Question, value: str, max_text: int) -> str | None:
    text = clean_text(value)
    if question.type is QuestionType.TEXT:
        text = " ".join(text.split())
    limit = max_text if question.max_length is None else min(question.max_length, max_text)
    if len(text) > limit:
        raise TooLong(question.id, limit=limit)
    return text or None


def _parse_number(question: Question, value: str) -> int | float:
    text = value.replace(" ", "").replace("\u00a0", "")
    number: int | float
    if question.type is QuestionType.INTEGER:
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


def _parse_date(question: Question, value: str) -> str:
    precision = question.precision or DatePrecision.DAY
    match = _DATE_PATTERN.fullmatch(value)
    example = _DATE_EXAMPLES[precision]
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


def _before(earlier: str, later: str) -> bool:
    """Whether ISO date `earlier` is before `later`, at the precision the two share."""
    shared = min(len(earlier), len(later))
    return earlier[:shared] < later[:shared]


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31
