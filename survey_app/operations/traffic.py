"""Counts of respondent requests, by route and status, in place of an access log.

A log line per respondent request would give each completion's exact time and, by its place
among the other lines, the order of completions; the page sequence would show skip logic and
declined consent. So respondent requests are only counted: per UTC day, per route pattern
(``POST /s/<token>``, never the token, page number or language) and status.

Each server process counts in memory. When the day changes, or the process stops, it adds its
counts for the finished day to the ``traffic_counts`` table and writes one summary line to the
log. Nothing finer than the day is ever written, so the counts cannot order completions within
a day. `survey-app traffic` shows the table; today's counts are in the server's memory until the
day ends.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import Executable

from ..db import Database
from ..models import TrafficCount
from .failures import describe

log = logging.getLogger("survey_app.operations.traffic")

Key = tuple[str, int]  # (route, status)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


class TrafficCounter:
    """Thread-safe counts for the current day; finished days go to the database."""

    def __init__(self, database: Database, clock: Callable[[], str] = today) -> None:
        self.database = database
        self.clock = clock
        self._lock = threading.Lock()
        self._day = clock()
        self._counts: Counter[Key] = Counter()

    def count(self, route: str, status: int) -> None:
        day = self.clock()
        with self._lock:
            finished = self._take_if_finished(day)
            self._counts[(route, status)] += 1
        if finished is not None:
            self.store(*finished)

    def current(self) -> tuple[str, dict[Key, int]]:
        with self._lock:
            return self._day, dict(self._counts)

    def flush(self) -> None:
        """Store whatever has been counted (at shutdown); counting goes on from zero."""
        with self._lock:
            day, counts = self._day, self._counts
            self._counts = Counter()
        self.store(day, counts)

    def _take_if_finished(self, day: str) -> tuple[str, Counter[Key]] | None:
        if day == self._day:
            return None
        finished = (self._day, self._counts)
        self._day, self._counts = day, Counter()
        return finished

    def store(self, day: str, counts: Counter[Key]) -> None:
        if not counts:
            return
        summary = ", ".join(
            f"{route} {status}: {n}" for (route, status), n in sorted(counts.items())
        )
        log.info("respondent requests on %s: %s", day, summary)
        try:
            with self.database.session() as session:
                for (route, status), n in counts.items():
                    session.execute(_add(self.database, day, route, status, n))
        except SQLAlchemyError as error:
            # The summary line above already holds the counts; losing the table copy is no harm.
            log.error("respondent request counts for %s not stored: %s", day, describe(error))


def _add(database: Database, day: str, route: str, status: int, n: int) -> Executable:
    values = {"day": day, "route": route, "status": status, "count": n}
    keys = ["day", "route", "status"]
    if database.is_sqlite:
        lite = sqlite.insert(TrafficCount).values(**values)
        return lite.on_conflict_do_update(
            index_elements=keys, set_={"count": TrafficCount.count + lite.excluded.count}
        )
    pg = postgresql.insert(TrafficCount).values(**values)
    return pg.on_conflict_do_update(
        index_elements=keys, set_={"count": TrafficCount.count + pg.excluded.count}
    )


@dataclass(frozen=True)
class DayCount:
    day: str
    route: str
    status: int
    count: int


def stored_counts(database: Database, days: int) -> list[DayCount]:
    with database.session() as session:
        recent = session.scalars(
            select(TrafficCount.day).distinct().order_by(TrafficCount.day.desc()).limit(days)
        ).all()
        rows = session.scalars(
            select(TrafficCount)
            .where(TrafficCount.day.in_(recent))
            .order_by(TrafficCount.day, TrafficCount.route, TrafficCount.status)
        ).all()
        return [DayCount(r.day, r.route, r.status, r.count) for r in rows]
