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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, NullPool, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

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


@dataclass(frozen=True)
class SchemaTemplate:
    """A migrated PostgreSQL schema, as SQL that recreates it and what emptying it takes."""

    sql: str  # recreates the schema, named TEMPLATE_SCHEMA
    tables: tuple[str, ...]  # every table, children before the tables they refer to
    sequences: tuple[str, ...]
    revision: str


class DatabaseTemplates:
    """Migrated databases built once per test run and handed to each test.

    Running the migrations costs ~0.25 s on SQLite and ~0.3 s (more on a busy server) on
    PostgreSQL. A SQLite test gets a copy of a migrated file (under a millisecond). A PostgreSQL
    test gets a migrated schema: recreated from a `pg_dump` of one migrated schema the first
    time, then emptied after each test (rows deleted, sequences reset) and handed to the next,
    since creating and dropping a schema's tables is what a busy server is slowest at. A schema
    whose tables a test changed is dropped instead. Tests about the migrations themselves ask
    for an empty database (`empty_database_url`). `benchmarks/database_setup.py` measures it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres: list[SchemaTemplate | None] = []
        self._free_schemas: list[str] = []

    def sqlite_file(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "migrated.db"
            database = Database(f"sqlite:///{path}")
            migrate.upgrade(database)
            database.dispose()  # the last connection closing folds the WAL into the file
            assert not Path(f"{path}-wal").exists(), "template database left a WAL file"
            self._sqlite = path
        return self._sqlite

    def postgres_template(self) -> SchemaTemplate | None:
        """The migrated schema to copy, or None without a usable pg_dump."""
        if not self._postgres:
            self._postgres.append(_dump_migrated_schema())
        return self._postgres[0]

    @contextmanager
    def postgres_schema(self, admin: Engine) -> Iterator[str | None]:
        """A migrated schema for one test (None: migrate one yourself), emptied afterwards."""
        template = self.postgres_template()
        if template is None:
            yield None
            return
        if self._free_schemas:
            schema = self._free_schemas.pop()
        else:
            schema = f"t_{secrets.token_hex(6)}"
            with admin.begin() as connection:
                connection.exec_driver_sql(template.sql.replace(TEMPLATE_SCHEMA, schema))
        try:
            yield schema
        finally:
            if _emptied(admin, schema, template):
                self._free_schemas.append(schema)
            else:
                _drop_schema(admin, schema)

    def close(self) -> None:
        """Drop the schemas kept for reuse."""
        if not self._free_schemas:
            return
        admin = create_engine(POSTGRES_URL, poolclass=NullPool)
        while self._free_schemas:
            _drop_schema(admin, self._free_schemas.pop())
        admin.dispose()


def _emptied(admin: Engine, schema: str, template: SchemaTemplate) -> bool:
    """Delete every row the test left and reset the sequences; False if the test changed the
    schema itself (its tables or its revision), or a lock would not be given in time."""
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
            tables = connection.scalars(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            )
            if set(tables) != {*template.tables, "alembic_version"}:
                return False
            revision = connection.scalar(
                text(f'SELECT version_num FROM "{schema}".alembic_version')
            )
            if revision != template.revision:
                return False
            for table in template.tables:
                connection.exec_driver_sql(f'DELETE FROM "{schema}"."{table}"')
            for sequence in template.sequences:
                connection.execute(
                    text("SELECT setval(CAST(:name AS regclass), 1, false)"),
                    {"name": f'"{schema}"."{sequence}"'},
                )
    except SQLAlchemyError:
        return False
    return True


def _drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


TEMPLATE_SCHEMA = f"template_{secrets.token_hex(8)}"


def _dump_migrated_schema() -> SchemaTemplate | None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"'))
    try:
        database = Database(f"{POSTGRES_URL}?options=-csearch_path%3D{TEMPLATE_SCHEMA}")
        migrate.upgrade(database)
        revision = migrate.current_revision(database)
        database.dispose()
        reflected = MetaData(schema=TEMPLATE_SCHEMA)
        reflected.reflect(admin)
        with admin.connect() as connection:
            sequences = connection.scalars(
                text(
                    "SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = :s ORDER BY sequence_name"
                ),
                {"s": TEMPLATE_SCHEMA},
            ).all()
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
        _drop_schema(admin, TEMPLATE_SCHEMA)
        admin.dispose()
    if dumped.returncode != 0 or revision is None:
        return None  # e.g. a pg_dump older than the server: migrate per test instead
    # Lines starting with a backslash are psql meta-commands (\restrict), not SQL.
    sql = "\n".join(line for line in dumped.stdout.splitlines() if not line.startswith("\\"))
    tables = tuple(
        table.name for table in reversed(reflected.sorted_tables) if table.name != "alembic_version"
    )
    return SchemaTemplate(sql, tables, tuple(sequences), revision)


def fresh_database_url(
    kind: str, tmp_path: Path, templates: DatabaseTemplates | None = None
) -> Iterator[str]:
    """A URL for a database of `kind`, removed (or emptied for reuse) afterwards: migrated to
    head when `templates` are given, else empty."""
    if kind == "sqlite":
        path = tmp_path / "test.db"
        if templates is not None:
            shutil.copyfile(templates.sqlite_file(), path)
        yield f"sqlite:///{path}"
        return
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    # No pool: the dump's SET statements must not stay on a connection used again.
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        if templates is not None:
            with templates.postgres_schema(admin) as schema:
                if schema is not None:
                    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
                    return
        schema = f"t_{secrets.token_hex(6)}"
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            if templates is not None:  # no template to copy: migrate this one
                database = Database(url)
                migrate.upgrade(database)
                database.dispose()
            yield url
        finally:
            _drop_schema(admin, schema)
    finally:
        admin.dispose()
