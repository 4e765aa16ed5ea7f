"""Plain answer counts per question: the simplest report, read back from the sealed rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..definitions import Survey
from ..definitions.answers import PREFER_NOT_TO_SAY
from ..intake.responses import OpenedResponse, UnreadableResponse

SKIPPED = "(skipped)"
PREFERRED_NOT_TO_SAY = "(prefer not to say)"


@dataclass
class AnswerCounts:
    responses: int = 0
    unreadable: list[UnreadableResponse] = field(default_factory=list)
    by_question: dict[str, Counter[str]] = field(default_factory=dict)


def count_answers(
    survey: Survey, opened: Iterable[OpenedResponse | UnreadableResponse]
) -> AnswerCounts:
    """Count each answer of each question of `survey`, across every version that shares its ids."""
    questions = [q for q in survey.questions() if q.has_answer]
    counts = AnswerCounts(by_question={q.id: Counter() for q in questions})
    for item in opened:
        if isinstance(item, UnreadableResponse):
            counts.unreadable.append(item)
            continue
        counts.responses += 1
        for question in questions:
            value = item.answers.get(question.id)
            tally = counts.by_question[question.id]
            if value is None:
                tally[SKIPPED] += 1
            elif value == PREFER_NOT_TO_SAY:
                tally[PREFERRED_NOT_TO_SAY] += 1
            elif isinstance(value, list):
                tally.update(str(v) for v in value)
            elif question.kind.free_text:
                # Free text is never printed here: only whether it was given.
                tally["(answered)"] += 1
            else:
                tally[str(value)] += 1
    return counts
