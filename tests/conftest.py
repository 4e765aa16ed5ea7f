"""Shared fixtures: a fresh app and database for every test, on SQLite or PostgreSQL.

SURVEY_TEST_DB=postgresql runs the whole suite on the PostgreSQL server named by
SURVEY_TEST_POSTGRES_URL (default: postgres on 127.0.0.1:5432, database `test`), each test in
a schema of its own. By default the suite runs on SQLite; tests that compare both databases run
their PostgreSQL half only when the server answers, and say so when it does not.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import NullPool, create_engine, make_url, text

from survey_app import create_app, migrate, sealing
from survey_app.commands.keys import add_key
from survey_app.config import Settings, load_settings
from survey_app.db import Database
from survey_app.distribution import create_link
from survey_app.models import Programme, Survey
from survey_app.state import app_state

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVED_SURVEYS = FIXTURES / "served"
POSTGRES_URL = os.environ.get(
    "SURVEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_DB = os.environ.get("SURVEY_TEST_DB", "sqlite")
# Cheap key derivation for tests that are not about the KDF: each real unlock costs ~130 ms.
FAST_KDF = sealing.ScryptParams(log2_n=10, r=8, p=1)
PASSPHRASE = "correct horse battery staple"


def postgres_unavailable_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # any failure means: not usable here
        return f"PostgreSQL not reachable at {POSTGRES_URL.split('@')[-1]} ({type(error).__name__})"
    return None


_postgres_reason: list[str | None] = []


def postgres_skip_reason() -> str | None:
    if not _postgres_reason:
        _postgres_reason.append(postgres_unavailable_reason())
    return _postgres_reason[0]


def pytest_report_header() -> str:
    return f"database under test: {TEST_DB}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if TEST_DB not in {"sqlite", "postgresql"}:
        raise pytest.UsageError("SURVEY_TEST_DB must be sqlite or postgresql")
    if TEST_DB == "postgresql" and postgres_skip_reason():
        raise pytest.UsageError(f"SURVEY_TEST_DB=postgresql but {postgres_skip_reason()}")


class DatabaseTemplates:
    """Migrated databases built once per test run and copied for each test.

    Running the migrations costs ~0.25 s on SQLite and ~0.3 s on PostgreSQL; a copy of a
    migrated SQLite file costs under a millisecond and a PostgreSQL schema recreated from a
    `pg_dump` of a migrated one ~45 ms. Tests that are about the migrations themselves ask for an
    empty database instead (`empty_database_url`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres_sql: list[str | None] = []

    def sqlite_file(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "migrated.db"
            database = Database(f"sqlite:///{path}")
            migrate.upgrade(database)
            database.dispose()  # the last connection closing folds the WAL into the file
            assert not Path(f"{path}-wal").exists(), "template database left a WAL file"
            self._sqlite = path
        return self._sqlite

    def postgres_sql(self) -> str | None:
        """The SQL that recreates a migrated schema named TEMPLATE_SCHEMA, or None without pg_dump."""
        if not self._postgres_sql:
            self._postgres_sql.append(_dump_migrated_schema())
        return self._postgres_sql[0]


TEMPLATE_SCHEMA = f"template_{secrets.token_hex(8)}"


def _dump_migrated_schema() -> str | None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"'))
    try:
        database = Database(f"{POSTGRES_URL}?options=-csearch_path%3D{TEMPLATE_SCHEMA}")
        migrate.upgrade(database)
        database.dispose()
        url = make_url(POSTGRES_URL)
        dumped = subprocess.run(
            [pg_dump, "--schema", TEMPLATE_SCHEMA, "--no-owner", "--no-privileges", "--inserts"],
            env={
                **os.environ,
                "PGHOST": url.host or "127.0.0.1",
                "PGPORT": str(url.port or 5432),
                "PGUSER": url.username or "postgres",
                "PGPASSWORD": url.password or "",
                "PGDATABASE": url.database or "postgres",
            },
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{TEMPLATE_SCHEMA}" CASCADE'))
        admin.dispose()
    if dumped.returncode != 0:
        return None  # e.g. a pg_dump older than the server: migrate per test instead
    # Lines starting with a backslash are psql meta-commands (\restrict), not SQL.
    return "\n".join(line for line in dumped.stdout.splitlines() if not line.startswith("\\"))


def fresh_database_url(
    kind: str, tmp_path: Path, templates: DatabaseTemplates | None = None
) -> Iterator[str]:
    """A URL for a database of `kind`, removed afterwards: migrated to head when `templates`
    are given, else empty."""
    if kind == "sqlite":
        path = tmp_path / "test.db"
        if templates is not None:
            shutil.copyfile(templates.sqlite_file(), path)
        yield f"sqlite:///{path}"
        return
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    schema = f"t_{secrets.token_hex(6)}"
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    # No pool: the dump's SET statements must not stay on a connection used again.
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    schema_sql = templates.postgres_sql() if templates is not None else None
    with admin.begin() as connection:
        if schema_sql is None:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        else:
            connection.exec_driver_sql(schema_sql.replace(TEMPLATE_SCHEMA, schema))
    if templates is not None and schema_sql is None:
        database = Database(url)
        migrate.upgrade(database)
        database.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> DatabaseTemplates:
    return DatabaseTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def database_url(tmp_path: Path, database_templates: DatabaseTemplates) -> Iterator[str]:
    """A database already migrated to head, of the kind SURVEY_TEST_DB names."""
    yield from fresh_database_url(TEST_DB, tmp_path, database_templates)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for tests of the migrations and of `db upgrade`."""
    yield from fresh_database_url(TEST_DB, tmp_path)


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "testing",
        "instance_path": str(tmp_path / "instance"),
        "surveys_dir": str(SERVED_SURVEYS),
        "database": {"url": database_url},
    }
    values.update(overrides)
    return load_settings(environ={}, overrides=values)


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


@dataclass(frozen=True)
class Deployment:
    """A programme with a key, its surveys assigned, and one link per survey."""

    programme_id: int
    key_id: str
    links: dict[str, str]  # survey id -> link token


def deploy(app: Flask, *, slug: str = "shelter", site: str = "North") -> Deployment:
    state = app_state(app)
    with state.database.session() as session:
        programme = Programme(
            slug=slug,
            name=f"{slug} programme",
            public_title="Feedback",
            retention_days=365,
            help_contacts={"en": [{"name": "Helpline", "phone": "+1 555 0100"}]},
        )
        session.add(programme)
        session.flush()
        wrapped = sealing.generate_key(PASSPHRASE, kdf=FAST_KDF)
        add_key(session, programme, wrapped, keep_private=True)
        links = {}
        for survey_id in state.surveys:
            session.add(Survey(id=survey_id, programme_id=programme.id))
            session.flush()
            links[survey_id] = create_link(session, programme, survey_id, site).token
        return Deployment(programme.id, wrapped.key_id, links)


@pytest.fixture
def deployment(app: Flask) -> Deployment:
    return deploy(app)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any], *, page_url: str | None = None
) -> Any:
    """POST as a browser would: with the CSRF token of the page the form is on."""
    page = client.get(page_url or url)
    return client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})


class Respondent:
    """A survivor's browser going through a link, as far as the HTTP routes are concerned."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def start(self, lang: str = "en", code: str | None = None) -> Any:
        landing = self.client.get(f"/s/{self.token}")
        data = {"lang": lang, "csrf_token": csrf_token(landing.get_data(as_text=True))}
        if code is not None:
            data["code"] = code
        return self.client.post(f"/s/{self.token}/start", data=data)

    def submit(self, number: int, data: dict[str, Any], action: str = "next") -> Any:
        page = self.client.get(f"/s/{self.token}/p/{number}")
        assert page.status_code == 200, f"page {number}: {page.status_code}"
        return self.client.post(
            f"/s/{self.token}/p/{number}",
            data={**data, "action": action, "csrf_token": csrf_token(page.get_data(as_text=True))},
        )

    def complete(self, *pages: dict[str, Any], lang: str = "en") -> Any:
        """Start, then send each page in turn; returns the reply to the last one."""
        reply = self.start(lang)
        assert reply.status_code == 303, reply.status_code
        for number, data in enumerate(pages, 1):
            reply = self.submit(number, data)
        return reply


def read_back(app: Flask, programme_id: int, survey_id: str) -> list[Any]:
    """Every response of a survey, opened with the test passphrase."""
    from survey_app.responses import open_responses, wrapped_keys

    with (
        app_state(app).database.session() as session,
        sealing.UnlockedKeys.unlock(wrapped_keys(session, programme_id), PASSPHRASE) as keys,
    ):
        return list(open_responses(session, survey_id, keys))
