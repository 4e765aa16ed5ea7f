"""Free-text answers for analysts: redacted, per question, and only in groups of k or more.

What an analyst reads, and what is done first:

* every text and long-text answer, and every "Other, please say what" detail, is redacted
  (contact details, ID-like numbers and codes, addresses, dates of birth, names: see
  ``redaction.Redactor``);
* answers are grouped by question, and a question's answers are shown only when at least k
  responses answered it; otherwise only that there were fewer than k, never how many;
* within a question the answers are in random order, and nothing is shown beside an answer:
  no site, period, channel, language, version or response id, so an answer cannot be lined up
  with a response's other answers or with a small group in the published tables.

Nothing here is stored: the result lives for one page and is gone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..definitions import PREFER_NOT_TO_SAY, Question
from ..intake.responses import OpenedResponse, UnreadableResponse
from .plan import ReportPlan
from .redaction import Redactor

Shuffle = Callable[[list[str]], None]
# The order of answers must say nothing about the order responses arrived in.
_RANDOM = secrets.SystemRandom()


@dataclass(frozen=True)
class FreeTextQuestion:
    """Where free text is typed: a text question, or the "Other" detail of a choice question."""

    answer_id: str  # the key in a response's answers
    question: Question
    is_other_detail: bool


@dataclass
class FreeTextGroup:
    source: FreeTextQuestion
    answers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FreeText:
    shown: list[FreeTextGroup]
    # Questions with fewer than k answers: named, their answers and count not shown.
    withheld: list[FreeTextQuestion]
    responses: int
    unreadable: int
    threshold: int


def free_text_questions(plan: ReportPlan) -> list[FreeTextQuestion]:
    """Every free-text field of the survey, current version first, then older versions'."""
    found: dict[str, FreeTextQuestion] = {}
    for survey in (plan.survey, *plan.versions.values()):
        for question in survey.questions():
            if question.kind.free_text:
                found.setdefault(question.id, FreeTextQuestion(question.id, question, False))
            if question.other_id is not None:
                found.setdefault(
                    question.other_id, FreeTextQuestion(question.other_id, question, True)
                )
    return list(found.values())


def collect_free_text(
    plan: ReportPlan,
    opened: Iterable[OpenedResponse | UnreadableResponse],
    k: int,
    redactor: Redactor,
    shuffle: Shuffle | None = None,
) -> FreeText:
    """The redacted free-text answers of ``opened``, per question, for groups of k or more.

    ``shuffle`` puts each group's answers in random order (default: the system's randomness).
    """
    shuffle = shuffle or _RANDOM.shuffle
    groups = {source.answer_id: FreeTextGroup(source) for source in free_text_questions(plan)}
    responses = unreadable = 0
    for item in opened:
        if isinstance(item, UnreadableResponse):
            unreadable += 1
            continue
        responses += 1
        for answer_id, group in groups.items():
            typed = item.answers.get(answer_id)
            if isinstance(typed, str) and typed.strip() and typed != PREFER_NOT_TO_SAY:
                group.answers.append(redactor.redact(typed.strip()))
    shown = [group for group in groups.values() if len(group.answers) >= k]
    for group in shown:
        shuffle(group.answers)
    withheld = [g.source for g in groups.values() if len(g.answers) < k]
    return FreeText(shown, withheld, responses, unreadable, k)
