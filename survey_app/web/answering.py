"""Reading one page of a survey from a form post, and moving between pages.

Skip logic and checks run here, on the server, so a survey works the same with JavaScript off.
Questions whose `relevant` depends on another question of the same page are shown (the server
cannot know the answer yet) and their answers dropped afterwards if they turn out not to apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import g
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..definitions import Choice, Page, Question, QuestionType, Survey
from ..definitions import answers as rules

PREFER_NOT_TO_SAY = rules.PREFER_NOT_TO_SAY


@dataclass
class PageSubmission:
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _depends_on_page(condition_refs: frozenset[str], page: Page) -> bool:
    return any(q.id in condition_refs for q in page.questions)


def question_applies(question: Question, page: Page, answers: Mapping[str, Any]) -> bool:
    if question.relevant is None:
        return True
    if _depends_on_page(question.relevant.references(), page):
        return True
    return question.relevant.is_true(answers)


def visible_questions(page: Page, answers: Mapping[str, Any]) -> list[Question]:
    return [q for q in page.questions if question_applies(q, page, answers)]


def filtered_choices(page: Page, answers: Mapping[str, Any]) -> dict[str, list[Choice]]:
    """Options left after each question's choice_filter, for questions that have one."""
    return {
        q.id: list(rules.visible_choices(q, answers)) for q in page.questions if q.choice_filter
    }


def page_is_relevant(page: Page, answers: Mapping[str, Any]) -> bool:
    if page.relevant is not None and not page.relevant.is_true(answers):
        return False
    return bool(visible_questions(page, answers))


def repetitions_asked(survey: Survey, page: Page, answers: Mapping[str, Any]) -> int | None:
    """How many repetitions of `page`'s repeated page the answers so far ask for (None: not a
    repeated page, or one with a fixed count, which its mark says)."""
    repetition = page.repetition
    if repetition is None or not repetition.answered:
        return None
    return sum(
        1
        for other in survey.pages
        if other.repetition is not None
        and other.repetition.group == repetition.group
        and (other is page or page_is_relevant(other, answers))
    )


def next_page(survey: Survey, number: int, answers: Mapping[str, Any]) -> int | None:
    for index in range(number, len(survey.pages)):
        if page_is_relevant(survey.pages[index], answers):
            return index + 1
    return None


def furthest_page(survey: Survey, completed: list[int], answers: Mapping[str, Any]) -> int:
    """The furthest page a respondent may open: the one after the last page they completed."""
    last = max(completed, default=0)
    return next_page(survey, last, answers) or max(last, 1)


def consent_given(survey: Survey, answers: Mapping[str, Any]) -> bool:
    consent = survey.consent_question()
    return consent is None or answers.get(consent.id) == "yes"


def previous_page(survey: Survey, number: int, answers: Mapping[str, Any]) -> int | None:
    for index in range(number - 2, -1, -1):
        if page_is_relevant(survey.pages[index], answers):
            return index + 1
    return None


def read_page(
    survey: Survey, page: Page, form: MultiDict[str, str], answers: Mapping[str, Any], max_text: int
) -> PageSubmission:
    submission = PageSubmission()
    shown = visible_questions(page, answers)
    for question in shown:
        if not question.has_answer:
            continue
        raw = [value for value in form.getlist(question.id) if value != ""]
        submission.raw[question.id] = raw
        try:
            value = rules.parse_answer(question, raw, max_text)
        except rules.InvalidAnswer as error:
            submission.errors[question.id] = explain(error)
            continue
        if value is not None:
            submission.values[question.id] = value
        other_id = question.other_id
        if other_id is not None:
            other_text = form.get(other_id, "").strip()
            submission.raw[other_id] = [other_text] if other_text else []
            if len(other_text) > max_text:
                submission.errors[question.id] = _(
                    "Please keep this answer under %(limit)s characters.", limit=max_text
                )
            elif other_text and _chose_other(value):
                submission.values[other_id] = other_text
    combined = {**answers, **submission.values}
    for question in shown:
        if question.id in submission.errors or not question.has_answer:
            continue
        if question.relevant is not None and not question.relevant.is_true(combined):
            submission.values.pop(question.id, None)
            continue
        value = submission.values.get(question.id)
        if value is None:
            # Consent is never assumed: skipping it is not agreeing.
            if question.required or question.type is QuestionType.CONSENT:
                submission.errors[question.id] = _("Please answer this question.")
            continue
        try:
            rules.check_choice_filter(question, value, combined)
            rules.check_constraint(question, value, combined)
        except rules.InvalidAnswer as error:
            message = survey.text(
                question.constraint_message, str(g.get("language", survey.default_language))
            )
            submission.errors[question.id] = message or explain(error)
    return submission


def _chose_other(value: object) -> bool:
    if isinstance(value, list):
        return "other" in value
    return value == "other"


def merge(survey: Survey, page: Page, answers: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Replace this page's answers with what was just sent (an emptied answer is removed)."""
    for question in page.questions:
        for key in question.answer_keys():
            answers.pop(key, None)
    answers.update(values)


def declined_consent(page: Page, answers: Mapping[str, Any]) -> bool:
    return any(q.type is QuestionType.CONSENT and answers.get(q.id) == "no" for q in page.questions)


def final_answers(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only answers to questions that applied, given everything answered (in survey order)."""
    return rules.applicable_answers(survey.pages, answers)


def form_values(page: Page, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """Stored answers as the strings a form shows, to fill in a page seen before."""
    values: dict[str, list[str]] = {}
    for question in page.questions:
        for key in question.answer_keys():
            if key not in answers:
                continue
            value = answers[key]
            values[key] = (
                [str(v) for v in value] if isinstance(value, list) else [_as_form_text(value)]
            )
    return values


def _as_form_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def explain(error: rules.InvalidAnswer) -> str:
    """The respondent's message for a rejected answer, in the page's language."""
    return str(_(error.template, **error.params))


def N_(message: str) -> str:
    """Marks a message for the catalogue without translating it here."""
    return message


# The answer checks (survey_app.definitions.answers) word their messages in English; listing the
# texts here puts them in the message catalogue so that `explain` can translate them.
ANSWER_MESSAGES = (
    N_("Please check this answer."),
    N_("Please choose one of the options shown."),
    N_("Please choose only one answer."),
    N_("Please choose answers or “Prefer not to say”, not both."),
    N_("Please enter a number, using digits."),
    N_("Please enter a whole number, using digits."),
    N_("Please enter a number of at least %(min)s."),
    N_("Please enter a number no larger than %(max)s."),
    N_("Please enter a date from %(min)s to %(max)s."),
    N_("Please enter a date from %(min)s onwards."),
    N_("Please enter a date up to %(max)s."),
    N_("Please enter a number from %(min)s to %(max)s."),
    N_("Please keep this answer under %(limit)s characters."),
    N_("Please enter a date like %(example)s."),
    N_("This answer is not possible for this question. Please check it."),
)
