"""Answers inserted into question text: `${id}` in a label or hint.

A label or hint may insert the answer to a question asked on an earlier page, as XLSForm's
`${name}` does: "You said you are ${age}; ...". It is replaced by the answer as ODK shows it,
the stored value written as an expression reads it (a choice's value, a number without a
needless `.0`, a date as 2026-11-30), and empty when the question was skipped, declined or did
not apply. A label may also insert a calculation of the survey (`[calculations]`) whose answers
are all given on earlier pages: the server computes it with the same evaluator as relevant and
constraint, from the answers that applied. The page escapes it like any text. Anything else
written `${...}` (a question on the same or a later page, a calculation using one, or no
question at all) is shown as written, and `surveys check` warns.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .answers import applicable_answers
from .expressions import Expression, _answer_value, _to_string
from .schema import LocalisedText, Page, Question, Survey

PIPED = re.compile(r"\$\{([^{}\s]*)\}")


def earlier_answers(survey: Survey, page: Page) -> frozenset[str]:
    """Ids of the answers given before `page`, and of the calculations that use only them:
    those a label on `page` can insert."""
    ids: set[str] = set()
    for before in survey.pages:
        if before is page or before.id == page.id:
            break
        for question in before.questions:
            ids.update(question.answer_keys())
    ids.update(
        name for name, calculation in survey.calculations.items() if calculation.references() <= ids
    )
    return frozenset(ids)


def not_inserted(text: LocalisedText | None, allowed: frozenset[str]) -> list[str]:
    """The `${...}` of `text` that are not answers it can insert (shown as written)."""
    if text is None:
        return []
    found = {name for _, value in text.translations for name in PIPED.findall(value)}
    return sorted(found - allowed)


def _insert(
    text: LocalisedText | None,
    answers: Mapping[str, Any],
    allowed: frozenset[str],
    calculations: Mapping[str, Expression],
) -> LocalisedText | None:
    if text is None or not any("${" in value for _, value in text.translations):
        return text

    def answer(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in allowed:
            return match.group(0)
        if name in calculations:
            return _to_string(calculations[name].evaluate(answers))
        return _to_string(_answer_value(answers.get(name)))

    return LocalisedText(
        tuple((code, PIPED.sub(answer, value)) for code, value in text.translations)
    )


def with_answers(
    questions: Sequence[Question], survey: Survey, page: Page, answers: Mapping[str, Any]
) -> list[Question]:
    """`questions` of `page` with the answers their labels and hints insert."""
    allowed = earlier_answers(survey, page)
    if not any(
        "${" in value
        for question in questions
        for text in (question.label, question.hint)
        if text is not None
        for _, value in text.translations
    ):
        return list(questions)
    kept = applicable_answers(survey.pages, answers)  # as ODK: what did not apply is empty
    return [
        dataclasses.replace(
            question,
            label=_insert(question.label, kept, allowed, survey.calculations) or question.label,
            hint=_insert(question.hint, kept, allowed, survey.calculations),
        )
        for question in questions
    ]


def check_piping(survey: Survey) -> Iterator[tuple[Question, str, list[str]]]:
    """(question, "label" or "hint", names) for each text with `${...}` it cannot insert."""
    for page in survey.pages:
        allowed = earlier_answers(survey, page)
        for question in page.questions:
            for field, text in (("label", question.label), ("hint", question.hint)):
                names = not_inserted(text, allowed)
                if names:
                    yield question, field, names
