"""Backups are consistent, private and still sealed; restore brings responses back, readable
with the key, on SQLite and on PostgreSQL (a per-test schema, and a whole database)."""

from __future__ import annotations

import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from survey_app import create_app, migrate
from survey_app.config import Settings
from survey_app.db import Database
from survey_app.keys import custody
from survey_app.models import InboxResponse, Response
from survey_app.operations import backup
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, Deployment, deploy, make_settings
from tests.support.cli import run
from tests.support.custody import open_all, snapshot, store
from tests.support.databases import POSTGRES_URL, fresh_database_url, postgres_skip_reason

SECRET = f"Sentinel{secrets.token_hex(6)}"


@dataclass
class Site:
    """An app on its own database, as on one server."""

    app: Flask
    settings: Settings

    @property
    def database(self) -> Database:
        return app_state(self.app).database


def start_site(folder: Path, url: str) -> Site:
    folder.mkdir(parents=True, exist_ok=True)
    settings = make_settings(folder, url)
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    return Site(app, settings)


def read_all(site: Site, deployment: Deployment) -> dict[str, dict[str, Any]]:
    with (
        site.database.session() as session,
        custody.unlock_programme(session, deployment.programme_id, PASSPHRASE) as keys,
    ):
        return open_all(site.database, keys)


def backup_path(output: str) -> Path:
    return Path(output.split("backup written to ")[1].split(" (")[0])


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def source(kind: str, tmp_path: Path) -> Iterator[Site]:
    folder = tmp_path / "source"
    folder.mkdir()
    for url in fresh_database_url(kind, folder):
        site = start_site(folder, url)
        yield site
        site.database.dispose()


def test_backup_is_private_sealed_and_restores_over_a_damaged_database(
    source: Site, kind: str
) -> None:
    deployment = deploy(source.app)
    store(source.app, 4, comment=SECRET)
    original = read_all(source, deployment)

    result = run(source.settings, "backup")
    assert result.exit_code == 0, result.output
    path = backup_path(result.output)
    assert path.parent == source.settings.instance_path / "backups"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    if kind == "sqlite":
        data = path.read_bytes()
        assert data.startswith(backup.SQLITE_MAGIC) and SECRET.encode() not in data
        assert not Path(f"{path}-wal").exists()

    # Responses lost after the backup was taken.
    with source.database.session() as session:
        session.execute(delete(Response))
        session.execute(delete(InboxResponse))
    before = snapshot(source.database)
    refused = run(source.settings, "restore", str(path))
    assert refused.exit_code == 1 and "--force" in refused.output
    assert snapshot(source.database) == before

    result = run(source.settings, "restore", str(path), "--force")
    assert result.exit_code == 0, result.output
    assert read_all(source, deployment) == original


def test_restore_into_an_empty_database_needs_no_force(
    source: Site, kind: str, tmp_path: Path
) -> None:
    deployment = deploy(source.app)
    store(source.app, 3)
    original = read_all(source, deployment)
    target_path = tmp_path / "copy" / ("survey.sqlite3" if kind == "sqlite" else "survey.pgdump")
    target_path.parent.mkdir()
    result = run(source.settings, "backup", str(target_path.parent))
    assert result.exit_code == 0, result.output
    path = backup_path(result.output)
    assert path.parent == target_path.parent

    if kind == "sqlite":
        target = start_site(tmp_path / "target", f"sqlite:///{tmp_path / 'target.db'}")
    else:
        # The same schema, emptied: a per-test schema is what the dump names.
        with source.database.engine.begin() as connection:
            schema = connection.scalar(text("SELECT current_schema()"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        source.database.dispose()
        target = source
    try:
        assert backup.is_empty(target.database)
        result = run(target.settings, "restore", str(path))
        assert result.exit_code == 0, result.output
        assert "database at revision" in result.output
        assert read_all(target, deployment) == original
    finally:
        if target is not source:
            target.database.dispose()


def test_whole_postgresql_database_round_trip(tmp_path: Path) -> None:
    """Without a search_path in the URL, pg_dump and pg_restore work on the whole database."""
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    names = [f"t_{secrets.token_hex(6)}" for _ in range(2)]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    sites: list[Site] = []
    try:
        base = make_url(POSTGRES_URL)
        first = start_site(tmp_path / "a", base.set(database=names[0]).render_as_string(False))
        sites.append(first)
        deployment = deploy(first.app)
        store(first.app, 2)
        original = read_all(first, deployment)
        result = run(first.settings, "backup")
        assert result.exit_code == 0, result.output

        second = start_site(tmp_path / "b", base.set(database=names[1]).render_as_string(False))
        sites.append(second)
        assert backup.is_empty(second.database)  # migrated, but without a single row
        result = run(second.settings, "restore", str(backup_path(result.output)))
        assert result.exit_code == 0, result.output
        assert read_all(second, deployment) == original
    finally:
        for site in sites:
            site.database.dispose()
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_file_that_is_not_a_backup_is_refused(source: Site, tmp_path: Path) -> None:
    deploy(source.app)
    stranger = tmp_path / "notes.txt"
    stranger.write_text("not a database")
    before = snapshot(source.database)
    result = run(source.settings, "restore", str(stranger), "--force")
    assert result.exit_code == 1 and "is not a" in result.output and "backup" in result.output
    assert snapshot(source.database) == before


def test_backup_never_overwrites_a_file(source: Site, tmp_path: Path) -> None:
    existing = tmp_path / "taken"
    existing.write_text("keep me")
    result = run(source.settings, "backup", str(existing))
    assert result.exit_code == 1 and "already exists" in result.output
    assert existing.read_text() == "keep me"


@pytest.mark.parametrize(
    ("options", "schema"),
    [
        ("-csearch_path=t_abc", "t_abc"),
        ("-c search_path=t_abc,public", "t_abc"),
        ('-csearch_path="$user",reports', "reports"),
        ("-cstatement_timeout=5000", None),
    ],
)
def test_schema_is_taken_from_the_search_path_option(options: str, schema: str | None) -> None:
    url = make_url("postgresql+psycopg://u:p%20w@db.example:5433/survey").update_query_dict(
        {"options": options}
    )
    connection = backup._connection(url)
    assert connection.schema == schema
    assert connection.password == "p w"
    assert "host='db.example'" in connection.conninfo and "port='5433'" in connection.conninfo
    assert "p w" not in connection.conninfo


@pytest.fixture
def sqlite_source(tmp_path: Path) -> Iterator[Site]:
    site = start_site(tmp_path / "source", f"sqlite:///{tmp_path / 'source.db'}")
    yield site
    site.database.dispose()


def test_a_restore_on_a_new_server_keeps_printed_code_cards_and_staff_sessions(
    sqlite_source: Site, tmp_path: Path
) -> None:
    """The keys outside the database travel the same way whatever the database, so both
    servers here are on SQLite (a PostgreSQL dump is restored into the schema it came from)."""
    from survey_app.intake.distribution import create_codes, create_link
    from survey_app.models import Programme
    from tests.support.web import Respondent

    source = sqlite_source
    deployment = deploy(source.app)
    with source.database.session() as session:
        programme = session.get(Programme, deployment.programme_id)
        assert programme is not None
        link = create_link(session, programme, "minimal", "Clinic", requires_code=True)
        _batch, (card, _other) = create_codes(session, link, 2, app_state(source.app).code_key)
        token = link.token
    result = run(source.settings, "backup")
    assert result.exit_code == 0, result.output
    path = backup_path(result.output)
    keys = path.with_name(path.name + ".keys")
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert app_state(source.app).code_key in keys.read_text()

    # A new server: its own instance folder, with keys of its own, and the backup copied over.
    new = start_site(tmp_path / "new", f"sqlite:///{tmp_path / 'new.db'}")
    copied = tmp_path / "copied" / path.name
    copied.parent.mkdir()
    copied.write_bytes(path.read_bytes())
    without_keys = run(new.settings, "restore", str(copied), "--force")
    assert without_keys.exit_code == 0 and "no survey-" in without_keys.output
    new.database.dispose()
    copied.with_name(copied.name + ".keys").write_bytes(keys.read_bytes())
    restored = run(new.settings, "restore", str(copied), "--force")
    assert restored.exit_code == 0, restored.output
    for name in ("secret_key", "code_key", "totp_key"):
        assert f"{name} restored" in restored.output, restored.output
    served = create_app(new.settings)
    try:
        # The card printed before the backup opens the link on the new server.
        assert Respondent(served.test_client(), token).start(code=card).status_code == 200
        assert served.config["SECRET_KEY"] == source.app.config["SECRET_KEY"]
    finally:
        app_state(served).database.dispose()
        new.database.dispose()
