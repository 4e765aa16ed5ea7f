"""The audit log is a hash chain: any edit, removal or reordering is detectable."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, select, update

from survey_app.models import AuditEvent
from survey_app.staff import audit
from survey_app.state import app_state


def write_three(app: Flask) -> None:
    with app_state(app).database.session() as session:
        audit.record(session, "cli:ana", "key.rotate", 1, "key a -> key b")
        audit.record(session, "cli:ana", "key.destroy", 1, "key a destroyed")
    with app_state(app).database.session() as session:
        audit.record(session, "cli:ben", "purge", None, "3 responses removed")


def test_rows_chain_onto_each_other(app: Flask) -> None:
    write_three(app)
    with app_state(app).database.session() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert rows[0].previous_hash == audit.GENESIS_HASH
        assert [r.previous_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
        assert audit.verify_chain(session) == []


def test_edited_row_breaks_the_chain(app: Flask) -> None:
    write_three(app)
    with app_state(app).database.session() as session:
        second = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
        session.execute(
            update(AuditEvent).where(AuditEvent.id == second).values(detail="nothing happened")
        )
    with app_state(app).database.session() as session:
        problems = audit.verify_chain(session)
        assert [(p.kind, p.event_id) for p in problems] == [(audit.ProblemKind.ALTERED, second)]


def test_removed_row_breaks_the_chain(app: Flask) -> None:
    write_three(app)
    with app_state(app).database.session() as session:
        ids = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        session.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    with app_state(app).database.session() as session:
        problems = audit.verify_chain(session)
        assert [(p.kind, p.event_id) for p in problems] == [(audit.ProblemKind.REMOVED, ids[2])]
