"""Files on disk: the instance folder, database files, key files and backups are private."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from survey_app import create_app, migrate
from survey_app.config import ConfigError
from survey_app.state import app_state
from tests.support.apps import deploy, make_settings
from tests.support.cli import run
from tests.support.web import Respondent


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)  # the widest umask there is: files get exactly the mode they ask for
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_instance_folder_database_keys_and_backups_are_private_under_any_umask(
    tmp_path: Path, open_umask: None
) -> None:
    instance = tmp_path / "instance"
    settings = make_settings(tmp_path, f"sqlite:///{instance / 'survey.db'}")
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    token = deploy(app).links["minimal"]
    Respondent(app.test_client(), token).complete({"consent": "yes"}, {"felt_safe": "yes"})
    backup = run(settings, "backup")
    assert backup.exit_code == 0, backup.output
    assert mode(instance) == 0o700
    files = [p for p in instance.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"survey.db", "survey.db-wal", "survey.db-shm", "secret_key", "code_key"} <= names
    assert any(p.parent.name == "backups" for p in files)
    assert {str(p.relative_to(instance)): mode(p) for p in files} == {
        str(p.relative_to(instance)): 0o600 for p in files
    }
    assert mode(instance / "backups") == 0o700
    app_state(app).database.dispose()


def test_a_wider_instance_folder_is_narrowed(tmp_path: Path, database_url: str) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    app = create_app(make_settings(tmp_path, database_url))
    assert mode(instance) == 0o700
    app_state(app).database.dispose()


def test_production_refuses_to_start_without_a_public_address(
    tmp_path: Path, database_url: str
) -> None:
    with pytest.raises(ConfigError, match=r"server\.public_url"):
        create_app(make_settings(tmp_path, database_url, environment="production"))
    with pytest.raises(ConfigError, match=r"server\.public_url"):
        make_settings(tmp_path, database_url, server={"public_url": "feedback.example.org"})


def test_links_and_code_cards_use_the_public_address_never_the_host_header(
    tmp_path: Path, database_url: str
) -> None:
    from tests.support.staff import make_account, open_session

    settings = make_settings(
        tmp_path, database_url, server={"public_url": "https://feedback.example.org/"}
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    token = deploy(app).links["minimal"]
    root = make_account(app, "root", superadmin=True, totp=True)
    admin = app.test_client()
    admin.environ_base["HTTP_HOST"] = "evil.example.com"  # what a client may claim
    open_session(app, admin, root.id)
    page = admin.get(f"/admin/links/{token}")
    body = page.get_data(as_text=True)
    assert f"https://feedback.example.org/s/{token}" in body
    assert "evil.example.com" not in body
    app_state(app).database.dispose()
