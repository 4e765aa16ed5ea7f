"""The audit log: a hash chain of sensitive acts (unlocks, key changes, exports, purges).

Each row's hash covers the previous row's hash and its own fields, so removing, reordering or
editing a row breaks every hash after it. Rows name staff and programmes, never a response.

    row_hash = SHA-256(previous_hash || canonical JSON of {at, actor, action, programme_id,
                                                           detail})

The first row's previous_hash is 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .models import AuditEvent

GENESIS_HASH = "0" * 64
# Any fixed number: it names the lock that serialises writers on PostgreSQL.
_CHAIN_LOCK = 0x5A_4D_41_55


def _canonical_at(moment: datetime) -> str:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


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
    """Append one event to the chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Two writers must not both chain onto the same last row.
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _CHAIN_LOCK})
    previous = session.scalar(select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
    previous_hash = previous or GENESIS_HASH
    at = datetime.now(UTC).replace(microsecond=0)
    event = AuditEvent(
        at=at,
        actor=actor[:64],
        action=action[:64],
        programme_id=programme_id,
        detail=detail,
        previous_hash=previous_hash,
        row_hash=row_hash(previous_hash, at, actor[:64], action[:64], programme_id, detail),
    )
    session.add(event)
    session.flush()
    return event


def first_broken_link(session: Session) -> int | None:
    """The id of the first row whose hash does not follow from the rows before it, if any."""
    expected_previous = GENESIS_HASH
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        recomputed = row_hash(
            event.previous_hash,
            event.at,
            event.actor,
            event.action,
            event.programme_id,
            event.detail,
        )
        if event.previous_hash != expected_previous or event.row_hash != recomputed:
            return event.id
        expected_previous = event.row_hash
    return None
