"""Unsealed responses as a CSV file for analysts, made safer before it leaves the server.

One row per response: survey version, round, channel, site and every question's answer. What
is done to it first:

* Free text (text and long-text answers, "Other" details) is redacted: contact details, ID-like
  numbers and codes, addresses, dates of birth and names are replaced (``redaction.Redactor``).
  A free-text column that fewer than k people filled in is withheld whole: a rare text is as
  good as a name, and its redaction cannot be relied on. An answer the survey does not list is
  written "(other values)".
* The quasi-identifiers are checked together: version, round, channel, site, the
  disaggregation questions, and every question that depends on one of them (asked only for
  some of its values, or its "Other" detail), as each of these shows the value it depends on.
  A dependent column counts by whether it was answered, not by its answer. A
  combination of their values shared by fewer than k rows could single a person out. The
  rarest value of the column that varies most among such rows is merged into "(other values)",
  again and again (a greedy generalisation, as in Sweeney's Datafly); a dependent answer whose
  status is merged is replaced too; rows still in a combination under k when nothing is left to
  merge are withheld. Every merge and the number withheld are reported.
* No exact day, no response id, no language: only what the analysis needs.

So every combination of the quasi-identifiers, as written in the file, is shared by at least k
rows, and free text only ever appears in such rows.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..definitions import PREFER_NOT_TO_SAY, Question
from ..definitions.answers import unasked_keys
from ..definitions.types import Export
from ..intake.responses import OpenedResponse, UnreadableResponse
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
    quasi_identifiers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Column:
    name: str
    question: Question | None = None
    free_text: bool = False
    quasi: bool = False  # a quasi-identifier (see the module doc)
    dependent: bool = False  # one by whether it was answered, as it depends on another


ANSWERED = "(answered)"
WITHHELD = "(withheld: fewer than k answers)"


def _columns(plan: ReportPlan) -> list[_Column]:
    quasi = _quasi_identifiers(plan)
    breakdowns = {d.id for d in plan.dimensions}
    columns = [_Column(name, quasi=True) for name in ("version", "round", "channel", "site")]
    for question in plan.survey.questions():
        if question.kind.export is None:
            continue
        for key in question.answer_keys():
            free = key != question.id or question.kind.export is Export.FREE_TEXT
            dependent = key in quasi and key not in breakdowns
            columns.append(_Column(key, question, free, key in quasi, dependent))
    return columns


def _quasi_identifiers(plan: ReportPlan) -> set[str]:
    """Disaggregation questions, and the questions (and "Other" details) that depend on them."""
    found = {d.id for d in plan.dimensions if d.question is not None}
    changed = True
    while changed:
        changed = False
        for page in plan.survey.pages:
            page_refs = page.relevant.references() if page.relevant is not None else frozenset()
            for question in page.questions:
                references = set(page_refs)
                for expression in (question.relevant, question.choice_filter):
                    if expression is not None:
                        references |= expression.references()
                if references & found:
                    new = set(question.answer_keys())
                elif question.id in found and question.other_id is not None:
                    new = {question.other_id}
                else:
                    new = set()
                if new - found:
                    found |= new
                    changed = True
    return found


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
    positions = [i for i, column in enumerate(columns) if column.quasi]
    rows: list[list[str]] = []
    unreadable = 0
    for item in opened:
        if isinstance(item, UnreadableResponse):
            unreadable += 1
            continue
        rows.append(_row(plan, columns, item, redactor))
    changes = _withhold_rare_text(rows, columns, k)
    # The check runs on what each quasi-identifier shows: a dependent one by whether it was
    # answered (its answer is what the analysis is about, its presence tells the other's).
    keys = [
        [_status(row[p]) if columns[p].dependent else row[p] for p in range(len(columns))]
        for row in rows
    ]
    merged, withheld = _generalise(keys, positions, [columns[i].name for i in positions], k)
    changes += merged
    for row, key in zip(rows, keys, strict=True):
        for p in positions:
            if key[p] == OTHER:
                row[p] = OTHER
    kept = [row for index, row in enumerate(rows) if index not in withheld]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["row", *(column.name for column in columns)])
    for number, row in enumerate(kept, start=1):
        writer.writerow([str(number), *(neutralise(cell) for cell in row)])
    quasi_names = [columns[p].name for p in positions]
    return Microdata(buffer.getvalue(), len(kept), len(withheld), unreadable, changes, quasi_names)


def _status(value: str) -> str:
    return value if value in (SKIPPED, DECLINED, NOT_ASKED, WITHHELD, OTHER) else ANSWERED


def _withhold_rare_text(rows: list[list[str]], columns: list[_Column], k: int) -> list[str]:
    """Free-text columns that fewer than k people filled in are withheld whole."""
    changes = []
    for p, column in enumerate(columns):
        if not column.free_text:
            continue
        answered = sum(1 for row in rows if _status(row[p]) == ANSWERED)
        if 0 < answered < k:
            for row in rows:
                if _status(row[p]) == ANSWERED:
                    row[p] = WITHHELD
            changes.append(f"{column.name}: withheld, only {answered} answered (fewer than {k})")
    return changes


def _row(
    plan: ReportPlan, columns: list[_Column], item: OpenedResponse, redactor: Redactor
) -> list[str]:
    row = []
    version = plan.versions.get(item.survey_version)
    unasked = unasked_keys(version.pages, item.answers) if version is not None else frozenset()
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
        asked = item.survey_version in plan.variable(column.question.id).versions and (
            column.name not in unasked or item.answers.get(column.name) is not None
        )
        value = _value(item.answers, column, asked)
        if column.free_text and value not in (SKIPPED, DECLINED, NOT_ASKED):
            value = redactor.redact(value)
        elif value not in (SKIPPED, DECLINED, NOT_ASKED):
            value = _listed(column.question, value)
        row.append(value)
    return row


def _listed(question: Question, value: str) -> str:
    """A choice answer if the survey lists it (each option of a multiple choice), else OTHER."""
    if question.kind.export is not Export.LISTED:
        return value  # numbers and dates are written as given
    known = {str(v) for v in question.choice_values()}
    if question.kind.many:
        return "; ".join(v if v in known else OTHER for v in value.split("; "))
    return value if value in known else OTHER


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
