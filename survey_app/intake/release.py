"""Moving acknowledged responses from the inbox into `responses`, a whole interval at a time.

A response is durable the moment its thank-you page is sent: it is committed to
`response_inbox`. Rows there are in arrival order (the WAL, PostgreSQL's heap and transaction
ids all keep it), so they do not stay there: the first time anything is stored after a new
release interval (a UTC day) begins, or when `survey-app release` runs, every row of the inbox
is moved into `responses` in one transaction, in the order of their random ids. After that:

- on SQLite, `responses` has no rowid: its file is a B-tree ordered by the random id, and
  deleted inbox rows are overwritten with zeros (``secure_delete``);
- on PostgreSQL, all rows of one release carry the same transaction id (``xmin``) and sit in
  the heap in random-id order.

Every reader of responses (reports, key custody, retention) reads both tables, so nothing
acknowledged is ever hidden or lost while it waits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from ..models import InboxResponse, Release, Response

_COLUMNS = ("id", "survey_id", "survey_version", "period", "key_id", "sealed")
_RELEASE_ROW = 1


def current_interval() -> str:
    """The release interval now: the UTC day."""
    return datetime.now(UTC).date().isoformat()


def release_if_due(session: Session) -> int:
    """Release the inbox if no release ran yet in this interval; how many rows moved.

    Claiming the interval is one conditional UPDATE, so of several processes only one
    releases; a response committed meanwhile simply waits for the next interval.
    """
    interval = current_interval()
    claimed = session.execute(
        update(Release)
        .where(Release.id == _RELEASE_ROW, Release.last_interval < interval)
        .values(last_interval=interval)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        if session.get(Release, _RELEASE_ROW) is not None:
            return 0
        session.add(Release(id=_RELEASE_ROW, last_interval=interval))
        session.flush()
    return _move(session)


def release_all(session: Session) -> int:
    """Release the whole inbox now, even mid-interval (`survey-app release --now`).

    The interval is then cut in two batches: a copy taken later shows which of the day's
    responses came before the cut and which after, so use it only when that is worth it
    (before moving servers, say).
    """
    return _move(session)


def _move(session: Session) -> int:
    inbox = InboxResponse.__table__
    pending = select(*(inbox.c[name] for name in _COLUMNS)).order_by(inbox.c.id)
    # Without preserve_rowcount, an INSERT's row count can read -1 on PostgreSQL (psycopg).
    moved = session.execute(
        insert(Response)
        .from_select(list(_COLUMNS), pending)
        .execution_options(preserve_rowcount=True)
    )
    session.execute(delete(InboxResponse).where(exists().where(Response.id == InboxResponse.id)))
    return int(getattr(moved, "rowcount", 0) or 0)


def pending(session: Session) -> int:
    """How many acknowledged responses wait in the inbox."""
    return int(session.scalar(select(func.count()).select_from(InboxResponse)) or 0)
