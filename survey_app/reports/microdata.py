"""Unsealed responses as a CSV file for analysts, made safer before it leaves the server.

One row per response: survey version, round, channel, site and every question's answer. What
is done to it first:

* Free text (text and long-text answers, "Other" details) is redacted: contact details, ID-like
  numbers and codes, addresses, dates of birth and names are replaced (``redaction.Redactor``).
* The quasi-identifiers, site and the disaggregation questions, are checked together: a
  combination of their values shared by fewer than k rows could single a person out. The rarest
  value of the column that varies most among such rows is merged into "(other values)", again
  and again (a greedy generalisation, as in Sweeney's Datafly); rows still in a combination
  under k when nothing is left to merge are withheld. Every merge and the number withheld are
  reported.
* No exact day, no response id, no language: only what the analysis needs.

Free text therefore only ever appears in rows whose combination is shared by at least k rows.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..definitions import PREFER_NOT_TO_SAY, Question, QuestionType
from ..definitions.schema import TEXT_TYPES
from ..responses import OpenedResponse, UnreadableResponse
from .exports import neutralise
from .plan import ReportPlan
from .redaction import Redactor
from .tally import round_of

OTHER = "(other values)"
SKIPPED = "(skipped)"
DECLINED = "(prefer not to say)"
NOT_ASKED = "(not asked)"


@dataclass
class Microdata:
    """The CSV text and what was changed to make it safe."""

    text: str
    rows: int
    withheld: int
    unreadable: int
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Column:
    name: str
    question: Question | None = None
    free_text: bool = False


def _columns(plan: ReportPlan) -> list[_Column]:
    columns = [_Column("version"), _Column("round"), _Column("channel"), _Column("site")]
    for question in plan.survey.questions():
        if not question.has_answer or question.type is QuestionType.CONSENT:
            continue
        columns.append(_Column(question.id, question, question.type in TEXT_TYPES))
        if question.other_id is not None:
            columns.append(_Column(question.other_id, question, free_text=True))
    return columns


def _value(answers: dict[str, Any], column: _Column, asked: bool) -> str:
    if not asked:
        return NOT_ASKED
    raw = answers.get(column.name)
    if raw is None:
        return SKIPPED
    if raw == PREFER_NOT_TO_SAY:
        return DECLINED
    if isinstance(raw, list):
        return "; ".join(str(value) for value in raw)
    return str(raw)


def export_microdata(
    plan: ReportPlan,
    opened: Iterable[OpenedResponse | UnreadableResponse],
    k: int,
    redactor: Redactor,
) -> Microdata:
    columns = _columns(plan)
    quasi = ["site", *(d.id for d in plan.dimensions if d.question is not None)]
    positions = [i for i, column in enumerate(columns) if column.name in quasi]
    rows: list[list[str]] = []
    unreadable = 0
    for item in opened:
        if isinstance(item, UnreadableResponse):
            unreadable += 1
            continue
        rows.append(_row(plan, columns, item, redactor))
    changes, withheld = _generalise(rows, positions, [columns[i].name for i in positions], k)
    kept = [row for index, row in enumerate(rows) if index not in withheld]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["row", *(column.name for column in columns)])
    for number, row in enumerate(kept, start=1):
        writer.writerow([str(number), *(neutralise(cell) for cell in row)])
    return Microdata(buffer.getvalue(), len(kept), len(withheld), unreadable, changes)


def _row(
    plan: ReportPlan, columns: list[_Column], item: OpenedResponse, redactor: Redactor
) -> list[str]:
    row = []
    for column in columns:
        if column.question is None:
            meta = {
                "version": item.survey_version,
                "round": round_of(item.period),
                "channel": item.meta.channel,
                "site": item.meta.site,
            }
            row.append(meta[column.name])
            continue
        asked = item.survey_version in plan.variable(column.question.id).versions
        value = _value(item.answers, column, asked)
        if column.free_text and value not in (SKIPPED, DECLINED, NOT_ASKED):
            value = redactor.redact(value)
        row.append(value)
    return row


def _generalise(
    rows: list[list[str]], positions: list[int], names: list[str], k: int
) -> tuple[list[str], set[int]]:
    """Merge rare values of the quasi-identifiers until every combination has k rows or more.

    Returns the changes made, and the rows to withhold.
    """
    changes: list[str] = []
    while True:
        combinations = Counter(tuple(row[p] for p in positions) for row in rows)
        small = [
            i for i, row in enumerate(rows) if combinations[tuple(row[p] for p in positions)] < k
        ]
        if not small or not positions:
            return changes, set(small)
        choice = _column_to_merge(rows, small, positions)
        if choice is None:
            changes.append(
                f"{len(small)} rows withheld: their combination of "
                f"{', '.join(names)} stays shared by fewer than {k} rows"
            )
            return changes, set(small)
        position, value = choice
        count = sum(1 for row in rows if row[position] == value)
        for row in rows:
            if row[position] == value:
                row[position] = OTHER
        name = names[positions.index(position)]
        changes.append(f"{name}: {value!r} merged into {OTHER!r} ({count} rows)")


def _column_to_merge(
    rows: list[list[str]], small: list[int], positions: list[int]
) -> tuple[int, str] | None:
    """The rarest value of the column with the most distinct values among the small rows."""
    best: tuple[int, int, str] | None = None
    for position in positions:
        values = Counter(row[position] for row in rows)
        in_small = {rows[i][position] for i in small} - {OTHER}
        if not in_small:
            continue
        rarest = min(in_small, key=lambda v: (values[v], v))
        candidate = (len(in_small), position, rarest)
        if best is None or candidate[0] > best[0]:
            best = candidate
    return None if best is None else (best[1], best[2])
