"""What is left to answer in a survey being entered section by section, and whether it can be saved.

Assisted entry shows a caseworker every section (page) of the survey with what is still open
in it, given the answers so far and the survey's skip logic: sections not yet asked, questions
left unanswered, and the required ones among them. Before anything is stored, every section
that applies is read again as a whole (`problems`), because an answer changed in an earlier
section can make a later question apply, or break a check that refers to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from ..definitions import Page, Question, QuestionType, Survey
from ..intake.drafts import DraftState
from . import answering


@dataclass(frozen=True)
class Section:
    number: int
    page: Page
    applies: bool
    asked: bool  # the caseworker has been through it (Continue or moving on without errors)
    open_questions: tuple[Question, ...]  # apply, take an answer, and have none yet
    problems: tuple[str, ...]  # question ids whose answers do not pass the checks

    @property
    def open_required(self) -> tuple[Question, ...]:
        return tuple(q for q in self.open_questions if _required(q))

    @property
    def done(self) -> bool:
        return self.asked and not self.open_required and not self.problems


@dataclass(frozen=True)
class Remaining:
    sections: tuple[Section, ...]

    @property
    def applying(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.applies)

    @property
    def to_do(self) -> tuple[Section, ...]:
        """Sections that apply and are not done: not asked yet, or with required answers
        missing or answers that fail their checks."""
        return tuple(s for s in self.applying if not s.done)

    @property
    def open_questions(self) -> int:
        return sum(len(s.open_questions) for s in self.applying)

    @property
    def open_required(self) -> int:
        return sum(len(s.open_required) for s in self.applying)

    @property
    def complete(self) -> bool:
        return not self.to_do

    def section(self, number: int) -> Section:
        return self.sections[number - 1]

    def may_open(self, number: int) -> bool:
        """A section the caseworker may go to from the list: one that applies and was asked
        already, or the first one that applies and was not (the next to ask)."""
        if not 1 <= number <= len(self.sections) or not self.section(number).applies:
            return False
        first_new = next((s.number for s in self.applying if not s.asked), None)
        return self.section(number).asked or number == first_new


def remaining(survey: Survey, state: DraftState, max_text: int) -> Remaining:
    answers = state.answers
    problems = problems_by_question(survey, answers, max_text)
    sections = []
    for number, page in enumerate(survey.pages, 1):
        applies = answering.page_is_relevant(page, answers)
        open_questions = tuple(
            q for q in _applying(page, answers) if q.has_answer and q.id not in answers
        )
        sections.append(
            Section(
                number=number,
                page=page,
                applies=applies,
                asked=number in state.history,
                open_questions=open_questions if applies else (),
                # Unanswered required questions are open questions, not problems.
                problems=tuple(q.id for q in page.questions if q.id in problems and q.id in answers)
                if applies
                else (),
            )
        )
    return Remaining(tuple(sections))


def problems_by_question(
    survey: Survey, answers: Mapping[str, Any], max_text: int
) -> dict[str, str]:
    """Every applying page read again from the answers kept, as if sent once more in order."""
    form: MultiDict[str, str] = MultiDict()
    for page in survey.pages:
        for key, values in answering.form_values(page, answers).items():
            for value in values:
                form.add(key, value)
    checked: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for page in survey.pages:
        if not answering.page_is_relevant(page, checked):
            continue
        submitted = answering.read_page(survey, page, form, checked, max_text)
        answering.merge(survey, page, checked, submitted.values)
        problems.update(submitted.errors)
    return problems


def _applying(page: Page, answers: Mapping[str, Any]) -> list[Question]:
    """Questions of the page that apply given every answer so far, its own page's included."""
    return [q for q in page.questions if q.relevant is None or q.relevant.is_true(answers)]


def _required(question: Question) -> bool:
    # Consent is never assumed: it is always needed to store anything.
    return question.required or question.type is QuestionType.CONSENT
