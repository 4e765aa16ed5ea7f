"""What the running app holds: settings, database and the loaded survey catalogue."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, current_app

from .config import Settings
from .db import Database
from .definitions import Survey, load_directory
from .web.ratelimit import RateLimiter

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    database: Database
    surveys: dict[str, Survey]
    limiter: RateLimiter = field(default_factory=RateLimiter)

    @classmethod
    def build(cls, settings: Settings, database: Database) -> AppState:
        loaded = load_directory(settings.surveys_dir)
        for problem in loaded.problems:
            # An invalid survey is not served; the valid ones still are.
            log.error("survey not served: %s", problem)
        return cls(settings=settings, database=database, surveys=dict(loaded.surveys))


def app_state(app: Flask | None = None) -> AppState:
    state: AppState = (app or current_app).extensions["survey_app"]
    return state
