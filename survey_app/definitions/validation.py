"""Rules a survey must follow beyond the shape of its file, and how problems are reported.

The loader checks the shape of each table (keys, types of values, expressions that parse) while
it builds the `Survey`; the rules here look at the survey as a whole: ids, references between
questions, translations, scales and consent. Every problem is collected, never only the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from survey_app.definitions.expressions import (
    Expression,
    UnknownReferenceError,
    check_references,
)
from survey_app.definitions.piping import check_piping
from survey_app.definitions.schema import (
    LocalisedText,
    Question,
    QuestionType,
    Survey,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a survey file, told in one line.

    A warning does not stop the survey from being served (a missing translation falls back to
    the default language); `surveys check --strict` treats warnings as errors.
    """

    file: str
    location: str | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        parts = [self.file] if self.location is None else [self.file, self.location]
        text = ": ".join([*parts, self.message])
        return f"warning: {text}" if self.warning else text


class SurveyDefinitionError(Exception):
    """A survey file cannot be used; `problems` says everything that is wrong with it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Outline:
    """Where each question id stands in the file, including questions that failed to build.

    References are checked against this so a question with, say, a misspelt type does not
    also make every expression that names it look wrong.
    """

    position: Mapping[str, int]  # question id (and its `_other` key) -> order of asking
    page_index: Mapping[str, int]  # question id -> index of its page
    notes: frozenset[str]

    @classmethod
    def of(cls, survey: Survey) -> Outline:
        position: dict[str, int] = {}
        page_index: dict[str, int] = {}
        notes: set[str] = set()
        for index, page in enumerate(survey.pages):
            for question in page.questions:
                for key in (question.id, question.other_id):
                    if key is not None:
                        position.setdefault(key, len(position))
                        page_index.setdefault(key, index)
                if not question.has_answer:
                    notes.add(question.id)
        return cls(position, page_index, frozenset(notes))


def question_location(question_id: str) -> str:
    return f"question '{question_id}'"


def check_survey(survey: Survey, file: str, outline: Outline | None = None) -> list[Problem]:
    """Every rule the whole survey breaks, in file order."""
    outline = outline or Outline.of(survey)
    problems: list[Problem] = []
    problems += _check_duplicates(survey, file)
    problems += _check_references(survey, file, outline)
    problems += _check_translations(survey, file)
    problems += _check_consent(survey, file)
    problems += [
        Problem(
            file,
            question_location(question.id),
            f"{field}: {', '.join(f'${{{name}}}' for name in names)} "
            f"{'is' if len(names) == 1 else 'are'} shown as written: only answers given on an "
            f"earlier page, and calculations of them, are inserted into text",
            warning=True,
        )
        for question, field, names in check_piping(survey)
    ]
    for _, question in survey.iter_questions():
        problems += [
            Problem(file, question_location(question.id), message)
            for message in _question_rules(question)
        ]
    return problems


def _check_duplicates(survey: Survey, file: str) -> Iterator[Problem]:
    pages: set[str] = set()
    for page in survey.pages:
        if page.id in pages:
            yield Problem(file, f"page '{page.id}'", f"duplicate page id '{page.id}'")
        pages.add(page.id)
    asked_on: dict[str, str] = {}
    for page, question in survey.iter_questions():
        for key in question.answer_keys() or (question.id,):
            if key in asked_on:
                what = "question id" if key == question.id else "answer key"
                yield Problem(
                    file,
                    question_location(question.id),
                    f"duplicate {what} '{key}' (already used on page '{asked_on[key]}')",
                )
            else:
                asked_on[key] = page.id
    indicators: set[str] = set()
    for indicator in survey.indicators:
        if indicator.id in indicators:
            yield Problem(
                file, f"indicator '{indicator.id}'", f"duplicate indicator id '{indicator.id}'"
            )
        indicators.add(indicator.id)


def _check_references(survey: Survey, file: str, outline: Outline) -> Iterator[Problem]:
    repeated = {
        question.repeat_of: page.repetition.group
        for page, question in survey.iter_questions()
        if question.repeat_of is not None and page.repetition is not None
    }
    for problem in _references(survey, file, outline, frozenset(repeated)):
        names = _UNKNOWN.findall(problem.message)
        hints = [
            f"${{{name}}} is asked in each repetition of page '{repeated[name]}': name one, "
            f"as ${{{name}__1}}"
            for name in names
            if name in repeated
        ]
        yield replace(problem, message="; ".join([problem.message, *hints]))


_UNKNOWN = re.compile(r"unknown question \$\{([^}]*)\}")


def _references(
    survey: Survey, file: str, outline: Outline, repeated: frozenset[str]
) -> Iterator[Problem]:
    known = frozenset(outline.position)
    for index, page in enumerate(survey.pages):
        if page.relevant is not None:
            earlier = {q for q, i in outline.page_index.items() if i < index}
            for message in _reference_messages(
                "relevant", page.relevant, known, outline, earlier=earlier, may_use_current=False
            ):
                yield Problem(file, f"page '{page.id}'", message)
    for _, question in survey.iter_questions():
        here = outline.position.get(question.id, len(outline.position))
        earlier = {q for q, i in outline.position.items() if i < here}
        fields: list[tuple[str, Expression | None, bool]] = [
            ("relevant", question.relevant, True),
            ("choice_filter", question.choice_filter, True),
            ("constraint", question.constraint, False),
        ]
        for name, condition, ordered in fields:
            if condition is None:
                continue
            for message in _reference_messages(
                name,
                condition,
                known,
                outline,
                earlier=earlier if ordered else None,
                may_use_current=name == "constraint",
            ):
                yield Problem(file, question_location(question.id), message)
    for name, calculation in survey.calculations.items():
        where = f"calculation '{name}'"
        if name in known:
            yield Problem(file, where, f"'{name}' is also a question id: give it another name")
        for message in _reference_messages(
            "calculation", calculation, known, outline, earlier=None, may_use_current=False
        ):
            yield Problem(file, where, message)
    for indicator in survey.indicators:
        for name, condition in (
            ("numerator", indicator.numerator),
            ("denominator", indicator.denominator),
        ):
            # An indicator counts people: a repeated page's question reads as every answer
            # the person gave in its repetitions.
            for message in _reference_messages(
                name, condition, known | repeated, outline, earlier=None, may_use_current=False
            ):
                yield Problem(file, f"indicator '{indicator.id}'", message)


def _reference_messages(
    field: str,
    condition: Expression,
    known: frozenset[str],
    outline: Outline,
    *,
    earlier: set[str] | None,
    may_use_current: bool,
) -> Iterator[str]:
    yield from (f"{field}: {message}" for message in unknown_references(condition, known))
    if condition.uses_position():
        yield (
            f"{field}: position(..), the number of the repetition, has a meaning only inside a "
            f"repeated page"
        )
    if condition.uses_current() and not may_use_current:
        yield f"{field}: '.' (this question's answer) can only be used in a constraint"
    for name in sorted(condition.references() & known):
        if name in outline.notes:
            yield f"{field}: ${{{name}}} is a note, which has no answer"
        elif earlier is not None and name not in earlier:
            yield (
                f"{field}: ${{{name}}} is not asked before this point; "
                f"{field} can only use answers given earlier"
            )


def unknown_references(expression: Expression, known: frozenset[str]) -> list[str]:
    """One message per ${name} in the expression that names no question, in text order."""
    messages: list[str] = []
    while True:
        try:
            check_references(expression, known)
        except UnknownReferenceError as error:
            messages.append(f"{error.message} at position {error.position}")
            known = known | {error.name}
        else:
            return messages


def _localised_texts(survey: Survey) -> Iterator[tuple[str | None, str, LocalisedText | None]]:
    yield "survey", "title", survey.title
    yield "survey", "description", survey.description
    for name, choices in survey.choice_lists.items():
        for choice in choices:
            yield f"choices '{name}'", f"option '{choice.value}' label", choice.label
    for page in survey.pages:
        yield f"page '{page.id}'", "title", page.title
        yield f"page '{page.id}'", "intro", page.intro
        for question in page.questions:
            where = question_location(question.id)
            yield where, "label", question.label
            yield where, "hint", question.hint
            yield where, "constraint_message", question.constraint_message
            if question.scale_labels is not None:
                yield where, "scale_labels.low", question.scale_labels.low
                yield where, "scale_labels.high", question.scale_labels.high
            if question.choice_list is None and question.scale is None:
                for choice in question.choices:
                    yield where, f"option '{choice.value}' label", choice.label
    for indicator in survey.indicators:
        yield f"indicator '{indicator.id}'", "label", indicator.label


def _check_translations(survey: Survey, file: str) -> Iterator[Problem]:
    declared = survey.language_codes
    for location, field, text in _localised_texts(survey):
        if text is None or not text.translations:
            continue  # a missing required text, reported where it was read
        written = {code for code, value in text.translations if value.strip()}
        undeclared = sorted(text.languages() - set(declared))
        if undeclared:
            yield Problem(
                file,
                location,
                f"{field}: language {_codes(undeclared)} is not in survey.languages",
            )
        missing = [code for code in declared if code not in written]
        if missing:
            yield Problem(
                file,
                location,
                f"{field}: missing translation for {_codes(missing)} (shown in the default "
                f"language)",
                warning=True,
            )


def _codes(codes: Iterable[str]) -> str:
    return ", ".join(f"'{code}'" for code in codes)


def _check_consent(survey: Survey, file: str) -> Iterator[Problem]:
    first_consent: str | None = None
    for index, page in enumerate(survey.pages):
        for question in page.questions:
            if question.type is not QuestionType.CONSENT:
                continue
            where = question_location(question.id)
            if first_consent is not None:
                yield Problem(
                    file,
                    where,
                    f"a survey can have only one consent question (already '{first_consent}')",
                )
                continue
            first_consent = question.id
            if index != 0:
                yield Problem(file, where, "the consent question must be on the first page")


def _question_rules(question: Question) -> Iterator[str]:
    if question.min is not None and question.max is not None:
        low, high = question.min, question.max
        if isinstance(low, str) and isinstance(high, str):
            length = min(len(low), len(high))
            too_high = low[:length] > high[:length]
        else:
            too_high = not isinstance(low, str) and not isinstance(high, str) and low > high
        if too_high:
            yield f"min {_show(low)} is greater than max {_show(high)}"
    yield from question.kind.rules(question)
    if question.choice_filter is not None:
        columns = {name for choice in question.choices for name in choice.filter_names()}
        for name in sorted(question.choice_filter.bare_names() - columns):
            yield f"choice_filter: no option has a key '{name}'"
    if question.other and any(choice.value == "other" for choice in question.choices):
        yield (
            "other: the choices already have an option 'other'; remove it or remove other = true"
        )


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
