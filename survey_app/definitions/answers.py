"""Turning what a person typed or picked into stored answers, and the rules answers follow.

Pure functions shared by the web app (one page at a time) and the reports (many responses), so
both read answers exactly the same way. Stored value types are those of docs/survey-format.md.

Messages on InvalidAnswer are short, plain English meant for the person answering; `template`
and `params` let the app translate them (`gettext(error.template, **error.params)`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from survey_app.definitions.expressions import PREFER_NOT_TO_SAY
from survey_app.definitions.schema import OTHER, Choice, LocalisedText, Page, Question

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
    "check_choice_filter",
    "check_constraint",
    "is_relevant",
    "parse_answer",
    "unasked_keys",
    "visible_choices",
]


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
    How a value is read and checked is the question type's (definitions/types).
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
    return question.kind.parse(question, values, max_text)


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


def unasked_keys(pages: Sequence[Page], answers: Mapping[str, Any]) -> frozenset[str]:
    """The answer keys of questions that did not apply to a stored response: its page or its own
    `relevant` was false, given the answers kept (as `applicable_answers` judged them when they
    were stored), so the person was never asked. Reports count these apart from skips."""
    unasked: set[str] = set()
    kept: dict[str, Any] = {}
    for page in pages:
        page_applies = page.relevant is None or page.relevant.is_true(kept)
        for question in page.questions:
            keys = question.answer_keys()
            if page_applies and (question.relevant is None or question.relevant.is_true(kept)):
                for key in keys:
                    if key in answers:
                        kept[key] = answers[key]
            else:
                unasked.update(keys)
    return frozenset(unasked)


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


def check_choice_filter(question: Question, value: object, answers: Mapping[str, object]) -> None:
    """Raise UnknownChoice when `value` picks an option that the question's choice_filter does
    not offer, given `answers`: only what a person could have been shown is accepted."""
    if question.choice_filter is None or value is None or value == PREFER_NOT_TO_SAY:
        return
    offered = {choice.value for choice in visible_choices(question, answers)}
    if question.other:
        offered.add(OTHER)
    picked = value if isinstance(value, list) else [value]
    if any(item not in offered for item in picked):
        raise UnknownChoice(question.id)


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
