"""Fixtures for every test: a fresh app and database per test, on SQLite or PostgreSQL.

Helpers that tests call (settings, deployments, forms, accounts) live in `tests/support/` and
are imported from there; this file only registers fixtures and hooks.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from survey_app import create_app
from survey_app.config import Settings
from survey_app.operations.logs import LINE_FORMAT, SafeFormatter
from survey_app.staff import accounts
from survey_app.state import app_state
from tests.support.apps import Deployment, deploy, make_settings
from tests.support.databases import (
    TEST_DB,
    DatabaseTemplates,
    fresh_database_url,
    postgres_skip_reason,
)


def pytest_report_header() -> str:
    return f"database under test: {TEST_DB}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if TEST_DB not in {"sqlite", "postgresql"}:
        raise pytest.UsageError("SURVEY_TEST_DB must be sqlite or postgresql")
    if TEST_DB == "postgresql" and postgres_skip_reason():
        raise pytest.UsageError(f"SURVEY_TEST_DB=postgresql but {postgres_skip_reason()}")


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture
def database_url(tmp_path: Path, database_templates: DatabaseTemplates) -> Iterator[str]:
    """A database already migrated to head, of the kind SURVEY_TEST_DB names."""
    yield from fresh_database_url(TEST_DB, tmp_path, database_templates)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for tests of the migrations and of `db upgrade`."""
    yield from fresh_database_url(TEST_DB, tmp_path)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    app_state(application).database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def deployment(app: Flask) -> Deployment:
    return deploy(app)


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with its real parameters costs ~0.2 s a check; most tests are not about that.

    Modules that create accounts ask for it with
    `pytestmark = pytest.mark.usefixtures("cheap_password_hashing")`.
    """
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Every line written through the formatter `survey-app serve` installs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(LINE_FORMAT))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)
