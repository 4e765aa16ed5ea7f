"""The migrations are the schema: they match the models and every step goes up and down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from survey_app import migrate
from survey_app.db import Base, Database
from tests.support.databases import fresh_database_url

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    for url in fresh_database_url(request.param, tmp_path):
        db = Database(url)
        yield db
        db.dispose()


def revisions(db: Database) -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(db))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_models_match_migration_head(database: Database) -> None:
    migrate.upgrade(database)
    with database.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_every_revision_upgrades_and_downgrades(database: Database) -> None:
    chain = revisions(database)
    assert chain, "no migrations found"
    for revision in chain:
        migrate.upgrade(database, revision)
        assert migrate.current_revision(database) == revision
    assert migrate.is_up_to_date(database)
    for previous in reversed([None, *chain[:-1]]):
        migrate.downgrade(database, previous or "base")
        assert migrate.current_revision(database) == previous
    tables = set(inspect(database.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
