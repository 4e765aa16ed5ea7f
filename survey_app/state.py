"""What the running app holds: settings, database, the loaded survey catalogue, rate limits."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .config import Settings, ensure_key
from .db import Database
from .definitions import Survey, load_directory, load_survey_json
from .intake.responses import register_version
from .models import SurveyAssignment, SurveyVersion
from .operations.traffic import TrafficCounter
from .web.page_shapes import PageShapes
from .web.ratelimit import RateLimiter

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    database: Database
    surveys: dict[str, Survey]
    traffic: TrafficCounter
    # The keyed hash of access codes uses it; never stored in the database.
    code_key: str
    # Seals staff TOTP secrets in the database; never stored there.
    totp_key: str
    limiter: RateLimiter = field(default_factory=RateLimiter)
    # Respondent pages rendered once per shape (survey_app.web.page_shapes).
    page_shapes: PageShapes = field(default_factory=PageShapes)
    # Definitions read back from the database; a stored version never changes, so they are kept.
    _stored: dict[tuple[str, str], Survey] = field(default_factory=dict)
    _registered: set[tuple[str, str]] = field(default_factory=set)
    # The release interval this process knows to be released already (survey_app.intake.release):
    # until it ends, nobody needs to ask the database again.
    released_interval: str | None = None
    # The expiry step in which this process last purged expired drafts (see
    # survey_app.intake.drafts.expiry_step). None: not yet.
    drafts_purged_step: int | None = None

    @classmethod
    def build(cls, settings: Settings, database: Database) -> AppState:
        loaded = load_directory(settings.surveys_dir)
        for problem in loaded.problems:
            # An invalid survey is not served; the valid ones still are.
            log.error("survey not served: %s", problem)
        limiter = RateLimiter(settings.rate_limits.storage_url, settings.rate_limits.key_prefix)
        return cls(
            settings=settings,
            database=database,
            surveys=dict(loaded.surveys),
            limiter=limiter,
            traffic=TrafficCounter(database),
            code_key=ensure_key(settings, "code_key"),
            totp_key=ensure_key(settings, "totp_key"),
        )

    def survey_at(self, survey_id: str, version: str) -> Survey | None:
        """One version of a survey: this process's file if it is that version, else the
        definition stored in the database by whichever server served it. During a rolling
        update a respondent may start on a server with the old file and go on with a new one."""
        current = self.surveys.get(survey_id)
        if current is not None and current.version == version:
            return current
        cached = self._stored.get((survey_id, version))
        if cached is not None:
            return cached
        with self.database.session() as session:
            row = session.get(SurveyVersion, (survey_id, version))
            definition = None if row is None else row.definition
        if definition is None:
            return None
        survey = load_survey_json(definition)
        self._stored[(survey_id, version)] = survey
        return survey

    def ensure_registered(self, survey: Survey, session: Session) -> None:
        """Store this version's definition (once per process, in the caller's transaction), so
        every server can serve a draft of it. `serve` registers every served survey at start;
        this covers surveys assigned while the server runs."""
        key = (survey.id, survey.version)
        if key in self._registered:
            return
        register_version(session, survey.id, survey.version, survey.canonical_json)
        # Known to be stored only once this transaction has committed.
        event.listen(session, "after_commit", lambda _session: self._registered.add(key))

    def stored_version(self, survey: Survey) -> None:
        """Note that this version's definition is in the database: call it only once the
        transaction that registered it has committed."""
        self._registered.add((survey.id, survey.version))

    def version_stored(self, survey: Survey) -> bool:
        """Whether this process has seen this version's definition committed to the database."""
        return (survey.id, survey.version) in self._registered

    def register_served_versions(self) -> int:
        """Store the definition of every assigned survey this process serves; how many."""
        with self.database.session() as session:
            assigned = set(session.scalars(select(SurveyAssignment.id)))
            served = [s for s in self.surveys.values() if s.id in assigned]
            for survey in served:
                register_version(session, survey.id, survey.version, survey.canonical_json)
        self._registered.update((s.id, s.version) for s in served)
        return len(served)


def app_state(app: Flask | None = None) -> AppState:
    state: AppState = (app or current_app).extensions["survey_app"]
    return state
