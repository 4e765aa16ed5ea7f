"""The databases tests get: migrated, and nothing left over from the test before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from survey_app import migrate
from survey_app.db import Database
from survey_app.models import Programme
from tests.support.databases import DatabaseTemplates, fresh_database_url

KINDS = ["sqlite", "postgresql"]


def lease(kind: str, folder: Path, templates: DatabaseTemplates) -> tuple[Iterator[str], Database]:
    folder.mkdir()
    urls = fresh_database_url(kind, folder, templates)
    return urls, Database(next(urls))


def give_back(urls: Iterator[str], database: Database) -> None:
    database.dispose()
    for _ in urls:
        pass


@pytest.mark.parametrize("kind", KINDS)
def test_each_test_starts_migrated_and_empty_after_one_that_left_rows(
    kind: str, tmp_path: Path, database_templates: DatabaseTemplates
) -> None:
    urls, database = lease(kind, tmp_path / "first", database_templates)
    assert migrate.is_up_to_date(database)
    with database.session() as session:
        for slug in ("one", "two"):
            session.add(
                Programme(
                    slug=slug, name=slug, public_title="F", retention_days=1, help_contacts={}
                )
            )
    give_back(urls, database)
    urls, database = lease(kind, tmp_path / "second", database_templates)
    assert migrate.is_up_to_date(database)
    with database.session() as session:
        assert session.scalars(select(Programme)).all() == []
        session.add(
            Programme(slug="three", name="3", public_title="F", retention_days=1, help_contacts={})
        )
        session.flush()
        assert session.scalars(select(Programme.id)).one() == 1  # the sequences start again
    give_back(urls, database)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "change", ["DROP TABLE drafts", "CREATE TABLE extra (id INTEGER PRIMARY KEY)"]
)
def test_a_test_that_changes_the_tables_does_not_pass_them_on(
    kind: str, change: str, tmp_path: Path, database_templates: DatabaseTemplates
) -> None:
    urls, database = lease(kind, tmp_path / "first", database_templates)
    expected = set(inspect(database.engine).get_table_names())
    with database.engine.begin() as connection:
        connection.execute(text(change))
    give_back(urls, database)
    for number in range(3):
        urls, database = lease(kind, tmp_path / f"next-{number}", database_templates)
        assert set(inspect(database.engine).get_table_names()) == expected
        assert migrate.is_up_to_date(database)
        give_back(urls, database)
