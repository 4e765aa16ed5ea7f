"""One page of a survey sent: its answers taken, and where the person goes next.

The respondent's pages (`respond`) and assisted entry (`assist`) both move through a survey
page by page with this one service, so skip logic, required answers, consent and Back work the
same for a survivor answering alone and for a caseworker entering their answers. Reading a
page's fields is `answering`; keeping the answers between pages is the caller's (a draft).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from werkzeug.datastructures import MultiDict

from ..definitions import Survey
from ..intake.drafts import DraftState
from . import answering

PAGE_FIELD = "page"


class Next(Enum):
    SHOW = "show"  # show the page `state.current` names
    INVALID = "invalid"  # show the same page again, with the submission's errors
    DECLINED = "declined"  # consent was refused: nothing may be kept
    END = "end"  # every page that applies is answered: the answers can be stored


@dataclass(frozen=True)
class Step:
    next: Next
    submission: answering.PageSubmission | None = None


def take_page(
    survey: Survey, state: DraftState, form: MultiDict[str, str], max_text: int
) -> answering.PageSubmission | None:
    """Read the current page's fields into `state.answers` (an emptied answer is removed).

    None, taking nothing, when the form was sent for another page than the one the person is
    on: a page re-sent out of order must not overwrite the answers of the page it names.
    """
    if str(state.current) != form.get(PAGE_FIELD):
        return None
    current = survey.pages[state.current - 1]
    submitted = answering.read_page(survey, current, form, state.answers, max_text)
    answering.merge(survey, current, state.answers, submitted.values)
    return submitted


def back(survey: Survey, state: DraftState) -> None:
    """To the page before that applies (the same page if there is none)."""
    state.current = answering.previous_page(survey, state.current, state.answers) or state.current


def complete_page(survey: Survey, state: DraftState, submitted: answering.PageSubmission) -> Step:
    """Leave the current page as answered: SHOW it as done, or stop (INVALID, DECLINED)."""
    if submitted.errors:
        return Step(Next.INVALID, submitted)
    if answering.declined_consent(survey.pages[state.current - 1], state.answers):
        return Step(Next.DECLINED)
    if state.current not in state.history:
        state.history.append(state.current)
    return Step(Next.SHOW)


def forward(survey: Survey, state: DraftState, submitted: answering.PageSubmission) -> Step:
    """The page answered: on to the next page that applies, back to consent, or the END."""
    step = complete_page(survey, state, submitted)
    if step.next is not Next.SHOW:
        return step
    following = answering.next_page(survey, state.current, state.answers)
    if following is not None:
        state.current = following
        return step
    if not answering.consent_given(survey, state.answers):
        consent = survey.consent_question()
        assert consent is not None  # consent_given is only false for a survey that asks it
        state.current = survey.pages.index(survey.page_of(consent.id)) + 1
        return step
    return Step(Next.END)


def may_finish(survey: Survey, state: DraftState) -> bool:
    """Consent given and the page the person is on answered: nothing can be stored before."""
    return answering.consent_given(survey, state.answers) and state.current in state.history
