"""Checking opened answers against their survey version's rules, when a report reads them.

Responses typed into the server's own pages were checked as they arrived; responses sealed on a
caseworker's device (``survey_app.intake.offline_upload``) could only be checked by the device, and the
server cannot look inside them until a report opens them. So every assisted response is checked
again here with the rules the server's pages apply (``definitions.answers``): skip logic,
required answers and consent, allowed values and ranges, the options a choice_filter leaves,
constraints. A response that breaks them is not counted in the tables but reported, with the
reason, as not readable: never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..definitions import Survey
from ..definitions import answers as rules
from ..definitions.schema import Question, QuestionType

# Lengths were checked where the answer was typed; here only the question's own limit counts.
_NO_DEPLOYMENT_LIMIT = 1_000_000


class BrokenRules(Exception):
    """Opened answers that the survey version's rules would not have accepted."""


def _as_form(value: Any) -> Sequence[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def _question_problem(question: Question, value: Any, kept: Mapping[str, Any]) -> str | None:
    if value is None:
        if question.type is QuestionType.CONSENT:
            return "consent not given"
        return "required but not answered" if question.required else None
    if question.type is QuestionType.CONSENT and value != "yes":
        return "consent not given"
    try:
        parsed = rules.parse_answer(question, _as_form(value), _NO_DEPLOYMENT_LIMIT)
        if parsed != value:
            return "not an answer this question takes"
    except rules.InvalidAnswer as error:
        return type(error).__name__
    try:
        rules.check_choice_filter(question, value, kept)
    except rules.UnknownChoice:
        return "an option its choice_filter leaves out, given the other answers"
    try:
        rules.check_constraint(question, value, kept)
    except rules.InvalidAnswer as error:
        return type(error).__name__
    return None


def problems(survey: Survey, answers: Mapping[str, Any]) -> list[str]:
    """What in `answers` the survey's rules refuse; empty when nothing."""
    kept = rules.applicable_answers(survey.pages, answers)
    found = []
    extra = sorted(set(answers) - set(kept))
    if extra:
        found.append(f"answers to questions that do not apply or do not exist: {', '.join(extra)}")
    for page in survey.pages:
        if not rules.is_relevant(page, kept):
            continue
        for question in page.questions:
            if not question.has_answer or not rules.is_relevant(question, kept):
                continue
            problem = _question_problem(question, kept.get(question.id), kept)
            if problem:
                found.append(f"{question.id}: {problem}")
    return found


def check(survey: Survey, answers: Mapping[str, Any]) -> None:
    found = problems(survey, answers)
    if found:
        raise BrokenRules("the answers break the survey's rules: " + "; ".join(found))
