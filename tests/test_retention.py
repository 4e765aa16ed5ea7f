"""Retention: responses past their programme's period are deleted, never early, and gone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from survey_app.config import Settings
from survey_app.intake.responses import stored_responses
from survey_app.keys import sealing
from survey_app.keys.custody import add_key
from survey_app.models import (
    AuditEvent,
    Draft,
    InboxResponse,
    Programme,
    Response,
    SurveyAssignment,
)
from survey_app.operations.retention import UnknownPeriod, period_end, purge
from survey_app.state import app_state
from tests.support.apps import FAST_KDF, PASSPHRASE, Deployment
from tests.support.cli import run
from tests.support.custody import sealed_rows, store


@pytest.mark.parametrize(
    ("period", "end"),
    [
        ("2026-W01", date(2026, 1, 4)),
        ("2026-W53", date(2027, 1, 3)),
        ("2025-W01", date(2025, 1, 5)),  # ISO week 1 of 2025 starts on 30 December 2024
        ("2026-11-28", date(2026, 11, 28)),
        ("2024-02", date(2024, 2, 29)),
        ("2026-02", date(2026, 2, 28)),
        ("2026-12", date(2026, 12, 31)),
    ],
)
def test_period_end_is_the_last_day_the_period_covers(period: str, end: date) -> None:
    assert period_end(period) == end


@pytest.mark.parametrize("period", ["2025-W53", "2026-13", "2026-02-30", "2026", "W12", ""])
def test_unreadable_periods_are_refused(period: str) -> None:
    with pytest.raises(UnknownPeriod):
        period_end(period)


def add_row(app: Flask, period: str) -> str:
    """A copy of an existing response under another period (the blob is not opened here)."""
    with app_state(app).database.session() as session:
        model = session.scalars(select(InboxResponse).limit(1)).one()
        row = Response(
            id=f"{period}-copy".ljust(32, "x")[:32],
            survey_id=model.survey_id,
            survey_version=model.survey_version,
            period=period,
            key_id=model.key_id,
            sealed=model.sealed,
        )
        session.add(row)
        return row.id


def periods(app: Flask) -> list[str]:
    with app_state(app).database.session() as session:
        return sorted(session.scalars(select(stored_responses().c.period)))


def test_purge_deletes_only_what_is_past_retention(app: Flask, deployment: Deployment) -> None:
    # Retention is 365 days. Today is Sunday 2026-03-01, so the cut-off is 2025-03-01.
    today = date(2026, 3, 1)
    store(app, 2, day=date(2025, 2, 23))  # week 2025-W08, ended 2025-02-23: past
    store(app, 1, day=date(2025, 3, 1))  # week 2025-W09, ends on the cut-off day: kept
    store(app, 1, day=date(2026, 2, 20))
    add_row(app, "2025-02-28")  # a day before the cut-off: past
    add_row(app, "2025-03-01")  # the cut-off day itself: kept
    add_row(app, "2025-02")  # month ended 2025-02-28: past
    add_row(app, "2025-03")
    add_row(app, "whenever")  # unreadable: kept and reported
    database = app_state(app).database

    dry = purge(database, actor="cli:t", today=today, dry_run=True)
    assert [(s.programme, s.survey_id, s.responses, s.through_period) for s in dry.surveys] == [
        ("shelter", "minimal", 4, "2025-02-28")
    ]
    assert dry.unreadable_periods == ["whenever"]
    assert len(periods(app)) == 9

    batches: list[int] = []
    report = purge(database, actor="cli:t", today=today, batch_size=3, after_batch=batches.append)
    # Released rows first, then the inbox (two of each here), each in batches of at most three.
    assert report.responses == 4 and batches == [2, 2]
    assert periods(app) == ["2025-03", "2025-03-01", "2025-W09", "2026-W08", "whenever"]
    with database.session() as session:
        detail = session.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "retention.purge")
        )
    assert detail == "4 responses past 365 days removed: minimal 4"


def test_each_programme_keeps_its_own_retention(app: Flask, deployment: Deployment) -> None:
    with app_state(app).database.session() as session:
        short = Programme(slug="short-stay", name="Short", retention_days=30, help_contacts={})
        session.add(short)
        session.flush()
        add_key(session, short, sealing.generate_key(PASSPHRASE, kdf=FAST_KDF), keep_private=True)
        session.add(SurveyAssignment(id="exit-interview", programme_id=short.id))
    today = date(2026, 6, 1)
    store(app, 2, day=date(2026, 3, 2))  # 91 days old: kept under shelter's 365 days
    store(app, 1, survey_id="exit-interview", day=date(2026, 3, 2))  # past short-stay's 30
    report = purge(app_state(app).database, actor="cli:t", today=today)
    assert [(s.programme, s.survey_id, s.responses) for s in report.surveys] == [
        ("short-stay", "exit-interview", 1)
    ]
    assert periods(app) == ["2026-W10", "2026-W10"]


def test_expired_drafts_are_purged_and_live_ones_kept(app: Flask, deployment: Deployment) -> None:
    now = datetime.now(UTC)
    with app_state(app).database.session() as session:
        session.add(Draft(id="a" * 32, ciphertext=b"x", expires_at=now - timedelta(minutes=1)))
        session.add(Draft(id="b" * 32, ciphertext=b"y", expires_at=now + timedelta(minutes=20)))
    assert purge(app_state(app).database, actor="cli:t", dry_run=True).drafts == 1
    assert purge(app_state(app).database, actor="cli:t").drafts == 1
    with app_state(app).database.session() as session:
        assert session.scalars(select(Draft.id)).all() == ["b" * 32]


def test_purge_command_reports_and_leaves_nothing_in_the_files(
    app: Flask, deployment: Deployment, settings: Settings
) -> None:
    store(app, 3, day=date(2020, 1, 6))
    store(app, 1, day=datetime.now(UTC).date())
    database = app_state(app).database
    old_blobs = [blob for _key, blob in sealed_rows(database).values()]
    add_row(app, "someday")

    result = run(settings, "purge", "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "shelter / minimal: 3 responses would be removed (periods up to 2020-W02)" in result.output
    )
    assert "period 'someday' cannot be read, so its responses are kept" in result.output
    assert len(periods(app)) == 5

    result = run(settings, "purge")
    assert result.exit_code == 0, result.output
    assert "shelter / minimal: 3 responses removed (periods up to 2020-W02)" in result.output
    assert len(periods(app)) == 2
    if database.is_sqlite:
        remaining = {blob for _key, blob in sealed_rows(database).values()}
        main_file = Path(database.engine.url.database or "")
        contents = main_file.read_bytes()
        wal = Path(f"{main_file}-wal")
        contents += wal.read_bytes() if wal.exists() else b""
        for blob in old_blobs:
            if blob not in remaining:
                assert blob[53:] not in contents  # overwritten, not just unlinked

    result = run(settings, "purge")
    assert "no responses are past their programme's retention period" in result.output
