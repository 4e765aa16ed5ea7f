"""`audit verify` names each edited, removed or inserted row; the chain holds under concurrency."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, select, update

from survey_app.cli import main
from survey_app.config import Settings
from survey_app.models import AuditEvent
from survey_app.staff import audit
from survey_app.state import app_state
from tests.support.cli import environment


def write(app: Flask, count: int = 4) -> list[int]:
    with app_state(app).database.session() as db:
        for number in range(count):
            audit.record(db, "root", "link.create", 1, f"link {number}")
        return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def problems(app: Flask) -> list[tuple[str, int]]:
    with app_state(app).database.session() as db:
        return [(p.kind.value, p.event_id) for p in audit.verify_chain(db)]


def test_intact_chain_has_no_problems(app: Flask) -> None:
    write(app)
    assert problems(app) == []


def test_edited_row_is_named(app: Flask) -> None:
    ids = write(app)
    with app_state(app).database.session() as db:
        db.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(actor="someone else"))
    assert problems(app) == [("altered", ids[1])]


def test_removed_row_is_found_at_the_row_after_it(app: Flask) -> None:
    ids = write(app)
    with app_state(app).database.session() as db:
        db.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    assert problems(app) == [("removed", ids[3])]


def test_removed_first_row_is_found(app: Flask) -> None:
    ids = write(app)
    with app_state(app).database.session() as db:
        db.execute(delete(AuditEvent).where(AuditEvent.id == ids[0]))
    assert problems(app) == [("removed", ids[1])]


def test_inserted_row_is_named_even_with_a_well_made_hash(app: Flask) -> None:
    ids = write(app, 3)
    with app_state(app).database.session() as db:
        # Make room after the second row, then slip in a row that chains onto it correctly.
        db.execute(update(AuditEvent).where(AuditEvent.id == ids[2]).values(id=ids[2] + 10))
        second = db.get(AuditEvent, ids[1])
        assert second is not None
        forged = AuditEvent(
            id=ids[2],
            at=second.at,
            actor="root",
            action="link.create",
            programme_id=1,
            detail="a link nobody made",
            previous_hash=second.row_hash,
            row_hash="",
        )
        forged.row_hash = audit.row_hash(
            forged.previous_hash, forged.at, forged.actor, forged.action, 1, forged.detail
        )
        db.add(forged)
    assert problems(app) == [("inserted", ids[2])]


def test_row_added_at_the_end_by_hand_is_named(app: Flask) -> None:
    ids = write(app, 2)
    with app_state(app).database.session() as db:
        last = db.get(AuditEvent, ids[-1])
        assert last is not None
        db.add(
            AuditEvent(
                at=last.at,
                actor="root",
                action="report.download",
                programme_id=None,
                detail="made up",
                previous_hash=last.row_hash,
                row_hash="f" * 64,
            )
        )
    assert [kind for kind, _ in problems(app)] == ["altered"]


def test_concurrent_writers_keep_one_chain(app: Flask) -> None:
    database = app_state(app).database
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for step in range(8):
                with database.session() as db:
                    audit.record(db, f"writer{number}", "auth.sign-in", None, f"step {step}")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as db:
        assert len(db.scalars(select(AuditEvent)).all()) == 32
    assert problems(app) == []


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_audit_verify_command(app: Flask, settings: Settings, runner: CliRunner) -> None:
    ids = write(app)
    intact = runner.invoke(main, ["audit", "verify"], env=environment(settings))
    assert intact.exit_code == 0 and "audit log intact" in intact.output
    with app_state(app).database.session() as db:
        db.execute(update(AuditEvent).where(AuditEvent.id == ids[0]).values(detail="nothing"))
        db.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    broken = runner.invoke(main, ["audit", "verify"], env=environment(settings))
    assert broken.exit_code == 1
    assert f"event {ids[0]}: altered" in broken.output
    assert f"event {ids[3]}: removed" in broken.output
    assert "tampered with: 2 problem(s)" in broken.output


def test_audit_list_command(app: Flask, settings: Settings, runner: CliRunner) -> None:
    write(app, 2)
    with app_state(app).database.session() as db:
        audit.record(db, "casey", "auth.sign-in", None, "with password")
    listed = runner.invoke(main, ["audit", "list", "--actor", "casey"], env=environment(settings))
    assert listed.exit_code == 0
    assert "casey\tauth.sign-in\t-\twith password" in listed.output
    assert "link 0" not in listed.output
    unknown = runner.invoke(
        main, ["audit", "list", "--programme", "nope"], env=environment(settings)
    )
    assert unknown.exit_code == 1 and "no programme 'nope'" in unknown.output
