"""Deleting what is past each programme's retention period, and expired drafts.

A response is kept while its coarse period ("2026-W48", "2026-11-28" or "2026-11") ended less
than the programme's ``retention_days`` ago: it is deleted once the *last* day of its period is
more than that many days in the past, so no response is deleted early. A period this code
cannot read is never deleted, only reported.

Deletion runs in batches, each its own transaction, so a long purge does not hold the write
lock the web app needs to store new responses.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..db import Database
from ..intake.drafts import DraftStore
from ..intake.responses import stored_responses
from ..models import Draft, InboxResponse, Programme, Response, SurveyAssignment
from ..staff import audit

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class UnknownPeriod(ValueError):
    def __init__(self, period: str) -> None:
        super().__init__(
            f"period {period!r} is not a week (2026-W48), a day (2026-11-28) or a month (2026-11)"
        )


def period_end(period: str) -> date:
    """The last day a coarse period covers."""
    try:
        if match := _WEEK.match(period):
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 7)
        if _DAY.match(period):
            return date.fromisoformat(period)
        if match := _MONTH.match(period):
            year, month = int(match.group(1)), int(match.group(2))
            return date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        raise UnknownPeriod(period) from None
    raise UnknownPeriod(period)


@dataclass(frozen=True)
class SurveyPurge:
    programme: str
    survey_id: str
    responses: int
    # The newest period removed, to tell the operator how far back the purge reached.
    through_period: str


@dataclass
class PurgeReport:
    dry_run: bool
    surveys: list[SurveyPurge] = field(default_factory=list)
    drafts: int = 0
    unreadable_periods: list[str] = field(default_factory=list)

    @property
    def responses(self) -> int:
        return sum(item.responses for item in self.surveys)


def expired_periods(
    periods: Iterable[str], today: date, retention_days: int, unreadable: list[str]
) -> list[str]:
    cutoff = today - timedelta(days=retention_days)
    expired = []
    for period in periods:
        try:
            if period_end(period) < cutoff:
                expired.append(period)
        except UnknownPeriod:
            unreadable.append(period)
    return sorted(expired, key=lambda period: (period_end(period), period))


def purge(
    database: Database,
    *,
    actor: str,
    today: date | None = None,
    dry_run: bool = False,
    batch_size: int = 500,
    after_batch: Callable[[int], None] | None = None,
) -> PurgeReport:
    """Delete (or, with ``dry_run``, count) responses past retention, and expired drafts."""
    today = today or datetime.now(UTC).date()
    report = PurgeReport(dry_run=dry_run)
    with database.session() as session:
        programmes = [(p.id, p.slug, p.retention_days) for p in session.scalars(select(Programme))]
    for programme_id, slug, retention_days in sorted(programmes, key=lambda p: p[1]):
        found = _plan(database, programme_id, slug, retention_days, today, report)
        for survey_id, periods, count in found:
            if not dry_run:
                _delete_in_batches(database, survey_id, periods, batch_size, after_batch)
            report.surveys.append(SurveyPurge(slug, survey_id, count, periods[-1]))
        removed = sum(count for _survey, _periods, count in found)
        if removed and not dry_run:
            with database.session() as session:
                audit.record(
                    session,
                    actor,
                    "retention.purge",
                    programme_id,
                    f"{removed} responses past {retention_days} days removed: "
                    + ", ".join(f"{survey_id} {count}" for survey_id, _p, count in found),
                )
    with database.session() as session:
        report.drafts = _purge_drafts(session, dry_run)
    return report


def _plan(
    database: Database,
    programme_id: int,
    slug: str,
    retention_days: int,
    today: date,
    report: PurgeReport,
) -> list[tuple[str, list[str], int]]:
    """(survey id, expired periods, responses in them) for each survey with something to delete."""
    with database.session() as session:
        stored = stored_responses()
        pairs = session.execute(
            select(stored.c.survey_id, stored.c.period)
            .join(SurveyAssignment, SurveyAssignment.id == stored.c.survey_id)
            .where(SurveyAssignment.programme_id == programme_id)
            .distinct()
        ).all()
        by_survey: dict[str, list[str]] = {}
        for survey_id, period in pairs:
            by_survey.setdefault(survey_id, []).append(period)
        found = []
        for survey_id in sorted(by_survey):
            periods = expired_periods(
                by_survey[survey_id], today, retention_days, report.unreadable_periods
            )
            if not periods:
                continue
            count = session.scalar(
                select(func.count())
                .select_from(stored)
                .where(stored.c.survey_id == survey_id, stored.c.period.in_(periods))
            )
            found.append((survey_id, periods, int(count or 0)))
    return found


def _delete_in_batches(
    database: Database,
    survey_id: str,
    periods: list[str],
    batch_size: int,
    after_batch: Callable[[int], None] | None,
) -> None:
    for table in (Response, InboxResponse):
        while True:
            with database.session() as session:
                ids = session.scalars(
                    select(table.id)
                    .where(table.survey_id == survey_id, table.period.in_(periods))
                    .limit(batch_size)
                ).all()
                if not ids:
                    break
                session.execute(delete(table).where(table.id.in_(ids)))
            if after_batch is not None:
                after_batch(len(ids))


def _purge_drafts(session: Session, dry_run: bool) -> int:
    expired = Draft.expires_at <= datetime.now(UTC)
    if dry_run:
        return int(session.scalar(select(func.count()).select_from(Draft).where(expired)) or 0)
    return DraftStore(session, timedelta(0)).purge_expired()
