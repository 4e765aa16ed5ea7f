"""The audit log: a hash chain of sensitive acts (sign-ins, account, role and programme changes,
unlocks, key changes, exports, purges).

Each row's hash covers the previous row's hash and its own fields, so removing, reordering or
editing a row breaks every hash after it. Rows name staff and programmes, never a response.

    row_hash = SHA-256(previous_hash || canonical JSON of {at, actor, action, programme_id,
                                                           detail})

The first row's previous_hash is 64 zeros.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..db import as_utc
from ..models import AuditEvent

GENESIS_HASH = "0" * 64
# Any fixed number: it names the lock that serialises writers on PostgreSQL.
_CHAIN_LOCK = 0x5A_4D_41_55


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (with their user id) or an operator at the command line."""

    name: str
    user_id: int | None = None


def _canonical_at(moment: datetime) -> str:
    return as_utc(moment).isoformat()


def row_hash(
    previous_hash: str,
    at: datetime,
    actor: str,
    action: str,
    programme_id: int | None,
    detail: str,
) -> str:
    fields = {
        "at": _canonical_at(at),
        "actor": actor,
        "action": action,
        "programme_id": programme_id,
        "detail": detail,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(previous_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


def record(
    session: Session, actor: str, action: str, programme_id: int | None = None, detail: str = ""
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    The row is inserted before it is linked: on SQLite the insert takes the database's single
    write lock, so the row read as "previous" afterwards is the newest committed one and nobody
    can commit another in between. On PostgreSQL an advisory lock does the same.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Two writers must not both chain onto the same last row.
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _CHAIN_LOCK})
    at = datetime.now(UTC).replace(microsecond=0)
    event = AuditEvent(
        at=at,
        actor=actor[:64],
        action=action[:64],
        programme_id=programme_id,
        detail=detail,
        previous_hash=GENESIS_HASH,
        row_hash="",
    )
    session.add(event)
    session.flush()
    previous = session.scalar(
        select(AuditEvent.row_hash)
        .where(AuditEvent.id < event.id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    event.previous_hash = previous or GENESIS_HASH
    event.row_hash = row_hash(
        event.previous_hash, at, event.actor, event.action, programme_id, detail
    )
    session.flush()
    return event


class ProblemKind(enum.StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    INSERTED = "inserted"


@dataclass(frozen=True)
class ChainProblem:
    """One place where the chain shows tampering, in words an auditor can act on."""

    kind: ProblemKind
    event_id: int
    message: str

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.kind.value}: {self.message}"


def verify_chain(session: Session) -> list[ChainProblem]:
    """Every edited, removed or inserted row the chain reveals; empty when it is intact.

    A row whose content no longer matches its own hash was edited. A row that does not point
    at the row before it had rows removed before it (or its predecessor was edited and given a
    fresh hash). A row that is skipped, because the row after it points further back, was
    inserted. Rewriting every hash from some row to the end cannot be detected from the
    database alone: compare `head_hash` with a copy written down earlier.
    """
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    return check_events(events)


def check_events(events: Sequence[AuditEvent]) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    position_of = {GENESIS_HASH: -1}
    inserted: set[int] = set()
    expected = GENESIS_HASH
    for index, event in enumerate(events):
        if event.previous_hash != expected:
            earlier = position_of.get(event.previous_hash)
            if earlier is not None and earlier < index - 1:
                for stray in events[earlier + 1 : index]:
                    inserted.add(stray.id)
                    problems.append(
                        ChainProblem(
                            ProblemKind.INSERTED,
                            stray.id,
                            f"not part of the chain: event {event.id} follows "
                            f"{_name(events, earlier)} directly, so this row was added later",
                        )
                    )
            else:
                problems.append(
                    ChainProblem(
                        ProblemKind.REMOVED,
                        event.id,
                        f"does not follow {_name(events, index - 1)}: rows before it were "
                        "removed, or the row before it was edited and given a new hash",
                    )
                )
        position_of.setdefault(event.row_hash, index)
        expected = event.row_hash
    for event in events:
        recomputed = row_hash(
            event.previous_hash,
            event.at,
            event.actor,
            event.action,
            event.programme_id,
            event.detail,
        )
        if event.id not in inserted and recomputed != event.row_hash:
            problems.append(
                ChainProblem(
                    ProblemKind.ALTERED,
                    event.id,
                    "its content does not match its hash: the row was edited after it was written",
                )
            )
    return sorted(problems, key=lambda problem: (problem.event_id, problem.kind.value))


def _name(events: Sequence[AuditEvent], index: int) -> str:
    return "the start of the log" if index < 0 else f"event {events[index].id}"


def head_hash(session: Session) -> str:
    """The newest row's hash: written down elsewhere, it anchors everything before it."""
    newest = session.scalar(select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
    return newest or GENESIS_HASH


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    # None: every programme and the events that belong to none (sign-ins, account changes).
    programme_ids: Collection[int] | None = None
    since: datetime | None = None
    until: datetime | None = None


def find_events(
    session: Session, criteria: AuditFilter, *, limit: int, before_id: int | None = None
) -> list[AuditEvent]:
    """Newest first, at most `limit`; pass the last id seen as `before_id` for older ones."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if criteria.actor:
        query = query.where(AuditEvent.actor == criteria.actor)
    if criteria.action:
        query = query.where(AuditEvent.action == criteria.action)
    if criteria.programme_ids is not None:
        query = query.where(AuditEvent.programme_id.in_(list(criteria.programme_ids)))
    if criteria.since is not None:
        query = query.where(AuditEvent.at >= criteria.since)
    if criteria.until is not None:
        query = query.where(AuditEvent.at < criteria.until)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query))


def action_names(session: Session) -> list[str]:
    """The actions that occur in the log, for a filter's choices."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
