"""Refreshing a report: the same snapshot whether counted here or in worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from survey_app.config import Settings
from survey_app.keys import sealing
from survey_app.models import InboxResponse, ReportSnapshot
from survey_app.operations.sample_data import store_generated
from survey_app.reports import snapshot
from survey_app.reports.refresh import refresh
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, make_settings

SURVEY = "service-feedback"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys"))


class Recorder:
    def __init__(self) -> None:
        self.total = -1
        self.done = 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, count: int) -> None:
        self.done += count


def test_worker_processes_publish_the_same_snapshot_as_one_process(
    app: Flask, deployment: Deployment
) -> None:
    state = app_state(app)
    survey = state.surveys[SURVEY]
    store_generated(state.database, survey, 240)
    progress = Recorder()
    parallel = refresh(
        state.database,
        survey,
        5,
        PASSPHRASE,
        actor="test",
        workers=2,
        parallel_from=0,
        progress=progress,
    )
    assert (progress.total, progress.done) == (240, 240)
    assert len(parallel.worker_memory_kb) == 2
    serial = refresh(state.database, survey, 5, PASSPHRASE, actor="test", workers=1)
    assert serial.worker_memory_kb == ()
    with state.database.session() as db:
        documents = [db.get(ReportSnapshot, o.snapshot_id) for o in (parallel, serial)]
        first, second = (snapshot.parse(row.content) for row in documents if row is not None)
    first["created_at"] = second["created_at"]
    assert first == second
    assert first["responses"] == 240


def test_a_response_moved_to_another_row_is_counted_as_unreadable(
    app: Flask, deployment: Deployment
) -> None:
    state = app_state(app)
    survey = state.surveys[SURVEY]
    store_generated(state.database, survey, 60)
    with state.database.session() as db:
        first, second = db.scalars(select(InboxResponse).order_by(InboxResponse.id).limit(2))
        db.execute(
            update(InboxResponse).where(InboxResponse.id == first.id).values(sealed=second.sealed)
        )
    outcome = refresh(state.database, survey, 5, PASSPHRASE, actor="test", workers=1)
    assert outcome.responses == 59
    assert outcome.unreadable == {sealing.TamperedResponse.__name__: 1}
    with state.database.session() as db:
        document = snapshot.latest(db, SURVEY)
    assert document is not None and document["unreadable"] == {"TamperedResponse": 1}


def test_a_wrong_passphrase_stops_the_workers_and_publishes_nothing(
    app: Flask, deployment: Deployment
) -> None:
    state = app_state(app)
    store_generated(state.database, state.surveys[SURVEY], 20)
    with pytest.raises(sealing.WrongPassphrase):
        refresh(
            state.database,
            state.surveys[SURVEY],
            5,
            "not the passphrase",
            actor="test",
            workers=2,
            parallel_from=0,
        )
    with state.database.session() as db:
        assert snapshot.latest(db, SURVEY) is None
