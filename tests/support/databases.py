"""Databases for tests: SQLite files or PostgreSQL schemas, migrated once and copied per test.

SURVEY_TEST_DB=postgresql runs the whole suite on the PostgreSQL server named by
SURVEY_TEST_POSTGRES_URL (default: postgres on 127.0.0.1:5432, database `test`), each test in
a schema of its own. By default the suite runs on SQLite; tests that compare both databases run
their PostgreSQL half only when the server answers, and say so when it does not.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import NullPool, create_engine, make_url, text

from survey_app import migrate
from survey_app.db import Database

POSTGRES_URL = os.environ.get(
    "SURVEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_DB = os.environ.get("SURVEY_TEST_DB", "sqlite")


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
