"""The published report: a JSON document, already disclosure-controlled, and where it is kept.

Viewers see and download exactly this document; no key is needed to read it. Every count is a
whole number or the marker ``"suppressed"``; percentages, estimates, intervals and medians
on too few answers (a base under ``percent_base``) are the marker too. Labels written in the survey file are kept in every
language of the survey (``{"en": ..., "fr": ...}``); labels the application provides are marked
``builtin`` and are translated when shown.

Layout (``format`` 2)::

    survey_id, title, default_language, languages, created_at, threshold, responses,
    unreadable {reason: count}, versions [..], suppressed_marker, notes [..],
    rounds [{key, quarters, responses}], withheld_quarters [..], percent_base,
    featured_breakdowns [..]
    variables   [{id, kind, type, label, target, rows: [{key, label, kind, builtin}]}]
    dimensions  [{id, label, builtin, exclusive, groups: [{key, label, builtin, members, size}]}]
    views       [{id, dimension, group, responses, tables: {variable id: {frequency, crosstabs,
                  change}}}]

A table has ``columns`` (group keys, "all" for everyone in the view), ``sizes`` (people per
column), ``rows`` ({key, counts, percents}), ``bases`` (the denominator of each column's
percentages) and, for indicators ``estimates`` and for numbers ``summaries``. A table that
could not be protected is ``withheld`` with the reason, and has no rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal, NotRequired, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ReportSnapshot

FORMAT = 2
SUPPRESSED: Literal["suppressed"] = "suppressed"

Text = dict[str, str]
Count = int | str  # a count, or SUPPRESSED
Percent = float | str | None  # None where no percentage applies


class RowInfo(TypedDict):
    key: str
    label: Text
    kind: str  # "answer", "option" (multiple choice) or "status"
    builtin: bool


class VariableDoc(TypedDict):
    id: str
    kind: str
    type: str
    label: Text
    target: float | None
    rows: list[RowInfo]


class GroupDoc(TypedDict):
    key: str
    label: Text
    builtin: bool
    members: list[str]
    size: int


class DimensionDoc(TypedDict):
    id: str
    label: Text
    builtin: bool
    exclusive: bool
    groups: list[GroupDoc]


class RowDoc(TypedDict):
    key: str
    counts: list[Count]
    percents: list[Percent]


class EstimateDoc(TypedDict):
    value: float
    lower: float
    upper: float
    numerator: int
    denominator: int


class SummaryDoc(TypedDict):
    n: int  # the published number who answered
    median: float
    q1: float
    q3: float


class TableDoc(TypedDict):
    variable: str
    dimension: str | None
    columns: list[str]
    sizes: list[int]
    rows: list[RowDoc]
    bases: list[Count | None]
    withheld: str | None
    estimates: NotRequired[list[EstimateDoc | str | None]]
    summaries: NotRequired[list[SummaryDoc | str | None]]


class ChangeDoc(TypedDict):
    first: str
    last: str
    difference: float
    lower: float
    upper: float


class VariableTables(TypedDict):
    frequency: TableDoc
    crosstabs: list[TableDoc]
    change: ChangeDoc | None


class ViewDoc(TypedDict):
    id: str
    dimension: str | None
    group: str | None
    responses: int
    tables: dict[str, VariableTables]


class RoundDoc(TypedDict):
    key: str
    quarters: list[str]
    responses: int  # exact: a publication round holds at least 3k people


class SnapshotDoc(TypedDict):
    format: int
    survey_id: str
    title: Text
    default_language: str
    languages: list[str]
    created_at: str
    threshold: int
    responses: int
    unreadable: dict[str, int]
    versions: list[str]
    suppressed_marker: str
    notes: list[str]
    variables: list[VariableDoc]
    dimensions: list[DimensionDoc]
    views: list[ViewDoc]
    # The publication rounds counted, and the quarters withheld for good because a round
    # changed after it was published (see ``rounds``).
    rounds: list[RoundDoc]
    withheld_quarters: list[str]
    # The smallest adjusted base a percentage, estimate or interval is shown on.
    percent_base: NotRequired[int]
    # Dimensions whose cross-tab the report page shows with every question (the report plan
    # chosen at the refresh); the other breakdowns are on pages of their own.
    featured_breakdowns: NotRequired[list[str]]


class SnapshotFormatError(ValueError):
    """A stored snapshot is not a report document this version can show."""


def text(label: Text, language: str, default_language: str) -> str:
    """A label in ``language``, else in the survey's default language, else in any."""
    return label.get(language) or label.get(default_language) or next(iter(label.values()), "")


def view_by_id(document: SnapshotDoc, view_id: str) -> ViewDoc | None:
    return next((view for view in document["views"] if view["id"] == view_id), None)


def save(session: Session, document: SnapshotDoc) -> ReportSnapshot:
    """Publish a snapshot; viewers see the newest one of each survey."""
    row = ReportSnapshot(
        survey_id=document["survey_id"],
        created_at=datetime.fromisoformat(document["created_at"]),
        response_count=document["responses"],
        threshold=document["threshold"],
        versions=",".join(document["versions"])[:400],
        content=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
    )
    session.add(row)
    session.flush()
    return row


def latest(session: Session, survey_id: str) -> SnapshotDoc | None:
    row = session.scalars(
        select(ReportSnapshot)
        .where(ReportSnapshot.survey_id == survey_id)
        .order_by(ReportSnapshot.created_at.desc(), ReportSnapshot.id.desc())
        .limit(1)
    ).first()
    return None if row is None else parse(row.content)


def parse(content: str) -> SnapshotDoc:
    try:
        document = json.loads(content)
    except json.JSONDecodeError as error:
        raise SnapshotFormatError(f"the stored report is not valid JSON: {error.msg}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotFormatError(
            "the stored report was made by another version of the application; "
            "refresh the report to publish it again"
        )
    parsed: SnapshotDoc = document  # type: ignore[assignment]
    return parsed


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
